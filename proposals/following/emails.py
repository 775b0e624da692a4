"""The emails about what people follow: one per notification for those who asked for them
at once, one a day for those who asked for a digest, never for those who turned them off.

Never twice. Each email is claimed, and the claim committed, before it goes out: a
notification by setting its `emailed_at`, a digest by its person's `NotificationDigest`
row for the day. A send that fails with an error gives the claim back for the next run. A
worker killed between claim and send (or before confirming a digest) leaves the claim: that
email does not go, rather than go twice. Nothing is lost by it: the notification stays in
the on-site list, and a digest's items, marked emailed only once it is confirmed, go with
the next day's digest.

Items whose proposal the recipient may no longer open, or whose comment was hidden or
deleted since, are left out of the email (the on-site list checks the same when read).
"""

import logging
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from itertools import groupby

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.template.loader import get_template
from django.utils import timezone, translation
from django.utils.translation import gettext

from civic.accounts.models import User
from civic.languages import LANGUAGE_CODES
from proposals.following.describe import Item, describe
from proposals.following.tokens import unsubscribe_url
from proposals.models import Comment, Notification, NotificationDigest, Proposal

logger = logging.getLogger(__name__)

Kind = Notification.Kind
# Recipients read per query, and items listed in one digest (the rest are on the site).
DIGEST_CHUNK = 500
DIGEST_MAX_ITEMS = 30
# Digests confirmed per transaction: what a killed worker can leave claimed but unconfirmed.
CONFIRM_EVERY = 50
# Older news is not worth an email any more; it stays in the on-site list.
STALE_AFTER = timedelta(days=2)


def _wants(preference: str, prefix: str = "") -> Q:
    """Accounts that get these emails: active, with a verified address, this preference."""
    return Q(
        **{
            f"{prefix}is_active": True,
            f"{prefix}email_verified": True,
            f"{prefix}notify_email": preference,
        }
    ) & ~Q(**{f"{prefix}email": ""})


def _with_targets(rows: QuerySet[Notification]) -> QuerySet[Notification]:
    return rows.select_related("proposal", "comment", "strategy").only(
        "id",
        "user_id",
        "kind",
        "status",
        "created_at",
        "proposal__id",
        "proposal__code",
        "proposal__title",
        "proposal__status",
        "proposal__rejection_public",
        "proposal__author_id",
        "comment__id",
        "comment__hidden_by",
        "comment__deleted_at",
        "strategy__id",
        "strategy__slug",
        "strategy__title_ru",
        "strategy__title_kk",
        "strategy__title_en",
    )


def _readable(notification: Notification) -> bool:
    """Whether the email may name it: the proposal public or the recipient's own, the
    comment still shown."""
    proposal = notification.proposal
    if proposal is not None:
        public = proposal.status == Proposal.Status.PUBLISHED or (
            proposal.status == Proposal.Status.REJECTED and proposal.rejection_public
        )
        if not public and proposal.author_id != notification.user_id:
            return False
    comment = notification.comment
    return comment is None or (
        comment.hidden_by == Comment.HiddenBy.NOBODY and comment.deleted_at is None
    )


def _line(notification: Notification, language: str) -> tuple[str, str]:
    """(text, link) in the active language."""
    site = f"{settings.CIVIC_SITE_URL}/{language}"
    proposal, strategy = notification.proposal, notification.strategy
    item = Item(
        kind=notification.kind,
        code=proposal.code if proposal else "",
        title=proposal.title if proposal else "",
        status=notification.status,
        strategy_title=strategy.title if strategy else "",
    )
    if proposal is not None:
        link = f"{site}/proposals/{proposal.pk}/"
        if notification.comment_id:
            link += f"#comment-{notification.comment_id}"
    elif strategy is not None:
        link = f"{site}/strategies/{strategy.slug}/versions/"
    else:
        link = f"{site}/me/notifications/"
    return describe(item), link


def _language(user: User) -> str:
    return user.language if user.language in LANGUAGE_CODES else "ru"


