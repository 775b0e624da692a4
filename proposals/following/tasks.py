"""Following's Celery tasks: write an event's notifications, email them, sweep up."""

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from civic.celery import enqueue
from proposals.following.emails import send_digests, send_immediate, send_immediate_sweep
from proposals.following.services import fan_out
from proposals.models import FanOut

SOURCE_PREFIX = {
    FanOut.Event.COMMENT: "comment",
    FanOut.Event.ANSWER: "answer",
    FanOut.Event.STATUS: "status",
    FanOut.Event.VERSION: "version",
}


@shared_task(name="proposals.fan_out")
def fan_out_task(event: str, object_id: int) -> int:
    """Write one event's notifications, then send the at-once emails; safe to run twice."""
    written = fan_out(event=event, object_id=object_id)
    enqueue("proposals.send_notification_emails", f"{SOURCE_PREFIX[event]}:{object_id}")
    return written


@shared_task(name="proposals.send_notification_emails")
def send_notification_emails(source: str) -> int:
    return send_immediate(source=source)


@shared_task(name="proposals.notification_sweep")
def notification_sweep() -> int:
    """Periodic: run the fan-outs a lost message or a dead worker left, and send the
    at-once emails still unsent."""
    old = timezone.now() - timedelta(seconds=settings.CIVIC_EMAIL_SWEEP_AFTER_SECONDS)
    pending = FanOut.objects.filter(created_at__lt=old).order_by("pk")[:500]
    for event, object_id in pending.values_list("event", "object_id"):
        enqueue("proposals.fan_out", event, object_id)
    return send_immediate_sweep()


@shared_task(name="proposals.send_digests")
def send_digests_task() -> int:
    """Periodic: today's digests, once the hour has come; the rows make it once a day."""
    return send_digests()
