"""The rows of a report, streamed in chunks: constant memory whatever the row count.

Proposals are read in keyset order (id > last id, LIMIT n), each chunk with one query for
its themes and one for its reaction counts, so no query ever holds more than a chunk and
no cursor stays open across the whole build.
"""

from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from django.db.models import Count, QuerySet
from django.utils import timezone

from proposals.cells import neutralise
from proposals.models import Proposal, Reaction

# The column names of docs/api.md, in its order: CSV header and the XLSX proposals sheet.
COLUMNS = (
    "code",
    "created_at",
    "published_at",
    "status",
    "strategy",
    "section_code",
    "section_title",
    "themes",
    "district",
    "language",
    "title",
    "body",
    "reactions_like",
    "reactions_indifferent",
    "reactions_funny",
    "reactions_sympathy",
    "reactions_outrage",
    "decision",
    "decision_reason",
    "decision_note",
    "decided_at",
    "duplicate_of",
)
KINDS = tuple(Reaction.Kind.values)
CHUNK = 5000

_FIELDS = (
    "id",
    "code",
    "created_at",
    "published_at",
    "status",
    "strategy__slug",
    "section__code",
    "section__title_ru",
    "section__title_kk",
    "section__title_en",
    "district__slug",
    "language",
    "title",
    "body",
    "latest_decision__action",
    "latest_decision__reason",
    "latest_decision__note",
    "latest_decision__at",
    "duplicate_of__code",
)
_TITLE = {"ru": 7, "kk": 8, "en": 9}


def _local(moment: datetime | None) -> datetime | None:
    return timezone.localtime(moment) if moment is not None else None


def report_rows(
    queryset: QuerySet[Proposal], *, language: str, chunk: int = CHUNK
) -> Iterator[list[tuple[Any, ...]]]:
    """Chunks of report rows (tuples in COLUMNS order) for the proposals of `queryset`.

    Text cells are neutralised (proposals.cells); dates are aware datetimes in the site's
    time zone.
    """
    base = queryset.prefetch_related(None).order_by("pk")
    title_at = _TITLE.get(language, 7)
    last = 0
    while True:
        rows = list(base.filter(pk__gt=last).values_list(*_FIELDS)[:chunk])
        if not rows:
            return
        ids = [row[0] for row in rows]
        last = ids[-1]
        themes: dict[int, list[str]] = defaultdict(list)
        for proposal_id, slug in (
            Proposal.themes.through.objects.filter(proposal_id__in=ids)
            .order_by("proposal_id", "theme__position", "theme__slug")
            .values_list("proposal_id", "theme__slug")
        ):
            themes[proposal_id].append(slug)
        reactions: dict[int, dict[str, int]] = defaultdict(dict)
        for proposal_id, kind, n in (
            Reaction.objects.filter(proposal_id__in=ids)
            .order_by()
            .values_list("proposal_id", "kind")
            .annotate(n=Count("id"))
        ):
            reactions[proposal_id][kind] = n
        yield [
            (
                neutralise(row[1] or ""),
                _local(row[2]),
                _local(row[3]),
                row[4],
                neutralise(row[5]),
                neutralise(row[6] or ""),
                neutralise(row[title_at] or row[7] or ""),
                neutralise(";".join(themes.get(row[0], ()))),
                neutralise(row[10] or ""),
                row[11],
                neutralise(row[12]),
                neutralise(row[13]),
                *(reactions[row[0]].get(kind, 0) for kind in KINDS),
                row[14] or "",
                row[15] or "",
                neutralise(row[16] or ""),
                _local(row[17]),
                neutralise(row[18] or ""),
            )
            for row in rows
        ]
