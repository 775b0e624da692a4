"""Client addresses, which the site never keeps as they are.

The only place an address is used is a rate limit's counter key (per address for visitors
who are not signed in). The key holds a keyed hash of the address instead (HMAC-SHA256
with a key derived from SECRET_KEY), and the counter expires with its rate's window, so
no table or cache entry holds an address, and no hash can be reversed by hashing every
IPv4 address without the site's key.
"""

from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.db import connections, router
from django.utils import timezone
from django.utils.crypto import salted_hmac
from rest_framework import throttling

from civic.throttling import throttle_cache

_SALT = "civic.clients.address"


def client_hash(address: str) -> str:
    """A keyed, stable stand-in for a client address: the same address gives the same
    value on this site, and nothing about the address can be read back from it."""
    return salted_hmac(_SALT, address, algorithm="sha256").hexdigest()[:32]


class HashedIdentMixin:
    """For DRF throttles: count by the keyed hash of the address DRF picks (the socket
    address, or X-Forwarded-For as far as NUM_PROXIES trusts it)."""

    def get_ident(self, request: Any) -> str:
        return client_hash(super().get_ident(request))  # type: ignore[misc]


class ScopedRateThrottle(HashedIdentMixin, throttling.ScopedRateThrottle):
    """DRF's scoped throttle, keyed by account or by the hashed address."""

    # Shared by every web process, and held without Redis (civic/throttling.py).
    cache = throttle_cache


def client_counters_expire() -> int:
    """Delete rate-limit counters past their window from the database cache tables.

    Redis drops an expired key by itself; Django's DatabaseCache only deletes an expired
    row when that key is read again or the table overflows, so a visitor who never came
    back would leave their (hashed) address behind. Beat runs this hourly.
    """
    removed = 0
    now = timezone.now().replace(microsecond=0)
    for alias, config in settings.CACHES.items():
        if config.get("BACKEND") != "django.core.cache.backends.db.DatabaseCache":
            continue
        cache = caches[alias]
        connection = connections[router.db_for_write(cache.cache_model_class)]
        table = connection.ops.quote_name(cache._table)
        with connection.cursor() as cursor:
            # The same statement Django's own cull uses for expired rows.
            cursor.execute(
                f"DELETE FROM {table} WHERE {connection.ops.quote_name('expires')} < %s",  # noqa: S608
                [connection.ops.adapt_datetimefield_value(now)],
            )
            removed += max(cursor.rowcount, 0)
    return removed
