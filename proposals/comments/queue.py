"""Reads for the moderators' side of comments: the flagged ones awaiting a decision, one
comment in its context with its flags, and a comment's audit history.

Kept apart from selectors.py, which serves the public discussion: these reads show what
only moderators may see (hidden text, flags, edits), and every one of them is for staff.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, Exists, Min, OuterRef, Q, QuerySet

from civic.accounts.models import User
from civic.accounts.selectors import staff_groups_prefetch
from proposals.comments.selectors import visible_comments
from proposals.models import Comment, CommentEvent, CommentFlag
from strategy.versions import word_diff

HiddenBy = Comment.HiddenBy
FLAG_REASONS: list[str] = list(CommentFlag.Reason.values)

_OPEN_FLAG = Q(flags__resolved_at__isnull=True)


def _awaiting_comments() -> QuerySet[Comment]:
    """Comments a moderator still has to decide on: hidden by residents' flags, or still
    shown with flags nobody has settled. A moderator's own hide is a decision already
    (flags made after it change nothing until it is restored), and a deleted comment has
    nothing left to decide (the service refuses it)."""
    open_flags = CommentFlag.objects.filter(comment=OuterRef("pk"), resolved_at__isnull=True)
    return Comment.objects.filter(deleted_at__isnull=True).filter(
        Q(hidden_by=HiddenBy.FLAGS) | (Q(hidden_by=HiddenBy.NOBODY) & Exists(open_flags))
    )


def flagged_comments() -> QuerySet[Comment]:
    """The moderators' queue of comments, the one flagged first at the top.

    Each row carries `first_flagged_at`, `open_flags` and `flags_<reason>` for every flag
    reason, all counting only the flags not yet settled, with its proposal's code and
    title (or its section's code and title and its strategy's slug) and its author's name:
    two queries for a page of any length (the count and the page), since the database
    counts the flags (GROUP BY), not Python.
    """
    per_reason = {
        f"flags_{reason}": Count("flags", filter=_OPEN_FLAG & Q(flags__reason=reason))
        for reason in FLAG_REASONS
    }
    return (
        _awaiting_comments()
        .select_related("proposal", "section", "section__strategy", "author")
        .only(
            "id",
            "proposal_id",
            "section_id",
            "parent_id",
            "body",
            "created_at",
            "edited_at",
            "hidden_by",
            "hidden_reason",
            "proposal__id",
            "proposal__code",
            "proposal__title",
            "proposal__language",
            "proposal__status",
            "section__id",
            "section__code",
            "section__strategy_id",
            "section__title_ru",
            "section__title_kk",
            "section__title_en",
            "section__strategy__id",
            "section__strategy__slug",
            "author__id",
            "author__display_name",
        )
        .annotate(
            first_flagged_at=Min("flags__created_at", filter=_OPEN_FLAG),
            open_flags=Count("flags", filter=_OPEN_FLAG),
            **per_reason,
        )
        # A comment hidden by flags whose flags went with their accounts has no open flag
        # left: it has waited at least as long as any, so it comes first.
        .order_by("first_flagged_at", "id")
    )


def flagged_comments_count() -> int:
    """How many comments await a moderator: one query, for a link that names the number."""
    return _awaiting_comments().count()


def flag_counts(comment: Comment) -> dict[str, int]:
    """The open flags of a row of `flagged_comments`, by reason, every reason named."""
    return {reason: getattr(comment, f"flags_{reason}", 0) for reason in FLAG_REASONS}


def comment_for_review(*, user: User, comment_id: int) -> Comment | None:
    """One comment as a moderator reviews it, deleted or hidden alike, with its proposal
    (or its section and strategy), its author and the comment it answers; None when there
    is none (a 404)."""
    return (
        Comment.objects.filter(visible_comments(user), pk=comment_id)
        .select_related(
            "proposal", "section", "section__strategy", "author", "parent", "parent__author"
        )
        .first()
    )


def comment_flags(*, comment: Comment) -> list[CommentFlag]:
    """Every flag on the comment, settled or not, oldest first. Who flagged stays out:
    what a moderator decides on is the comment, not the residents who reported it."""
    return list(
        CommentFlag.objects.filter(comment=comment)
        .only("id", "comment_id", "reason", "created_at", "resolved_at")
        .order_by("created_at", "id")
    )


@dataclass
class HistoryEntry:
    """A line of a comment's history, ready to show."""

    at: datetime
    action: str
    # None for a hide by flags, which no one person decided, or a deleted account.
    actor: User | None
    reason: str
    # An edit's word-by-word change (strategy.versions.word_diff), else empty.
    diff: list[dict[str, str]]

    @property
    def actor_name(self) -> str | None:
        return self.actor.display_name if self.actor is not None else None


def _diff(event: CommentEvent, *, texts: bool) -> list[dict[str, str]]:
    change: Any = (event.changes or {}).get("body")
    if not texts or not isinstance(change, dict):
        return []
    return word_diff(change.get("from") or "", change.get("to") or "")


def comment_history(*, comment: Comment) -> list[HistoryEntry]:
    """The comment's audit trail, oldest first, with who acted (their staff role badge
    prefetched) and what each edit changed: two queries whatever its length.

    Once its author deleted the comment, its earlier texts are not shown again: the
    deletion takes the text away, and the edit rows would otherwise still hold it.
    """
    events = (
        CommentEvent.objects.filter(comment=comment)
        .select_related("actor")
        .prefetch_related(staff_groups_prefetch("actor"))
        .order_by("at", "id")
    )
    texts = comment.deleted_at is None
    return [
        HistoryEntry(
            at=event.at,
            action=event.action,
            actor=event.actor,
            reason=event.reason,
            diff=_diff(event, texts=texts),
        )
        for event in events
    ]
