"""The public summary table of a strategy, and its files to download."""

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.http import require_safe

from civic.errors import InvalidInput
from frontend.views.common import Reference, error_messages, paginate, query_without_page
from proposals.summary.apis import summary_file_response
from proposals.summary.labels import OUTCOME, describe
from proposals.summary.selectors import (
    REJECTED,
    UNANSWERED,
    summary_counts,
    summary_row,
    summary_rows,
)
from proposals.summary.services import (
    FORMATS,
    summary_file_request,
    summary_is_current,
)
from strategy.models import Strategy
from strategy.selectors import sections_by_id, strategy_get_public

# A table row is one line: more of them fit a page than cards do.
PAGE_SIZE = 50


def _strategy_or_404(slug: str) -> Strategy:
    strategy = strategy_get_public(slug=slug)
    if strategy is None:
        raise Http404
    return strategy


def _filters(counts: dict[str, int]) -> list[dict[str, Any]]:
    """The outcome filter's choices, each with its count; "" is every row."""
    labels: dict[str, Any] = {
        "": translation.gettext("All"),
        **OUTCOME,
        UNANSWERED: translation.gettext("Awaiting the city's answer"),
        REJECTED: translation.gettext("Rejected"),
    }
    return [
        {"value": value, "label": label, "count": counts[value or "total"]}
        for value, label in labels.items()
    ]


def _groups(proposals: list[Any], reference: Reference) -> list[dict[str, Any]]:
    """The page's rows in runs of one section each, as the table shows them."""
    sections = sections_by_id(p.section_id for p in proposals)
    groups: list[dict[str, Any]] = []
    for proposal in proposals:
        row = summary_row(proposal)
        if not groups or groups[-1]["section_id"] != proposal.section_id:
            groups.append(
                {
                    "section_id": proposal.section_id,
                    "section": sections.get(proposal.section_id),
                    "rows": [],
                }
            )
        district = reference.district_by_slug.get(row["district"] or "")
        groups[-1]["rows"].append(
            {
                **row,
                "id": proposal.pk,
                "district_name": district.name if district else "",
                "theme_names": [
                    reference.theme_by_slug[slug].name
                    for slug in row["themes"]
                    if slug in reference.theme_by_slug
                ],
                "outcome_label": describe(row),
            }
        )
    return groups


@require_safe
def summary_table(request: HttpRequest, slug: str) -> HttpResponse:
    strategy = _strategy_or_404(slug)
    outcome = request.GET.get("outcome", "")
    counts = summary_counts(strategy=strategy)
    context: dict[str, Any] = {
        "strategy": strategy,
        "outcome": outcome,
        "filters": _filters(counts),
        "formats": FORMATS,
    }
    try:
        queryset = summary_rows(strategy=strategy, outcome=outcome or None)
    except InvalidInput as exc:
        context["filter_errors"] = error_messages(exc)
        return render(request, "frontend/summary/table.html", context, status=400)
    page = paginate(request, queryset, per_page=PAGE_SIZE)
    reference = Reference.load()
    context.update(
        page=page,
        groups=_groups(list(page.object_list), reference),
        query=query_without_page(request),
    )
    return render(request, "frontend/summary/table.html", context)


@require_safe
def summary_download(request: HttpRequest, slug: str, format: str) -> HttpResponse:
    """The file if a current one is built; else a page that waits for it, reloading.

    Without a broker the build runs when the request commits, so the first visit
    usually gets the file itself.
    """
    strategy = _strategy_or_404(slug)
    if format not in FORMATS:
        raise Http404
    # The page's language; the service falls back to Russian for any other.
    language = (translation.get_language() or "ru")[:2]
    summary = summary_file_request(strategy=strategy, format=format, language=language)
    summary.refresh_from_db()
    if summary_is_current(summary):
        return summary_file_response(summary, strategy)
    response = render(
        request,
        "frontend/summary/download.html",
        {"strategy": strategy, "summary": summary, "format": format},
    )
    # The wait is this moment's: a reload must ask again, never see a kept copy.
    response["Cache-Control"] = "no-store"
    return response
