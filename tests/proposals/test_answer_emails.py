"""Emails about a published answer: who gets one, in which language, once each, and how
the signed one-click link turns them off.

Answers are created straight in the table (published, with their date) and the task is
called directly: what is under test is what happens once an answer is published.
"""

import threading
import time
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.db import connection, connections
from django.test import Client
from django.utils import timezone

from civic.accounts.services import role_grant
from civic.accounts.tokens import email_token_make
from proposals.answers import services as answer_services
from proposals.answers.emails import answer_email
from proposals.answers.notify import (
    answer_notify,
    answer_recipients,
    unsubscribe_token,
    unsubscribe_user_from_token,
)
from proposals.answers.tasks import answer_email_sweep, send_answer_emails
from proposals.models import Answer, AnswerNotice, Reaction
from proposals.services import reaction_set
from tests.factories import ProposalFactory, UserFactory

pytestmark = pytest.mark.django_db

ANSWER_TEXT = "Освещение во дворах уже заложено в план на 2026 год."


class RefusingBackend(LocmemBackend):
    """A stand-in for a mail server that refuses one address and takes the others."""

    refused: str | None = None

    def send_messages(self, messages):
        for message in messages:
            if self.refused in message.to:
                raise OSError(f"550 mailbox unavailable: {self.refused}")
        return super().send_messages(messages)


class SlowBackend(LocmemBackend):
    """A mail server that takes its time, so two runs overlap while an email goes out."""

    def send_messages(self, messages):
        time.sleep(0.2)
        return super().send_messages(messages)


@pytest.fixture
def people(strategy):
    """A Kazakh-speaking author, reactors in Russian and English, one who opted out and
    one whose account was closed after reacting."""
    author = UserFactory(language="kk", display_name="Айгерим Автор")
    proposal = ProposalFactory(strategy=strategy, author=author, title="Свет во дворах")
    ru = UserFactory(language="ru", display_name="Реактор Один")
    en = UserFactory(language="en", display_name="Reactor Two")
    opted_out = UserFactory(language="ru", display_name="Не пишите мне", notify_answers=False)
    closed = UserFactory(language="ru", display_name="Closed Account")
    for user, kind in ((ru, "like"), (en, "sympathy"), (opted_out, "like"), (closed, "funny")):
        reaction_set(proposal=proposal, user=user, kind=kind)
    closed.is_active = False
    closed.save(update_fields=["is_active"])
    return {
        "proposal": proposal,
        "author": author,
        "ru": ru,
        "en": en,
        "opted_out": opted_out,
        "closed": closed,
    }


def _publish(proposal, outcome="already_planned", text=ANSWER_TEXT, **kwargs) -> Answer:
    now = timezone.now()
    return Answer.objects.create(
        proposal=proposal,
        outcome=outcome,
        text=text,
        published=kwargs.pop("published", True),
        answered_at=kwargs.pop("answered_at", now),
        **kwargs,
    )


def _by_address(outbox) -> dict[str, mail.EmailMessage]:
    assert all(len(message.to) == 1 for message in outbox)
    assert not any(message.cc or message.bcc for message in outbox)
    return {message.to[0]: message for message in outbox}


def _age(answer: Answer, **delta) -> None:
    Answer.objects.filter(pk=answer.pk).update(answered_at=timezone.now() - timedelta(**delta))


# --- who gets what ----------------------------------------------------------------------------


def test_author_and_reactors_get_one_email_each_in_their_own_language(people, mailoutbox):
    proposal = people["proposal"]
    answer = _publish(proposal)
    assert send_answer_emails(proposal.pk) == 3
    sent = _by_address(mailoutbox)
    assert set(sent) == {people[key].email for key in ("author", "ru", "en")}

    kazakh = sent[people["author"].email]
    assert "Ұсынысыңыз" in kazakh.subject  # "your proposal", in Kazakh
    assert proposal.code in kazakh.subject
    assert "Ұсыныс:" in kazakh.body
    assert ANSWER_TEXT in kazakh.body
    assert f"{proposal.code} “Свет во дворах”" in kazakh.body
    assert f"{django_settings.CIVIC_SITE_URL}/kk/proposals/{proposal.pk}/" in kazakh.body

    russian = sent[people["ru"].email]
    assert russian.subject.startswith(f"Предложение {proposal.code}")
    assert f"{django_settings.CIVIC_SITE_URL}/ru/proposals/{proposal.pk}/" in russian.body

    english = sent[people["en"].email]
    assert english.subject == f"Proposal {proposal.code}: Already planned"
    assert "a proposal you follow" in english.body
    assert "your proposal" not in english.body
    assert f"{django_settings.CIVIC_SITE_URL}/en/proposals/{proposal.pk}/" in english.body

    assert AnswerNotice.objects.filter(proposal=proposal, sent_at__isnull=False).count() == 3
    answer.refresh_from_db()
    assert answer.notified_at is not None


