"""Writes of comments: post, edit, delete, flag, moderate; each with its audit row.

Whether someone may act is a rule (proposals/rules.py: a 403 when not); whether the
comment or its proposal allows it now is decided here (a 409 when not), as for proposals.
"""

from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from civic.accounts.models import User
from civic.accounts.rules import allows, is_verified_resident
from civic.errors import InvalidInput, NotAllowed, StateConflict
from civic.text import clean_text
from proposals.following.services import fan_out_later, follow_automatically
from proposals.models import (
    COMMENT_BODY_MAX,
    COMMENT_BODY_MIN,
    Comment,
    CommentEvent,
    CommentFlag,
    Proposal,
)
from proposals.tallies.services import tally_mark_dirty

HiddenBy = Comment.HiddenBy
Action = CommentEvent.Action
# What a moderator may give as the reason for hiding; "flagged" is only the flags' own.
MODERATOR_REASONS = [r for r in Comment.HideReason.values if r != Comment.HideReason.FLAGGED]
MODERATION_ACTIONS = ("hide", "restore")


def _check_verified(user: User) -> None:
    if not is_verified_resident(user):
        raise NotAllowed(
            gettext_noop("Verify your email address before you do this."), code="email_not_verified"
        )


def _check_published(proposal: Proposal) -> None:
    # FOR SHARE, as for reactions: comments do not wait for one another, but a moderator
    # taking the proposal down (FOR UPDATE) waits for them, so none lands on a proposal
    # that is no longer published. SQLite writers are serialised anyway.
    lock = " FOR SHARE" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT status FROM {Proposal._meta.db_table} WHERE id = %s{lock}",  # noqa: S608
            [proposal.pk],
        )
        row = cursor.fetchone()
    if row is None or row[0] != Proposal.Status.PUBLISHED:
        raise StateConflict(
            gettext_noop("Only published proposals take comments."), code="not_published"
        )


def _clean_body(body: str) -> str:
    return clean_text(body, field="body", min_length=COMMENT_BODY_MIN, max_length=COMMENT_BODY_MAX)


def _lock(comment: Comment) -> Comment:
    return Comment.objects.select_for_update().get(pk=comment.pk)


def _check_not_deleted(comment: Comment) -> None:
    if comment.deleted_at is not None:
        raise StateConflict(gettext_noop("This comment was deleted."), code="comment_deleted")


@transaction.atomic
def comment_create(
    *, proposal: Proposal, author: User, body: str, parent: Comment | None = None
) -> Comment:
    if not allows(author, "proposals.comment", proposal):
        # The rule is being a verified resident (proposals/rules.py): say what to do.
        raise NotAllowed(
            gettext_noop("Verify your email address before you do this."), code="email_not_verified"
        )
    body = _clean_body(body)
    if parent is not None:
        if parent.proposal_id != proposal.pk or parent.deleted_at is not None:
            raise InvalidInput(gettext_noop("Reply to a comment of this proposal."), field="parent")
        if parent.parent_id is not None:
            raise InvalidInput(
                gettext_noop("Replies go one level deep: reply to the first comment instead."),
                field="parent",
            )
    _check_published(proposal)
    comment = Comment.objects.create(proposal=proposal, parent=parent, author=author, body=body)
    # The tallies count visible comments, as they count reactions.
    follow_automatically(user=author, proposal=proposal)
    fan_out_later(event="comment", object_id=comment.pk)
    tally_mark_dirty(strategy_id=proposal.strategy_id)
    return comment


@transaction.atomic
def comment_edit(*, comment: Comment, actor: User, body: str) -> Comment:
    comment = _lock(comment)
    if not allows(actor, "proposals.edit_comment", comment):
        raise NotAllowed(gettext_noop("Only the author may edit a comment."))
    _check_not_deleted(comment)
    if comment.hidden:
        raise StateConflict(
            gettext_noop("A hidden comment cannot be edited."), code="comment_hidden"
        )
    window = timedelta(minutes=settings.CIVIC_COMMENT_EDIT_MINUTES)
    now = timezone.now()
    if now - comment.created_at > window:
        raise StateConflict(
            gettext_noop("A comment can be edited only for %(minutes)d minutes after posting."),
            code="edit_window_closed",
            params={"minutes": settings.CIVIC_COMMENT_EDIT_MINUTES},
        )
    body = _clean_body(body)
    if body == comment.body:
        return comment
    CommentEvent.objects.create(
        comment=comment,
        actor=actor,
        action=Action.EDIT,
        at=now,
        changes={"body": {"from": comment.body, "to": body}},
    )
    comment.body = body
    comment.edited_at = now
    comment.save(update_fields=["body", "edited_at"])
    return comment


