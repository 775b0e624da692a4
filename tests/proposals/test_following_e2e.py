"""Following end to end with the real processes (issue 15): gunicorn takes a comment, a
Celery worker over Redis writes the notifications and emails them, beat sends the daily
digests; and a worker killed with SIGKILL in the middle of the digests, then restarted,
sends nobody a second digest and loses nobody's news. On PostgreSQL."""

import os
import re
import signal
import time
from datetime import timedelta
from pathlib import Path

from django.core import mail
from django.utils import timezone
from rest_framework.authtoken.models import Token

from proposals.following.emails import CLAIM_BATCH, send_digests
from proposals.models import Follow, Notification, NotificationDigest
from tests.factories import ProposalFactory, StrategyFactory, UserFactory
from tests.proposals import test_tasks_e2e as e2e

# The same processes, requirements and database handling as the other end-to-end tests.
pytestmark = e2e.pytestmark
stack = e2e.stack
_wait = e2e._wait

TO = re.compile(r"^To: (\S+)$", re.MULTILINE)


def _recipients(folder: Path) -> list[str]:
    """Every recipient of every message the file backend wrote, repeats kept."""
    return [address for message in e2e.sent_mails(folder) for address in TO.findall(message)]


def _files_backend(stack, folder: Path) -> None:
    stack.env["EMAIL_BACKEND"] = "django.core.mail.backends.filebased.EmailBackend"
    stack.env["EMAIL_FILE_PATH"] = str(folder)


def test_a_comment_reaches_followers_by_the_worker_at_once_and_in_the_digest(stack, tmp_path):
    folder = tmp_path / "mail"
    _files_backend(stack, folder)
    stack.env["CIVIC_DIGEST_HOUR"] = "0"
    stack.env["CIVIC_DIGEST_CHECK_SECONDS"] = "1"
    strategy = StrategyFactory(slug="e2e-following")
    proposal = ProposalFactory(strategy=strategy)
    at_once = UserFactory(email="at-once@example.org", notify_email="immediate")
    daily = UserFactory(email="daily@example.org", notify_email="daily", language="kk")
    for person in (at_once, daily):
        Follow.objects.create(user=person, proposal=proposal)
    commenter = UserFactory(email="commenter@example.org", follow_automatically=False)
    token = Token.objects.create(user=commenter).key

    stack.start_redis()
    stack.start_web()
    stack.start_worker()
    stack.start_beat()
    status, body = stack.call(
        "POST",
        f"/api/v1/proposals/{proposal.pk}/comments/",
        token,
        {"body": "Перекрёсток затапливает каждую весну, уже третий год."},
    )
    assert status == 201, body
    sent = _wait(
        lambda: len(set(_recipients(folder))) >= 2 and _recipients(folder),
        timeout=40,
        what="the email at once and the digest",
    )
    assert sorted(sent) == ["at-once@example.org", "daily@example.org"]
    assert Notification.objects.filter(proposal=proposal, emailed_at__isnull=False).count() == 2
    digest = next(message for message in e2e.sent_mails(folder) if "daily@" in message)
    assert "Жазылған нәрселеріңіздегі жаңалықтар" in digest  # Kazakh, as the reader asked
    assert "commenter@example.org" not in digest
    # Beat runs the digest every second: still one email each.
    time.sleep(3)
    assert sorted(_recipients(folder)) == ["at-once@example.org", "daily@example.org"]


def test_a_worker_killed_during_the_digests_sends_nobody_two(stack, tmp_path, settings):
    folder = tmp_path / "mail"
    _files_backend(stack, folder)
    stack.env["CIVIC_DIGEST_HOUR"] = "0"
    stack.env["CIVIC_DIGEST_CHECK_SECONDS"] = "1"
    proposal = ProposalFactory(strategy=StrategyFactory(slug="e2e-digest-kill"))
    readers = UserFactory.create_batch(3000, notify_email="daily")
    Notification.objects.bulk_create(
        Notification(user=person, kind=kind, source=f"{kind}:{n}", proposal=proposal)
        for person in readers
        for n, kind in enumerate(("comment", "status"))
    )

    stack.start_redis()
    stack.start_worker()
    stack.start_beat()
    _wait(lambda: len(_recipients(folder)) >= 300, timeout=60, what="the digests to be going out")
    worker = stack.processes.pop("worker")
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait()
    killed_at = len(_recipients(folder))
    assert killed_at < len(readers), "the digests were done before the kill: nothing was tested"

    stack.start_worker()

    _wait(
        lambda: NotificationDigest.objects.filter(claimed_at__isnull=False).count() == len(readers),
        timeout=120,
        what="the restarted worker to claim every digest",
    )
    # The last batches may still be going out: wait until the count holds still.
    counts = [-1]

    def still() -> bool:
        counts.append(len(_recipients(folder)))
        return counts[-1] == counts[-2]

    _wait(still, timeout=60, what="the emails to stop coming")
    time.sleep(3)  # beat keeps running the digest: let it try to send again

    sent = _recipients(folder)
    assert len(sent) == len(set(sent)), "someone got two digests"
    unconfirmed = NotificationDigest.objects.filter(sent_at__isnull=True)
    # A kill leaves at most one batch per worker process claimed and unconfirmed...
    assert unconfirmed.count() <= 2 * CLAIM_BATCH
    assert NotificationDigest.objects.filter(
        sent_at__isnull=False
    ).count() + unconfirmed.count() == len(readers)
    everyone = {person.email for person in readers}
    assert set(sent) <= everyone
    missing = everyone - set(sent)
    assert missing <= set(unconfirmed.values_list("user__email", flat=True))
    # ...and their news waits for the next day's digest, where it goes once: news again for
    # those whose email went out just before the kill, news at last for the others.
    stack.stop("beat")
    stack.stop("worker")
    left = set(unconfirmed.values_list("user__email", flat=True))
    waiting = Notification.objects.filter(user__email__in=left, emailed_at__isnull=True)
    assert waiting.count() == 2 * len(left)
    settings.CIVIC_DIGEST_HOUR = 0
    tomorrow = timezone.now() + timedelta(days=1)
    assert send_digests(now=tomorrow) == len(left)
    assert sorted(m.to[0] for m in mail.outbox) == sorted(left)
