"""Reads for the summary table: the rows the public sees, in document order.

A row is a published proposal or a publicly rejected one. The city's answer reaches a
row only once it is published and only on a published proposal: a draft answer is the
responder's work in progress, and a rejected proposal has no answer to show.

Document order is the section's position in the document (proposals on the whole
document first), then the proposal's code. Codes carry the row id (`ALT-000123`), so
the id orders them: a string sort would put `ALT-1000000` before `ALT-999999`.
"""

from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from django.db.models import (
    Case,
    CharField,
    Count,
    DateTimeField,
    F,
    IntegerField,
    Prefetch,
    Q,
    QuerySet,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_noop

from civic.errors import InvalidInput
from proposals.models import Answer, Proposal
from proposals.selectors import PUBLICLY_REJECTED
from strategy.models import Strategy, Theme

# The row's fields, in the contract's order and then the two this table adds (a reader
# must tell "rejected as a duplicate" from "awaiting an answer"). The CSV header and the
# header row of the XLSX sheet.
COLUMNS = (
    "code",
    "title",
    "section_code",
    "district",
    "themes",
    "outcome",
    "answer_text",
    "answered_at",
    "status",
    "rejection_reason",
)
UNANSWERED = "unanswered"
REJECTED = "rejected"
# What the public page filters the table by: an outcome, no answer yet, or rejected.
OUTCOME_FILTERS = (*Answer.Outcome.values, UNANSWERED, REJECTED)
CHUNK = 2000

Row = dict[str, Any]

_PUBLIC_ANSWER = Q(status=Proposal.Status.PUBLISHED, answer__published=True)


def _public_answer(field: str, output: Any) -> Case:
    return Case(
        When(_PUBLIC_ANSWER, then=F(f"answer__{field}")),
        default=Value(None),
        output_field=output,
    )


def _base(strategy: Strategy | int) -> QuerySet[Proposal]:
    """The table's proposals with the row's values as annotations, in document order.

    The answer's values pass through a condition in the query itself, so no code path
    (a page, a file, a future field) can show a draft by forgetting to check.
    """
    return (
        Proposal.objects.filter(strategy=strategy)
        .filter(Q(status=Proposal.Status.PUBLISHED) | PUBLICLY_REJECTED)
        .annotate(
            place=Coalesce(F("section__position"), Value(-1), output_field=IntegerField()),
            section_code=F("section__code"),
            district_slug=F("district__slug"),
            outcome=_public_answer("outcome", CharField()),
            answer_text=_public_answer("text", TextField()),
            answered_at=_public_answer("answered_at", DateTimeField()),
            rejection_reason=Case(
                When(status=Proposal.Status.REJECTED, then=F("latest_decision__reason")),
                default=Value(None),
                output_field=CharField(),
            ),
        )
        .order_by("place", "pk")
    )


def _filtered(queryset: QuerySet[Proposal], outcome: str | None) -> QuerySet[Proposal]:
    if not outcome:
        return queryset
    if outcome not in OUTCOME_FILTERS:
        raise InvalidInput(
            gettext_noop("Unknown outcome %(outcome)r: %(choices)s."),
            field="outcome",
            params={"outcome": outcome, "choices": ", ".join(OUTCOME_FILTERS)},
        )
    if outcome == UNANSWERED:
        return queryset.filter(status=Proposal.Status.PUBLISHED, outcome__isnull=True)
    if outcome == REJECTED:
        return queryset.filter(status=Proposal.Status.REJECTED)
    return queryset.filter(outcome=outcome)


def summary_rows(*, strategy: Strategy | int, outcome: str | None = None) -> QuerySet[Proposal]:
    """The table's rows as proposals (two queries a page: the rows and their themes).

    `outcome` narrows it to one outcome, `unanswered` or `rejected` (InvalidInput on
    anything else). Each proposal carries the row's values as attributes; `summary_row`
    makes the public shape of one.
    """
    queryset = (
        _base(strategy)
        .only("id", "code", "title", "status", "section")
        .prefetch_related(
            Prefetch("themes", queryset=Theme.objects.order_by("slug").only("id", "slug"))
        )
    )
    return _filtered(queryset, outcome)


def summary_row(proposal: Proposal) -> Row:
    """The public row of a proposal read through `summary_rows`."""
    return {
        "code": proposal.code,
        "title": proposal.title,
        "section_code": proposal.section_code,
        "district": proposal.district_slug,
        "themes": sorted(theme.slug for theme in proposal.themes.all()),
        "outcome": proposal.outcome,
        "answer_text": proposal.answer_text,
        "answered_at": proposal.answered_at,
        "status": proposal.status,
        "rejection_reason": proposal.rejection_reason or None,
    }


def summary_counts(*, strategy: Strategy | int) -> dict[str, int]:
    """How many rows have each outcome, no answer yet (`unanswered`) or were rejected
    (`rejected`), and `total`: one query."""
    counts = dict.fromkeys(Answer.Outcome.values, 0) | {UNANSWERED: 0, REJECTED: 0}
    grouped = _base(strategy).order_by().values_list("status", "outcome").annotate(n=Count("pk"))
    for status, outcome, n in grouped:
        if status == Proposal.Status.REJECTED:
            counts[REJECTED] += n
        else:
            counts[outcome or UNANSWERED] += n
    counts["total"] = sum(counts.values())
    return counts


_VALUES = (
    "pk",
    "place",
    "code",
    "title",
    "status",
    "section_id",
    "section_code",
    "district_slug",
    "outcome",
    "answer_text",
    "answered_at",
    "rejection_reason",
)


def summary_row_chunks(*, strategy: Strategy | int, chunk: int = CHUNK) -> Iterator[list[Row]]:
    """The whole table in chunks of public rows, for the files: constant memory.

    Read in keyset order (the next rows after the last one's place and id, LIMIT n),
    each chunk with one more query for its themes, so no cursor stays open across a
    build that writes its progress between chunks. Rows also carry `id` and
    `section_id`, which the HTML file uses and the CSV and XLSX leave out.
    """
    base = _base(strategy)
    after: tuple[int, int] | None = None
    while True:
        queryset = base
        if after is not None:
            place, pk = after
            queryset = base.filter(Q(place__gt=place) | Q(place=place, pk__gt=pk))
        rows = list(queryset.values(*_VALUES)[:chunk])
        if not rows:
            return
        after = (rows[-1]["place"], rows[-1]["pk"])
        themes: dict[int, list[str]] = defaultdict(list)
        for proposal_id, slug in (
            Proposal.themes.through.objects.filter(proposal_id__in=[row["pk"] for row in rows])
            .order_by("proposal_id", "theme__slug")
            .values_list("proposal_id", "theme__slug")
        ):
            themes[proposal_id].append(slug)
        yield [_public(row, themes.get(row["pk"], [])) for row in rows]


def _public(row: Row, themes: list[str]) -> Row:
    answered_at: datetime | None = row["answered_at"]
    return {
        "id": row["pk"],
        "section_id": row["section_id"],
        "code": row["code"],
        "title": row["title"],
        "section_code": row["section_code"],
        "district": row["district_slug"],
        "themes": themes,
        "outcome": row["outcome"],
        "answer_text": row["answer_text"],
        "answered_at": answered_at,
        "status": row["status"],
        "rejection_reason": row["rejection_reason"] or None,
    }
