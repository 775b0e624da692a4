"""The emails about what people follow (issue 15): each at once, or one digest a day, in
the reader's language, with a signed one-click unsubscribe link; never twice."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

from proposals.answers.tokens import unsubscribe_token as answers_token
from proposals.comments.services import comment_create, comment_moderate
from proposals.following.emails import (
    digest_due,
    send_digest_chunk,
    send_digests,
    send_immediate,
    send_immediate_sweep,
)
from proposals.following.services import follow_set
from proposals.following.tokens import unsubscribe_token, unsubscribe_url
from proposals.models import Follow, Notification, NotificationDigest, Proposal
from tests.concurrency import in_threads
from tests.conftest import client_for
from tests.factories import ProposalFactory, SectionFactory, UserFactory

pytestmark = pytest.mark.django_db

TEXT = "Этот перекрёсток затапливает каждую весну."


@pytest.fixture
def proposal(strategy) -> Proposal:
    proposal = ProposalFactory(strategy=strategy, title="Ливнёвка на Абая")
    Follow.objects.create(user=proposal.author, proposal=proposal, automatic=True)
    return proposal


@pytest.fixture(autouse=True)
def _digest_from_midnight(settings):
    settings.CIVIC_DIGEST_HOUR = 0


def _later(**delta: float):
    return timezone.now() + timedelta(seconds=1, **delta)


def _follower(proposal, **kwargs):
    person = UserFactory(**kwargs)
    follow_set(user=person, following=True, proposal=proposal)
    return person


def _post(proposal, capture, author=None, parent=None):
    with capture(execute=True):
        return comment_create(
            proposal=proposal,
            # A passer-by who follows nothing, so only the followers set up here hear of it.
            author=author or UserFactory(follow_automatically=False),
            body=TEXT,
            parent=parent,
        )


def _to(person) -> list:
    return [message for message in mail.outbox if message.to == [person.email]]


# --- at once ------------------------------------------------------------------------------


def test_who_asked_for_each_gets_one_email_per_comment_in_their_language(
    proposal, django_capture_on_commit_callbacks
):
    english = _follower(proposal, notify_email="immediate", language="en")
    kazakh = _follower(proposal, notify_email="immediate", language="kk")
    daily = _follower(proposal, notify_email="daily")
    comment = _post(proposal, django_capture_on_commit_callbacks)
    [message] = _to(english)
    assert message.subject == f"Civic: New comment on “Ливнёвка на Абая” ({proposal.code})"
    assert f"/en/proposals/{proposal.pk}/#comment-{comment.pk}" in message.body
    link = unsubscribe_url(english, "en")
    assert link in message.body
    assert message.extra_headers["List-Unsubscribe"] == f"<{link}>"
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    [kk] = _to(kazakh)
    assert "/kk/proposals/" in kk.body and "New comment" not in kk.body
    assert _to(daily) == []
    for message in mail.outbox:
        assert comment.author.email not in message.body  # nobody's address in anyone's mail
    # A second run of the same event finds every email claimed.
    assert send_immediate(source=f"comment:{comment.pk}") == 0
    assert len(_to(english)) == 1


def test_no_email_for_who_turned_them_off_or_has_no_verified_address(
    proposal, django_capture_on_commit_callbacks
):
    off = _follower(proposal, notify_email="off")
    unverified = _follower(proposal, notify_email="immediate", email_verified=False)
    closed = _follower(proposal, notify_email="immediate", is_active=False)
    _post(proposal, django_capture_on_commit_callbacks)
    assert _to(off) == [] and _to(unverified) == [] and _to(closed) == []
    # They still have it on the site (but a closed account gets nothing at all).
    assert Notification.objects.filter(user__in=[off, unverified]).count() == 2
    assert not Notification.objects.filter(user=closed).exists()


def test_a_failed_send_gives_the_claim_back_for_the_sweep(
    proposal, django_capture_on_commit_callbacks, settings
):
    person = _follower(proposal, notify_email="immediate")
    # A real SMTP backend aimed at a port nobody listens on: the send fails.
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    comment = _post(proposal, django_capture_on_commit_callbacks)
    note = Notification.objects.get(user=person)
    assert note.emailed_at is None
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert send_immediate(source=f"comment:{comment.pk}") == 1
    assert len(_to(person)) == 1


# --- once a day ---------------------------------------------------------------------------


def test_one_digest_per_person_per_day_however_often_it_runs(
    proposal, django_capture_on_commit_callbacks
):
    readers = [_follower(proposal, notify_email="daily") for _ in range(3)]
    at_once = _follower(proposal, notify_email="immediate")
    off = _follower(proposal, notify_email="off")
    for _ in range(2):
        _post(proposal, django_capture_on_commit_callbacks)
    mail.outbox.clear()  # the at-once emails
    now = _later()
    assert send_digests(now=now) == 4  # three readers and the author
    assert send_digests(now=now) == 0
    assert send_digests(now=now + timedelta(hours=3)) == 0
    for person in readers:
        [digest] = _to(person)
        assert digest.body.count(f"/proposals/{proposal.pk}/#comment-") == 2
        assert "List-Unsubscribe" in digest.extra_headers
    assert _to(at_once) == [] and _to(off) == []
    assert NotificationDigest.objects.filter(sent_at__isnull=False).count() == 4

    # The next day: only what is new since.
    _post(proposal, django_capture_on_commit_callbacks)
    mail.outbox.clear()
    assert send_digests(now=_later(days=1)) == 4
    [digest] = _to(readers[0])
    assert digest.body.count("#comment-") == 1


def test_no_digest_before_its_hour(proposal, django_capture_on_commit_callbacks, settings):
    _follower(proposal, notify_email="daily")
    _post(proposal, django_capture_on_commit_callbacks)
    settings.CIVIC_DIGEST_HOUR = 23
    morning = timezone.localtime(_later()).replace(hour=22, minute=59)
    assert send_digests(now=morning) == 0
    assert not NotificationDigest.objects.exists()


def test_a_digest_leaves_out_comments_hidden_since(
    proposal, moderator, django_capture_on_commit_callbacks
):
    reader = _follower(proposal, notify_email="daily")
    kept = _post(proposal, django_capture_on_commit_callbacks)
    hidden = _post(proposal, django_capture_on_commit_callbacks)
    comment_moderate(comment=hidden, moderator=moderator, action="hide", reason="offensive")
    send_digests(now=_later())
    [digest] = _to(reader)
    assert f"#comment-{kept.pk}" in digest.body
    assert f"#comment-{hidden.pk}" not in digest.body
    # Told or not, both are done with: tomorrow's digest does not bring them again.
    assert not Notification.objects.filter(user=reader, emailed_at__isnull=True).exists()


def test_a_digest_claimed_by_a_worker_that_died_is_not_sent_twice_and_its_news_waits(
    proposal, django_capture_on_commit_callbacks
):
    reader = _follower(proposal, notify_email="daily")
    _post(proposal, django_capture_on_commit_callbacks)
    now = _later()
    # What a worker killed between claiming and confirming leaves behind.
    NotificationDigest.objects.create(user=reader, day=timezone.localdate(now), claimed_at=now)
    send_digests(now=now)
    assert _to(reader) == []
    assert Notification.objects.filter(user=reader, emailed_at__isnull=True).count() == 1
    send_digests(now=now + timedelta(days=1))
    assert len(_to(reader)) == 1


def test_a_failed_digest_is_tried_again_by_the_next_run(
    proposal, django_capture_on_commit_callbacks, settings
):
    reader = _follower(proposal, notify_email="daily")
    _post(proposal, django_capture_on_commit_callbacks)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    now = _later()
    assert send_digests(now=now) == 0
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert send_digests(now=now + timedelta(minutes=15)) >= 1
    assert len(_to(reader)) == 1


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="two digest runs at once need PostgreSQL's row locks: set DATABASE_URL",
)
# Committed rows, for the threads' own connections; the serialized rollback puts back what
# migrations created, as every such test here does (mixing the two kinds breaks the next).
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_digest_runs_at_once_send_each_digest_once(strategy):
    proposal = ProposalFactory(strategy=strategy)
    readers = UserFactory.create_batch(120, notify_email="daily")
    Notification.objects.bulk_create(
        Notification(user=person, kind="comment", source="comment:1", proposal=proposal)
        for person in readers
    )
    now = _later()
    results = in_threads(3, lambda i: send_digests(now=now))
    assert sum(results) == 120, results
    assert sorted(m.to[0] for m in mail.outbox) == sorted(p.email for p in readers)


# --- the unsubscribe link -----------------------------------------------------------------


def _unsubscribe_path(person, token=None) -> str:
    return f"/en/unsubscribe/notifications/{token or unsubscribe_token(person)}/"


def test_the_link_works_without_signing_in_and_only_a_post_changes_anything():
    person = UserFactory(notify_email="immediate")
    client = Client(enforce_csrf_checks=True)
    response = client.get(_unsubscribe_path(person))
    assert response.status_code == 200
    person.refresh_from_db()
    assert person.notify_email == "immediate"
    # A mail client's one-click POST (RFC 8058): no session, no CSRF token.
    response = client.post(
        _unsubscribe_path(person), "List-Unsubscribe=One-Click", content_type="text/plain"
    )
    assert response.status_code == 200
    person.refresh_from_db()
    assert person.notify_email == "off"
    client.post(_unsubscribe_path(person), {"enable": "1"})
    person.refresh_from_db()
    assert person.notify_email == "daily"


@pytest.mark.parametrize("forge", ["mangled", "other account", "answers link"])
def test_a_forged_link_is_a_404_that_changes_nothing(forge):
    person, other = UserFactory(), UserFactory()
    token = unsubscribe_token(person)
    token = {
        "mangled": token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        # The signature covers the id: another account's id under this signature fails.
        "other account": unsubscribe_token(other).split(":")[0] + ":" + token.split(":")[1],
        # The answer emails' link has its own salt.
        "answers link": answers_token(person),
    }[forge]
    response = Client().post(_unsubscribe_path(person, token))
    assert response.status_code == 404
    for account in (person, other):
        account.refresh_from_db()
        assert account.notify_email == "daily"


def test_the_command_sends_the_digests_where_no_beat_runs(
    proposal, django_capture_on_commit_callbacks
):
    reader = _follower(proposal, notify_email="daily")
    _post(proposal, django_capture_on_commit_callbacks)
    out = StringIO()
    call_command("send_digests", stdout=out)
    assert out.getvalue().startswith("2 digests sent")  # the reader and the author
    assert len(_to(reader)) == 1
    call_command("send_digests", stdout=out)
    assert len(_to(reader)) == 1


def test_a_section_comment_is_emailed_with_the_section_and_its_discussion(
    strategy, django_capture_on_commit_callbacks
):
    section = SectionFactory(strategy=strategy, code="2.1", title_ru="Вода", title_en="Water")
    reader = UserFactory(notify_email="immediate", language="en")
    follow_set(user=reader, following=True, section=section)
    with django_capture_on_commit_callbacks(execute=True):
        comment = comment_create(
            section=section, author=UserFactory(follow_automatically=False), body=TEXT
        )
    [message] = _to(reader)
    assert "New comment on the section “2.1. Water”" in message.subject
    assert (
        f"/en/strategies/{strategy.slug}/sections/2.1/discussion/#comment-{comment.pk}"
        in message.body
    )
    # The notifications API names where it points.
    [row] = client_for(reader).get("/api/v1/notifications/").json()["results"]
    assert (row["section"], row["section_code"], row["strategy"], row["proposal"]) == (
        section.pk,
        "2.1",
        strategy.slug,
        None,
    )


def test_a_title_with_a_line_break_still_makes_a_one_line_subject(
    strategy, django_capture_on_commit_callbacks
):
    proposal = ProposalFactory(strategy=strategy, title="Ливнёвка\nна Абая")
    reader = _follower(proposal, notify_email="immediate", language="en")
    _post(proposal, django_capture_on_commit_callbacks)
    [message] = _to(reader)
    assert message.subject == f"Civic: New comment on “Ливнёвка на Абая” ({proposal.code})"


def test_asking_for_each_email_does_not_bring_the_last_days_one_by_one(
    proposal, django_capture_on_commit_callbacks
):
    reader = _follower(proposal, notify_email="daily")
    for _ in range(3):
        _post(proposal, django_capture_on_commit_callbacks)
    client = Client()
    client.force_login(reader)
    client.post("/en/me/notifications/settings/", {"notify_email": "immediate"})
    reader.refresh_from_db()
    assert reader.notify_email == "immediate"
    assert send_immediate_sweep(now=timezone.now() + timedelta(minutes=10)) == 0
    assert _to(reader) == []
    _post(proposal, django_capture_on_commit_callbacks)  # but what comes next, at once
    assert len(_to(reader)) == 1


def test_who_unsubscribed_after_the_chunk_was_queued_gets_no_digest(
    proposal, django_capture_on_commit_callbacks
):
    reader = _follower(proposal, notify_email="daily")
    _post(proposal, django_capture_on_commit_callbacks)
    now = _later()
    [chunk] = list(digest_due(now=now))
    assert reader.pk in chunk
    reader.notify_email = "off"
    reader.save(update_fields=["notify_email"])
    send_digest_chunk(user_ids=chunk, now=now)
    assert _to(reader) == []
    assert not NotificationDigest.objects.filter(user=reader, claimed_at__isnull=False).exists()
