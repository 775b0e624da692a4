"""Writes of comments: post, edit, delete, flag, moderate; each with its audit row.

A comment is on a proposal or on a section of a strategy. Whether someone may act is a
rule (proposals/rules.py: a 403 when not); whether the comment, its proposal or its
strategy allows it now is decided here (a 409 when not), as for proposals.
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
from strategy.models import Section, Strategy

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
    # FOR SHARE: comments do not wait for one another, but a moderator taking the
    # proposal down (FOR UPDATE) waits for them, so none lands on a proposal that is no
    # longer published. (Reactions lock harder, as they recount the proposal's kept
    # totals.) SQLite writers are serialised anyway.
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


def _check_open(section: Section) -> None:
    # FOR SHARE on the strategy's row, as _check_published does on the proposal's: closing
    # the strategy (an UPDATE of that row) waits for the comments in flight, and a comment
    # arriving after it reads the new status. SQLite writers are serialised anyway.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT 1 FROM {Strategy._meta.db_table} WHERE id = %s FOR SHARE",  # noqa: S608
                [section.strategy_id],
            )
    strategy = Strategy.objects.only("status", "opens_at", "closes_at").get(pk=section.strategy_id)
    if not strategy.accepts_proposals():
        raise StateConflict(
            gettext_noop("This strategy is not open for comments."), code="strategy_closed"
        )


def _strategy_id(comment: Comment) -> int:
    """The strategy whose tally counts the comment."""
    if comment.proposal_id is not None:
        return Proposal.objects.values_list("strategy_id", flat=True).get(pk=comment.proposal_id)
    return Section.objects.values_list("strategy_id", flat=True).get(pk=comment.section_id)


def _clean_body(body: str) -> str:
    return clean_text(body, field="body", min_length=COMMENT_BODY_MIN, max_length=COMMENT_BODY_MAX)


def _lock(comment: Comment) -> Comment:
    return Comment.objects.select_for_update().get(pk=comment.pk)


def _check_not_deleted(comment: Comment) -> None:
    if comment.deleted_at is not None:
        raise StateConflict(gettext_noop("This comment was deleted."), code="comment_deleted")


@transaction.atomic
def comment_create(
    *,
    author: User,
    body: str,
    proposal: Proposal | None = None,
    section: Section | None = None,
    parent: Comment | None = None,
) -> Comment:
    """Post a comment on a published proposal, or on a section of a strategy that accepts
    proposals (exactly one of the two), or reply to one of its comments."""
    if (proposal is None) == (section is None):
        raise InvalidInput(
            gettext_noop("Give exactly one of proposal and section."), field="target"
        )
    if not allows(author, "proposals.comment", proposal or section):
        # The rule is being a verified resident (proposals/rules.py): say what to do.
        raise NotAllowed(
            gettext_noop("Verify your email address before you do this."), code="email_not_verified"
        )
    body = _clean_body(body)
    if parent is not None:
        if proposal is not None:
            elsewhere = parent.proposal_id != proposal.pk
            message = gettext_noop("Reply to a comment of this proposal.")
        else:
            elsewhere = parent.section_id != section.pk
            message = gettext_noop("Reply to a comment of this section.")
        if elsewhere or parent.deleted_at is not None:
            raise InvalidInput(message, field="parent")
        if parent.parent_id is not None:
            raise InvalidInput(
                gettext_noop("Replies go one level deep: reply to the first comment instead."),
                field="parent",
            )
    if proposal is not None:
        _check_published(proposal)
        strategy_id = proposal.strategy_id
    else:
        _check_open(section)
        strategy_id = section.strategy_id
    comment = Comment.objects.create(
        proposal=proposal, section=section, parent=parent, author=author, body=body
    )
    # A comment follows its proposal; a section is followed only when asked (a section's
    # followers also hear of every proposal published in it, more than one comment asks).
    if proposal is not None:
        follow_automatically(user=author, proposal=proposal)
    fan_out_later(event="comment", object_id=comment.pk)
    # The tallies count visible comments, as they count reactions.
    tally_mark_dirty(strategy_id=strategy_id)
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
    # The audit row keeps no text, and the edits' rows lose theirs: what the author
    # deleted is not kept elsewhere. Who edited when stays.
    CommentEvent.objects.filter(comment=comment, action=Action.EDIT).update(changes={})
    CommentEvent.objects.create(comment=comment, actor=actor, action=Action.DELETE, at=now)
    tally_mark_dirty(strategy_id=_strategy_id(comment))


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
        tally_mark_dirty(strategy_id=_strategy_id(comment))
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
    open_flags = CommentFlag.objects.filter(comment=comment, resolved_at__isnull=True)
    # "Restore" on a comment still shown keeps it and settles its flags: how a moderator
    # clears a report that asked for nothing. Only one with nothing to settle is a 409.
    if action == "restore" and not comment.hidden and not open_flags.exists():
        raise StateConflict(gettext_noop("This comment is not hidden."), code="not_hidden")
    now = timezone.now()
    if action == "hide":
        comment.hidden_by, comment.hidden_reason = HiddenBy.MODERATOR, reason
        event_action = Action.HIDE
    else:
        comment.hidden_by, comment.hidden_reason = HiddenBy.NOBODY, ""
        event_action = Action.RESTORE
    comment.save(update_fields=["hidden_by", "hidden_reason"])
    open_flags.update(resolved_at=now)
    CommentEvent.objects.create(
        comment=comment, actor=moderator, action=event_action, at=now, reason=reason
    )
    tally_mark_dirty(strategy_id=_strategy_id(comment))
    return comment
