import logging
from datetime import timedelta

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import timezone, translation

from civic import clients
from civic.accounts import export
from civic.accounts.models import User
from civic.accounts.services import user_mark_verification_sent, user_sessions_end
from civic.accounts.tokens import (
    email_change_token_make,
    email_change_url,
    email_token_make,
    email_verification_url,
)
from civic.celery import enqueue

logger = logging.getLogger(__name__)


@shared_task(name="accounts.send_verification_email")
def send_verification_email(user_id: int) -> None:
    user = User.objects.filter(pk=user_id).first()
    # A deleted account has a placeholder address that must never be written to.
    if user is None or user.email_verified or not user.is_active:
        return
    token = email_token_make(user_id=user.pk, email=user.email)
    language = user.language if user.language in ("ru", "kk", "en") else "ru"
    context = {"name": user.display_name, "url": email_verification_url(token, language)}
    with translation.override(language):
        subject = render_to_string("accounts/emails/verification_subject.txt", context)
        body = render_to_string("accounts/emails/verification.txt", context)
    send_mail(
        subject=" ".join(subject.split()),
        message=body.strip() + "\n",
        from_email=None,
        recipient_list=[user.email],
    )
    user_mark_verification_sent(user_id=user.pk)


@shared_task(name="accounts.verification_email_sweep")
def verification_email_sweep() -> int:
    """Periodic: mail the link to new accounts whose task was lost (sent at least once)."""
    now = timezone.now()
    ids = list(
        User.objects.filter(
            email_verified=False,
            verification_sent_at__isnull=True,
            # Old enough that the first task had its chance; young enough to still matter.
            date_joined__lt=now - timedelta(minutes=2),
            date_joined__gt=now - timedelta(days=3),
        ).values_list("id", flat=True)[:500]
    )
    for user_id in ids:
        enqueue(send_verification_email, user_id)
    return len(ids)


@shared_task(name="accounts.send_email_change")
def send_email_change(user_id: int, email: str) -> None:
    """The link to the new address, and a notice to the old one that a change was asked.

    A no-op if the account has since asked for another address (or none): that request
    mailed its own link.
    """
    user = User.objects.filter(pk=user_id, pending_email=email, is_active=True).first()
    if user is None:
        return
    language = user.language if user.language in ("ru", "kk", "en") else "ru"
    token = email_change_token_make(user_id=user.pk, email=email)
    context = {
        "name": user.display_name,
        "url": email_change_url(token, language),
        "masked": _masked(email),
    }
    with translation.override(language):
        for template, recipient in (("email_change", email), ("email_change_notice", user.email)):
            subject = render_to_string(f"accounts/emails/{template}_subject.txt", context)
            body = render_to_string(f"accounts/emails/{template}.txt", context)
            send_mail(
                subject=" ".join(subject.split()),
                message=body.strip() + "\n",
                from_email=None,
                recipient_list=[recipient],
            )


def _masked(email: str) -> str:
    """The new address as the old mailbox is told it: enough to recognise, not to harvest."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


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
