"""Accounts' Celery tasks, thin: each loads ids and calls a service."""

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

from civic import clients
from civic.accounts import export
from civic.accounts.selectors import verification_emails_unsent
from civic.accounts.services import email_change_send, user_sessions_end, verification_email_send
from civic.celery import enqueue

logger = logging.getLogger(__name__)


@shared_task(name="accounts.send_verification_email")
def send_verification_email(user_id: int) -> None:
    verification_email_send(user_id=user_id)


@shared_task(name="accounts.verification_email_sweep")
def verification_email_sweep() -> int:
    """Periodic: mail the link to new accounts whose task was lost (sent at least once)."""
    ids = verification_emails_unsent()
    for user_id in ids:
        enqueue("accounts.send_verification_email", user_id)
    return len(ids)


@shared_task(name="accounts.send_email_change")
def send_email_change(user_id: int, email: str) -> None:
    """The link to the new address, and a notice to the old one that a change was asked."""
    email_change_send(user_id=user_id, email=email)


@shared_task(name="accounts.end_sessions")
def end_sessions(user_id: int) -> int:
    """Remove the stored sessions of a deleted account (they no longer work already)."""
    return user_sessions_end(user_id=user_id)


@shared_task(
    name="accounts.data_export_build",
    soft_time_limit=settings.CELERY_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.CELERY_TASK_TIME_LIMIT,
)
def data_export_build(export_id: int) -> None:
    """Build one account's data file. A redelivered message finds it claimed or done and
    returns; a failure leaves it `failed` (the owner asks again)."""
    attempt = export.data_export_start(export_id=export_id)
    if attempt is None:
        return
    try:
        export.data_export_build_file(export_id=export_id, attempt=attempt)
    except SoftTimeLimitExceeded:
        export.data_export_fail(export_id=export_id, attempt=attempt, error="Out of time.")
    except Exception as exc:
        logger.exception("data export %s failed", export_id)
        export.data_export_fail(
            export_id=export_id, attempt=attempt, error=f"{type(exc).__name__}: {exc}"
        )


@shared_task(name="accounts.data_export_sweep")
def data_export_sweep() -> int:
    """Periodic: send again the exports whose message was lost or whose worker died."""
    return export.data_export_sweep()


@shared_task(name="accounts.data_export_expire")
def data_export_expire() -> int:
    """Periodic: remove data files past CIVIC_EXPORT_RETENTION_DAYS."""
    return export.data_export_expire()


@shared_task(name="accounts.client_counters_expire")
def client_counters_expire() -> int:
    """Periodic: remove rate-limit counters (keyed by hashed client addresses) past their
    window from the database, where nothing else would."""
    return clients.client_counters_expire()
