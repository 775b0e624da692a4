"""The discussion under a published proposal (issue 15): its comments as the proposal page
shows them, and the pages that post, reply to, edit, delete and flag a comment.

Every write goes through the comment services (proposals/comments/services.py), within the
comments API's rate limits counted in the same entries; a refusal comes back as the form's
error with the status the API would give (400, 403 or 409).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from civic.accounts.rules import allows
from civic.errors import DomainError, NotAllowed, StateConflict
from frontend import labels
from frontend.throttling import PageThrottle, throttled_page
from frontend.views.common import add_errors
from proposals.comments.selectors import (
    author_role,
    comment_find,
    comment_ids_flagged_by,
    comment_list,
)
from proposals.comments.services import (
    comment_create,
    comment_delete,
    comment_edit,
    comment_flag,
)
from proposals.models import Comment, CommentFlag, Proposal
from proposals.selectors import proposal_find_visible

WRITE_TEMPLATE = "frontend/discussion/write.html"
DELETE_TEMPLATE = "frontend/discussion/delete.html"
FLAG_TEMPLATE = "frontend/discussion/flag.html"

# Hidden by residents' flags: not a moderator's reason, so the page says what it means.
FLAGGED_LABEL = _("Reported by residents")


class CommentForm(forms.Form):
    # Not required and not trimmed: the service cleans the text and refuses a short one
    # with the same message as the API. The bound only keeps a huge post off the service.
    body = forms.CharField(
        label=_("Your comment"),
        required=False,
        strip=False,
        max_length=100_000,
        widget=forms.Textarea(attrs={"rows": 5}),
    )


class FlagForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("What is wrong with this comment?"),
        choices=[(reason, labels.REASON[reason]) for reason in CommentFlag.Reason.values],
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose a reason."), "invalid_choice": _("Choose a reason.")},
    )


# --- the discussion as the proposal page shows it -------------------------------------


@dataclass
class Entry:
    """One comment with what this visitor sees of it and may do with it."""

    comment: Comment
    role: str  # author_role's code; "" for a deleted comment, which names nobody
    role_label: str  # the mark beside the name: the proposal's author or a staff role
    shows_text: bool
    reason_label: str  # why a moderator hid it, for those the rules tell; else ""
    may_reply: bool = False
    may_edit: bool = False
    may_delete: bool = False
    may_flag: bool = False
    flagged: bool = False  # this visitor has flagged it already
    replies: list["Entry"] = field(default_factory=list)

    @property
    def has_actions(self) -> bool:
        return self.may_reply or self.may_edit or self.may_delete or self.may_flag


@dataclass
class Discussion:
    entries: list[Entry]
    count: int  # comments the public reads: neither hidden nor deleted
    may_comment: bool
    form: CommentForm


class _Verdicts:
    """The comment rules for one visitor, asked at most twice each per page.

    Every comment rule in proposals/rules.py depends on the comment only through whether
    this visitor wrote it (`wrote_comment`); the rest is about the visitor, and some of it
    costs a query (`is_staff_account`). Asking once per comment would make the page's
    queries grow with the discussion.
    """

    def __init__(self, user: Any) -> None:
        self.user = user
        self._known: dict[tuple[str, bool], bool] = {}

    def __call__(self, perm: str, comment: Comment) -> bool:
        key = (perm, comment.author_id == getattr(self.user, "pk", None))
        if key not in self._known:
            self._known[key] = allows(self.user, perm, comment)
        return self._known[key]


def _role_label(role: str) -> str:
    if role == "author":
        return gettext("author of the proposal")
    return str(labels.ROLE.get(role, ""))


def edit_open(comment: Comment) -> bool:
    """Whether its author may still edit it: the service's window, and not hidden."""
    window = timedelta(minutes=settings.CIVIC_COMMENT_EDIT_MINUTES)
    return (
        comment.deleted_at is None
        and not comment.hidden
        and timezone.now() - comment.created_at <= window
    )


def _entry(
    comment: Comment,
    proposal: Proposal,
    may: _Verdicts,
    flagged: set[int],
    *,
    actions: bool,
    may_comment: bool = False,
) -> Entry:
    if comment.deleted_at is not None:
        return Entry(comment=comment, role="", role_label="", shows_text=False, reason_label="")
    role = author_role(author=comment.author, proposal=proposal)
    reason_label = ""
    if comment.hidden and may("proposals.view_comment_hidden_reason", comment):
        reason_label = (
            str(FLAGGED_LABEL)
            if comment.hidden_reason == Comment.HideReason.FLAGGED
            else str(labels.REASON.get(comment.hidden_reason, comment.hidden_reason))
        )
    entry = Entry(
        comment=comment,
        role=role,
        role_label=_role_label(role),
        shows_text=not comment.hidden or may("proposals.read_hidden_comment", comment),
        reason_label=reason_label,
        flagged=comment.pk in flagged,
    )
    if actions:
        entry.may_reply = may_comment and comment.parent_id is None
        entry.may_edit = may("proposals.edit_comment", comment) and edit_open(comment)
        entry.may_delete = may("proposals.delete_comment", comment)
        entry.may_flag = not entry.flagged and may("proposals.flag_comment", comment)
    return entry


