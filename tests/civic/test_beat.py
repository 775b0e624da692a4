"""Only one beat sends (civic/beat.py): it holds a lock in Redis, a second beat stands by
sending nothing, and takes over when the first dies.

The lock against the Redis of REDIS_URL; then two real `celery -A civic beat` processes
against a Redis server of the test's own, counting whose messages reach the queue (no
worker runs, so every message beat sent stays there, with its sender in its headers).
"""

import json
import os
import shutil
import signal
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from civic.beat import LOCK_KEY, BeatLock
from tests.proposals import test_tasks_e2e as e2e


@pytest.fixture
def lock_client() -> Iterator[tuple[redis.Redis, str]]:
    url = os.environ.get("REDIS_URL")
    if not url:
        pytest.skip("needs Redis: set REDIS_URL (as .ci/run does)")
    client = redis.Redis.from_url(url)
    key = f"civic:test:beat-lock:{uuid.uuid4().hex}"
    yield client, key
    client.delete(key)
    client.close()


def test_one_holder_at_a_time(lock_client):
    client, key = lock_client
    first = BeatLock(client, seconds=30, key=key)
    second = BeatLock(client, seconds=30, key=key)
    assert first.hold()
    assert not second.hold()
    assert first.hold()  # renewed
    assert second.current_holder() == first.holder
    first.release()
    assert second.hold()
    first.release()  # not its lock any more: nothing happens
    assert not first.hold()
    assert client.get(key).decode() == second.holder


def test_a_dead_holders_lock_expires(lock_client):
    client, key = lock_client
    first = BeatLock(client, seconds=0.3, key=key)
    second = BeatLock(client, seconds=0.3, key=key)
    assert first.hold()
    assert not second.hold()
    time.sleep(0.5)  # the first never renews: it died
    assert second.hold()
    assert not first.hold()  # back, too late: it does not take the lock again


# --- Two real beats ---------------------------------------------------------------------


def _origins(stack: e2e.Stack) -> Counter:
    """Who sent the messages in the queue: Celery stamps each with its sender's pid."""
    broker = redis.Redis(port=stack.redis_port, socket_timeout=5)
    try:
        messages = [json.loads(raw) for raw in broker.lrange("celery", 0, -1)]
    finally:
        broker.close()
    return Counter(message["headers"]["origin"].split("@")[0] for message in messages)


def _holder(stack: e2e.Stack) -> str:
    broker = redis.Redis(port=stack.redis_port, socket_timeout=5)
    try:
        value = broker.get(LOCK_KEY)
    finally:
        broker.close()
    return value.decode() if value else ""


def _start_beat(stack: e2e.Stack, name: str) -> int:
    # The unit's command (deploy/systemd/civic-beat.service), each with its own schedule
    # file, as two machines would have.
    stack._start(
        name,
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "civic",
            "--quiet",
            "beat",
            "--loglevel",
            "INFO",
            "--schedule",
            str(stack.tmp_path / f"{name}-schedule"),
        ],
    )
    return stack.processes[name].pid


def _log(stack: e2e.Stack, name: str) -> str:
    path = stack.tmp_path / f"{name}.log"
    return path.read_text(errors="replace") if path.exists() else ""


@pytest.mark.skipif(
    shutil.which("redis-server") is None,
    reason="needs the redis-server program to run a private Redis",
)
def test_a_second_beat_stands_by_and_takes_over_when_the_first_dies(tmp_path: Path):
    stack = e2e.Stack(tmp_path)
    # Beat needs no database: the test's own SQLite file under tmp_path will do.
    stack.env.pop("DATABASE_URL")
    stack.env.update(
        {
            "CIVIC_BEAT_LOCK_SECONDS": "3",
            "CIVIC_HEALTH_HEARTBEAT_SECONDS": "1",
            "CIVIC_HEALTH_WORKER_MAX_AGE_SECONDS": "5",
            "CIVIC_HEALTH_BEAT_MAX_AGE_SECONDS": "5",
            "CIVIC_TALLY_SWEEP_SECONDS": "1",
        }
    )
    try:
        stack.start_redis()
        first = _start_beat(stack, "beat-first")
        e2e._wait(lambda: f":{first}:" in _holder(stack), timeout=60, what="the first beat's lock")
        second = _start_beat(stack, "beat-second")
        e2e._wait(
            lambda: "standing by" in _log(stack, "beat-second"),
            timeout=60,
            what="the second beat to stand by",
        )
        # Both run for a while: the first's sweeps and heartbeats go on, once each.
        sent = _origins(stack)[f"gen{first}"]
        e2e._wait(
            lambda: _origins(stack)[f"gen{first}"] >= sent + 12,
            timeout=30,
            what="the first beat to send more",
        )
        origins = _origins(stack)
        assert set(origins) == {f"gen{first}"}, origins
        assert f":{first}:" in _holder(stack)
        assert os.kill(second, 0) is None  # the second is alive, only silent

        # The first dies without a word: its lock expires, the second takes over.
        stack.processes.pop("beat-first").send_signal(signal.SIGKILL)
        killed = time.monotonic()
        e2e._wait(
            lambda: _origins(stack)[f"gen{second}"] >= 3,
            timeout=30,
            what="the second beat to take over",
        )
        assert time.monotonic() - killed < 3 + 1 + 5  # the lock's life, a check, slack
        assert f":{second}:" in _holder(stack)
        assert "holds the beat lock" in _log(stack, "beat-second")

        # Stopped properly, a beat gives the lock back at once.
        stack.stop("beat-second")
        assert _holder(stack) == ""
    except BaseException:
        print(stack.logs())
        raise
    finally:
        stack.close()
