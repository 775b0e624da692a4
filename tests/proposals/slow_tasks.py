"""A task that only takes time, loaded into the end-to-end worker with `--include`, so a
test can keep the worker busy with messages it has not acknowledged yet (acks_late)."""

import time

from celery import shared_task


@shared_task(name="tests.sleep")
def sleep(seconds: float) -> None:
    time.sleep(seconds)
