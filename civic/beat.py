"""Celery beat's scheduler for Civic: only one beat sends, and it says it is alive.

Two beats would send every sweep twice. Each beat takes a lock in Redis before it sends
anything (SET NX with an expiry of CIVIC_BEAT_LOCK_SECONDS) and renews it on every tick;
a beat that finds the lock held by another stands by, sending nothing, and checks again
every few seconds. When the holder stops it gives the lock back and a standby takes over
on its next check; when the holder dies without a word (kill -9, a lost machine) its lock
expires and a standby takes over within CIVIC_BEAT_LOCK_SECONDS and one check. So a
second beat, started by mistake or kept as a spare on another machine, is harmless.

A beat that cannot reach Redis cannot know whether it holds the lock, and its messages
would not go anywhere anyway: it stands by too, and takes the lock again when Redis is
back.

While it holds the lock, beat records each tick (civic/health.py), which `/readyz`
reports as beat's age.

Set as Celery's `beat_scheduler` in settings (CELERY_BEAT_SCHEDULER); `celery -A civic beat`
needs no option for it.
"""

import logging
import os
import socket
import uuid
from typing import Any

from celery.beat import PersistentScheduler
from django.conf import settings

from civic import health

logger = logging.getLogger(__name__)

LOCK_KEY = "civic:beat:lock"

# Renew the lock if it is still ours, in one step, so that a beat whose lock expired and
# was taken by another never extends the other's.
_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""
# Give it back only if it is still ours.
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('del', KEYS[1])
end
return 0
"""


class BeatLock:
    """The lock one beat holds in Redis; its value names the holder (host, process)."""

    def __init__(self, client: Any, *, seconds: float, key: str = LOCK_KEY) -> None:
        self.client = client
        self.key = key
        self.milliseconds = int(seconds * 1000)
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    def hold(self) -> bool:
        """Take the lock or renew it; True while it is ours."""
        if self.client.set(self.key, self.holder, nx=True, px=self.milliseconds):
            return True
        return bool(self.client.eval(_RENEW, 1, self.key, self.holder, self.milliseconds))

    def release(self) -> None:
        self.client.eval(_RELEASE, 1, self.key, self.holder)

    def current_holder(self) -> str | None:
        value = self.client.get(self.key)
        return value.decode() if value is not None else None


class Scheduler(PersistentScheduler):
    """Celery's default scheduler (the schedule file in CIVIC_DATA_DIR), sending only while
    this beat holds the lock."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._lock_seconds = float(settings.CIVIC_BEAT_LOCK_SECONDS)
        # Without Redis there is no broker to share and nothing for a second beat to
        # double: tasks run in the web process.
        self._lock = (
            BeatLock(health.redis_client(), seconds=self._lock_seconds)
            if settings.REDIS_URL
            else None
        )
        self._holding: bool | None = None  # not yet asked
        super().__init__(*args, **kwargs)

    @property
    def _check_every(self) -> float:
        # Three renewals fit in the lock's life: one late tick does not lose it.
        return self._lock_seconds / 3

    def _hold(self) -> bool:
        assert self._lock is not None  # noqa: S101 - only called with a lock
        try:
            holding = self._lock.hold()
        except Exception as exc:
            if self._holding is not False:
                logger.warning(
                    "Beat cannot reach Redis to hold the beat lock (%s); sending nothing "
                    "until it can.",
                    type(exc).__name__,
                )
            self._holding = False
            return False
        if holding and self._holding is not True:
            logger.info(
                "Beat holds the beat lock (%s); sending the periodic tasks.", self._lock.holder
            )
        elif not holding and self._holding is not False:
            try:
                other = self._lock.current_holder()
            except Exception:
                other = None
            logger.info(
                "Another beat holds the beat lock (%s); standing by, sending nothing.",
                other or "unknown",
            )
        self._holding = holding
        return holding

    def tick(self, *args: Any, **kwargs: Any) -> float:
        if self._lock is not None and not self._hold():
            return self._check_every
        if self._lock is not None:
            try:
                health.heartbeat_record(health.BEAT_TICK_KEY)
            except Exception:
                # Only readiness reads it; the sweeps go on (and _hold() reports Redis).
                logger.debug("Could not record beat's tick.", exc_info=True)
        return min(super().tick(*args, **kwargs), self._check_every)

    def close(self) -> None:
        try:
            super().close()
        finally:
            if self._lock is not None and self._holding:
                try:
                    self._lock.release()
                    logger.info("Beat gave back the beat lock.")
                except Exception:
                    # It expires by itself within CIVIC_BEAT_LOCK_SECONDS.
                    logger.debug("Could not give back the beat lock.", exc_info=True)
                self._holding = None