def discussion_context(request: HttpRequest, proposal: Proposal) -> dict[str, Any]:
    """What the proposal page shows of its discussion: published proposals only, in a
    fixed number of queries whatever the number of comments."""
    if proposal.status != Proposal.Status.PUBLISHED:
        return {}
    user = request.user
    may = _Verdicts(user)
    may_comment = allows(user, "proposals.comment", proposal)
    flagged = comment_ids_flagged_by(user=user, proposal=proposal) if may_comment else set()
    threads: list[Entry] = []
    by_id: dict[int, Entry] = {}
    count = 0
    signed_in = bool(user.is_authenticated)
    for comment in comment_list(proposal=proposal):
        entry = _entry(comment, proposal, may, flagged, actions=signed_in, may_comment=may_comment)
        if comment.deleted_at is None and not comment.hidden:
            count += 1
        parent = by_id.get(comment.parent_id) if comment.parent_id else None
        if parent is not None:
            parent.replies.append(entry)
        else:
            # Replies come after their parent (oldest first); one whose parent is gone
            # from the list still shows, at the top level.
            threads.append(entry)
            by_id[comment.pk] = entry
    return {
        "discussion": Discussion(
            entries=threads, count=count, may_comment=may_comment, form=CommentForm()
        ),
        "edit_minutes": settings.CIVIC_COMMENT_EDIT_MINUTES,
    }


# --- the forms' pages ----------------------------------------------------------------


