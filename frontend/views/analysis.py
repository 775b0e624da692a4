"""The analysts' workspace: every filter, the counts of what it matches, the matching list."""

from typing import Any

from django.contrib import messages
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from civic.accounts.rules import allows
from civic.errors import DomainError
from frontend import charts, labels
from frontend.throttling import throttle_wait, throttled_page
from frontend.views.common import (
    Reference,
    error_messages,
    paginate,
    permission_required,
    query_without_page,
    render_filtered,
)
from frontend.views.public import FILTER_KEYS, filter_context
from proposals.apis import report_file_response
from proposals.duplicates.selectors import (
    duplicate_group_labels,
    duplicate_groups,
    parse_min_size,
)
from proposals.labels import section_label
from proposals.models import Proposal, Report
from proposals.reports.services import filters_readable, report_list_of, report_order
from proposals.selectors import proposal_counts, proposal_list
from strategy.models import Strategy
from strategy.selectors import sections_in_order


@permission_required("proposals.view_every_proposal")
def workspace(request: HttpRequest) -> HttpResponse:
    reference = Reference.load()
    filters, form = filter_context(request, reference, staff=True)

    def counts(queryset: QuerySet[Proposal]) -> dict[str, Any]:
        by = proposal_counts(queryset=queryset)
        return {"counts": _count_charts(by, reference), "total": sum(by["status"].values())}

    return render_filtered(
        request,
        "frontend/analysis/workspace.html",
        form,
        reference,
        lambda: proposal_list(user=request.user, filters=filters),
        more=counts,
    )


def _count_charts(counts: dict[str, dict[Any, int]], reference: Reference) -> list[charts.Chart]:
    by_section = sections_in_order(counts["section"])
    return [
        charts.Chart(
            "status",
            _("By status"),
            charts.bars(
                [
                    (status, str(label), counts["status"].get(status, 0))
                    for status, label in labels.STATUS.items()
                ]
            ),
        ),
        charts.Chart(
            "theme",
            _("By theme"),
            charts.bars(
                [(t.slug, t.name, counts["theme"].get(t.slug, 0)) for t in reference.themes]
            ),
        ),
        charts.Chart(
            "section",
            _("By section"),
            charts.bars(
                [
                    (section.code if section else "", section_label(section), n)
                    for section, n in by_section
                ]
            ),
        ),
        charts.Chart(
            "district",
            _("By district"),
            charts.bars(
                [(d.slug, d.name, counts["district"].get(d.slug, 0)) for d in reference.districts]
                + (
                    [("", _("District not specified"), counts["district"][None])]
                    if counts["district"].get(None)
                    else []
                )
            ),
        ),
    ]


@permission_required("proposals.order_reports")
@require_POST
def report_order_page(request: HttpRequest) -> HttpResponse:
    """Order a report of what the workspace shows: its filters come with the form."""
    if wait := throttle_wait(request, "report"):
        return throttled_page(request, wait)
    filters: dict[str, Any] = {}
    for key in FILTER_KEYS:
        if key in ("strategy", "ordering"):
            continue
        values = [v for v in request.POST.getlist(key) if v]
        if values:
            filters[key] = values if key == "theme" else values[0]
    try:
        report = report_order(
            user=request.user,
            strategy_slug=request.POST.get("strategy", ""),
            format=request.POST.get("format", ""),
            filters=filters,
            language=request.LANGUAGE_CODE,
        )
    except DomainError as exc:
        for messages_ in error_messages(exc).values():
            for message in messages_:
                messages.error(request, message)
        return redirect("frontend:reports")
    messages.success(
        request, _("Report %(id)s is ordered; it will appear here when ready.") % {"id": report.pk}
    )
    return redirect("frontend:reports")


@permission_required("proposals.order_reports")
@require_safe
def reports(request: HttpRequest) -> HttpResponse:
    page = paginate(request, report_list_of(user=request.user))
    for report in page:
        report.readable_filters = filters_readable(report.filters)
    waiting = any(r.status in (Report.Status.QUEUED, Report.Status.RUNNING) for r in page)
    return render(request, "frontend/analysis/reports.html", {"page": page, "refresh": waiting})


@permission_required("proposals.order_reports")
@require_safe
def report_download_page(request: HttpRequest, report_id: int) -> HttpResponse:
    """The file of a finished report; a page in the visitor's language saying it is gone
    (410) when it was removed after its retention period or is missing from MEDIA_ROOT."""
    report = Report.objects.select_related("strategy").filter(pk=report_id).first()
    if report is None or not allows(request.user, "proposals.read_report", report):
        # Someone else's report is not found rather than forbidden, as in the API.
        raise Http404
    if report.expired_at is None and (report.status != Report.Status.DONE or not report.file):
        # Nothing to download yet (or the build failed): the list says where it stands.
        return redirect("frontend:reports")
    response = report_file_response(report) if report.expired_at is None else None
    if response is not None:
        return response
    reason = (
        _("Removed after the retention period")
        if report.expired_at is not None
        else _("The file is no longer on the server.")
    )
    return render(
        request,
        "frontend/analysis/report_gone.html",
        {"report": report, "reason": reason},
        status=410,
    )


@permission_required("proposals.view_near_duplicates")
@require_safe
def duplicate_groups_page(request: HttpRequest) -> HttpResponse:
    """The groups of nearly identical proposals of a strategy, largest first: a campaign of
    one text sent by many residents shows as one group with its size."""
    # Staff see draft strategies too, as in the API.
    strategies = list(Strategy.objects.order_by("-opens_at", "slug"))
    slug = request.GET.get("strategy")
    if slug:
        strategy = next((s for s in strategies if s.slug == slug), None)
    else:
        strategy = next(
            (s for s in strategies if s.status != Strategy.Status.DRAFT),
            strategies[0] if strategies else None,
        )
    raw_size = request.GET.get("min_size", "2")
    min_size = parse_min_size(raw_size)
    error = ""
    if slug and strategy is None:
        error = _("No strategy has the address %(slug)s.") % {"slug": slug}
    elif min_size is None:
        error = _("The smallest group size is a whole number from 2 to 1,000,000.")
    context: dict[str, Any] = {
        "strategies": strategies,
        "strategy": strategy,
        "min_size": raw_size,
        "error": error,
    }
    if error or strategy is None or min_size is None:
        return render(
            request, "frontend/analysis/duplicates.html", context, status=400 if error else 200
        )
    page = paginate(
        request,
        duplicate_group_labels(strategy=strategy, min_size=min_size),
        per_page=20,
    )
    context["page"] = page
    context["groups"] = duplicate_groups(strategy=strategy, labels=list(page.object_list))
    context["query"] = query_without_page(request)
    return render(request, "frontend/analysis/duplicates.html", context)
