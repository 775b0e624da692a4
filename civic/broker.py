"""The Redis transport the Celery processes use: kombu's, with one failure made recoverable.

When Redis goes away while the worker is waiting on it (BRPOP) and holds messages it has
not acknowledged (a task due later, as every tally refresh is, or one still running),
kombu 5.7 closes the broken connection twice: the first close detaches the connection
from its transport, the second tries to put the held messages back through it and
fails with `AttributeError: 'NoneType' object has no attribute 'hostname'`. That is not
one of the connection errors Celery retries on, so the worker logged "Unrecoverable
error" and exited instead of reconnecting (tests/proposals/test_redis_outage_e2e.py
shows it). Here a channel whose connection is already closed raises a connection error
instead, which Celery ignores while it closes and then reconnects. The held messages
are not lost for good: Redis keeps a copy of each until it is acknowledged (and a
restarted Redis that kept nothing has lost them anyway); the beat sweepers redo their
work from the intent written in the database.
"""

from typing import Any

from kombu.transport import redis as kombu_redis
from redis.exceptions import ConnectionError as RedisConnectionError


class Channel(kombu_redis.Channel):
    def _connparams(self, asynchronous: bool = False) -> dict[str, Any]:
        if self.connection.client is None:
            raise RedisConnectionError("The broker connection of this channel was closed.")
        return super()._connparams(asynchronous=asynchronous)


class Transport(kombu_redis.Transport):
    Channel = Channel
