"""The emails about what people follow: one per notification for those who asked for them
at once, one a day for those who asked for a digest, never for those who turned them off.

Never twice. Each email is claimed, and the claim committed, before it goes out: a
notification by setting its `emailed_at`, a digest by its person's `NotificationDigest`
row for the day. A send that fails with an error gives the claim back for the next run. A
worker killed between claim and confirmation leaves the claim: that email is not sent
again that day, rather than risk a second one. Nothing is lost by it: the notification
stays in the on-site list, and a digest's items are marked emailed only once it is
confirmed, so they go with the next day's digest (again, for a digest that went out just
before the kill). Digests are claimed a batch at a time (CLAIM_BATCH), which bounds how
many people one kill touches.

Items whose proposal the recipient may no longer open, whose comment was hidden or deleted
since, or whose strategy went back to draft, are left out of the email. (The on-site list
leaves out the first and the last; it shows a hidden comment's notification, whose link
leads to the stub.)
"""

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import groupby

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.db.models import Q, QuerySet
from django.template.loader import get_template
from django.utils import timezone, translation
from django.utils.translation import gettext

from civic.accounts.models import User
from civic.languages import LANGUAGE_CODES
from proposals.following.describe import Item, describe
from proposals.following.tokens import unsubscribe_url
from proposals.models import Comment, Notification, NotificationDigest, Proposal
from strategy.models import Strategy

logger = logging.getLogger(__name__)

Kind = Notification.Kind
# Recipients read per query, and items listed in one digest (the rest are on the site).
DIGEST_CHUNK = 500
DIGEST_MAX_ITEMS = 30
# Digests claimed, sent and confirmed together: what a killed worker can leave claimed but
# unconfirmed (not sent again that day; their news goes with the next day's digest).
CLAIM_BATCH = 50
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


@dataclass(slots=True)
class Row:
    """One notification with what an email says of it, read as plain values: a digest run
    reads a great many, and model instances for each row and its targets cost more than
    the rest of the email."""

    pk: int
    user_id: int
    kind: str
    status: str
    proposal_id: int | None
    code: str | None
    title: str | None
    proposal_status: str | None
    rejection_public: bool | None
    author_id: int | None
    comment_id: int | None
    hidden_by: str | None
    deleted_at: datetime | None
    strategy_slug: str | None
    strategy_status: str | None
    section_id: int | None
    section_code: str | None
    section_strategy_slug: str | None
    section_strategy_status: str | None
    strategy_titles: tuple[str | None, ...]
    section_titles: tuple[str | None, ...]

    def strategy_title(self, language: str) -> str:
        return _localized(self.strategy_titles, language)

    def section_title(self, language: str) -> str:
        return f"{self.section_code}. {_localized(self.section_titles, language)}"


def _localized(titles: tuple[str | None, ...], language: str) -> str:
    # As strategy.models.localized: the language asked for, then Russian, then any.
    by_language = dict(zip(LANGUAGE_CODES, titles, strict=True))
    return next((t for t in (by_language.get(language), *titles) if t), "")


_ROW_FIELDS = (
    "pk",
    "user_id",
    "kind",
    "status",
    "proposal_id",
    "proposal__code",
    "proposal__title",
    "proposal__status",
    "proposal__rejection_public",
    "proposal__author_id",
    "comment_id",
    "comment__hidden_by",
    "comment__deleted_at",
    "strategy__slug",
    "strategy__status",
    "section_id",
    "section__code",
    "section__strategy__slug",
    "section__strategy__status",
    *(f"strategy__title_{code}" for code in LANGUAGE_CODES),
    *(f"section__title_{code}" for code in LANGUAGE_CODES),
)


def _rows(notifications: QuerySet[Notification]) -> list[Row]:
    n = len(LANGUAGE_CODES)
    return [
        Row(
            *values[: -2 * n],
            strategy_titles=tuple(values[-2 * n : -n]),
            section_titles=tuple(values[-n:]),
        )
        for values in notifications.values_list(*_ROW_FIELDS)
    ]


def _readable(row: Row) -> bool:
    """Whether the email may name it: the proposal public or the recipient's own, the
    comment still shown."""
    if row.proposal_id is not None:
        public = row.proposal_status == Proposal.Status.PUBLISHED or (
            row.proposal_status == Proposal.Status.REJECTED and row.rejection_public
        )
        if not public and row.author_id != row.user_id:
            return False
    if row.section_id is not None and row.section_strategy_status == Strategy.Status.DRAFT:
        return False
    if row.strategy_slug is not None and row.strategy_status == Strategy.Status.DRAFT:
        return False
    return row.comment_id is None or (
        row.hidden_by == Comment.HiddenBy.NOBODY and row.deleted_at is None
    )


