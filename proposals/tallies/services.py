"""Marking, scheduling and rebuilding tally snapshots (see the package's docstring)."""

from collections import defaultdict
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Case, Count, F, Func, IntegerField, Q, Value, When
from django.db.models.functions import TruncDate
from django.utils import timezone

from civic.celery import enqueue
from proposals.comments.selectors import VISIBLE
from proposals.models import Answer, Comment, Proposal, Reaction, Tally
from proposals.tallies.selectors import tally_cache_key, tally_memo_forget, tally_render
from strategy.models import District, Section, Strategy, Theme

Status = Proposal.Status
TOP_PROPOSALS = 10


def tally_mark_dirty(*, strategy_id: int) -> None:
    """Record, in the caller's transaction, that this strategy's counts have moved."""
    updated = Tally.objects.filter(strategy_id=strategy_id).update(
        dirty_version=F("dirty_version") + 1
    )
    if not updated:
        # A fresh Tally starts dirty (dirty_version 1 > built_version 0).
        Tally.objects.bulk_create([Tally(strategy_id=strategy_id)], ignore_conflicts=True)
    transaction.on_commit(lambda: tally_schedule_refresh(strategy_id))


def tally_mark_dirty_on_change(sender: object, *, strategy_id: int, **kwargs: object) -> None:
    """Receiver of strategy_counts_changed: the strategy app cannot import this one."""
    tally_mark_dirty(strategy_id=strategy_id)


def tally_schedule_refresh(strategy_id: int) -> None:
    """Enqueue one refresh for a burst of changes; the first change of a burst wins."""
    enqueue(
        "proposals.tally_refresh",
        strategy_id,
        countdown=settings.CIVIC_TALLY_COALESCE_SECONDS,
        once_per=f"tally:{strategy_id}",
    )


def tally_update(*, strategy_id: int) -> Tally | None:
    """Bring one strategy's snapshot up to date; a no-op when it already is. The snapshot
    returned is still dirty if changes landed while it was counted."""
    tally = Tally.objects.filter(strategy_id=strategy_id).first()
    if tally is not None and not tally.is_dirty and tally.generated_at is not None:
        return tally
    return tally_rebuild(strategy_id=strategy_id)


def tally_rebuild(*, strategy_id: int) -> Tally | None:
    """Recompute the snapshot of one strategy from its rows and store it."""
    strategy = Strategy.objects.filter(pk=strategy_id).first()
    if strategy is None:
        return None
    Tally.objects.bulk_create([Tally(strategy_id=strategy_id)], ignore_conflicts=True)
    # Read the version before counting: anything committed after this read bumps
    # dirty_version past it and so forces another pass.
    start_version = Tally.objects.values_list("dirty_version", flat=True).get(
        strategy_id=strategy_id
    )
    data = tally_compute(strategy=strategy)
    # Never let an older, slower rebuild overwrite a newer one.
    Tally.objects.filter(strategy_id=strategy_id, built_version__lte=start_version).update(
        data=data,
        generated_at=timezone.now(),
        built_version=start_version,
        rebuild_count=F("rebuild_count") + 1,
    )
    tally = Tally.objects.get(strategy_id=strategy_id)
    _cache_snapshot(strategy, tally)
    return tally