def test_the_author_is_told_about_their_own_proposal_and_a_reactor_about_theirs(people):
    proposal, author, reactor = people["proposal"], people["author"], people["en"]
    answer = _publish(proposal, outcome="accepted", text="")
    subject, body = answer_email(proposal=proposal, answer=answer, recipient=author, language="en")
    assert subject == f"Your proposal {proposal.code}: Accepted"
    assert "The city has answered your proposal." in body
    assert "because you wrote this proposal" in body
    subject, body = answer_email(proposal=proposal, answer=answer, recipient=reactor, language="en")
    assert "The city has answered a proposal you follow." in body
    assert "because you reacted to this proposal or follow it" in body


@pytest.mark.parametrize(
    ("outcome", "label"),
    [
        ("accepted", "Accepted"),
        ("accepted_in_part", "Accepted in part"),
        ("already_planned", "Already planned"),
        ("not_accepted", "Not accepted"),
        ("out_of_scope", "Out of scope"),
    ],
)
def test_every_outcome_has_its_label(people, outcome, label):
    answer = _publish(people["proposal"], outcome=outcome)
    subject, body = answer_email(
        proposal=people["proposal"], answer=answer, recipient=people["en"], language="en"
    )
    assert subject.endswith(f": {label}")
    assert f"Outcome: {label}\n" in body


def test_recipients_are_the_author_and_reactors_who_want_emails_each_once(people):
    proposal, author = people["proposal"], people["author"]
    reaction_set(proposal=proposal, user=author, kind="like")  # the author reacts too
    assert answer_recipients(proposal=proposal) == [author, people["ru"], people["en"]]
    # One rule for everyone: an author who opted out is not written to either.
    author.notify_answers = False
    author.save(update_fields=["notify_answers"])
    assert answer_recipients(proposal=proposal) == [people["ru"], people["en"]]


def test_opted_out_and_closed_accounts_get_nothing(people, mailoutbox):
    _publish(people["proposal"])
    send_answer_emails(people["proposal"].pk)
    addresses = {message.to[0] for message in mailoutbox}
    assert people["opted_out"].email not in addresses
    assert people["closed"].email not in addresses
    assert not AnswerNotice.objects.filter(
        user__in=[people["opted_out"], people["closed"]]
    ).exists()


def test_nobody_elses_address_or_name_is_in_an_email(people, mailoutbox):
    _publish(people["proposal"])
    send_answer_emails(people["proposal"].pk)
    everyone = [people[key] for key in ("author", "ru", "en", "opted_out", "closed")]
    for message in mailoutbox:
        raw = message.message().as_string()
        decoded = f"{message.subject}\n{message.body}\n{message.extra_headers}"
        for person in everyone:
            if person.email != message.to[0]:
                assert person.email not in raw
            # Not even the recipient's own name: nothing in it is about people.
            assert person.display_name not in decoded


