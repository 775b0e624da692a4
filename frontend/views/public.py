"""Pages anyone may read: home, a strategy, the proposal list, a proposal, the tallies."""

import re
from datetime import datetime
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from civic.accounts.rules import allows
from frontend import charts
from frontend.views.common import (
    Reference,
    cards_for,
    render_filtered,
)
from frontend.views.discussion import discussion_context, section_discussions
from proposals.answers.selectors import outcome_counts, section_links_of
from proposals.filters import ORDERINGS, OVERDUE, RELEVANCE, UNANSWERED, ProposalFilter
from proposals.following.selectors import follows_proposal, follows_strategy
from proposals.labels import section_label
from proposals.models import Answer, Proposal
from proposals.paging import list_count
from proposals.search.selectors import section_search
from proposals.selectors import (
    proposal_get_visible,
    proposal_list,
    reaction_of,
)
from proposals.tallies.selectors import tally_data
from strategy.models import Strategy
from strategy.selectors import (
    section_rows,
    section_tree,
    sections_by_id,
    strategy_get_public,
    strategy_list_public,
)

# The list's filters are the API's: one FilterSet names them (proposals/filters.py).
FILTER_KEYS = tuple(ProposalFilter.base_filters)


def _strategy_or_404(slug: str) -> Strategy:
    strategy = strategy_get_public(slug=slug)
    if strategy is None:
        raise Http404
    return strategy


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    strategies = list(strategy_list_public())
    # Each headline comes from the strategy's tally snapshot, never from counting rows.
    items = [{"strategy": s, "tally": tally_data(slug=s.slug)} for s in strategies]
    return render(request, "frontend/home.html", {"items": items})


def _section_counts(tree: list[dict[str, Any]], own: dict[int, int]) -> None:
    """Give every node the published proposals of itself and its sub-sections."""
    for node in tree:
        _section_counts(node["children"], own)
        node["count"] = own.get(node["id"], 0) + sum(c["count"] for c in node["children"])


@require_safe
def strategy_detail(request: HttpRequest, slug: str) -> HttpResponse:
    strategy = _strategy_or_404(slug)
    tree = section_tree(strategy=strategy)
    tally = tally_data(slug=slug) or {}
    _section_counts(tree, {row["section"]: row["count"] for row in tally.get("by_section", [])})
    section_discussions(request, strategy, tree)
    # The source text breaks its lines mid-sentence: paragraphs are what blank lines part.
    intro = [
        " ".join(line.strip() for line in block.splitlines() if line.strip())
        for block in re.split(r"\n\s*\n", strategy.description.replace("\r\n", "\n"))
        if block.strip()
    ]
    return render(
        request,
        "frontend/strategy/detail.html",
        {
            "strategy": strategy,
            "tree": tree,
            "tally": tally,
            "intro": intro,
            "following_strategy": follows_strategy(user=request.user, strategy=strategy),
        },
    )


def filter_context(
    request: HttpRequest, reference: Reference, *, staff: bool
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The list's filters read from the query string, and what the filter form shows."""
    filters: dict[str, Any] = {}
    for key in FILTER_KEYS:
        if key == "theme":
            values = [v for v in request.GET.getlist(key) if v]
            if values:
                filters[key] = values
        elif request.GET.get(key, "").strip():
            filters[key] = request.GET[key]
    if not staff and filters.get("status") != Proposal.Status.REJECTED:
        # The public sees published proposals, or asks for the publicly rejected ones.
        filters.pop("status", None)
    if filters.get("ordering") == RELEVANCE and not filters.get("q"):
        # The search was cleared and the order left behind: the default order, no error.
        filters.pop("ordering")
    strategies = list(strategy_list_public())
    chosen = next((s for s in strategies if s.slug == filters.get("strategy")), None)
    if chosen is None and len(strategies) == 1:
        chosen = strategies[0]
    form = {
        "values": filters,
        "themes_chosen": filters.get("theme", []),
        "strategies": strategies,
        "sections": _flatten(section_tree(strategy=chosen)) if chosen else [],
        "reference": reference,
        "staff": staff,
        "statuses": Proposal.Status.values,
        "languages": Proposal.Language.values,
        # Relevance only with words to be relevant to, and then it is the default.
        "orderings": [o for o in ORDERINGS if o != RELEVANCE or filters.get("q")],
        "ordering": filters.get("ordering") or (RELEVANCE if filters.get("q") else ORDERINGS[0]),
        "answers": [*Answer.Outcome.values, UNANSWERED, OVERDUE],
        "strategy_slug": chosen.slug if chosen else "",
    }
    return filters, form


def _flatten(tree: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**row, "indent": "\u00a0" * 3 * row["depth"]} for row in section_rows(tree)]


# A search's page lists this many matching sections above the proposals.
SECTIONS_SHOWN = 5


