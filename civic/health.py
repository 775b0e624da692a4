"""Readiness: is every part the site needs there and doing its work?

Liveness (`/healthz`) only says the web process answers; it touches nothing, so that a
load balancer never takes a web process out because Redis or a worker is away.
Readiness (`/readyz`) asks the rest:

- the database (a trivial query);
- Redis (a PING), when REDIS_URL is set;
- the worker: the age of the newest heartbeat. Beat sends the task `civic.heartbeat`
  every CIVIC_HEALTH_HEARTBEAT_SECONDS through the broker, and whichever worker takes it
  records the time, so a fresh heartbeat proves that a worker is taking tasks off the
  queue, not only that its process exists;
- beat: the age of its last tick, recorded by beat itself (civic/beat.py) while it holds
  the beat lock, so a standby beat does not count.

Heartbeats are kept in Redis, not the database: workers and beat exist only with Redis
(without it tasks run in the web process), beat ticks every few seconds and the database
would take a write each time for nothing it has to keep, and the beat lock is in Redis
already. A Redis that restarts empty has lost them: readiness then reports them missing
until the next heartbeat, a few seconds after the worker is back, and until then it
rightly cannot vouch for the worker.

The answer names no host, address or password: only statuses, ages and thresholds.
"""

import functools
import time
from typing import Any

import redis
from django.conf import settings
from django.db import connection

WORKER_HEARTBEAT_KEY = "civic:health:worker"
BEAT_TICK_KEY = "civic:health:beat"

OK = "ok"
NOT_CONFIGURED = "not configured"
IN_PROCESS = "in process"
STALE = "stale"
MISSING = "missing"
ERROR = "error"
# Statuses that do not fail readiness.
_FINE = {OK, NOT_CONFIGURED, IN_PROCESS}


@functools.cache
def _client(url: str) -> redis.Redis:
    # Short timeouts: readiness must answer while Redis hangs, and beat must not stall.
    return redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2)


def redis_client() -> redis.Redis:
    return _client(settings.REDIS_URL)


def heartbeat_record(key: str) -> None:
    """Record that this moment a worker ran the heartbeat, or beat ticked."""
    redis_client().set(key, repr(time.time()))


def _database() -> dict[str, Any]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        # The exception's class only: its text may name the host or the user.
        return {"status": ERROR, "error": type(exc).__name__}
    return {"status": OK}


def _redis() -> dict[str, Any]:
    if not settings.REDIS_URL:
        return {"status": NOT_CONFIGURED}
    try:
        redis_client().ping()
    except Exception as exc:
        return {"status": ERROR, "error": type(exc).__name__}
    return {"status": OK}


def _ages(now: float) -> dict[str, float | None] | str:
    """Seconds since the worker's heartbeat and beat's tick (None: never recorded), or the
    error that kept them from being read."""
    try:
        values = redis_client().mget([WORKER_HEARTBEAT_KEY, BEAT_TICK_KEY])
    except Exception as exc:
        return type(exc).__name__
    ages: dict[str, float | None] = {}
    for name, value in zip(("worker", "beat"), values, strict=True):
        try:
            # A clock a little behind another machine's must not give a negative age.
            ages[name] = max(0.0, now - float(value)) if value is not None else None
        except ValueError:
            ages[name] = None
    return ages


def _freshness(age: float | None, max_age: float) -> dict[str, Any]:
    if age is None:
        return {"status": MISSING, "age_seconds": None, "max_age_seconds": max_age}
    return {
        "status": OK if age <= max_age else STALE,
        "age_seconds": round(age, 1),
        "max_age_seconds": max_age,
    }


def readiness() -> tuple[bool, dict[str, Any]]:
    """Whether everything is ready, and the report `/readyz` answers."""
    checks: dict[str, dict[str, Any]] = {"database": _database(), "redis": _redis()}
    if not settings.REDIS_URL:
        # Tasks run in the web process: there is no worker or beat to wait for.
        checks["worker"] = {"status": IN_PROCESS}
        checks["beat"] = {"status": IN_PROCESS}
    elif checks["redis"]["status"] != OK:
        # The heartbeats are in Redis: nothing to read, and no need to wait out another
        # timeout to learn it.
        checks["worker"] = {"status": ERROR, "error": "redis unavailable"}
        checks["beat"] = {"status": ERROR, "error": "redis unavailable"}
    else:
        ages = _ages(time.time())
        if isinstance(ages, str):
            checks["worker"] = {"status": ERROR, "error": ages}
            checks["beat"] = {"status": ERROR, "error": ages}
        else:
            checks["worker"] = _freshness(
                ages["worker"], settings.CIVIC_HEALTH_WORKER_MAX_AGE_SECONDS
            )
            checks["beat"] = _freshness(ages["beat"], settings.CIVIC_HEALTH_BEAT_MAX_AGE_SECONDS)
    failing = [name for name, check in checks.items() if check["status"] not in _FINE]
    return not failing, {
        "status": "ok" if not failing else "failing",
        "failing": failing,
        "checks": checks,
    }