def test_each_email_carries_a_one_click_unsubscribe_link(people, mailoutbox):
    _publish(people["proposal"])
    send_answer_emails(people["proposal"].pk)
    for message in mailoutbox:
        user = {people[k].email: people[k] for k in ("author", "ru", "en")}[message.to[0]]
        header = message.extra_headers["List-Unsubscribe"]
        assert header.startswith(f"<{django_settings.CIVIC_SITE_URL}/{user.language}/unsubscribe/")
        assert header.endswith("/>")
        link = header[1:-1]
        assert link in message.body
        assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        token = urlsplit(link).path.split("/")[-2]
        assert unsubscribe_user_from_token(token) == user
        # The headers survive into what the mail server receives.
        raw = message.message()
        assert raw["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert raw["List-Unsubscribe"] == header


# --- once each --------------------------------------------------------------------------------


def test_running_the_task_twice_or_the_sweep_sends_nothing_more(people, mailoutbox):
    answer = _publish(people["proposal"])
    assert send_answer_emails(people["proposal"].pk) == 3
    assert send_answer_emails(people["proposal"].pk) == 0  # a redelivered message
    _age(answer, minutes=5)
    assert answer_email_sweep() == 0  # notified: nothing for the sweep
    assert len(mailoutbox) == 3


def test_a_second_run_that_finds_the_notices_claimed_sends_only_what_is_unsent(people, mailoutbox):
    # A run that claimed every row and died after sending one of them.
    proposal = people["proposal"]
    _publish(proposal)
    for user in answer_recipients(proposal=proposal):
        AnswerNotice.objects.create(proposal=proposal, user=user)
    AnswerNotice.objects.filter(user=people["author"]).update(sent_at=timezone.now())
    assert answer_notify(proposal_id=proposal.pk) == 2
    assert {m.to[0] for m in mailoutbox} == {people["ru"].email, people["en"].email}


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="concurrent workers need PostgreSQL: set DATABASE_URL"
)
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_runs_at_once_send_each_email_once(people, mailoutbox, settings):
    settings.EMAIL_BACKEND = f"{__name__}.SlowBackend"
    proposal = people["proposal"]
    answer = _publish(proposal)
    barrier = threading.Barrier(2)
    counts: list[int] = []

    def run() -> None:
        try:
            barrier.wait()
            counts.append(send_answer_emails(proposal.pk))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(counts) == 3
    assert sorted(m.to[0] for m in mailoutbox) == sorted(
        people[key].email for key in ("author", "ru", "en")
    )
    assert AnswerNotice.objects.filter(proposal=proposal, sent_at__isnull=True).count() == 0
    # Whichever run finished last closed the answer; if neither saw the other's last
    # row committed, the sweep closes it without sending anything.
    _age(answer, minutes=5)
    answer_email_sweep()
    answer.refresh_from_db()
    assert answer.notified_at is not None
    assert len(mailoutbox) == 3


def test_an_edit_after_publishing_sends_nothing_new(people, mailoutbox):
    proposal = people["proposal"]
    answer = _publish(proposal)
    send_answer_emails(proposal.pk)
    Answer.objects.filter(pk=answer.pk).update(
        outcome="accepted_in_part", text="Частично: освещение в 2025.", updated_at=timezone.now()
    )
    # Someone who reacts after the emails went is not written to later either.
    late = UserFactory(language="en")
    reaction_set(proposal=proposal, user=late, kind="like")
    assert send_answer_emails(proposal.pk) == 0
    _age(answer, minutes=5)
    assert answer_email_sweep() == 0
    assert len(mailoutbox) == 3


def test_publishing_through_the_service_emails_once_and_an_edit_emails_nobody(
    people, mailoutbox, django_capture_on_commit_callbacks
):
    responder = UserFactory()
    role_grant(user=responder, role="responder")
    proposal = people["proposal"]
    with django_capture_on_commit_callbacks(execute=True):
        answer_services.answer_save(
            proposal=proposal, responder=responder, outcome="not_accepted", text=ANSWER_TEXT
        )
    assert len(mailoutbox) == 3
    with django_capture_on_commit_callbacks(execute=True):
        answer_services.answer_save(
            proposal=proposal, responder=responder, outcome="accepted", text=""
        )
    assert len(mailoutbox) == 3
    # The official who answered is named nowhere.
    assert not any(responder.display_name in m.body for m in mailoutbox)


def test_a_draft_answer_sends_nothing_until_published(people, mailoutbox):
    proposal = people["proposal"]
    answer = _publish(proposal, published=False, answered_at=None)
    assert send_answer_emails(proposal.pk) == 0
    assert not AnswerNotice.objects.exists()
    assert mailoutbox == []
    Answer.objects.filter(pk=answer.pk).update(published=True, answered_at=timezone.now())
    assert send_answer_emails(proposal.pk) == 3


def test_a_proposal_without_an_answer_sends_nothing(people, mailoutbox):
    assert send_answer_emails(people["proposal"].pk) == 0
    assert send_answer_emails(987654) == 0
    assert mailoutbox == []


