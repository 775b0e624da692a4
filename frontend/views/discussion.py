"""The discussion under a published proposal and on a section of a strategy (issue 15):
the comments as the proposal page and the section's discussion page show them, and the
pages that post, reply to, edit, delete and flag a comment, for either alike.

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
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

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
    section_comment_counts,
    section_find_public,
)
from proposals.comments.services import (
    comment_create,
    comment_delete,
    comment_edit,
    comment_flag,
)
from proposals.following.selectors import follows_section, sections_followed
from proposals.models import Comment, CommentFlag, Proposal
from proposals.rules import CommentVerdicts
from proposals.selectors import proposal_find_visible
from strategy.models import Section, Strategy

SECTION_TEMPLATE = "frontend/discussion/section.html"
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


# --- what a discussion is about -------------------------------------------------------


@dataclass(frozen=True)
class Place:
    """A proposal or a section, as the discussion's pages name it and link to it."""

    proposal: Proposal | None
    section: Section | None
    url: str  # the page that shows the discussion
    new_url: str  # where the form to comment posts
    title: str
    language: str  # the title's language, "" when it is the page's own (a section's)
    back_label: str

    @property
    def comments(self) -> QuerySet[Comment]:
        if self.section is not None:
            return comment_list(section=self.section)
        return comment_list(proposal=self.proposal)

    def flagged_by(self, user: Any) -> set[int]:
        return comment_ids_flagged_by(user=user, proposal=self.proposal, section=self.section)


def proposal_place(proposal: Proposal) -> Place:
    return Place(
        proposal=proposal,
        section=None,
        url=reverse("frontend:proposal", args=[proposal.pk]),
        new_url=reverse("frontend:comment-new", args=[proposal.pk]),
        title=proposal.title,
        language=proposal.language,
        back_label=gettext("Back to the proposal"),
    )


def section_place(section: Section) -> Place:
    """The section's place; reads `section.strategy`, loaded with it by the selectors."""
    args = [section.strategy.slug, section.code]
    return Place(
        proposal=None,
        section=section,
        url=reverse("frontend:section-discussion", args=args),
        new_url=reverse("frontend:section-comment-new", args=args),
        title=f"{section.code}. {section.title}",
        language="",
        back_label=gettext("Back to the discussion of the section"),
    )


def _place_of(comment: Comment) -> Place:
    """Where the comment is; comment_find loads its proposal or section with it."""
    if comment.section_id is not None:
        return section_place(comment.section)
    return proposal_place(comment.proposal)


def _open(place: Place) -> bool:
    """Whether its discussion takes comments now, as the service will judge it."""
    if place.section is not None:
        return place.section.strategy.accepts_proposals()
    return place.proposal is not None and place.proposal.status == Proposal.Status.PUBLISHED


# --- the discussion as the proposal page and the section page show it ------------------


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
    closed: bool = False  # a section of a strategy no longer open: no new comments


def _role_label(role: str) -> str:
    # "author" is only ever the author of a proposal: a section has none.
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
    proposal: Proposal | None,
    may: CommentVerdicts,
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
    return _discussion(request, proposal_place(proposal))


def _discussion(request: HttpRequest, place: Place) -> dict[str, Any]:
    user = request.user
    may = CommentVerdicts(user)
    verified = allows(user, "proposals.comment", place.proposal or place.section)
    is_open = _open(place)
    may_comment = verified and is_open
    # Flagging does not wait for the strategy to be open: what is shown may be reported.
    flagged = place.flagged_by(user) if verified else set()
    threads: list[Entry] = []
    by_id: dict[int, Entry] = {}
    count = 0
    signed_in = bool(user.is_authenticated)
    for comment in place.comments:
        entry = _entry(
            comment, place.proposal, may, flagged, actions=signed_in, may_comment=may_comment
        )
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
            entries=threads,
            count=count,
            may_comment=may_comment,
            form=CommentForm(),
            closed=not is_open,
        ),
        "place": place,
        "edit_minutes": settings.CIVIC_COMMENT_EDIT_MINUTES,
    }


def section_discussions(
    request: HttpRequest, strategy: Strategy, tree: list[dict[str, Any]]
) -> None:
    """Give every node of the strategy page's section tree its discussion's visible
    comments (`comments`) and whether this visitor follows it (`followed`): two queries
    for the whole page, one for an anonymous visitor."""
    counts = section_comment_counts(strategy=strategy)
    followed = sections_followed(user=request.user, strategy=strategy)

    def mark(nodes: list[dict[str, Any]]) -> None:
        for node in nodes:
            node["comments"] = counts.get(node["id"], 0)
            node["followed"] = node["id"] in followed
            mark(node["children"])

    mark(tree)


@require_safe
def section_discussion_page(request: HttpRequest, slug: str, code: str) -> HttpResponse:
    """A section's text and its discussion, in a fixed number of queries whatever the
    number of comments; readable while the strategy is public, open for comments only
    while it accepts proposals."""
    section = _section_or_404(slug, code)
    context = _discussion(request, section_place(section))
    return render(
        request,
        SECTION_TEMPLATE,
        {
            **context,
            "section": section,
            "strategy": section.strategy,
            "following_section": follows_section(user=request.user, section=section),
        },
    )


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


