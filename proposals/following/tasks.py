"""Following's Celery tasks: write an event's notifications, email them, sweep up."""

from datetime import datetime, timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from civic.celery import enqueue
from proposals.following.emails import (
    digest_due,
    send_digest_chunk,
    send_immediate,
    send_immediate_sweep,
)
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
def notification_sweep() -> dict[str, int]:
    """Periodic: run the fan-outs a lost message or a dead worker left, and send the
    at-once emails still unsent. Returns both counts: all zero is an idle sweep, logged
    at DEBUG only (civic/logs.py)."""
    old = timezone.now() - timedelta(seconds=settings.CIVIC_EMAIL_SWEEP_AFTER_SECONDS)
    pending = list(
        FanOut.objects.filter(created_at__lt=old)
        .order_by("pk")
        .values_list("event", "object_id")[:500]
    )
    for event, object_id in pending:
        enqueue("proposals.fan_out", event, object_id)
    return {"fan_outs": len(pending), "emails": send_immediate_sweep()}


@shared_task(name="proposals.send_digests")
def send_digests_task() -> int:
    """Periodic: today's digests, once the hour has come, a task per chunk of people so
    that every worker takes a share; the claims make it once a day. Returns chunks sent
    off. A chunk whose message is lost is found due again by the next run."""
    now = timezone.now()
    chunks = 0
    for user_ids in digest_due(now=now):
        enqueue("proposals.send_digest_chunk", user_ids, now.isoformat())
        chunks += 1
    return chunks


@shared_task(name="proposals.send_digest_chunk")
def send_digest_chunk_task(user_ids: list[int], now: str) -> int:
    return send_digest_chunk(user_ids=user_ids, now=datetime.fromisoformat(now))