def _outcomes(request: HttpRequest, filters: dict[str, Any]) -> dict[str, int | None]:
    """The answer facet's numbers, counted over the other filters so that each outcome
    shows what choosing it would give. Counting a large set takes a scan of all of it
    (a second at a million proposals): then a whole strategy's numbers come from its
    tally, and any other large set's are left out (None) rather than slow the page."""
    others = {k: v for k, v in filters.items() if k != "answer"}
    queryset = proposal_list(user=request.user, filters=others)
    _, large = list_count(queryset)
    if not large:
        return outcome_counts(queryset=queryset)
    tally = None
    if {k for k in others if k != "ordering"} == {"strategy"}:
        tally = tally_data(slug=others["strategy"])
    if tally is None:
        return dict.fromkeys((*Answer.Outcome.values, UNANSWERED))
    answers = tally["answers"]
    return {**answers["by_outcome"], UNANSWERED: answers["unanswered"]}


def _sections_found(form: dict[str, Any], q: str) -> list[dict[str, Any]]:
    """The first sections of the chosen strategy that hold the words searched for."""
    chosen = next((s for s in form["strategies"] if s.slug == form["strategy_slug"]), None)
    if not q or chosen is None:
        return []
    found = section_search(strategy=chosen, q=q, language=get_language() or "ru")
    return [{**row, "strategy": chosen.slug} for row in found[:SECTIONS_SHOWN]]


@require_safe
def proposal_list_page(request: HttpRequest) -> HttpResponse:
    reference = Reference.load()
    # Staff see every status here, as in the API, so they get the status filter and labels.
    staff = allows(request.user, "proposals.view_every_proposal")
    filters, form = filter_context(request, reference, staff=staff)
    return render_filtered(
        request,
        "frontend/proposals/list.html",
        form,
        reference,
        lambda: proposal_list(user=request.user, filters=filters),
        more=lambda _: {
            "outcomes": _outcomes(request, filters),
            # The strategy's own text answers a search too.
            "sections_found": _sections_found(form, filters.get("q", "")),
        },
        show_status=staff,
        # Campaigns of copies show as such; the public counts only the copies it can see.
        with_groups=True,
        published_groups=not staff,
    )


@require_safe
def proposal_detail(request: HttpRequest, proposal_id: int) -> HttpResponse:
    proposal = proposal_get_visible(user=request.user, proposal_id=proposal_id)
    if proposal is None:
        raise Http404
    reference = Reference.load()
    card = cards_for([proposal], reference)[0]
    mine = reaction_of(user=request.user, proposal=proposal)
    return render(
        request,
        "frontend/proposals/detail.html",
        {
            "card": card,
            "proposal": proposal,
            "my_reaction": mine,
            "section_links": section_links_of(proposal=proposal) if card.answer else [],
            # The button is on published proposals only: no query for the others.
            "following_proposal": proposal.status == Proposal.Status.PUBLISHED
            and follows_proposal(user=request.user, proposal=proposal),
            **discussion_context(request, proposal),
        },
    )


@require_safe
def tallies(request: HttpRequest, slug: str) -> HttpResponse:
    strategy = _strategy_or_404(slug)
    tally = tally_data(slug=slug) or {}
    comments = tally.get("comments")
    reference = Reference.load()
    titles = {
        section.pk: section.title
        for section in sections_by_id(
            row["section"] for row in tally.get("by_section", [])
        ).values()
    }
    return render(
        request,
        "frontend/strategy/tallies.html",
        {
            "strategy": strategy,
            "tally": tally,
            "generated_at": datetime.fromisoformat(tally["generated_at"])
            if tally.get("generated_at")
            else None,
            "charts": charts.tally_charts(tally, reference, titles),
            "answer_breakdowns": _answer_breakdowns(tally.get("answers") or {}, reference),
            # Keyed as the theme and section charts' bars are, for a column beside their
            # tables; None while the snapshot predates comment counts (no column then).
            "comment_counts": {
                "theme": {row["theme"]: row["count"] for row in comments["by_theme"]},
                "section": {row["code"] or "": row["count"] for row in comments["by_section"]},
            }
            if comments
            else None,
        },
    )


def _answer_breakdowns(
    answers: dict[str, Any], reference: Reference
) -> list[tuple[str, list[dict[str, Any]], str]]:
    """The answer tallies by theme, section and district, each row with a readable label."""
    sections = sections_by_id(row["section"] for row in answers.get("by_section", []))

    def labelled(rows: list[dict[str, Any]], label: Any) -> list[dict[str, Any]]:
        return [{**row, "label": label(row)} for row in rows]

    return [
        (
            _("Answers by theme"),
            labelled(
                answers.get("by_theme", []),
                lambda row: getattr(
                    reference.theme_by_slug.get(row["theme"]), "name", row["theme"]
                ),
            ),
            _("Theme"),
        ),
        (
            _("Answers by section"),
            labelled(
                answers.get("by_section", []),
                lambda row: (
                    section_label(sections.get(row["section"]))
                    if row["section"]
                    else _("The whole document")
                ),
            ),
            _("Section"),
        ),
        (
            _("Answers by district"),
            labelled(
                answers.get("by_district", []),
                lambda row: getattr(reference.district_by_slug.get(row["district"]), "name", "—"),
            ),
            _("District"),
        ),
    ]