def test_someone_who_opts_out_before_their_email_went_is_not_written_to(people, mailoutbox):
    proposal = people["proposal"]
    answer = _publish(proposal)
    for user in answer_recipients(proposal=proposal):
        AnswerNotice.objects.create(proposal=proposal, user=user)
    people["ru"].notify_answers = False
    people["ru"].save(update_fields=["notify_answers"])
    assert answer_notify(proposal_id=proposal.pk) == 2
    assert people["ru"].email not in {m.to[0] for m in mailoutbox}
    answer.refresh_from_db()
    assert answer.notified_at is not None  # the withdrawn row does not hold it open


def test_a_refused_email_stays_unsent_and_the_sweep_resends_only_it(people, mailoutbox, settings):
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    RefusingBackend.refused = people["ru"].email
    proposal = people["proposal"]
    answer = _publish(proposal)
    try:
        assert send_answer_emails(proposal.pk) == 2
    finally:
        RefusingBackend.refused = None
    assert {m.to[0] for m in mailoutbox} == {people["author"].email, people["en"].email}
    unsent = AnswerNotice.objects.get(proposal=proposal, sent_at__isnull=True)
    assert unsent.user == people["ru"]
    answer.refresh_from_db()
    assert answer.notified_at is None

    assert answer_email_sweep() == 0  # too recent: the first task may still be running
    _age(answer, minutes=5)
    assert answer_email_sweep() == 1  # the mail server takes it this time
    assert len(mailoutbox) == 3
    assert mailoutbox[-1].to == [people["ru"].email]
    answer.refresh_from_db()
    assert answer.notified_at is not None
    assert answer_email_sweep() == 0


def test_the_sweep_gives_up_after_two_days(people, mailoutbox):
    answer = _publish(people["proposal"])
    _age(answer, days=3)
    assert answer_email_sweep() == 0
    assert mailoutbox == []


# --- the signed link --------------------------------------------------------------------------


def _link_path(message) -> str:
    return urlsplit(message.extra_headers["List-Unsubscribe"][1:-1]).path


def test_the_link_asks_on_get_and_unsubscribes_on_a_one_click_post(people, mailoutbox):
    proposal = people["proposal"]
    _publish(proposal)
    send_answer_emails(proposal.pk)
    message = next(m for m in mailoutbox if m.to == [people["en"].email])
    path = _link_path(message)
    assert path.startswith("/en/unsubscribe/")

    # No session, and CSRF checks on, as for a mail client.
    client = Client(enforce_csrf_checks=True)
    response = client.get(path)  # a mail scanner prefetching the link
    assert response.status_code == 200
    people["en"].refresh_from_db()
    assert people["en"].notify_answers is True

    response = client.post(
        path,
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    people["en"].refresh_from_db()
    assert people["en"].notify_answers is False

    # The next answer reaches everyone else, not them.
    second = ProposalFactory(strategy=proposal.strategy, author=people["author"])
    reaction_set(proposal=second, user=people["en"], kind="like")
    reaction_set(proposal=second, user=people["ru"], kind="like")
    _publish(second)
    mailoutbox.clear()
    assert send_answer_emails(second.pk) == 2
    assert people["en"].email not in {m.to[0] for m in mailoutbox}


@pytest.mark.parametrize(
    "token",
    [
        "nonsense",
        "eyJ1IjoxfQ:1tAbCd:forged-signature",
        pytest.param("verification", id="a token made for something else"),
    ],
)
def test_a_bad_token_is_a_clear_404_that_changes_nothing(people, token):
    user = people["en"]
    if token == "verification":
        token = email_token_make(user_id=user.pk, email=user.email)
    assert unsubscribe_user_from_token(token) is None
    response = Client().post(f"/en/unsubscribe/{token}/")
    assert response.status_code == 404
    assert "not valid" in response.content.decode()
    user.refresh_from_db()
    assert user.notify_answers is True


def test_a_token_of_a_removed_account_is_refused(people):
    token = unsubscribe_token(people["ru"])
    Reaction.objects.filter(user=people["ru"]).delete()
    people["ru"].delete()
    assert unsubscribe_user_from_token(token) is None
    assert Client().get(f"/ru/unsubscribe/{token}/").status_code == 404


def test_the_tasks_are_registered_and_the_sweep_runs_every_minute():
    from civic.celery import app

    assert {"proposals.send_answer_emails", "proposals.answer_email_sweep"} <= set(app.tasks)
    entry = django_settings.CELERY_BEAT_SCHEDULE["answer-email-sweep"]
    assert entry["task"] == answer_email_sweep.name
    assert entry["schedule"] == 60.0
