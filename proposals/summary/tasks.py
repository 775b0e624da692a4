"""The Celery tasks that build the summary table's files and sweep up lost builds.

Registered by proposals/apps.py: Celery's autodiscovery imports only `proposals.tasks`.
"""

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded

from proposals.summary.services import (
    TIME_LIMIT,
    summary_build,
    summary_fail,
    summary_start,
)
from proposals.summary.services import summary_sweep as sweep

logger = logging.getLogger(__name__)


@shared_task(name="proposals.summary_build", soft_time_limit=TIME_LIMIT, time_limit=TIME_LIMIT + 60)
def summary_build_task(summary_id: int) -> None:
    """Build one summary file. A redelivered message finds the file claimed or built and
    returns; a failure leaves it `failed` with a reason, and stale for the next request."""
    attempt = summary_start(summary_id=summary_id)
    if attempt is None:
        return
    try:
        summary_build(summary_id=summary_id, attempt=attempt)
    except SoftTimeLimitExceeded:
        summary_fail(
            summary_id=summary_id,
            attempt=attempt,
            error=f"The build took longer than {TIME_LIMIT} seconds.",
        )
    except Exception as exc:
        logger.exception("summary file %s failed", summary_id)
        summary_fail(
            summary_id=summary_id,
            attempt=attempt,
            error=f"The file could not be built: {type(exc).__name__}: {exc}",
        )


@shared_task(name="proposals.summary_sweep")
def summary_sweep() -> dict[str, int]:
    """Periodic: send again the builds whose message was lost or whose worker died."""
    return sweep()
