"""Liveness (/healthz) and readiness (/readyz, civic/health.py).

Liveness touches nothing and is never redirected to HTTPS. Readiness reports the database,
Redis, the worker's heartbeat and beat's tick: 200 when all are fine, 503 naming what is
not. The embedded default (no Redis: tasks in the web process) has no worker or beat to
wait for. With the real processes (PostgreSQL, Redis, gunicorn, a worker and beat),
readiness turns 503 once the worker is gone for longer than its threshold.
"""

import json
import os
import time
import urllib.error
import urllib.request

import pytest
import redis

from civic import health
from tests.proposals import test_tasks_e2e as e2e


def test_liveness_touches_neither_database_nor_redis(client, settings):
    # No django_db mark: a query would fail the test.
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_health_checks_are_not_redirected_to_https(client, settings):
    # What DJANGO_SECURE=1 turns on; the exemptions come from the settings as they are.
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/ru/").status_code == 301  # every page is
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code in {200, 503}


@pytest.mark.django_db
def test_readiness_of_the_embedded_default(client, settings):
    """SQLite or not, no Redis: tasks run in the web process, so no worker or beat is
    expected, and none is reported missing."""
    settings.REDIS_URL = ""
    response = client.get("/readyz")
    assert response.status_code == 200, response.json()
    assert response.json() == {
        "status": "ok",
        "failing": [],
        "checks": {
            "database": {"status": "ok"},
            "redis": {"status": "not configured"},
            "worker": {"status": "in process"},
            "beat": {"status": "in process"},
        },
    }
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_readiness_names_an_unreachable_redis_and_no_secret(client, settings):
    settings.REDIS_URL = "redis://:hunter2-secret@127.0.0.1:1/0"
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "failing"
    assert body["failing"] == ["redis", "worker", "beat"]
    assert body["checks"]["database"] == {"status": "ok"}
    assert body["checks"]["redis"]["status"] == "error"
    assert "hunter2" not in response.content.decode()
    assert "127.0.0.1" not in response.content.decode()


needs_redis = pytest.mark.skipif(
    not os.environ.get("REDIS_URL"), reason="needs Redis: set REDIS_URL (as .ci/run does)"
)


@pytest.fixture
def heartbeats(settings):
    """The heartbeat keys in the Redis of REDIS_URL, removed before and after."""
    settings.REDIS_URL = os.environ["REDIS_URL"]
    client = redis.Redis.from_url(settings.REDIS_URL)
    keys = [health.WORKER_HEARTBEAT_KEY, health.BEAT_TICK_KEY]
    client.delete(*keys)
    yield client
    client.delete(*keys)
    client.close()


@needs_redis
@pytest.mark.django_db
def test_readiness_counts_heartbeat_ages_against_the_thresholds(client, settings, heartbeats):
    settings.CIVIC_HEALTH_WORKER_MAX_AGE_SECONDS = 30
    settings.CIVIC_HEALTH_BEAT_MAX_AGE_SECONDS = 20

    body = client.get("/readyz").json()
    assert body["failing"] == ["worker", "beat"]
    assert body["checks"]["worker"] == {
        "status": "missing",
        "age_seconds": None,
        "max_age_seconds": 30,
    }

    health.heartbeat_record(health.WORKER_HEARTBEAT_KEY)
    heartbeats.set(health.BEAT_TICK_KEY, repr(time.time() - 25))
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["beat"]
    assert body["checks"]["worker"]["status"] == "ok"
    assert body["checks"]["worker"]["age_seconds"] < 5
    assert body["checks"]["beat"]["status"] == "stale"
    assert 25 <= body["checks"]["beat"]["age_seconds"] < 30
    assert body["checks"]["beat"]["max_age_seconds"] == 20

    health.heartbeat_record(health.BEAT_TICK_KEY)
    response = client.get("/readyz")
    assert response.status_code == 200, response.json()
    assert response.json()["checks"]["redis"] == {"status": "ok"}


# --- The real processes ---------------------------------------------------------------------

stack = e2e.stack


def _ready(stack: e2e.Stack) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(stack.base_url + "/readyz", timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.mark.services
@pytest.mark.skipif(
    not (os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL")),
    reason="needs PostgreSQL and Redis: set DATABASE_URL and REDIS_URL (as .ci/run does)",
)
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_readiness_fails_when_the_worker_is_gone(stack):
    stack.env.update(
        {
            # Production: a heartbeat every 15 s, stale after 60 s. Here in seconds.
            "CIVIC_HEALTH_HEARTBEAT_SECONDS": "1",
            "CIVIC_HEALTH_WORKER_MAX_AGE_SECONDS": "4",
            "CIVIC_HEALTH_BEAT_MAX_AGE_SECONDS": "4",
            "CIVIC_BEAT_LOCK_SECONDS": "3",
        }
    )
    stack.start_redis()
    stack.start_web()
    stack.start_beat()
    # Beat alone: its heartbeats wait in the queue, and no worker is seen.
    status, body = e2e._wait(
        lambda: (result := _ready(stack))[1]["checks"]["beat"]["status"] == "ok" and result,
        timeout=30,
        what="beat's first tick",
    )
    assert status == 503 and body["failing"] == ["worker"]
    assert body["checks"]["worker"]["status"] == "missing"

    stack.start_worker()
    status, body = e2e._wait(
        lambda: (result := _ready(stack))[0] == 200 and result, timeout=60, what="readiness"
    )
    assert body["checks"] == {
        "database": {"status": "ok"},
        "redis": {"status": "ok"},
        "worker": {
            "status": "ok",
            "age_seconds": body["checks"]["worker"]["age_seconds"],
            "max_age_seconds": 4.0,
        },
        "beat": {
            "status": "ok",
            "age_seconds": body["checks"]["beat"]["age_seconds"],
            "max_age_seconds": 4.0,
        },
    }

    # The worker stops; beat goes on sending heartbeats that nobody runs.
    stack.stop("worker")
    status, body = e2e._wait(
        lambda: (result := _ready(stack))[0] == 503 and result, timeout=30, what="a 503"
    )
    assert body["status"] == "failing"
    assert body["failing"] == ["worker"]
    assert body["checks"]["worker"]["status"] == "stale"
    assert body["checks"]["worker"]["age_seconds"] > 4
    assert body["checks"]["beat"]["status"] == "ok"

    # And beat stops too.
    stack.stop("beat")
    status, body = e2e._wait(
        lambda: (result := _ready(stack))[1]["failing"] == ["worker", "beat"] and result,
        timeout=30,
        what="beat to be reported",
    )
    assert status == 503
    assert body["checks"]["beat"]["status"] == "stale"
    # Nothing secret in it: no address, port or password of Redis or PostgreSQL.
    text = json.dumps(body)
    assert "redis://" not in text and "postgres" not in text
    assert str(stack.redis_port) not in text
