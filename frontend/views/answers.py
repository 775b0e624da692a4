"""The responders' pages: what awaits the city's answer, and the answer to one proposal."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from civic.errors import DomainError, StateConflict
from frontend.forms import AnswerForm
from frontend.templatetags.civic import outcome_label
from frontend.views.common import (
    Reference,
    add_errors,
    cards_for,
    permission_required,
    refusal,
    render_filtered,
)
from frontend.views.public import filter_context
from proposals.answers.selectors import STATES, answer_history, answer_queue, answer_state_counts
from proposals.answers.services import answer_save, answer_save_many
from proposals.duplicates.selectors import near_duplicates_of_proposal
from proposals.models import Proposal
from proposals.selectors import proposal_get_visible, proposals_by_ids


@permission_required("proposals.answer")
def queue(request: HttpRequest) -> HttpResponse:
    reference = Reference.load()
    filters, form = filter_context(request, reference, staff=False)
    form["queue"] = True
    form.pop("answers", None)
    state = request.GET.get("state", "awaiting")
    if state not in STATES:
        state = "awaiting"
    return render_filtered(
        request,
        "frontend/answers/queue.html",
        form,
        reference,
        lambda: answer_queue(user=request.user, filters=filters, state=state),
        more=lambda queryset: {
            "counts": answer_state_counts(
                queryset=answer_queue(user=request.user, filters=filters, state="all")
            )
        },
        with_groups=True,
        state=state,
        states=STATES,
    )


@permission_required("proposals.answer")
def answer_page(request: HttpRequest, proposal_id: int) -> HttpResponse:
    proposal = proposal_get_visible(user=request.user, proposal_id=proposal_id)
    if proposal is None or proposal.status != Proposal.Status.PUBLISHED:
        return _not_answerable(request, proposal_id)
    reference = Reference.load()
    card = cards_for([proposal], reference)[0]
    current = getattr(proposal, "answer", None)
    # Published members of its near-duplicate group may take the same answer at once.
    group = [
        item.proposal
        for item in near_duplicates_of_proposal(user=request.user, proposal=proposal)
        if item.proposal.status == Proposal.Status.PUBLISHED
    ]
    form = AnswerForm(
        request.POST or None,
        initial={
            "outcome": current.outcome if current else None,
            "text": current.text if current else "",
            "publish": current.published if current else proposal.strategy.publish_answers,
            "expected_outcome": current.outcome if current else "",
        },
        group=[(str(p.pk), f"{p.code} · {p.title}") for p in group],
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        members = proposals_by_ids(user=request.user, ids=[int(pk) for pk in data["group"]])
        try:
            answer_save(
                proposal=proposal,
                responder=request.user,
                outcome=data["outcome"],
                text=data["text"],
                publish=data["publish"],
                expected_outcome=data["expected_outcome"],
            )
            result = answer_save_many(
                proposals=members,
                responder=request.user,
                outcome=data["outcome"],
                text=data["text"],
                publish=data["publish"],
            )
            for skipped, refused in result.skipped:
                messages.warning(request, f"{skipped.code}: {refusal(refused)}")
        except DomainError as exc:
            if exc.code == "answer_changed":
                messages.error(
                    request,
                    _(
                        "Someone changed the answer to %(code)s while you were writing. "
                        "It is now: %(outcome)s. Nothing was changed by you."
                    )
                    % {"code": proposal.code, "outcome": outcome_label(exc.params["outcome"])},
                )
                return redirect("frontend:answer", proposal_id=proposal.pk)
            add_errors(form, exc)
            status = 409 if exc.code == "not_published" else 400
            if exc.code == "not_published":
                messages.error(request, refusal(exc))
        else:
            messages.success(
                request,
                _("Answer saved for %(code)s.") % {"code": proposal.code}
                if not result.answered
                else _("Answer saved for %(code)s and %(n)d nearly identical proposals.")
                % {"code": proposal.code, "n": len(result.answered)},
            )
            return redirect("frontend:answers")
    elif form.errors:
        status = 400
    return render(
        request,
        "frontend/answers/answer.html",
        {
            "proposal": proposal,
            "card": card,
            "answer": current,
            "form": form,
            "group": group,
            "history": list(answer_history(proposal=proposal)),
        },
        status=status,
    )


def _not_answerable(request: HttpRequest, proposal_id: int) -> HttpResponse:
    """As the API answers whoever may answer: an unpublished proposal is a conflict that
    names its status (not a 404), and its text stays unshown to those who may not read it."""
    status = Proposal.objects.filter(pk=proposal_id).values_list("status", flat=True).first()
    if status is None:
        raise Http404
    refused = StateConflict(
        gettext_noop("Only published proposals can be answered; this one is %(status)s."),
        code="not_published",
        params={"status": status},
    )
    messages.error(request, refusal(refused))
    return redirect("frontend:answers")
