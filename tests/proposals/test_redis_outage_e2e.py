"""Redis killed while the worker holds unacknowledged messages, then started again.

Real processes (the stack of test_tasks_e2e.py: a private redis-server, gunicorn, a Celery
worker and beat on PostgreSQL). Redis keeps nothing on disk, so every message in it dies
with it: the worker must reconnect by itself (the same process, no supervisor), and the
beat sweeps must redo what the lost messages never did, with no human action.
"""

import signal
import time

from celery import Celery
from rest_framework.authtoken.models import Token

from civic.accounts.services import role_grant
from proposals.models import Answer, Proposal, ProposalEvent
from tests.factories import ProposalFactory, StrategyFactory, UserFactory
from tests.proposals import test_tasks_e2e as e2e

# The same processes, requirements and database handling as the other end-to-end tests.
pytestmark = e2e.pytestmark
stack = e2e.stack
people = e2e.people
_wait = e2e._wait


_mails = e2e.sent_mails


def _start_worker(stack: e2e.Stack) -> None:
    # The production worker command (see deploy/systemd/civic-worker.service), plus a task
    # that only sleeps, so the test can keep both pool processes busy.
    stack.start_worker("--include", "tests.proposals.slow_tasks")


def _log(stack: e2e.Stack, name: str) -> str:
    path = stack.tmp_path / f"{name}.log"
    return path.read_text(errors="replace") if path.exists() else ""


def _kill_redis(stack: e2e.Stack) -> None:
    process = stack.processes.pop("redis")
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)


def test_worker_reconnects_after_redis_is_killed_and_sweeps_catch_up(stack, people, tmp_path):
    mail = tmp_path / "mail"
    stack.env.update(
        {
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(mail),
            # Production waits two minutes before an email sweep resends; here a few seconds.
            "CIVIC_EMAIL_SWEEP_SECONDS": "2",
            "CIVIC_EMAIL_SWEEP_AFTER_SECONDS": "3",
        }
    )
    strategy = StrategyFactory(slug="e2e-redis-outage")
    asker = UserFactory(email="asker@example.org", language="en")
    answered = ProposalFactory(strategy=strategy, author=asker)
    responder = UserFactory(email="official@akimat.kz")
    role_grant(user=responder, role="responder")
    responder_token = Token.objects.create(user=responder).key

    stack.start_redis()
    stack.start_web()
    _start_worker(stack)
    stack.start_beat()
    worker = stack.processes["worker"]
    _wait(lambda: "ready." in _log(stack, "worker"), timeout=30, what="the worker to be ready")
    e2e._tallies_reach(stack, strategy.slug, received=1, published=1)

    # The worker holds messages it has not acknowledged: tasks due later (as every tally
    # refresh is, by a second) wait in its memory, and a pool process sleeps on one.
    broker = Celery(broker=stack.env["REDIS_URL"])
    for _ in range(3):
        broker.send_task("tests.sleep", args=[0], countdown=600)
    broker.send_task("tests.sleep", args=[4])
    _wait(
        lambda: _log(stack, "worker").count("Task tests.sleep[") >= 4,
        timeout=20,
        what="the worker to take the sleeping tasks",
    )

    # Work arrives while the worker is busy.
    ids = [e2e._submit(stack, people["resident"], strategy.slug, n) for n in range(3)]
    e2e._decide(stack, people["moderator"], ids[0])
    e2e._decide(stack, people["moderator"], ids[1])
    status, body = stack.call(
        "PUT",
        f"/api/v1/proposals/{answered.pk}/answer/",
        responder_token,
        {"outcome": "accepted", "text": "", "expected_outcome": ""},
    )
    assert status == 200, body

    # Redis dies mid-work (no save, no append-only file: every queued message is gone),
    # while the worker waits on Redis for more with the messages above still in hand...
    _wait(
        lambda: "Task proposals.send_answer_emails[" in _log(stack, "worker"),
        timeout=20,
        what="the worker to take the answer's emails",
    )
    time.sleep(1.5)
    _kill_redis(stack)
    # ...work still comes in while it is away...
    e2e._decide(stack, people["moderator"], ids[2])
    time.sleep(5)  # the sleeping task finishes and tries to acknowledge into the void
    # ...and it comes back empty on the same port. Nobody touches the worker.
    stack.start_redis()

    e2e._tallies_reach(stack, strategy.slug, received=4, published=4, timeout=60)
    answers = _wait(
        lambda: (t := stack.tallies(strategy.slug)["answers"])["answered"] == 1 and t,
        timeout=30,
        what="the tallies to count the answer",
    )
    assert answers["by_outcome"]["accepted"] == 1

    # Three decisions to the resident, the answer to its author: each sent once.
    _wait(lambda: len(_mails(mail)) >= 4, timeout=60, what="the four emails")
    _wait(
        lambda: (
            not ProposalEvent.objects.filter(
                proposal__strategy=strategy,
                action__in=ProposalEvent.DECISIONS,
                notified_at__isnull=True,
            ).exists()
            and Answer.objects.filter(proposal=answered, notified_at__isnull=False).exists()
        ),
        timeout=20,
        what="every email to be marked sent",
    )
    time.sleep(3)  # a sweep more: nothing is sent twice
    mails = _mails(mail)
    assert sum("To: author@example.org" in m for m in mails) == 3, mails
    assert sum("To: asker@example.org" in m for m in mails) == 1, mails
    assert Proposal.objects.filter(strategy=strategy, status="published").count() == 4

    # The worker that did it is the one started before the outage: it reconnected.
    assert worker.poll() is None, _log(stack, "worker")[-3000:]
    assert stack.processes["worker"].pid == worker.pid
    log = _log(stack, "worker")
    assert "Unrecoverable error" not in log, log[-3000:]
