"""End to end with the real processes: gunicorn, a Celery worker, Celery beat, Redis, PostgreSQL.

The web process, the worker and beat run as separate programs against the test
database and a Redis server of this test's own (so stopping it disturbs nothing
else). The test only speaks HTTP to the web process and reads the database, and, to see
that work waits for a worker, the messages in that Redis's queue.
"""

import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import redis
from django.conf import settings
from django.db import connection
from rest_framework.authtoken.models import Token

from civic.accounts.services import role_grant
from proposals.models import Proposal, Tally
from tests.factories import StrategyFactory, UserFactory

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.services,
    pytest.mark.skipif(
        not (os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL")),
        reason="needs PostgreSQL and Redis: set DATABASE_URL and REDIS_URL (as .ci/run does)",
    ),
    pytest.mark.skipif(
        shutil.which("redis-server") is None,
        reason="needs the redis-server program to run a private Redis",
    ),
    # Rows must be committed for the other processes to see them; the serialized
    # rollback puts back the themes, districts and roles that migrations created.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# What Django's file email backend writes after each message.
_MESSAGE_END = "\n" + "-" * 79 + "\n"


def sent_mails(folder: Path) -> list[str]:
    """Every message the file email backend wrote, one string each.

    Counted by message, not by file: two connections opened in the same second whose
    backends happen to get the same id() append to one file.
    """
    if not folder.exists():
        return []
    return [
        message
        for path in sorted(folder.glob("*.log"))
        for message in path.read_text().split(_MESSAGE_END)
        if message.strip()
    ]


def _wait(condition: Callable[[], Any], *, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = condition()
        except (OSError, urllib.error.URLError):
            value = None
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


class Stack:
    """The platform's processes, started and stopped one by one."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.redis_port = _free_port()
        self.web_port = _free_port()
        self.processes: dict[str, subprocess.Popen] = {}
        db = connection.settings_dict
        credentials = quote(db["USER"] or "")
        if db.get("PASSWORD"):
            credentials += ":" + quote(db["PASSWORD"])
        self.env = {
            **os.environ,
            "DATABASE_URL": f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:"
            f"{db['PORT'] or 5432}/{db['NAME']}",
            "REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "DJANGO_DEBUG": "1",
            "DJANGO_SETTINGS_MODULE": "civic.settings",
            "CIVIC_DATA_DIR": str(tmp_path),
            "CIVIC_TALLY_SWEEP_SECONDS": "1",
            "CIVIC_TALLY_COALESCE_SECONDS": "1",
            "CIVIC_THROTTLE_REACT": "10000/minute",
            "CIVIC_THROTTLE_SUBMIT": "10000/minute",
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            "PYTHONPATH": str(ROOT),
        }

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def _start(self, name: str, args: list[str]) -> None:
        log = open(self.tmp_path / f"{name}.log", "ab")  # noqa: SIM115 - lives with the process
        self.processes[name] = subprocess.Popen(
            args,
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def stop(self, name: str) -> None:
        process = self.processes.pop(name, None)
        if process is None:
            return
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def start_redis(self) -> None:
        self._start(
            "redis",
            [
                "redis-server",
                "--port",
                str(self.redis_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
        )
        _wait(
            lambda: socket.create_connection(("127.0.0.1", self.redis_port), 1),
            timeout=10,
            what="redis",
        )

    def start_web(self) -> None:
        self._start(
            "web",
            [
                sys.executable,
                "-m",
                "gunicorn",
                "civic.wsgi",
                "--workers",
                "2",
                "--bind",
                f"127.0.0.1:{self.web_port}",
                "--timeout",
                "60",
            ],
        )
        _wait(
            lambda: urllib.request.urlopen(f"{self.base_url}/api/v1/themes/", timeout=2),
            timeout=30,
            what="gunicorn",
        )

    def start_worker(self, *extra: str) -> None:
        self._start(
            "worker",
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "civic",
                "worker",
                "--concurrency",
                "2",
                "--loglevel",
                "INFO",
                "--without-gossip",
                "--without-mingle",
                *extra,
            ],
        )

    def start_beat(self) -> None:
        self._start(
            "beat",
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "civic",
                "beat",
                "--loglevel",
                "INFO",
                "--schedule",
                str(self.tmp_path / "beat-schedule"),
            ],
        )

    def close(self) -> None:
        for name in list(self.processes):
            self.stop(name)

    def logs(self) -> str:
        return "\n".join(
            f"--- {path.name}\n{path.read_text(errors='replace')[-3000:]}"
            for path in self.tmp_path.glob("*.log")
        )

    def call(
        self, method: str, path: str, token: str | None = None, body: dict | None = None
    ) -> tuple[int, Any]:
        request = urllib.request.Request(
            self.base_url + path,
            method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={
                "Content-Type": "application/json",
                **({"Authorization": f"Token {token}"} if token else {}),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                raw = response.read()
                return response.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def tallies(self, slug: str) -> dict:
        status, body = self.call("GET", f"/api/v1/strategies/{slug}/tallies/")
        assert status == 200, body
        return body


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    running = Stack(tmp_path)
    try:
        yield running
    except BaseException:
        print(running.logs())  # shown by pytest on failure
        raise
    finally:
        running.close()


@pytest.fixture
def people() -> dict[str, str]:
    resident = UserFactory(email="author@example.org")
    moderator = UserFactory(email="moderator@example.org")
    role_grant(user=moderator, role="moderator")
    return {
        "resident": Token.objects.create(user=resident).key,
        "moderator": Token.objects.create(user=moderator).key,
    }


def _submit(stack: Stack, token: str, slug: str, n: int) -> int:
    started = time.monotonic()
    status, body = stack.call(
        "POST",
        "/api/v1/proposals/",
        token,
        {
            "strategy": slug,
            "title": f"Освещение двора номер {n}",
            "body": "Во дворе темно с шести вечера, нужны фонари и камера у подъезда.",
            "themes": ["safety"],
        },
    )
    assert status == 201, body
    # Accepted means written: the row is there before the response.
    assert Proposal.objects.filter(pk=body["id"]).exists()
    assert time.monotonic() - started < 5, "a submission waited on something it should not"
    return body["id"]


def _decide(stack: Stack, token: str, proposal_id: int) -> None:
    status, body = stack.call(
        "POST", f"/api/v1/proposals/{proposal_id}/moderation/", token, {"decision": "approve"}
    )
    assert status == 200, body
    assert body["status"] == "published"


def _waiting(stack: Stack, task: str, *args: Any) -> list[dict[str, Any]]:
    """The headers of the messages `task(*args)` in the broker's queue: sent, and taken by no
    worker (a worker that takes one, even one due later, removes it from the list)."""
    broker = redis.Redis(port=stack.redis_port, socket_timeout=5)
    try:
        messages = [json.loads(raw) for raw in broker.lrange("celery", 0, -1)]
    finally:
        broker.close()
    return [
        message["headers"]
        for message in messages
        if message["headers"]["task"] == task
        and json.loads(base64.b64decode(message["body"]))[0] == list(args)
    ]


def _listeners(stack: Stack) -> int:
    """Connections to the broker waiting for messages: a worker's consumer blocks in BRPOP
    on the queue again as soon as its last one returns (every second when idle)."""
    broker = redis.Redis(port=stack.redis_port, socket_timeout=5)
    try:
        return sum(client["cmd"] == "brpop" for client in broker.client_list())
    finally:
        broker.close()


def _due(headers: dict[str, Any]) -> bool:
    eta = headers.get("eta")
    return eta is None or datetime.fromisoformat(eta) <= datetime.now().astimezone()


def _tallies_reach(
    stack: Stack, slug: str, *, received: int, published: int, timeout: float = 40
) -> dict:
    def current() -> dict | None:
        body = stack.tallies(slug)
        totals = body["totals"]
        return body if (totals["received"], totals["published"]) == (received, published) else None

    return _wait(
        current, timeout=timeout, what=f"tallies to reach received={received} published={published}"
    )


def test_worker_refreshes_tallies_after_submit_and_decision(stack, people):
    strategy = StrategyFactory(slug="e2e-live")
    stack.start_redis()
    stack.start_web()
    stack.start_worker()
    stack.start_beat()

    proposal_id = _submit(stack, people["resident"], strategy.slug, 1)
    _tallies_reach(stack, strategy.slug, received=1, published=0)
    _decide(stack, people["moderator"], proposal_id)
    body = _tallies_reach(stack, strategy.slug, received=1, published=1)
    assert {row["theme"]: row["count"] for row in body["by_theme"]}["safety"] == 1


def test_with_the_worker_stopped_work_goes_on_and_tallies_catch_up(stack, people):
    strategy = StrategyFactory(slug="e2e-no-worker")
    stack.start_redis()
    stack.start_web()

    ids = [_submit(stack, people["resident"], strategy.slug, n) for n in range(3)]
    _decide(stack, people["moderator"], ids[0])
    # Only a worker counts. Counting had its chance: the refresh the web process asked for
    # is due (its coalescing delay is over) and waits in Redis, where nobody listens.
    _wait(
        lambda: any(map(_due, _waiting(stack, "proposals.tally_refresh", strategy.pk))),
        timeout=10,
        what="a tally refresh, due and waiting in Redis",
    )
    assert _listeners(stack) == 0
    assert stack.tallies(strategy.slug)["totals"]["received"] == 0  # nobody counted yet
    assert Tally.objects.get(strategy=strategy).is_dirty

    # The worker comes back; no command is typed.
    stack.start_worker()
    stack.start_beat()
    _tallies_reach(stack, strategy.slug, received=3, published=1)


def test_with_redis_stopped_work_goes_on_and_tallies_catch_up(stack, people):
    strategy = StrategyFactory(slug="e2e-no-redis")
    stack.start_redis()
    stack.start_web()
    stack.start_worker()
    stack.start_beat()
    first = _submit(stack, people["resident"], strategy.slug, 0)
    _tallies_reach(stack, strategy.slug, received=1, published=0)

    stack.stop("redis")
    second = _submit(stack, people["resident"], strategy.slug, 1)
    _decide(stack, people["moderator"], first)
    _decide(stack, people["moderator"], second)
    assert Proposal.objects.filter(strategy=strategy, status="published").count() == 2

    # Redis returns empty (it keeps nothing on disk): every message sent before is gone.
    stack.start_redis()
    _tallies_reach(stack, strategy.slug, received=2, published=2, timeout=60)


def test_a_burst_of_reactions_folds_into_a_few_refreshes(stack, people):
    strategy = StrategyFactory(slug="e2e-burst")
    stack.start_redis()
    stack.start_web()
    stack.start_worker()
    stack.start_beat()
    proposal_id = _submit(stack, people["resident"], strategy.slug, 0)
    _decide(stack, people["moderator"], proposal_id)
    _tallies_reach(stack, strategy.slug, received=1, published=1)
    before = Tally.objects.get(strategy=strategy).rebuild_count

    reactors = UserFactory.create_batch(300)
    tokens = [Token.objects.create(user=user).key for user in reactors]
    started = time.monotonic()
    for token, kind in zip(tokens, ["like", "sympathy", "outrage"] * 100, strict=True):
        status, body = stack.call(
            "PUT", f"/api/v1/proposals/{proposal_id}/reaction/", token, {"kind": kind}
        )
        assert status == 200, body
    burst_seconds = time.monotonic() - started

    expected = {"like": 100, "indifferent": 0, "funny": 0, "sympathy": 100, "outrage": 100}
    # Wait for every count: the last reactions are a sympathy and an outrage, so a
    # snapshot can already hold the hundredth like and still miss those two.
    body = _wait(
        lambda: (b := stack.tallies(strategy.slug))["reactions"] == expected and b,
        timeout=30,
        what="reaction counts",
    )
    assert body["reactions"] == expected
    refreshes = Tally.objects.get(strategy=strategy).rebuild_count - before
    # About one refresh per coalescing window, plus the sweeper's: never one per reaction.
    allowed = int(burst_seconds / settings.CIVIC_TALLY_COALESCE_SECONDS) * 2 + 6
    print(f"{refreshes} refreshes for 300 reactions in {burst_seconds:.1f} s")
    assert refreshes <= allowed, (refreshes, burst_seconds)
    assert refreshes < 60


def test_a_report_ordered_while_the_worker_is_down_is_built_when_it_returns(stack, people):
    strategy = StrategyFactory(slug="e2e-report")
    analyst = UserFactory(email="analyst@example.org")
    role_grant(user=analyst, role="analyst")
    token = Token.objects.create(user=analyst).key
    stack.start_redis()
    stack.start_web()
    first = _submit(stack, people["resident"], strategy.slug, 0)
    _submit(stack, people["resident"], strategy.slug, 1)
    _decide(stack, people["moderator"], first)

    status, body = stack.call(
        "POST", "/api/v1/reports/", token, {"strategy": strategy.slug, "format": "csv"}
    )
    assert status == 202, body
    report_id = body["id"]
    # Only a worker builds. The web process had its chance while it answered: it sent the
    # build to Redis instead, where the message waits and nobody listens.
    _wait(
        lambda: _waiting(stack, "proposals.report_build", report_id),
        timeout=10,
        what="the report's build message waiting in Redis",
    )
    assert _listeners(stack) == 0
    assert stack.call("GET", f"/api/v1/reports/{report_id}/", token)[1]["status"] == "queued"

    # The order waited in Redis; a worker that starts now builds it.
    stack.start_worker()
    done = _wait(
        lambda: (
            (b := stack.call("GET", f"/api/v1/reports/{report_id}/", token)[1])["status"] == "done"
            and b
        ),
        timeout=60,
        what="the report to be built",
    )
    assert (done["row_count"], done["progress"]) == (2, 100)
    request = urllib.request.Request(
        stack.base_url + done["download_url"], headers={"Authorization": f"Token {token}"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        content = response.read()
    assert content.startswith(b'\xef\xbb\xbf"code","created_at",')
    assert content.count(b"e2e-report") == 2
    assert b"author@example.org" not in content


def test_the_worker_groups_a_campaign_and_suggests_its_themes(stack, people):
    """A Kazakh campaign (one text, small changes) sent through the API: the worker process
    fingerprints each submission, groups them, and suggests themes, which staff then read."""
    strategy = StrategyFactory(slug="e2e-campaign")
    moderator_token = people["moderator"]
    stack.start_redis()
    stack.start_web()
    stack.start_worker()
    base = (
        "Біздің ауладағы балалар алаңы бұзылған, әткеншектер сынған, "
        "түнде жарық жоқ. Алаңды жөндеп, шам орнатуды сұраймыз."
    )
    variants = [base, base.replace("сынған", "сынып қалған"), base + " Рахмет!"]
    ids = []
    for n, body in enumerate(variants):
        status, created = stack.call(
            "POST",
            "/api/v1/proposals/",
            people["resident"],
            {"strategy": strategy.slug, "title": f"Балалар алаңы {n}", "body": body},
        )
        assert status == 201, created
        ids.append(created["id"])

    def grouped() -> bool:
        from proposals.models import Fingerprint

        groups = set(
            Fingerprint.objects.filter(proposal_id__in=ids).values_list("group", flat=True)
        )
        return Fingerprint.objects.filter(proposal_id__in=ids).count() == 3 and groups == {ids[0]}

    _wait(grouped, timeout=40, what="the worker to group the three submissions")
    status, groups = stack.call(
        "GET", f"/api/v1/strategies/{strategy.slug}/duplicate-groups/", moderator_token
    )
    assert status == 200, groups
    assert [(g["id"], g["size"]) for g in groups["results"]] == [(ids[0], 3)]
    status, near = stack.call(
        "GET", f"/api/v1/proposals/{ids[2]}/near-duplicates/", moderator_token
    )
    assert status == 200, near
    assert {item["id"] for item in near} == {ids[0], ids[1]}
    detail = _wait(
        lambda: (
            (b := stack.call("GET", f"/api/v1/proposals/{ids[0]}/", moderator_token)[1])[
                "suggested_themes"
            ]
            and b
        ),
        timeout=40,
        what="the worker to suggest themes",
    )
    assert detail["language"] == "kk"
    assert detail["suggested_themes"][0]["version"]
    assert "author@example.org" not in json.dumps([groups, near, detail])


def test_the_worker_retrains_the_suggester_on_schedule_and_after_approvals(stack, people):
    """Beat's periodic run reaches the worker process, which trains on the confirmed
    proposals; then approvals through the API bring the next model without waiting for
    the schedule."""
    from datetime import timedelta

    from django.utils import timezone

    from proposals.models import SuggesterModel
    from strategy.models import Theme
    from tests.factories import ProposalFactory

    strategy = StrategyFactory(slug="e2e-suggester")
    safety, ecology = Theme.objects.get(slug="safety"), Theme.objects.get(slug="ecology")
    start = timezone.now() - timedelta(days=1)
    for n in range(10):
        ProposalFactory(
            strategy=strategy,
            title=f"Заявка номер {n}",
            body=(
                f"Тарантас номер {n} стоит во дворе весь день, просим убрать."
                if n % 2
                else f"Котельная номер {n} дымит углём, дышать зимой нечем."
            ),
            published_at=start + timedelta(minutes=n),
            themes=[safety if n % 2 else ecology],
        )
    stack.env["CIVIC_SUGGESTER_RETRAIN_SECONDS"] = "2"
    stack.env["CIVIC_SUGGESTER_RETRAIN_AFTER"] = "5"
    stack.start_redis()
    stack.start_web()
    stack.start_worker()
    stack.start_beat()
    first = _wait(lambda: SuggesterModel.objects.first(), timeout=60, what="beat's retrain")
    assert first.trained_on == 10 and first.weights

    stack.stop("beat")  # from here only the approvals can train
    ids = [_submit(stack, people["resident"], strategy.slug, n) for n in range(5)]
    for proposal_id in ids:
        _decide(stack, people["moderator"], proposal_id)
    second = _wait(
        lambda: SuggesterModel.objects.filter(trained_on=15).first(),
        timeout=60,
        what="the retrain after the fifth approval",
    )
    assert second.version != first.version