def _line(row: Row, language: str) -> tuple[str, str]:
    """(text, link) in the active language."""
    site = f"{settings.CIVIC_SITE_URL}/{language}"
    item = Item(
        kind=row.kind,
        code=row.code or "",
        title=row.title or "",
        status=row.status,
        strategy_title=row.strategy_title(language) if row.strategy_slug else "",
        section_title=row.section_title(language) if row.section_id else "",
    )
    if row.section_id is not None:
        link = (
            f"{site}/strategies/{row.section_strategy_slug}/sections/{row.section_code}"
            f"/discussion/#comment-{row.comment_id}"
        )
    elif row.proposal_id is not None:
        link = f"{site}/proposals/{row.proposal_id}/"
        if row.comment_id:
            link += f"#comment-{row.comment_id}"
    elif row.strategy_slug is not None:
        link = f"{site}/strategies/{row.strategy_slug}/versions/"
    else:
        link = f"{site}/me/notifications/"
    return describe(item), link


def _language(user: User) -> str:
    return user.language if user.language in LANGUAGE_CODES else "ru"


def _message(user: User, template: str, items: list[Row], more: int = 0) -> EmailMessage:
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
            # A title may hold a line break; a header may not.
            subject = " ".join(f"Civic: {lines[0][0]}".split())
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
        found = _rows(Notification.objects.filter(pk=notification_id))
        if not found or not _readable(found[0]):
            continue
        try:
            user = User.objects.get(pk=found[0].user_id)
            _message(user, "notification", found).send()
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


def _send_batch(
    user_ids: list[int], day: date, now: datetime, connection: BaseEmailBackend
) -> tuple[int, list[int]]:
    """Claim, send and confirm the digests of a few people; (emails sent, people whose
    send failed with an error)."""
    claimed = _claim_digests(user_ids, day, now)
    if not claimed:
        return 0, []
    # Asked again now: someone may have unsubscribed since the chunk was queued.
    users = User.objects.filter(_wants("daily")).only("id", "email", "language").in_bulk(claimed)
    gone = [user_id for user_id in claimed if user_id not in users]
    if gone:
        NotificationDigest.objects.filter(user_id__in=gone, day=day).update(claimed_at=None)
        claimed = [user_id for user_id in claimed if user_id in users]
    rows = _rows(
        Notification.objects.filter(
            user_id__in=claimed,
            emailed_at__isnull=True,
            created_at__gte=now - STALE_AFTER,
            created_at__lt=now,
        ).order_by("user_id", "created_at", "id")
    )
    emails = 0
    done: dict[int, list[int]] = {}
    failed: list[int] = []
    for user_id, group in groupby(rows, lambda row: row.user_id):
        items = list(group)
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
    _confirm(done, day, now)
    return emails, failed


def send_digest_chunk(*, user_ids: list[int], now: datetime) -> int:
    """Send the day's digests of these people, those nobody claimed yet. Returns emails
    sent. Chunks run in any number of workers at once: the claims keep them apart.

    People are claimed a batch at a time (CLAIM_BATCH), just before their emails go: a
    worker killed mid-chunk leaves at most one batch claimed and unconfirmed, and the
    rest of the chunk to the next run.
    """
    day = timezone.localdate(now)
    emails = 0
    failed: list[int] = []
    # One SMTP connection for the chunk rather than one per email.
    connection = get_connection()
    try:
        connection.open()
    except Exception:
        # Nothing claimed yet: the next run finds these people due again.
        logger.exception("no mail server for the digests; the next run tries again")
        return 0
    try:
        for start in range(0, len(user_ids), CLAIM_BATCH):
            sent, refused = _send_batch(user_ids[start : start + CLAIM_BATCH], day, now, connection)
            emails += sent
            failed += refused
    finally:
        connection.close()
    # Failed with an error, so certainly not sent: the claims go back for the next run.
    NotificationDigest.objects.filter(user_id__in=failed, day=day, sent_at__isnull=True).update(
        claimed_at=None
    )
    return emails


def digest_due(*, now: datetime) -> Iterator[list[int]]:
    """The people whose digest is due today, in chunks of ids: those who asked for one,
    have news of the last two days not yet emailed, and whose digest nobody claimed yet.
    Nothing before the day's hour (CIVIC_DIGEST_HOUR).

    One query read as a stream, from the unemailed notifications (a partial index) rather
    than from every account: a run after the day's digests, with nobody left, costs a
    look at what is still unemailed, not a probe per account.
    """
    if timezone.localtime(now).hour < settings.CIVIC_DIGEST_HOUR:
        return
    claimed = NotificationDigest.objects.filter(
        day=timezone.localdate(now), claimed_at__isnull=False
    ).values("user_id")
    people = (
        Notification.objects.filter(
            _wants("daily", "user__"),
            emailed_at__isnull=True,
            created_at__gte=now - STALE_AFTER,
            created_at__lt=now,
        )
        .exclude(user_id__in=claimed)
        .order_by("user_id")
        .values_list("user_id", flat=True)
        .distinct()
    )
    chunk: list[int] = []
    for user_id in people.iterator(chunk_size=DIGEST_CHUNK * 4):
        chunk.append(user_id)
        if len(chunk) == DIGEST_CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def send_digests(*, now: datetime | None = None) -> int:
    """Every digest due now, in this process, chunk after chunk; returns emails sent. The
    periodic task spreads the chunks over the workers instead (following/tasks.py)."""
    now = now or timezone.now()
    # The ids are read whole first: the sends below write to the table the stream reads.
    chunks = list(digest_due(now=now))
    return sum(send_digest_chunk(user_ids=chunk, now=now) for chunk in chunks)