@transaction.atomic
def comment_delete(*, comment: Comment, actor: User) -> None:
    """Its author takes a comment back: the text is gone at once; the row stays as a stub
    while replies stand under it, and leaves the discussion otherwise (selectors)."""
    comment = _lock(comment)
    if not allows(actor, "proposals.delete_comment", comment):
        raise NotAllowed(gettext_noop("Only the author may delete a comment."))
    if comment.deleted_at is not None:
        return
    now = timezone.now()
    comment.body = ""
    comment.deleted_at = now
    comment.save(update_fields=["body", "deleted_at"])
    # The audit row keeps no text: what the author deleted is not kept elsewhere.
    CommentEvent.objects.create(comment=comment, actor=actor, action=Action.DELETE, at=now)
    tally_mark_dirty(strategy_id=comment.proposal.strategy_id)


@transaction.atomic
def comment_flag(*, comment: Comment, user: User, reason: str) -> CommentFlag:
    """A resident flags a comment, once. With flags from CIVIC_COMMENT_HIDE_AFTER_FLAGS
    residents since a moderator last decided, it is hidden until one decides."""
    if reason not in CommentFlag.Reason.values:
        raise InvalidInput(
            gettext_noop("Unknown reason %(reason)r."), field="reason", params={"reason": reason}
        )
    _check_verified(user)
    if not allows(user, "proposals.flag_comment", comment):
        raise NotAllowed(gettext_noop("You cannot flag your own comment."), code="own_comment")
    # The lock makes flags on one comment take turns, so the count below is exact.
    comment = _lock(comment)
    _check_not_deleted(comment)
    if CommentFlag.objects.filter(comment=comment, user=user).exists():
        raise StateConflict(
            gettext_noop("You have already flagged this comment."), code="already_flagged"
        )
    now = timezone.now()
    flag = CommentFlag.objects.create(comment=comment, user=user, reason=reason, created_at=now)
    if comment.hidden:
        return flag
    open_flags = CommentFlag.objects.filter(comment=comment, resolved_at__isnull=True).count()
    if open_flags >= settings.CIVIC_COMMENT_HIDE_AFTER_FLAGS:
        comment.hidden_by = HiddenBy.FLAGS
        comment.hidden_reason = Comment.HideReason.FLAGGED
        comment.save(update_fields=["hidden_by", "hidden_reason"])
        CommentEvent.objects.create(
            comment=comment, actor=None, action=Action.AUTO_HIDE, at=now, reason="flagged"
        )
        tally_mark_dirty(strategy_id=comment.proposal.strategy_id)
    return flag


@transaction.atomic
def comment_moderate(
    *, comment: Comment, moderator: User, action: str, reason: str = ""
) -> Comment:
    """A moderator hides a comment with a reason, or restores it. Either decision settles
    the flags made so far; only later ones count towards hiding it again."""
    if not allows(moderator, "proposals.moderate_comment", comment):
        raise NotAllowed(gettext_noop("Only moderators decide on comments."))
    if action not in MODERATION_ACTIONS:
        raise InvalidInput(
            gettext_noop("Unknown action %(action)r."), field="action", params={"action": action}
        )
    if action == "hide":
        reason = reason or Comment.HideReason.OTHER
        if reason not in MODERATOR_REASONS:
            raise InvalidInput(
                gettext_noop("Unknown reason %(reason)r."),
                field="reason",
                params={"reason": reason},
            )
    elif reason:
        raise InvalidInput(gettext_noop("Only hiding takes a reason."), field="reason")
    comment = _lock(comment)
    _check_not_deleted(comment)
    if action == "hide" and comment.hidden_by == HiddenBy.MODERATOR:
        raise StateConflict(
            gettext_noop("A moderator has already hidden this comment."), code="already_hidden"
        )
    if action == "restore" and not comment.hidden:
        raise StateConflict(gettext_noop("This comment is not hidden."), code="not_hidden")
    now = timezone.now()
    if action == "hide":
        comment.hidden_by, comment.hidden_reason = HiddenBy.MODERATOR, reason
        event_action = Action.HIDE
    else:
        comment.hidden_by, comment.hidden_reason = HiddenBy.NOBODY, ""
        event_action = Action.RESTORE
    comment.save(update_fields=["hidden_by", "hidden_reason"])
    CommentFlag.objects.filter(comment=comment, resolved_at__isnull=True).update(resolved_at=now)
    CommentEvent.objects.create(
        comment=comment, actor=moderator, action=event_action, at=now, reason=reason
    )
    tally_mark_dirty(strategy_id=comment.proposal.strategy_id)
    return comment
