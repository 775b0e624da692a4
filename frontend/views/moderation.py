"""The moderators' pages: the queue, one proposal's decision, decisions in bulk, the history."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from civic.errors import DomainError, InvalidInput
from frontend.forms import BulkDecisionForm, DecisionForm
from frontend.templatetags.civic import status_label
from frontend.views.common import (
    PAGE_SIZE,
    Reference,
    add_errors,
    cards_for,
    error_messages,
    paginate,
    permission_required,
    refusal,
    render_filtered,
)
from frontend.views.public import filter_context
from proposals.duplicates.selectors import near_duplicates_of_proposal
from proposals.models import Proposal
from proposals.selectors import (
    decision_history,
    moderation_queue,
    originals_by_words,
    proposal_find_by_code,
    proposal_get_visible,
    proposal_history,
    proposals_by_ids,
)
from proposals.services import decisions_allowed, proposal_moderate


@permission_required("proposals.moderate")
def queue(request: HttpRequest) -> HttpResponse:
    reference = Reference.load()
    filters, form = filter_context(request, reference, staff=False)
    form["queue"] = True
    return render_filtered(
        request,
        "frontend/moderation/queue.html",
        form,
        reference,
        lambda: moderation_queue(user=request.user, filters=filters),
        with_groups=True,
        bulk_form=BulkDecisionForm(),
    )


@permission_required("proposals.moderate")
def decide(request: HttpRequest, proposal_id: int) -> HttpResponse:
    proposal = proposal_get_visible(user=request.user, proposal_id=proposal_id)
    if proposal is None:
        raise Http404
    reference = Reference.load()
    # The author's themes, and what the suggester is fairly sure of, ticked already.
    chosen_themes = [t.slug for t in proposal.themes.all()] + [
        theme["slug"]
        for theme in proposal.suggested_themes
        if theme["score"] >= SUGGESTION_PREFILL and proposal.suggestion_version
    ]
    # The rest of the suggestions: offered as one-click additions, not ticked.
    weaker = [
        theme["slug"]
        for theme in proposal.suggested_themes
        if proposal.suggestion_version and theme["slug"] not in chosen_themes
    ]
    card = cards_for([proposal], reference)[0]
    # The choices the moderator was offered: those of the status they saw, so that a
    # decision someone else took meanwhile reaches the service and reads as a conflict.
    seen = request.POST.get("expected_status") or proposal.status
    initial = {"themes": chosen_themes, "expected_status": proposal.status}
    if request.GET.get("dup_q", "").strip() and "reject" in decisions_allowed(seen):
        # Searching for the original means rejecting this one as its duplicate.
        initial.update(decision="reject", reason="duplicate")
    form = DecisionForm(
        request.POST or None,
        initial=initial,
        themes=reference.themes,
        decisions=decisions_allowed(seen),
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            duplicate_of = _proposal_by_code(request, data["duplicate_of"])
            proposal_moderate(
                proposal=proposal,
                moderator=request.user,
                decision=data["decision"],
                reason=data["reason"],
                note=data["note"],
                themes=[reference.theme_by_slug[slug] for slug in data["themes"]],
                duplicate_of=duplicate_of,
                expected_status=data["expected_status"] or None,
                # Unticked is "not chosen": the reason decides, except for `other`.
                public=True if data["public"] else None,
                note_public=data["note_public"],
            )
        except DomainError as exc:
            if exc.code == "status_changed":
                # Said plainly, with the proposal as it is now, and no second try by accident.
                messages.error(
                    request,
                    _(
                        "Another moderator decided on %(code)s while you were reading it. "
                        "It is now: %(status)s. Nothing was changed by you."
                    )
                    % {"code": proposal.code, "status": status_label(exc.params["status"])},
                )
                return redirect("frontend:moderation-decide", proposal_id=proposal.pk)
            add_errors(form, exc)
            status = 409 if exc.code in ("invalid_transition",) else 400
        else:
            messages.success(request, _("Decision saved for %(code)s.") % {"code": proposal.code})
            return redirect("frontend:moderation-queue")
    elif form.errors:
        status = 400
    dup_query = request.GET.get("dup_q", "")
    try:
        candidates = originals_by_words(user=request.user, proposal=proposal, q=dup_query)
        dup_error = ""
    except InvalidInput as exc:
        messages_ = [m for found in error_messages(exc).values() for m in found]
        candidates, dup_error, status = [], " ".join(messages_), 400
    return render(
        request,
        "frontend/moderation/decide.html",
        {
            "proposal": proposal,
            "card": card,
            "form": form,
            "history": list(proposal_history(proposal=proposal)),
            "dup_query": dup_query,
            "theme_additions": [
                {"id": f"id_themes_{index}", "name": name}
                for index, (slug, name) in enumerate(form.fields["themes"].choices)
                if slug in weaker
            ],
            "candidates": candidates,
            "dup_error": dup_error,
            "near_duplicates": near_duplicates_of_proposal(user=request.user, proposal=proposal),
        },
        status=status,
    )


SUGGESTION_PREFILL = 0.6


def _proposal_by_code(request: HttpRequest, code: str) -> Proposal | None:
    code = code.strip()
    if not code:
        return None
    match = proposal_find_by_code(user=request.user, code=code)
    if match is None:
        raise InvalidInput(
            _("No proposal has the code %(code)s.") % {"code": code}, field="duplicate_of"
        )
    return match


@permission_required("proposals.moderate")
@require_POST
def bulk(request: HttpRequest) -> HttpResponse:
    """One decision for many pending proposals; each is decided on its own, and a
    proposal someone else decided meanwhile is reported, not overwritten."""
    form = BulkDecisionForm(request.POST)
    ids = [int(v) for v in request.POST.getlist("proposals") if v.isdigit()][:100]
    if not ids:
        messages.error(request, _("Tick at least one proposal."))
        return redirect("frontend:moderation-queue")
    if not form.is_valid():
        messages.error(request, _("Choose a decision for the selected proposals."))
        return redirect("frontend:moderation-queue")
    data = form.cleaned_data
    picked = proposals_by_ids(user=request.user, ids=ids)
    if data["decision"] == "approve" and not request.POST.get("confirm_copies"):
        copies = _copies_of_published(request, picked)
        if copies:
            return _confirm_copies(request, form, ids, copies)
    done: list[str] = []
    failed: list[str] = []
    for proposal in picked:
        try:
            proposal_moderate(
                proposal=proposal,
                moderator=request.user,
                decision=data["decision"],
                reason=data["reason"],
                note=data["note"],
                expected_status=Proposal.Status.PENDING,
            )
        except DomainError as exc:
            failed.append(f"{proposal.code}: {refusal(exc)}")
            # One message is enough when the form itself is wrong for every proposal.
            if isinstance(exc, InvalidInput):
                break
        else:
            done.append(proposal.code)
    if done:
        messages.success(
            request,
            _("Decision saved for %(count)d proposals: %(codes)s.")
            % {"count": len(done), "codes": ", ".join(done)},
        )
    for line in failed:
        messages.error(request, line)
    return redirect("frontend:moderation-queue")


COPY_SIMILARITY = 0.9


def _copies_of_published(request: HttpRequest, picked: list[Proposal]) -> list[dict]:
    """The picked pending proposals that are nearly exact copies of a published one."""
    copies = []
    for proposal in picked:
        if proposal.status != Proposal.Status.PENDING:
            continue
        originals = [
            item.proposal
            for item in near_duplicates_of_proposal(user=request.user, proposal=proposal)
            if item.similarity >= COPY_SIMILARITY
            and item.proposal.status == Proposal.Status.PUBLISHED
        ]
        if originals:
            copies.append({"proposal": proposal, "originals": originals})
    return copies


def _confirm_copies(
    request: HttpRequest, form: BulkDecisionForm, ids: list[int], copies: list[dict]
) -> HttpResponse:
    """The queue again, the same proposals ticked, with the copies named and a box to confirm."""
    reference = Reference.load()
    _, filters_form = filter_context(request, reference, staff=False)
    filters_form["queue"] = True
    select = lambda: moderation_queue(user=request.user).filter(pk__in=ids)  # noqa: E731
    on_page = set(select().values_list("pk", flat=True)[:PAGE_SIZE])
    return render_filtered(
        request,
        "frontend/moderation/queue.html",
        filters_form,
        reference,
        select,
        with_groups=True,
        bulk_form=form,
        picked=set(ids),
        picked_elsewhere=[pk for pk in ids if pk not in on_page],
        copies=copies,
    )


@permission_required("proposals.view_history")
def history(request: HttpRequest) -> HttpResponse:
    page = paginate(request, decision_history(), per_page=50)
    return render(request, "frontend/moderation/history.html", {"page": page})