def _message(user: User, template: str, items: list[Notification], more: int = 0) -> EmailMessage:
    language = _language(user)
    with translation.override(language):
        lines = [_line(item, language) for item in items]
        unsubscribe = unsubscribe_url(user, language)
        body = get_template(f"proposals/emails/{template}.txt").render(
            {
                "lines": lines,
                "more": more,
                "inbox": f"{settings.CIVIC_SITE_URL}/{language}/me/notifications/",
                "settings_link": f"{settings.CIVIC_SITE_URL}/{language}/me/notifications/settings/",
                "unsubscribe": unsubscribe,
            }
        )
        if template == "digest":
            subject = gettext("Civic: what is new on what you follow")
        else:
            subject = f"Civic: {lines[0][0]}"
    return EmailMessage(
        subject=subject,
        body=body.strip() + "\n",
        to=[user.email],
        headers={
            # RFC 2369 and RFC 8058, as in the answer emails.
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )


# --- at once ------------------------------------------------------------------------------
def _claim_one(notification_id: int, now: datetime) -> bool:
    return bool(
        Notification.objects.filter(pk=notification_id, emailed_at__isnull=True).update(
            emailed_at=now
        )
    )


def _send_each(notification_ids: Iterable[int]) -> int:
    now = timezone.now()
    sent = 0
    for notification_id in notification_ids:
        if not _claim_one(notification_id, now):
            continue  # another run has it
        notification = _with_targets(Notification.objects.filter(pk=notification_id)).first()
        if notification is None or not _readable(notification):
            continue
        try:
            user = User.objects.get(pk=notification.user_id)
            _message(user, "notification", [notification]).send()
            sent += 1
        except Exception:
            # A refused address or a mail server down: give the claim back for the sweep.
            Notification.objects.filter(pk=notification_id).update(emailed_at=None)
            logger.exception("notification email %s failed", notification_id)
    return sent


def send_immediate(*, source: str) -> int:
    """Email one event's notifications to those who want each at once. Returns emails sent."""
    ids = (
        Notification.objects.filter(_wants("immediate", "user__"), source=source)
        .filter(emailed_at__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return _send_each(list(ids))


def send_immediate_sweep(*, now: datetime | None = None, limit: int = 2000) -> int:
    """What a lost message or a failed send left unsent, if it is still news."""
    now = now or timezone.now()
    ids = (
        Notification.objects.filter(_wants("immediate", "user__"), emailed_at__isnull=True)
        .filter(
            created_at__lt=now - timedelta(seconds=settings.CIVIC_EMAIL_SWEEP_AFTER_SECONDS),
            created_at__gte=now - STALE_AFTER,
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    return _send_each(list(ids))


# --- once a day ---------------------------------------------------------------------------
def _claim_digests(user_ids: list[int], day: date, now: datetime) -> list[int]:
    """Claim today's digest of each of these people that nobody claimed yet; the ids won."""
    NotificationDigest.objects.bulk_create(
        [NotificationDigest(user_id=user_id, day=day) for user_id in user_ids],
        ignore_conflicts=True,
    )
    with transaction.atomic():
        # Locked in one order, claimed in one statement: two runs at once split the
        # people between them, never share one.
        free = list(
            NotificationDigest.objects.select_for_update(skip_locked=True)
            .filter(user_id__in=user_ids, day=day, claimed_at__isnull=True)
            .order_by("user_id")
            .values_list("user_id", flat=True)
        )
        NotificationDigest.objects.filter(user_id__in=free, day=day).update(claimed_at=now)
    return free


def _confirm(sent: dict[int, list[int]], day: date, now: datetime) -> None:
    """Mark digests sent and their items emailed, for people whose email went."""
    if not sent:
        return
    by_count: dict[int, list[int]] = {}
    for user_id, item_ids in sent.items():
        by_count.setdefault(len(item_ids), []).append(user_id)
    with transaction.atomic():
        # One UPDATE per distinct number of items (a handful), not one per person.
        for count, user_ids in by_count.items():
            NotificationDigest.objects.filter(user_id__in=user_ids, day=day).update(
                sent_at=now, items=count
            )
        Notification.objects.filter(
            pk__in=[pk for item_ids in sent.values() for pk in item_ids]
        ).update(emailed_at=now)


def _digest_chunk(user_ids: list[int], day: date, now: datetime) -> int:
    claimed = _claim_digests(user_ids, day, now)
    if not claimed:
        return 0
    users = User.objects.only("id", "email", "language").in_bulk(claimed)
    rows = _with_targets(
        Notification.objects.filter(
            user_id__in=claimed,
            emailed_at__isnull=True,
            created_at__gte=now - STALE_AFTER,
            created_at__lt=now,
        )
    ).order_by("user_id", "created_at", "id")
    emails = 0
    done: dict[int, list[int]] = {}
    failed: list[int] = []
    # Read whole before the writes below change what the query matches; memory stays
    # bounded by the chunk's people and the two days of news.
    by_person = [(user_id, list(group)) for user_id, group in groupby(rows, lambda n: n.user_id)]
    # One SMTP connection for the chunk rather than one per email.
    connection = get_connection()
    try:
        connection.open()
    except Exception:
        logger.exception("no mail server for the digests; the next run tries again")
        failed, by_person = list(claimed), []
    for user_id, items in by_person:
        readable = [item for item in items if _readable(item)]
        try:
            if readable:
                shown = readable[:DIGEST_MAX_ITEMS]
                message = _message(users[user_id], "digest", shown, more=len(readable) - len(shown))
                message.connection = connection
                message.send()
                emails += 1
        except Exception:
            failed.append(user_id)
            logger.exception("digest for account %s failed", user_id)
            continue
        done[user_id] = [item.pk for item in items]
        if len(done) >= CONFIRM_EVERY:
            _confirm(done, day, now)
            done = {}
    connection.close()
    _confirm(done, day, now)
    # Failed with an error, so certainly not sent: the claims go back for the next run.
    NotificationDigest.objects.filter(user_id__in=failed, day=day, sent_at__isnull=True).update(
        claimed_at=None
    )
    return emails


def send_digests(*, now: datetime | None = None) -> int:
    """Send today's digests not yet sent, once the day's hour has come. Safe to run often
    and in several workers; returns emails sent."""
    now = now or timezone.now()
    if timezone.localtime(now).hour < settings.CIVIC_DIGEST_HOUR:
        return 0
    day = timezone.localdate(now)
    due = (
        User.objects.filter(_wants("daily"))
        .filter(
            Exists(
                Notification.objects.filter(
                    user=OuterRef("pk"),
                    emailed_at__isnull=True,
                    created_at__gte=now - STALE_AFTER,
                    created_at__lt=now,
                )
            )
        )
        .exclude(
            Exists(
                NotificationDigest.objects.filter(
                    user=OuterRef("pk"), day=day, claimed_at__isnull=False
                )
            )
        )
        .order_by("pk")
    )
    sent, last = 0, 0
    while True:
        user_ids = list(due.filter(pk__gt=last).values_list("pk", flat=True)[:DIGEST_CHUNK])
        if not user_ids:
            return sent
        last = user_ids[-1]
        sent += _digest_chunk(user_ids, day, now)
