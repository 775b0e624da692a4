from datetime import timedelta

from celery import shared_task
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import timezone, translation

from civic.accounts.models import User
from civic.accounts.services import user_mark_verification_sent
from civic.accounts.tokens import email_token_make, email_verification_url
from civic.celery import enqueue


@shared_task(name="accounts.send_verification_email")
def send_verification_email(user_id: int) -> None:
    user = User.objects.filter(pk=user_id).first()
    if user is None or user.email_verified:
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