def tally_compute(*, strategy: Strategy) -> dict[str, Any]:
    """The counts of one strategy, each list from one GROUP BY query."""
    proposals = Proposal.objects.filter(strategy=strategy).order_by()
    published = proposals.filter(status=Status.PUBLISHED)

    totals = dict.fromkeys(Status.values, 0)
    for row in proposals.values("status").annotate(n=Count("id")):
        totals[row["status"]] = row["n"]
    totals = {"received": sum(totals.values()), **totals}

    # The answers' GROUP BY queries count every published proposal by theme and district
    # anyway; the published counts are their sums, not two more scans.
    answers, published_by = _answers(strategy, published)
    theme_counts = published_by["theme"]
    by_theme = [
        {"theme": slug, "count": theme_counts.get(slug, 0)}
        for slug in Theme.objects.values_list("slug", flat=True)
    ]

    by_section = [
        {"section": row["section_id"], "code": row["section__code"], "count": row["n"]}
        for row in published.values("section_id", "section__code")
        .annotate(n=Count("id"))
        .order_by("section__position")
    ]

    district_counts = published_by["district"]
    by_district = [
        {"district": slug, "count": district_counts.get(slug, 0)}
        for slug in District.objects.values_list("slug", flat=True)
    ]
    if district_counts.get(None):
        by_district.append({"district": None, "count": district_counts[None]})

    language_counts = dict(published.values_list("language").annotate(n=Count("id")))
    by_language = [
        {"language": code, "count": language_counts.get(code, 0)}
        for code in Proposal.Language.values
    ]

    received_by_day = dict(
        proposals.annotate(day=TruncDate("created_at")).values_list("day").annotate(n=Count("id"))
    )
    published_by_day = dict(
        published.annotate(day=TruncDate("published_at")).values_list("day").annotate(n=Count("id"))
    )
    by_day = [
        {
            "date": day.isoformat(),
            "received": received_by_day.get(day, 0),
            "published": published_by_day.get(day, 0),
        }
        for day in sorted(set(received_by_day) | set(published_by_day))
    ]

    reaction_rows = Reaction.objects.filter(
        proposal__strategy=strategy, proposal__status=Status.PUBLISHED
    ).order_by()
    kind_counts = dict(reaction_rows.values_list("kind").annotate(n=Count("id")))
    reactions = {kind: kind_counts.get(kind, 0) for kind in Reaction.Kind.values}
    comments = _comments(strategy, by_section)

    return {
        "totals": totals,
        "by_theme": by_theme,
        "by_section": by_section,
        "by_district": by_district,
        "by_language": by_language,
        "by_day": by_day,
        "reactions": reactions,
        "top_proposals": _top_proposals(strategy),
        "answers": answers,
        "comments": comments,
        "most_discussed": _most_discussed(strategy),
    }


class DaysBetween(Func):
    """Whole calendar days from one date to another, on PostgreSQL and SQLite alike."""

    output_field = IntegerField()

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        start, end = (compiler.compile(expression) for expression in self.source_expressions)
        return f"(({end[0]}) - ({start[0]}))", (*start[1], *end[1])

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        start, end = (compiler.compile(expression) for expression in self.source_expressions)
        return (
            f"CAST(julianday({end[0]}) - julianday({start[0]}) AS INTEGER)",
            (*start[1], *end[1]),
        )


