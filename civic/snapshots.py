"""Responses kept for exactly as long as the database they were read from is unchanged.

A PostgreSQL query sees the rows its MVCC snapshot lets it see, and the snapshot is three
numbers' worth of text (`pg_current_snapshot()`: the oldest transaction still running, the
next transaction id, and the ids in flight between them). Two snapshots with the same text
see the same committed rows, so a response built under one is the response under the other.
A cache key holding it can never serve a stale page, and no code that writes has to remember
to invalidate anything: any transaction that writes takes a transaction id, which moves the
snapshot on. That also means any write anywhere starts the cache afresh; it pays where reads
outnumber writes between one write and the next, as on a public list during a consultation.

Reading the snapshot first and the rows after is safe: the rows are then at least as new as
the key says, and a transaction committed in between has moved the snapshot of every later
reader past that key.

SQLite has nothing like it; there `snapshot_key` is None and nothing is kept.
"""

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.db import connection


def database_snapshot() -> str | None:
    """What this connection's next query can see, as text, or None where that is unknown:
    not PostgreSQL, or inside a transaction that has written (its own rows are visible to
    it and to no one else, and the snapshot's text does not say so)."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_snapshot()::text, pg_current_xact_id_if_assigned()")
        snapshot, own_transaction = cursor.fetchone()
    return None if own_transaction is not None else snapshot


def snapshot_key(namespace: str, *parts: str) -> str | None:
    """A cache key for what `parts` describe as read from the database as it is now, or
    None when responses are not kept (SQLite, a writing transaction, the setting at 0)."""
    if settings.CIVIC_SNAPSHOT_CACHE_SECONDS <= 0:
        return None
    snapshot = database_snapshot()
    if snapshot is None:
        return None
    # The snapshot is the whole server's: the database's name keeps two databases of one
    # server (a staging copy beside production) apart in a shared cache.
    database = str(connection.settings_dict["NAME"])
    digest = hashlib.blake2b("\x00".join((database, snapshot, *parts)).encode(), digest_size=20)
    return f"snapshot:{namespace}:{digest.hexdigest()}"


def snapshot_get(key: str | None) -> tuple[str, bytes] | None:
    """The content type and body kept under `key`, if any."""
    return None if key is None else cache.get(key)


def snapshot_set(key: str | None, content_type: str, body: bytes) -> None:
    if key is not None:
        # The time limit only bounds memory and what a change of settings or code leaves
        # behind: a key stops being asked for as soon as anything is written.
        cache.set(key, (content_type, body), timeout=settings.CIVIC_SNAPSHOT_CACHE_SECONDS)
