"""Building report files in the worker, and the sweeps that catch lost or stuck builds."""

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

from proposals.reports import services

logger = logging.getLogger(__name__)


@shared_task(
    name="proposals.report_build",
    soft_time_limit=settings.CIVIC_REPORT_TIME_LIMIT,
    time_limit=settings.CIVIC_REPORT_TIME_LIMIT + 60,
)
def report_build(report_id: int) -> None:
    """Build one report's file. A redelivered message finds the report claimed or done
    and returns; a failure leaves the report `failed` with a reason an analyst can read."""
    attempt = services.report_start(report_id=report_id)
    if attempt is None:
        return
    try:
        services.report_build_file(report_id=report_id, attempt=attempt)
    except SoftTimeLimitExceeded:
        services.report_fail(
            report_id=report_id,
            attempt=attempt,
            error=f"The build took longer than {settings.CIVIC_REPORT_TIME_LIMIT} seconds.",
        )
    except Exception as exc:
        logger.exception("report %s failed", report_id)
        services.report_fail(
            report_id=report_id,
            attempt=attempt,
            error=f"The report could not be built: {type(exc).__name__}: {exc}",
        )


@shared_task(name="proposals.report_sweep")
def report_sweep() -> dict[str, int]:
    """Periodic: requeue reports whose message was lost or whose worker died."""
    return services.report_sweep()


@shared_task(name="proposals.report_expire")
def report_expire() -> int:
    """Periodic: remove report files past their retention period."""
    return services.report_expire()
