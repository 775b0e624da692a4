"""The moderators' pages for comments: the queue of flagged ones, and one comment in its
context, with its flags and history, to hide with a reason or to restore."""

from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from civic.errors import DomainError, NotAllowed, StateConflict
from frontend import labels
from frontend.views.common import add_errors, paginate, permission_required, query_without_page
from proposals.comments.queue import (
    comment_flags,
    comment_for_review,
    comment_history,
    flag_counts,
    flagged_comments,
)
from proposals.comments.services import MODERATOR_REASONS, comment_moderate
from proposals.models import Comment, CommentEvent

PER_PAGE = 50

HIDE, RESTORE = "hide", "restore"

# What the pages call a comment's state and the lines of its history.
HIDDEN_BY = {
    Comment.HiddenBy.FLAGS: _("Hidden by residents' flags"),
    Comment.HiddenBy.MODERATOR: _("Hidden by a moderator"),
}
EVENT = {
    CommentEvent.Action.EDIT: _("Edited by the author"),
    CommentEvent.Action.DELETE: _("Deleted by the author"),
    CommentEvent.Action.HIDE: _("Hidden by a moderator"),
    CommentEvent.Action.AUTO_HIDE: _("Hidden by residents' flags"),
    CommentEvent.Action.RESTORE: _("Restored by a moderator"),
}


class CommentDecisionForm(forms.Form):
    """Hide a comment with a reason, or restore it; comment_moderate decides the rest."""

    action = forms.ChoiceField(
        label=_("Decision"),
        widget=forms.RadioSelect,
        choices=[(HIDE, _("Hide the comment")), (RESTORE, _("Restore the comment"))],
    )
    reason = forms.ChoiceField(
        label=_("Reason for hiding"),
        required=False,
        choices=[("", "—"), *((code, labels.REASON[code]) for code in MODERATOR_REASONS)],
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("action") == HIDE and not data.get("reason"):
            # The API falls back to "other"; on the page the moderator names it, since
            # the author reads it.
            self.add_error("reason", gettext("Choose why the comment is hidden."))
        elif data.get("action") == RESTORE:
            # The reason belongs to hiding: one left chosen before switching to restore
            # (the script only hides the list) is not part of the decision.
            data["reason"] = ""
        return data


def _offered(comment: Comment, flags: list[Any]) -> list[str]:
    """The decisions the comment's state allows, as the form offers them. A comment still
    shown with flags not yet settled may also be kept: the service settles its flags."""
    if comment.deleted_at is not None:
        return []
    if comment.hidden_by == Comment.HiddenBy.MODERATOR:
        return [RESTORE]
    if comment.hidden_by == Comment.HiddenBy.FLAGS:
        return [HIDE, RESTORE]
    if any(flag.resolved_at is None for flag in flags):
        return [HIDE, RESTORE]
    return [HIDE]


def _refusal_status(exc: DomainError) -> int:
    if isinstance(exc, StateConflict):
        return 409
    if isinstance(exc, NotAllowed):
        return 403
    return 400


def _done(comment: Comment, action: str) -> str:
    """What the queue says of a decision: the comment named by its proposal's code, or by
    its section's code for a comment on a section."""
    if comment.section_id is not None:
        done = (
            gettext("The comment on section %(code)s is hidden.")
            if action == HIDE
            else gettext("The comment on section %(code)s is shown again.")
        )
        return done % {"code": comment.section.code}
    done = (
        gettext("The comment on %(code)s is hidden.")
        if action == HIDE
        else gettext("The comment on %(code)s is shown again.")
    )
    return done % {"code": comment.proposal.code}


@permission_required("proposals.moderate_comment")
def comment_queue(request: HttpRequest) -> HttpResponse:
    page = paginate(request, flagged_comments(), per_page=PER_PAGE)
    rows = [
        {
            "comment": comment,
            "flags": [(reason, n) for reason, n in flag_counts(comment).items() if n],
        }
        for comment in page.object_list
    ]
    return render(
        request,
        "frontend/moderation/comments/queue.html",
        {"page": page, "rows": rows, "query": query_without_page(request)},
    )


@permission_required("proposals.moderate_comment")
def comment_review(request: HttpRequest, comment_id: int) -> HttpResponse:
    comment = comment_for_review(user=request.user, comment_id=comment_id)
    if comment is None:
        raise Http404
    form = CommentDecisionForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                comment_moderate(
                    comment=comment,
                    moderator=request.user,
                    action=data["action"],
                    reason=data["reason"],
                )
            except DomainError as exc:
                add_errors(form, exc)
                status = _refusal_status(exc)
                # Someone else may have decided meanwhile: show the comment as it is now.
                comment = comment_for_review(user=request.user, comment_id=comment_id) or comment
            else:
                messages.success(request, _done(comment, data["action"]))
                return redirect("frontend:comment-moderation")
        else:
            status = 400
    # Every decision is accepted from a post (one taken on a page gone stale reaches the
    # service and reads as its conflict); the page offers those the state allows.
    flags = comment_flags(comment=comment)
    offered = _offered(comment, flags)
    field = form.fields["action"]
    field.choices = [choice for choice in field.choices if choice[0] in offered]
    if not comment.hidden:
        # Nothing to restore: for a shown comment the same decision keeps it as it is.
        field.choices = [
            (value, _("Keep the comment and dismiss the flags") if value == RESTORE else label)
            for value, label in field.choices
        ]
    return render(
        request,
        "frontend/moderation/comments/review.html",
        {
            "comment": comment,
            "proposal": comment.proposal,
            "section": comment.section,
            "state": HIDDEN_BY.get(comment.hidden_by, ""),
            "flags": flags,
            "history": comment_history(comment=comment),
            "events": EVENT,
            "form": form,
            "offered": offered,
        },
        status=status,
    )