def _section_or_404(slug: str, code: str) -> Section:
    section = section_find_public(slug=slug, code=code)
    if section is None:
        raise Http404
    return section


def _comment_or_404(request: HttpRequest, comment_id: int) -> Comment:
    comment = comment_find(user=request.user, comment_id=comment_id)
    if comment is None:
        raise Http404
    return comment


def _shown(request: HttpRequest, comment: Comment, place: Place) -> Entry:
    """The comment a form page is about, shown as the discussion shows it."""
    fresh = place.comments.filter(pk=comment.pk).first() or comment
    return _entry(fresh, place.proposal, CommentVerdicts(request.user), set(), actions=False)


def _to_comment(place: Place, comment: Comment | None = None) -> HttpResponse:
    anchor = f"#comment-{comment.pk}" if comment is not None else "#discussion"
    return redirect(place.url + anchor)


def _write_refusal(request: HttpRequest, place: Place) -> tuple[dict[str, Any], int]:
    """Why the form to write a comment is not offered, and the status; ({}, 200) if it is."""
    if not allows(request.user, "proposals.comment", place.proposal or place.section):
        refusal = gettext("Verify your email address before you do this.")
        return {"refusal": refusal, "refusal_verify": True}, 403
    if not _open(place):
        if place.section is not None:
            return {"refusal": gettext("This strategy is not open for comments.")}, 409
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


def _write_page(request: HttpRequest, place: Place, parent: Comment | None) -> HttpResponse:
    form = CommentForm(request.POST if request.method == "POST" else None)
    if parent is not None:
        form.fields["body"].label = _("Your reply")
    if parent is not None:
        heading = gettext("Reply to a comment")
    elif place.section is not None:
        heading = gettext("Comment on the section")
    else:
        heading = gettext("Comment on the proposal")
    context: dict[str, Any] = {
        "place": place,
        "form": form,
        "entry": _shown(request, parent, place) if parent is not None else None,
        "heading": heading,
        "submit_label": gettext("Publish"),
        "edit_minutes": settings.CIVIC_COMMENT_EDIT_MINUTES,
    }
    if request.method != "POST":
        refusal, status = _write_refusal(request, place)
        return render(request, WRITE_TEMPLATE, {**context, **refusal}, status=status)

    def write(data: dict[str, Any]) -> HttpResponse:
        comment = comment_create(
            proposal=place.proposal,
            section=place.section,
            author=request.user,
            body=data["body"],
            parent=parent,
        )
        messages.success(request, gettext("Your comment is published."))
        return _to_comment(place, comment)

    return _save(request, form, WRITE_TEMPLATE, context, write)


@login_required
def comment_new_page(request: HttpRequest, proposal_id: int) -> HttpResponse:
    proposal = proposal_find_visible(user=request.user, proposal_id=proposal_id)
    if proposal is None:
        raise Http404
    return _write_page(request, proposal_place(proposal), None)


@login_required
def section_comment_new_page(request: HttpRequest, slug: str, code: str) -> HttpResponse:
    return _write_page(request, section_place(_section_or_404(slug, code)), None)


@login_required
def comment_reply_page(request: HttpRequest, comment_id: int) -> HttpResponse:
    parent = _comment_or_404(request, comment_id)
    return _write_page(request, _place_of(parent), parent)


@login_required
def comment_edit_page(request: HttpRequest, comment_id: int) -> HttpResponse:
    comment = _comment_or_404(request, comment_id)
    if not allows(request.user, "proposals.edit_comment", comment):
        # Before anything of the comment is shown: a hidden one's text is its author's.
        raise PermissionDenied
    place = _place_of(comment)
    form = CommentForm(
        request.POST if request.method == "POST" else None, initial={"body": comment.body}
    )
    form.fields["body"].label = _("Your comment")
    context: dict[str, Any] = {
        "place": place,
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
        return _to_comment(place, edited)

    return _save(request, form, WRITE_TEMPLATE, context, write)


@login_required
def comment_delete_page(request: HttpRequest, comment_id: int) -> HttpResponse:
    """A confirmation page, then the deletion: a form, so it works without a script."""
    comment = _comment_or_404(request, comment_id)
    if not allows(request.user, "proposals.delete_comment", comment):
        raise PermissionDenied
    place = _place_of(comment)
    context = {"place": place, "entry": _shown(request, comment, place)}
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
    return _to_comment(place)


@login_required
def comment_flag_page(request: HttpRequest, comment_id: int) -> HttpResponse:
    comment = _comment_or_404(request, comment_id)
    place = _place_of(comment)
    form = FlagForm(request.POST if request.method == "POST" else None)
    context: dict[str, Any] = {
        "place": place,
        "form": form,
        "entry": _shown(request, comment, place),
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
        elif comment.pk in place.flagged_by(request.user):
            refusal, status = gettext("You have already flagged this comment."), 409
        return render(request, FLAG_TEMPLATE, {**context, "refusal": refusal}, status=status)

    def write(data: dict[str, Any]) -> HttpResponse:
        comment_flag(comment=comment, user=request.user, reason=data["reason"])
        messages.success(request, gettext("Thank you. A moderator will look at this comment."))
        return _to_comment(place, comment)

    return _save(request, form, FLAG_TEMPLATE, context, write)