class AddressThrottle(PageThrottle):
    """The `comment_address` limit: per client address whoever is signed in, as the API's
    AddressRateThrottle counts it, so that many accounts behind one address share it."""

    def get_cache_key(self, request: Any, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


def _comment_wait(request: HttpRequest) -> int:
    """0 if one more comment write is allowed now, else the seconds to wait.

    The API's two limits on posting, editing and flagging (proposals/comments/apis.py):
    `comment` per account and `comment_address` per address. Both are asked, as DRF asks
    every throttle of a view, so each counts the attempt it allowed."""
    waits = []
    for throttle in (PageThrottle("comment"), AddressThrottle("comment_address")):
        if not throttle.allow_request(request, None):
            waits.append(max(1, int(throttle.wait() or 1)))
    return max(waits, default=0)


def _status(exc: DomainError) -> int:
    if isinstance(exc, NotAllowed):
        return 403
    if isinstance(exc, StateConflict):
        return 409
    return 400


def _comment_or_404(request: HttpRequest, comment_id: int) -> Comment:
    comment = comment_find(user=request.user, comment_id=comment_id)
    if comment is None:
        raise Http404
    return comment


def _shown(request: HttpRequest, comment: Comment) -> Entry:
    """The comment a form page is about, shown as the discussion shows it."""
    proposal = comment.proposal
    fresh = comment_list(proposal=proposal).filter(pk=comment.pk).first() or comment
    return _entry(fresh, proposal, _Verdicts(request.user), set(), actions=False)


def _to_comment(proposal: Proposal, comment: Comment | None = None) -> HttpResponse:
    anchor = f"#comment-{comment.pk}" if comment is not None else "#discussion"
    return redirect(reverse("frontend:proposal", args=[proposal.pk]) + anchor)


def _write_refusal(request: HttpRequest, proposal: Proposal) -> tuple[dict[str, Any], int]:
    """Why the form to write a comment is not offered, and the status; ({}, 200) if it is."""
    if not allows(request.user, "proposals.comment", proposal):
        refusal = gettext("Verify your email address before you do this.")
        return {"refusal": refusal, "refusal_verify": True}, 403
    if proposal.status != Proposal.Status.PUBLISHED:
        return {"refusal": gettext("Only published proposals take comments.")}, 409
    return {}, 200


def _save(
    request: HttpRequest,
    form: forms.Form,
    template: str,
    context: dict[str, Any],
    write: Callable[[dict[str, Any]], HttpResponse],
) -> HttpResponse:
    """A posted form: within the rate limits, valid, then the service (through `write`);
    else the page again with the refusal and its status."""
    if wait := _comment_wait(request):
        return throttled_page(request, wait, template, context)
    status = 400
    if form.is_valid():
        try:
            return write(form.cleaned_data)
        except DomainError as exc:
            add_errors(form, exc)
            status = _status(exc)
    return render(request, template, context, status=status)


def _write_page(request: HttpRequest, proposal: Proposal, parent: Comment | None) -> HttpResponse:
    form = CommentForm(request.POST if request.method == "POST" else None)
    if parent is not None:
        form.fields["body"].label = _("Your reply")
    context: dict[str, Any] = {
        "proposal": proposal,
        "form": form,
        "entry": _shown(request, parent) if parent is not None else None,
        "heading": gettext("Reply to a comment") if parent else gettext("Comment on the proposal"),
        "submit_label": gettext("Publish"),
        "edit_minutes": settings.CIVIC_COMMENT_EDIT_MINUTES,
    }
    if request.method != "POST":
        refusal, status = _write_refusal(request, proposal)
        return render(request, WRITE_TEMPLATE, {**context, **refusal}, status=status)

    def write(data: dict[str, Any]) -> HttpResponse:
        comment = comment_create(
            proposal=proposal, author=request.user, body=data["body"], parent=parent
        )
        messages.success(request, gettext("Your comment is published."))
        return _to_comment(proposal, comment)

    return _save(request, form, WRITE_TEMPLATE, context, write)


@login_required
def comment_new_page(request: HttpRequest, proposal_id: int) -> HttpResponse:
    proposal = proposal_find_visible(user=request.user, proposal_id=proposal_id)
    if proposal is None:
        raise Http404
    return _write_page(request, proposal, None)


@login_required
def comment_reply_page(request: HttpRequest, comment_id: int) -> HttpResponse:
    parent = _comment_or_404(request, comment_id)
    return _write_page(request, parent.proposal, parent)


@login_required
def comment_edit_page(request: HttpRequest, comment_id: int) -> HttpResponse:
    comment = _comment_or_404(request, comment_id)
    if not allows(request.user, "proposals.edit_comment", comment):
        # Before anything of the comment is shown: a hidden one's text is its author's.
        raise PermissionDenied
    proposal = comment.proposal
    form = CommentForm(
        request.POST if request.method == "POST" else None, initial={"body": comment.body}
    )
    form.fields["body"].label = _("Your comment")
    context: dict[str, Any] = {
        "proposal": proposal,
        "form": form,
        "entry": None,
        "heading": gettext("Edit your comment"),
        "submit_label": gettext("Save"),
        "editing": comment,
        "edit_minutes": settings.CIVIC_COMMENT_EDIT_MINUTES,
    }
    if request.method != "POST":
        refusal, status = "", 200
        if comment.hidden:
            refusal, status = gettext("A hidden comment cannot be edited."), 409
        elif not edit_open(comment):
            refusal = gettext(
                "A comment can be edited only for %(minutes)d minutes after posting."
            ) % {"minutes": settings.CIVIC_COMMENT_EDIT_MINUTES}
            status = 409
        return render(request, WRITE_TEMPLATE, {**context, "refusal": refusal}, status=status)

    def write(data: dict[str, Any]) -> HttpResponse:
        edited = comment_edit(comment=comment, actor=request.user, body=data["body"])
        messages.success(request, gettext("Your comment is saved."))
        return _to_comment(proposal, edited)

    return _save(request, form, WRITE_TEMPLATE, context, write)


@login_required
def comment_delete_page(request: HttpRequest, comment_id: int) -> HttpResponse:
    """A confirmation page, then the deletion: a form, so it works without a script."""
    comment = _comment_or_404(request, comment_id)
    if not allows(request.user, "proposals.delete_comment", comment):
        raise PermissionDenied
    proposal = comment.proposal
    context = {"proposal": proposal, "entry": _shown(request, comment)}
    if request.method != "POST":
        return render(request, DELETE_TEMPLATE, context)
    # Not rate-limited, as the API's DELETE is not: taking one's words back costs nothing.
    try:
        comment_delete(comment=comment, actor=request.user)
    except DomainError as exc:
        return render(
            request, DELETE_TEMPLATE, {**context, "error": exc.translated()}, status=_status(exc)
        )
    messages.success(request, gettext("Your comment is deleted."))
    return _to_comment(proposal)


@login_required
def comment_flag_page(request: HttpRequest, comment_id: int) -> HttpResponse:
    comment = _comment_or_404(request, comment_id)
    proposal = comment.proposal
    form = FlagForm(request.POST if request.method == "POST" else None)
    context: dict[str, Any] = {
        "proposal": proposal,
        "form": form,
        "entry": _shown(request, comment),
    }
    if request.method != "POST":
        refusal, status = "", 200
        if not allows(request.user, "proposals.flag_comment", comment):
            status = 403
            refusal = (
                gettext("You cannot flag your own comment.")
                if comment.author_id == request.user.pk
                else gettext("Verify your email address before you do this.")
            )
        elif comment.pk in comment_ids_flagged_by(user=request.user, proposal=proposal):
            refusal, status = gettext("You have already flagged this comment."), 409
        return render(request, FLAG_TEMPLATE, {**context, "refusal": refusal}, status=status)

    def write(data: dict[str, Any]) -> HttpResponse:
        comment_flag(comment=comment, user=request.user, reason=data["reason"])
        messages.success(request, gettext("Thank you. A moderator will look at this comment."))
        return _to_comment(proposal, comment)

    return _save(request, form, FLAG_TEMPLATE, context, write)
