"""Where rate limits count: one store shared by every web process, that holds without Redis.

DRF throttles keep each client's recent requests in a cache. The default cache would not
do: without Redis it is each process's own memory (gunicorn's four workers would allow
four times each limit), and with Redis it ignores Redis errors (tally snapshots may miss;
a limit must not, or Redis down lets every request through). So the throttles of the API
(civic.clients.ScopedRateThrottle) and of the pages (frontend.throttling.PageThrottle)
count in the `throttle` cache, set up in settings:

- with REDIS_URL, Redis first and, while Redis errors, a database table (FallbackCache);
- without it, the database table alone (Django's DatabaseCache, table created by the
  migration accounts/0008_throttle_cache_table).

A limit that switches store starts counting afresh there, so one outage can grant a client
at most one extra window's worth of requests; it never grants an unlimited number.
"""

import logging
import time
from collections.abc import Callable
from typing import Any

from django.core.cache import caches
from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache
from django.utils.connection import ConnectionProxy
from django_redis.exceptions import ConnectionInterrupted
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

THROTTLE_CACHE = "throttle"
THROTTLE_TABLE = "civic_throttle_cache"

# The cache of the current settings, looked up on each use (tests may swap CACHES).
throttle_cache = ConnectionProxy(caches, THROTTLE_CACHE)

_PRIMARY_ERRORS = (RedisError, ConnectionInterrupted, OSError)
# Per process: when the primary failed, requests go straight to the fallback until then,
# instead of each waiting out a connect timeout against a Redis that is away.
_primary_down_until: dict[str, float] = {}


class FallbackCache(BaseCache):
    """The cache named by OPTIONS["PRIMARY"]; while it raises, the one named by
    OPTIONS["FALLBACK"]. After a failure the primary is tried again RETRY_SECONDS later."""

    def __init__(self, location: str, params: dict[str, Any]) -> None:
        super().__init__(params)
        options = params.get("OPTIONS", {})
        self._primary = options["PRIMARY"]
        self._fallback = options["FALLBACK"]
        self._retry_seconds = float(options.get("RETRY_SECONDS", 5))

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        now = time.monotonic()
        if _primary_down_until.get(self._primary, 0.0) <= now:
            try:
                return getattr(caches[self._primary], method)(*args, **kwargs)
            except _PRIMARY_ERRORS as error:
                _primary_down_until[self._primary] = now + self._retry_seconds
                logger.warning(
                    "Cache %r failed (%s); counting in %r for the next %s s.",
                    self._primary,
                    error,
                    self._fallback,
                    self._retry_seconds,
                )
        return getattr(caches[self._fallback], method)(*args, **kwargs)

    def add(self, key: str, value: Any, timeout: float | None = DEFAULT_TIMEOUT, version=None):
        return self._call("add", key, value, timeout=timeout, version=version)

    def get(self, key: str, default: Any = None, version=None) -> Any:
        return self._call("get", key, default, version=version)

    def set(self, key: str, value: Any, timeout: float | None = DEFAULT_TIMEOUT, version=None):
        return self._call("set", key, value, timeout=timeout, version=version)

    def touch(self, key: str, timeout: float | None = DEFAULT_TIMEOUT, version=None) -> bool:
        return self._call("touch", key, timeout=timeout, version=version)

    def delete(self, key: str, version=None) -> bool:
        return self._call("delete", key, version=version)

    def has_key(self, key: str, version=None) -> bool:
        return self._call("has_key", key, version=version)

    def incr(self, key: str, delta: int = 1, version=None) -> int:
        return self._call("incr", key, delta, version=version)

    def clear(self) -> None:
        # Both: counts written to either while the other was in use must not survive.
        for alias in (self._primary, self._fallback):
            _try(caches[alias].clear, alias)


def _try(action: Callable[[], Any], alias: str) -> None:
    try:
        action()
    except _PRIMARY_ERRORS:
        logger.warning("Could not clear cache %r.", alias, exc_info=True)