def _median_days(histogram: dict[int, int]) -> float | None:
    """The median of whole days, given how many answers took each number of days."""
    total = sum(histogram.values())
    if not total:
        return None

    def nth(place: int) -> int:
        for day in sorted(histogram):
            place -= histogram[day]
            if place < 0:
                return day
        raise AssertionError("place beyond the histogram")  # noqa: EM101 - cannot happen

    return round((nth((total - 1) // 2) + nth(total // 2)) / 2, 1)


def _answer_counts(queryset: Any, prefix: str, keys: list[str], cutoff: Any) -> Any:
    """(*keys, outcome, late, days, n) over published proposals (reached through `prefix`):
    outcome "" while unanswered; late only for the unanswered past the deadline; days from
    publication to answer only for the answered. One GROUP BY: the database does the
    counting, day by day, so a million proposals come back as a few thousand rows."""
    answered = Q(**{f"{prefix}answer__published": True})
    late = (
        Case(
            When(answered, then=Value(False)),
            When(**{f"{prefix}published_at__lt": cutoff}, then=Value(True)),
            default=Value(False),
        )
        if cutoff is not None
        else Value(False)
    )
    took = DaysBetween(
        TruncDate(f"{prefix}published_at"), TruncDate(f"{prefix}answer__answered_at")
    )
    return (
        queryset.annotate(
            outcome=Case(When(answered, then=F(f"{prefix}answer__outcome")), default=Value("")),
            late=late,
            days=Case(When(answered, then=took), default=Value(None)),
        )
        .values_list(*keys, "outcome", "late", "days")
        .annotate(n=Count("id"))
        .order_by()
    )


def _answers(strategy: Strategy, published: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """How the city keeps its promise to answer: over published proposals, the answered
    (publicly), unanswered and overdue ones, by outcome, and the median days from
    publication to answer; the same by theme, section and district.

    Two GROUP BY queries: by section and district, and by theme; their sums are also the
    published proposals by theme and by district, returned beside. Overdue is judged at the
    rebuild's time; CIVIC_TALLY_MAX_AGE_SECONDS bounds how long a proposal that fell
    overdue with no change since waits to be counted.
    """
    deadline = strategy.answer_deadline_days
    cutoff = timezone.now() - timedelta(days=deadline) if deadline is not None else None

    def empty() -> dict[str, Any]:
        return {"answered": 0, "unanswered": 0, "overdue": 0, "days": {}, "by_outcome": {}}

    overall = empty()
    groups: dict[str, dict[Any, dict[str, Any]]] = {
        "theme": defaultdict(empty),
        "section": defaultdict(empty),
        "district": defaultdict(empty),
    }

    def count(buckets: list[dict[str, Any]], code: str, late: bool, days: Any, n: int) -> None:
        for bucket in buckets:
            if code:
                bucket["answered"] += n
                bucket["by_outcome"][code] = bucket["by_outcome"].get(code, 0) + n
                bucket["days"][days] = bucket["days"].get(days, 0) + n
            else:
                bucket["unanswered"] += n
                bucket["overdue"] += n if late else 0

    for section_id, district, *rest in _answer_counts(
        published, "", ["section_id", "district__slug"], cutoff
    ):
        count([overall, groups["section"][section_id], groups["district"][district]], *rest)
    links = Proposal.themes.through.objects.filter(
        proposal__strategy=strategy, proposal__status=Status.PUBLISHED
    )
    # By theme id: no join to the themes for each of the millions of links.
    theme_slugs = dict(Theme.objects.values_list("id", "slug"))
    for theme_id, *rest in _answer_counts(links, "proposal__", ["theme_id"], cutoff):
        count([groups["theme"][theme_slugs[theme_id]]], *rest)

    def finish(bucket: dict[str, Any]) -> dict[str, Any]:
        histogram = bucket.pop("days")
        return {
            **bucket,
            "median_days_to_answer": _median_days(histogram),
            "by_outcome": {o: bucket["by_outcome"].get(o, 0) for o in Answer.Outcome.values},
        }

    published_by = {
        kind: {
            key: bucket["answered"] + bucket["unanswered"]
            for key, bucket in groups[kind].items()
            if bucket["answered"] + bucket["unanswered"]
        }
        for kind in ("theme", "district")
    }
    return {
        **finish(overall),
        "deadline_days": deadline,
        "support_threshold": strategy.support_threshold,
        "by_theme": [
            {"theme": slug, **finish(groups["theme"][slug])}
            for slug in Theme.objects.values_list("slug", flat=True)
            if slug in groups["theme"]
        ],
        "by_section": [
            {"section": section_id, "code": code, **finish(groups["section"][section_id])}
            for section_id, code in _section_codes(strategy, groups["section"])
        ],
        "by_district": [
            {"district": slug, **finish(bucket)}
            for slug, bucket in sorted(
                groups["district"].items(), key=lambda item: (item[0] is None, item[0] or "")
            )
        ],
    }, published_by


def _section_codes(strategy: Strategy, counted: dict[Any, Any]) -> list[tuple[int | None, Any]]:
    """(section id, code) of the sections counted, the whole document first, then in order."""
    codes = list(
        Section.objects.filter(strategy=strategy, pk__in=[pk for pk in counted if pk])
        .order_by("position")
        .values_list("id", "code")
    )
    return ([(None, None)] if None in counted else []) + codes


def _top_proposals(strategy: Strategy) -> list[dict[str, Any]]:
    """The most supported published proposals: most "like" reactions, then most reactions.

    Grouped over the reaction rows, by proposal id alone, and only then joined to the
    ten winners: grouping every proposal with its title was most of a rebuild's time.
    """
    ranked = list(
        _reaction_counts(
            Reaction.objects.filter(proposal__strategy=strategy, proposal__status=Status.PUBLISHED)
        ).order_by("-r_like", "-total", "proposal_id")[:TOP_PROPOSALS]
    )
    return _proposal_entries([row["proposal_id"] for row in ranked], ranked)


def _visible_comments(strategy: Strategy) -> Any:
    """The comments the public counts: visible ones on the strategy's published proposals,
    as proposals' comments_count counts them."""
    return Comment.objects.filter(
        VISIBLE, proposal__strategy=strategy, proposal__status=Status.PUBLISHED
    ).order_by()


def _comments(strategy: Strategy, by_section: list[dict[str, Any]]) -> dict[str, Any]:
    """Visible comments on published proposals: in all, by theme and by section; and
    apart, visible comments on the strategy's sections themselves (`on_sections`).

    A comment counts in every theme of its proposal, as the proposal does in by_theme.
    by_section has the rows of the published by_section, in its order, so the two line up:
    every counted comment sits on a published proposal, whose section is already there.
    """
    visible = _visible_comments(strategy)
    section_counts = dict(visible.values_list("proposal__section_id").annotate(n=Count("id")))
    # Comments on the sections themselves, apart from those on their proposals: one GROUP
    # BY, in document order, only the sections that have any.
    on_sections = [
        {"section": section_id, "code": code, "count": n}
        for section_id, code, n in Comment.objects.filter(VISIBLE, section__strategy=strategy)
        .order_by("section__position")
        .values_list("section_id", "section__code")
        .annotate(n=Count("id"))
    ]
    # Theme ids, not slugs: no join to the themes for every comment. Comments on proposals
    # without a theme come back under None, which no theme looks up.
    theme_counts = dict(visible.values_list("proposal__themes").annotate(n=Count("id")))
    # Only a proposal published while this rebuild counted can be missing from by_section;
    # that change left the tally dirty, and the next pass lines the two up again.
    listed = {row["section"] for row in by_section}
    missing = {pk: n for pk, n in section_counts.items() if pk not in listed}
    return {
        # Every comment is on exactly one proposal of one section (or none): the sum is the
        # total, with no third scan.
        "total": sum(section_counts.values()),
        "by_theme": [
            {"theme": slug, "count": theme_counts.get(theme_id, 0)}
            for theme_id, slug in Theme.objects.values_list("id", "slug")
        ],
        "by_section": [
            {
                "section": row["section"],
                "code": row["code"],
                "count": section_counts.get(row["section"], 0),
            }
            for row in by_section
        ]
        + [
            {"section": section_id, "code": code, "count": section_counts[section_id]}
            for section_id, code in _section_codes(strategy, missing)
        ],
        "on_sections": on_sections,
    }


def _most_discussed(strategy: Strategy) -> list[dict[str, Any]]:
    """The published proposals with the most visible comments, then by code; each shaped
    like a top_proposals entry, plus comments_count."""
    ranked = list(
        _visible_comments(strategy)
        .values("proposal_id", "proposal__code")
        .annotate(n=Count("id"))
        .order_by("-n", "proposal__code", "proposal_id")[:TOP_PROPOSALS]
    )
    ids = [row["proposal_id"] for row in ranked]
    reactions = _reaction_counts(Reaction.objects.filter(proposal_id__in=ids))
    counts = {row["proposal_id"]: row["n"] for row in ranked}
    return [
        {**entry, "comments_count": counts[entry["id"]]}
        for entry in _proposal_entries(ids, reactions)
    ]


def _reaction_counts(reactions: Any) -> Any:
    """Per proposal id: its reactions in all (total) and of each kind (r_<kind>)."""
    return (
        reactions.order_by()
        .values("proposal_id")
        .annotate(
            total=Count("id"),
            **{f"r_{kind}": Count("id", filter=Q(kind=kind)) for kind in Reaction.Kind.values},
        )
    )


def _proposal_entries(ids: list[int], reaction_rows: Any) -> list[dict[str, Any]]:
    """The entries of a ranked list of proposals, in the order of `ids`; a proposal with no
    row in `reaction_rows` has no reactions, and one deleted since it was ranked is left out."""
    kinds = Reaction.Kind.values
    counted = {row["proposal_id"]: row for row in reaction_rows}
    none = {"total": 0, **{f"r_{kind}": 0 for kind in kinds}}
    proposals = (
        Proposal.objects.select_related("section")
        .only("id", "code", "title", "language", "section__code")
        .in_bulk(ids)
    )
    entries = []
    for pk in ids:
        if pk not in proposals:
            continue
        proposal, row = proposals[pk], counted.get(pk, none)
        entries.append(
            {
                "id": pk,
                "code": proposal.code,
                "title": proposal.title,
                "language": proposal.language,
                "section_code": getattr(proposal.section, "code", None),
                "reactions": {kind: row[f"r_{kind}"] for kind in kinds},
                "reactions_total": row["total"],
            }
        )
    return entries


def _cache_snapshot(strategy: Strategy, tally: Tally) -> None:
    tally_memo_forget(strategy.slug)
    if strategy.status == Strategy.Status.DRAFT:
        cache.delete(tally_cache_key(strategy.slug))
    else:
        cache.set(tally_cache_key(strategy.slug), tally_render(strategy, tally), timeout=None)
