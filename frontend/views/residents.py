"""A resident's own pages: submit, follow, edit and withdraw proposals, react to others'."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from civic.accounts.rules import allows
from civic.errors import DomainError, InvalidInput
from civic.text import clean_text
from frontend.forms import ProposalForm, ProposalSubmitForm, ReactionForm
from frontend.throttling import throttle_wait, throttled_page
from frontend.views.common import Reference, add_errors, cards_for, paginate, refusal
from proposals.duplicates.selectors import Similar, near_duplicates_of_text
from proposals.models import BODY_MAX, BODY_MIN, TITLE_MAX, TITLE_MIN, Proposal
from proposals.selectors import (
    proposal_find_visible,
    proposal_list_of_author,
    proposal_visible_to,
)
from proposals.services import (
    may_edit,
    proposal_edit,
    proposal_submit,
    proposal_withdraw,
    reaction_clear,
    reaction_set,
)
from strategy.models import Strategy
from strategy.selectors import section_of_strategy, section_tree, strategy_list_public


def _open_strategies() -> list[Strategy]:
    return [s for s in strategy_list_public() if s.accepts_proposals()]


def _form_objects(data: dict[str, Any], strategy: Strategy, reference: Reference) -> dict[str, Any]:
    """The section, district and themes a valid form names, as objects for the service."""
    section = None
    if data["section"]:
        section = section_of_strategy(strategy=strategy, section_id=int(data["section"]))
    return {
        "section": section,
        "district": reference.district_by_slug.get(data["district"] or ""),
        "themes": [reference.theme_by_slug[slug] for slug in data["themes"]],
    }


@login_required
def proposal_submit_page(request: HttpRequest) -> HttpResponse:
    strategies = _open_strategies()
    if not strategies:
        return render(request, "frontend/proposals/closed.html", status=409)
    slug = request.POST.get("strategy") or request.GET.get("strategy")
    strategy = next((s for s in strategies if s.slug == slug), None if slug else strategies[0])
    if strategy is None:
        # Never file a proposal under another strategy than the one the form named
        # (a page left open while its strategy closed).
        return render(request, "frontend/proposals/closed.html", {"named": slug}, status=400)
    reference = Reference.load()
    tree = section_tree(strategy=strategy)
    initial = {"section": request.GET.get("section", "")}
    if request.user.district_id:
        initial["district"] = next(
            (d.slug for d in reference.districts if d.pk == request.user.district_id), ""
        )
    form = ProposalSubmitForm(
        request.POST or None,
        initial=initial,
        tree=tree,
        districts=reference.districts,
        themes=reference.themes,
    )
    if request.method == "POST" and (wait := throttle_wait(request, "submit")):
        return throttled_page(request, wait)
    if request.method == "POST" and form.is_valid() and form.looks_automated():
        # A script (frontend/bots.py), refused quietly: thanked and sent to the list as
        # a person is, with nothing filed (so no code to name).
        messages.success(request, _("Thank you. Your proposal is waiting for a moderator."))
        return redirect("frontend:my-proposals")
    if request.method == "POST" and form.is_valid():
        _refuse_text(form)
    similar: list[Similar] = []
    if request.method == "POST" and form.is_valid() and not request.POST.get("confirmed_new"):
        # Before filing: published proposals nearly the same as this one. The author may
        # react to one instead, or submit anyway (the form comes back with confirmed_new).
        similar = near_duplicates_of_text(
            strategy=strategy, title=form.cleaned_data["title"], body=form.cleaned_data["body"]
        )
    if request.method == "POST" and form.is_valid() and not similar:
        try:
            proposal = proposal_submit(
                author=request.user,
                strategy=strategy,
                title=form.cleaned_data["title"],
                body=form.cleaned_data["body"],
                **_form_objects(form.cleaned_data, strategy, reference),
            )
        except DomainError as exc:
            add_errors(form, exc)
        else:
            messages.success(
                request,
                _("Thank you. Your proposal %(code)s is waiting for a moderator.")
                % {"code": proposal.code},
            )
            return redirect("frontend:my-proposals")
    return render(
        request,
        "frontend/proposals/form.html",
        {
            "form": form,
            "strategy": strategy,
            "strategies": strategies,
            "editing": None,
            "similar": similar,
        },
        status=400 if form.errors else 200,
    )


def _refuse_text(form: ProposalForm) -> None:
    """Adds the refusals of the title and of the body to `form`, both at once: the service
    stops at the first, and a second submit should not be needed to learn of the other.

    Run before the "already proposed" step, so that a text the service will refuse gets
    that refusal first."""
    data = dict(form.cleaned_data)
    limits = {"title": (TITLE_MIN, TITLE_MAX), "body": (BODY_MIN, BODY_MAX)}
    for field, (low, high) in limits.items():
        try:
            clean_text(data[field], field=field, min_length=low, max_length=high)
        except InvalidInput as exc:
            add_errors(form, exc)


def _proposal_for(request: HttpRequest, proposal_id: int, perm: str) -> Proposal:
    """The proposal, if the visitor may see it (else 404) and the rule `perm` lets them
    act on it (else 403), as the API answers."""
    proposal = proposal_find_visible(user=request.user, proposal_id=proposal_id)
    if proposal is None:
        raise Http404
    if not allows(request.user, perm, proposal):
        raise PermissionDenied
    return proposal


@login_required
def proposal_edit_page(request: HttpRequest, proposal_id: int) -> HttpResponse:
    proposal = _proposal_for(request, proposal_id, "proposals.edit_proposal")
    if not may_edit(proposal):
        messages.error(
            request, _("A proposal can be edited only when a moderator asks for changes.")
        )
        return redirect("frontend:my-proposals")
    strategy = proposal.strategy
    reference = Reference.load()
    initial = {
        "section": str(proposal.section_id or ""),
        "title": proposal.title,
        "body": proposal.body,
        "district": proposal.district.slug if proposal.district_id else "",
        "themes": list(proposal.themes.values_list("slug", flat=True)),
    }
    form = ProposalForm(
        request.POST or None,
        initial=initial,
        tree=section_tree(strategy=strategy),
        districts=reference.districts,
        themes=reference.themes,
    )
    if request.method == "POST" and form.is_valid():
        _refuse_text(form)
    if request.method == "POST" and form.is_valid():
        try:
            proposal_edit(
                proposal=proposal,
                actor=request.user,
                title=form.cleaned_data["title"],
                body=form.cleaned_data["body"],
                **_form_objects(form.cleaned_data, strategy, reference),
            )
        except DomainError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, _("Saved. Your proposal is back in the moderators' queue."))
            return redirect("frontend:my-proposals")
    return render(
        request,
        "frontend/proposals/form.html",
        {"form": form, "strategy": strategy, "editing": proposal},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def proposal_withdraw_page(request: HttpRequest, proposal_id: int) -> HttpResponse:
    proposal = _proposal_for(request, proposal_id, "proposals.withdraw_proposal")
    try:
        proposal_withdraw(proposal=proposal, actor=request.user)
    except DomainError as exc:
        messages.error(request, refusal(exc))
    else:
        messages.success(
            request, _("Your proposal %(code)s is withdrawn.") % {"code": proposal.code}
        )
    return redirect("frontend:my-proposals")


@login_required
def my_proposals(request: HttpRequest) -> HttpResponse:
    reference = Reference.load()
    page = paginate(request, proposal_list_of_author(user=request.user))
    # Originals of the author's duplicates, linked only where the author may see them.
    originals = {p.duplicate_of_id for p in page.object_list if p.duplicate_of_id}
    if originals:
        originals = set(
            proposal_visible_to(request.user).filter(pk__in=originals).values_list("pk", flat=True)
        )
    return render(
        request,
        "frontend/proposals/mine.html",
        {
            "page": page,
            "cards": cards_for(list(page.object_list), reference),
            "visible_originals": originals,
        },
    )


@login_required
@require_POST
def reaction_page(request: HttpRequest, proposal_id: int) -> HttpResponse:
    """Set a reaction, or clear it with an empty `kind`; then back to the proposal."""
    if not allows(request.user, "proposals.react"):
        # Refused before the proposal is looked up, as the API refuses an unverified
        # resident; the page offers no buttons to them anyway.
        raise PermissionDenied
    proposal = proposal_find_visible(user=request.user, proposal_id=proposal_id)
    if proposal is None:
        raise Http404
    if wait := throttle_wait(request, "react"):
        return throttled_page(request, wait)
    form = ReactionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose one of the five reactions."))
        return redirect("frontend:proposal", proposal_id=proposal.pk)
    try:
        if form.cleaned_data["kind"]:
            reaction_set(proposal=proposal, user=request.user, kind=form.cleaned_data["kind"])
        else:
            reaction_clear(proposal=proposal, user=request.user)
    except DomainError as exc:
        messages.error(request, refusal(exc))
    return redirect(reverse("frontend:proposal", args=[proposal.pk]) + "#reactions-title")
