"""Tasks are idempotent and the beat sweepers redo what a lost message never did."""

from datetime import timedelta

import pytest
from django.utils import timezone

from proposals import services
from proposals.models import ProposalEvent, Tally
from proposals.tallies.tasks import tally_refresh, tally_sweep
from proposals.tasks import decision_email_sweep, send_decision_email
from tests.factories import ProposalFactory, StrategyFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_tally_sweep_rebuilds_what_no_message_asked_for(strategy, resident):
    # A submission whose refresh message was lost: committed, marked dirty, never counted.
    services.proposal_submit(
        author=resident,
        strategy=strategy,
        title="Смог зимой",
        body="Переведите частный сектор с угля на газ, дышать нечем.",
    )
    assert Tally.objects.get(strategy=strategy).is_dirty
    assert tally_sweep() == [strategy.pk]
    tally = Tally.objects.get(strategy=strategy)
    assert not tally.is_dirty
    assert tally.data["totals"]["received"] == 1
    assert tally_sweep() == []  # nothing left behind


def test_tally_sweep_rebuilds_stale_snapshots_and_missing_ones(settings):
    fresh = StrategyFactory(slug="fresh")
    stale = StrategyFactory(slug="stale")
    missing = StrategyFactory(slug="missing")
    draft = StrategyFactory(slug="draft", status="draft")
    for strategy in (fresh, stale):
        tally_refresh(strategy.pk)
    Tally.objects.filter(strategy=stale).update(
        generated_at=timezone.now() - timedelta(seconds=settings.CIVIC_TALLY_MAX_AGE_SECONDS + 5)
    )
    swept = tally_sweep()
    assert set(swept) == {stale.pk, missing.pk}
    assert draft.pk not in swept
    assert Tally.objects.get(strategy=missing).generated_at is not None


def test_tally_refresh_twice_is_the_same_as_once(strategy):
    ProposalFactory.create_batch(3, strategy=strategy)
    tally_refresh(strategy.pk)
    first = Tally.objects.get(strategy=strategy)
    tally_refresh(strategy.pk)
    second = Tally.objects.get(strategy=strategy)
    assert second.data == first.data
    assert second.rebuild_count == first.rebuild_count  # the second run saw nothing to do


def test_decision_email_is_sent_once_and_in_the_authors_language(strategy, moderator, mailoutbox):
    author = UserFactory(language="kk")
    proposal = ProposalFactory(strategy=strategy, author=author, status="pending")
    services.proposal_moderate(
        proposal=proposal,
        moderator=moderator,
        decision="reject",
        reason="off_topic",
        note="Тақырыпқа сай емес.",
    )
    event = ProposalEvent.objects.get(proposal=proposal)
    send_decision_email(event.pk)
    send_decision_email(event.pk)  # a redelivered message
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == [author.email]
    assert "қабылданбады" in message.body
    assert "Тақырыпқа сай емес." in message.body
    event.refresh_from_db()
    assert event.notified_at is not None


def test_decision_email_sweep_resends_what_was_never_sent(strategy, moderator, mailoutbox):
    proposal = ProposalFactory(strategy=strategy, status="pending")
    services.proposal_moderate(proposal=proposal, moderator=moderator, decision="approve")
    event = ProposalEvent.objects.get(proposal=proposal)
    assert event.notified_at is None  # the on-commit task never ran: its message was lost
    assert decision_email_sweep() == 0  # too recent: the task may still be on its way
    ProposalEvent.objects.filter(pk=event.pk).update(at=timezone.now() - timedelta(minutes=5))
    assert decision_email_sweep() == 1
    assert len(mailoutbox) == 1
    assert decision_email_sweep() == 0
