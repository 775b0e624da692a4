"""The city's answer end to end with the real processes: gunicorn takes the answer, a
Celery worker over Redis sends the emails (once each, in each reader's language) and
refreshes the tallies, on PostgreSQL."""

import time

from rest_framework.authtoken.models import Token

from civic.accounts.services import role_grant
from proposals.models import AnswerNotice, Reaction
from tests.factories import ProposalFactory, StrategyFactory, UserFactory
from tests.proposals import test_tasks_e2e as e2e

# The same processes, requirements and database handling as the other end-to-end tests.
pytestmark = e2e.pytestmark
stack = e2e.stack
_wait = e2e._wait


_mails = e2e.sent_mails


def test_worker_emails_each_reader_once_and_tallies_follow(stack, tmp_path):
    mail = tmp_path / "mail"
    stack.env["EMAIL_BACKEND"] = "django.core.mail.backends.filebased.EmailBackend"
    stack.env["EMAIL_FILE_PATH"] = str(mail)
    strategy = StrategyFactory(slug="e2e-answers")
    author = UserFactory(email="author@example.org", language="kk")
    reader = UserFactory(email="reader@example.org", language="en")
    quiet = UserFactory(email="quiet@example.org", notify_answers=False)
    proposal = ProposalFactory(strategy=strategy, author=author)
    for person, kind in ((reader, "like"), (quiet, "sympathy")):
        Reaction.objects.create(proposal=proposal, user=person, kind=kind)
    responder = UserFactory(email="official@akimat.kz")
    role_grant(user=responder, role="responder")
    token = Token.objects.create(user=responder).key

    stack.start_redis()
    stack.start_web()
    stack.start_worker()
    stack.start_beat()
    status, body = stack.call(
        "PUT",
        f"/api/v1/proposals/{proposal.pk}/answer/",
        token,
        {"outcome": "accepted_in_part", "text": "Учтено в разделе 2.", "expected_outcome": ""},
    )
    assert status == 200, body

    answers = _wait(
        lambda: (t := stack.tallies(strategy.slug)["answers"])["answered"] == 1 and t,
        timeout=40,
        what="the tallies to count the answer",
    )
    assert answers["by_outcome"]["accepted_in_part"] == 1
    mails = _wait(lambda: len(_mails(mail)) >= 2 and _mails(mail), timeout=40, what="two emails")
    to_author = next(m for m in mails if "To: author@example.org" in m)
    to_reader = next(m for m in mails if "To: reader@example.org" in m)
    assert "Ұсыныс" in to_author  # Kazakh for its Kazakh-speaking author
    assert "Accepted in part" in to_reader
    assert "List-Unsubscribe:" in to_reader
    for message in mails:
        assert "official@akimat.kz" not in message and "quiet@example.org" not in message

    # An edit of the published answer tells nobody again.
    status, _ = stack.call(
        "PUT",
        f"/api/v1/proposals/{proposal.pk}/answer/",
        token,
        {"outcome": "accepted", "text": "", "expected_outcome": "accepted_in_part"},
    )
    assert status == 200
    _wait(
        lambda: stack.tallies(strategy.slug)["answers"]["by_outcome"]["accepted"] == 1,
        timeout=40,
        what="the tallies to follow the edit",
    )
    time.sleep(3)
    assert len(_mails(mail)) == 2
    assert AnswerNotice.objects.filter(proposal=proposal, sent_at__isnull=False).count() == 2
