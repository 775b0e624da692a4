from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from civic.celery import enqueue
from proposals.answers.notify import answer_notify
from proposals.models import Answer


@shared_task(name="proposals.send_answer_emails")
def send_answer_emails(proposal_id: int) -> int:
    """Email the author and the reactors about a published answer; safe to run twice."""
    return answer_notify(proposal_id=proposal_id)


@shared_task(name="proposals.answer_email_sweep")
def answer_email_sweep() -> int:
    """Periodic: finish the answer emails a lost message or a failed send left unsent."""
    now = timezone.now()
    proposal_ids = list(
        Answer.objects.filter(
            published=True,
            notified_at__isnull=True,
            # Old enough that the first task had its chance; after two days an email
            # that still fails is given up, so it cannot block newer ones forever.
            answered_at__lt=now - timedelta(seconds=settings.CIVIC_EMAIL_SWEEP_AFTER_SECONDS),
            answered_at__gt=now - timedelta(days=2),
        )
        .order_by("-answered_at")
        .values_list("proposal_id", flat=True)[:500]
    )
    for proposal_id in proposal_ids:
        enqueue("proposals.send_answer_emails", proposal_id)
    return len(proposal_ids)
