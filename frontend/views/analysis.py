"""The analysts' workspace: every filter, the counts of what it matches, the matching list."""

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

from civic.accounts import roles
from frontend import charts, labels
from frontend.views.common import (
    Reference,
    permission_required,
    render_filtered,
)
from frontend.views.public import filter_context
from proposals.models import Proposal
from proposals.selectors import proposal_counts, proposal_list
from strategy.selectors import sections_by_id


@permission_required(roles.VIEW_ALL)
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
    from django.utils.translation import gettext as _

    section_ids = [pk for pk in counts["section"] if pk]
    sections = sections_by_id(section_ids)
    by_section = sorted(
        counts["section"].items(),
        key=lambda item: (
            [int(p) for p in sections[item[0]].code.split(".") if p.isdigit()]
            if item[0] in sections
            else []
        ),
    )
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
                    (
                        str(pk or ""),
                        f"{sections[pk].code}. {sections[pk].title}"
                        if pk in sections
                        else _("The whole document"),
                        n,
                    )
                    for pk, n in by_section
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
