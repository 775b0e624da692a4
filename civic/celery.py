"""The Celery app, configured from Django settings (the CELERY_* names)."""

import logging
import math
import os
from typing import Any

from celery import Celery, signals
from django.core.cache import cache
from django.db import transaction

from civic import health, logs

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civic.settings")

app = Celery("civic")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

logger = logging.getLogger(__name__)

# The worker and beat log as the web does (civic/logs.py): the settings' LOGGING instead of
# Celery's own set-up, and one line per finished task with its outcome and duration.
signals.setup_logging.connect(logs.celery_setup_logging, weak=False)
signals.task_prerun.connect(logs.task_started, weak=False)
signals.task_postrun.connect(logs.task_finished, weak=False)


@app.task(name="civic.heartbeat")
def heartbeat() -> None:
    """Periodic: sent by beat through the broker, run by whichever worker takes it, so
    its recorded time shows that a worker is taking tasks (`/readyz`, civic/health.py)."""
    health.heartbeat_record(health.WORKER_HEARTBEAT_KEY)


def enqueue(
    name: str, *args: Any, countdown: float | None = None, once_per: str | None = None
) -> bool:
    """Send the task registered under `name` now; log and return False if the broker
    cannot take it. By name, so that services never import the tasks that call them.

    Callers have already written their intent to the database (a status, a dirty
    counter), so a periodic sweeper redoes what a lost message never did: an
    unreachable broker must not turn an accepted request into a failed one.

    `once_per` folds a burst: of the calls with one key within `countdown` seconds, only
    the first sends a message. Where tasks run in process (no broker), nothing would
    run a later message, so every call runs the task at once.
    """
    task = app.tasks[name]
    key = None
    if once_per is not None and not app.conf.task_always_eager:
        key = f"civic:once:{once_per}"
        if not cache.add(key, 1, timeout=max(1, math.ceil(countdown or 0))):
            return True
    try:
        task.apply_async(args=args, countdown=countdown)
    except Exception:
        logger.warning(
            "Could not enqueue %s%r; a sweeper will retry it.", name, args, exc_info=True
        )
        if key is not None:
            cache.delete(key)
        return False
    return True


def enqueue_on_commit(name: str, *args: Any, countdown: float | None = None) -> None:
    """Enqueue once the surrounding transaction commits, so the worker sees the rows."""
    transaction.on_commit(lambda: enqueue(name, *args, countdown=countdown))
