"""The Celery app, configured from Django settings (the CELERY_* names)."""

import logging
import os
from typing import Any

from celery import Celery, Task
from django.db import transaction

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civic.settings")

app = Celery("civic")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

logger = logging.getLogger(__name__)


def enqueue(task: Task, *args: Any, countdown: float | None = None) -> bool:
    """Send a task now; log and return False if the broker cannot take it.

    Callers have already written their intent to the database (a status, a dirty
    counter), so a periodic sweeper redoes what a lost message never did: an
    unreachable broker must not turn an accepted request into a failed one.
    """
    try:
        task.apply_async(args=args, countdown=countdown)
    except Exception:
        logger.warning(
            "Could not enqueue %s%r; a sweeper will retry it.", task.name, args, exc_info=True
        )
        return False
    return True


def enqueue_on_commit(task: Task, *args: Any, countdown: float | None = None) -> None:
    """Enqueue once the surrounding transaction commits, so the worker sees the rows."""
    transaction.on_commit(lambda: enqueue(task, *args, countdown=countdown))
