"""Ordering, building, finishing and expiring reports.

A build claims its report with the next attempt number under a row lock; progress and
the finish are conditional on that number, so a message delivered twice, or a build the
sweep took over, can neither finish a report twice nor mix two files.
"""

import logging
import os
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.utils import timezone, translation
from django.utils.translation import gettext_noop

from civic.accounts.models import User
from civic.accounts.rules import allows, sees_every_report
from civic.celery import enqueue_on_commit
from civic.errors import InvalidInput, NotAllowed
from civic.languages import LANGUAGE_CODES, supported_language
from proposals.charts import bars
from proposals.filters import OVERDUE, UNANSWERED, WHOLE_DOCUMENT, ProposalFilter
from proposals.labels import ACTION, OUTCOME, REACTION, REASON, STATUS, section_label
from proposals.models import Proposal, Reaction, Report
from proposals.reports import writers
from proposals.reports.copy import write_csv_copy
from proposals.reports.rows import report_rows
from proposals.selectors import proposal_counts, proposal_list
from strategy.models import Section
from strategy.selectors import district_list, sections_in_order, strategy_get_public, theme_list

logger = logging.getLogger(__name__)
Status = Report.Status
FILTER_NAMES = frozenset(ProposalFilter.base_filters) - {"strategy", "ordering"}
TOP_PER_THEME = 5


def _clean_filters(filters: Any) -> dict[str, Any]:
    if filters in (None, ""):
        return {}
    if not isinstance(filters, Mapping):
        raise InvalidInput(gettext_noop("Filters must be an object."), field="filters")
    unknown = sorted(set(filters) - FILTER_NAMES)
    if unknown:
        raise InvalidInput(
            gettext_noop("Unknown filter: %(names)s."),
            field="filters",
            params={"names": ", ".join(map(str, unknown))},
        )
    clean: dict[str, Any] = {}
    for name, value in filters.items():
        values = value if isinstance(value, list) else [value]
        if not all(isinstance(v, str | int) and not isinstance(v, bool) for v in values):
            raise InvalidInput(
                gettext_noop("Filter %(name)s takes text."), field="filters", params={"name": name}
            )
        if name == "theme":
            clean[name] = [str(v) for v in values]
        elif len(values) != 1:
            raise InvalidInput(
                gettext_noop("Filter %(name)s takes one value."),
                field="filters",
                params={"name": name},
            )
        else:
            clean[name] = str(values[0])
    return clean


def report_queryset(report: Report) -> Any:
    """The proposals of a report: the list's filters, every status the filters allow."""
    return proposal_list(
        user=report.ordered_by, filters={**report.filters, "strategy": report.strategy.slug}
    )


@transaction.atomic
def report_order(
    *, user: User, strategy_slug: str, format: str, filters: Any = None, language: str = "ru"
) -> Report:
    """Record the order and queue the build; a bad filter is refused now, not at build time."""

    if not allows(user, "proposals.order_reports"):
        raise NotAllowed(gettext_noop("Only analysts and admins order reports."))
    if format not in Report.Format.values:
        raise InvalidInput(
            gettext_noop("Unknown format %(format)r: csv, xlsx or html."),
            field="format",
            params={"format": format},
        )
    strategy = strategy_get_public(slug=str(strategy_slug)) if strategy_slug else None
    if strategy is None:
        raise InvalidInput(gettext_noop("No such strategy."), field="strategy")
    clean = _clean_filters(filters)
    # Validated exactly as the proposal list validates them: same messages, same 400.
    proposal_list(user=user, filters={**clean, "strategy": strategy.slug})
    report = Report.objects.create(
        ordered_by=user,
        strategy=strategy,
        format=format,
        filters=clean,
        language=supported_language(language),
    )
    enqueue_on_commit("proposals.report_build", report.pk)
    return report


def report_list_of(*, user: User) -> Any:
    """The reports this user ordered, newest first."""
    return Report.objects.filter(ordered_by=user).select_related("strategy")


def report_visible_to(user: User) -> Any:
    if sees_every_report(user):
        return Report.objects.all()
    return Report.objects.filter(ordered_by=user)


@transaction.atomic
def report_start(*, report_id: int) -> int | None:
    """Claim the report for a build; the attempt number, or None if there is nothing to do
    (already finished, or being built by a worker that is still within its time)."""
    report = Report.objects.select_for_update().filter(pk=report_id).first()
    if report is None or report.status in (Status.DONE, Status.FAILED):
        return None
    now = timezone.now()
    if report.status == Status.RUNNING and not _stalled(report, now):
        return None
    report.status = Status.RUNNING
    report.attempt += 1
    report.started_at = report.heartbeat_at = now
    report.progress = 0
    report.error = ""
    report.save(
        update_fields=["status", "attempt", "started_at", "heartbeat_at", "progress", "error"]
    )
    return report.attempt


def _stale_after() -> timedelta:
    """How long a build may take in all (the task's hard time limit, and a margin)."""
    return timedelta(seconds=settings.CIVIC_REPORT_TIME_LIMIT + 60)


def _stalled(report: Report, now: Any) -> bool:
    """A running build that stopped writing, or ran past its time limit: its worker is gone."""
    beat = report.heartbeat_at or report.started_at
    if beat is None or report.started_at is None:
        return True
    stall = timedelta(seconds=settings.CIVIC_REPORT_STALL_SECONDS)
    return beat < now - stall or report.started_at < now - _stale_after()


def _current(report_id: int, attempt: int) -> Any:
    return Report.objects.filter(pk=report_id, attempt=attempt, status=Status.RUNNING)


class Superseded(Exception):
    """Another build took this report over; this one stops without touching it."""


def report_build_file(*, report_id: int, attempt: int) -> Report | None:
    """Write the file of a claimed report, then finish it; None if another build took over."""
    report = Report.objects.select_related("strategy", "ordered_by").get(pk=report_id)
    folder = Path(settings.MEDIA_ROOT) / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    part = folder / f"report-{report.pk}-{attempt}.{report.format}.part"
    queryset = report_queryset(report)
    total = queryset.count()

    def on_chunk(written: int) -> None:
        progress = min(99, written * 100 // total) if total else 99
        beat = timezone.now()
        if not _current(report_id, attempt).update(progress=progress, heartbeat_at=beat):
            raise Superseded

    try:
        with translation.override(report.language):
            if report.format == Report.Format.HTML:
                rows = writers.write_html(part, _summary_context(report, queryset, total))
            elif report.format == Report.Format.CSV and connection.vendor == "postgresql":
                # PostgreSQL writes the rows itself: several times faster, same file.
                rows = write_csv_copy(part, queryset, report.language, on_chunk)
            elif report.format == Report.Format.CSV:
                chunks = report_rows(queryset, language=report.language)
                rows = writers.write_csv(part, chunks, on_chunk)
            else:
                chunks = report_rows(queryset, language=report.language)
                rows = writers.write_xlsx(
                    part, chunks, on_chunk, _summary(report, queryset), _readable(report, queryset)
                )
        return report_finish(report_id=report_id, attempt=attempt, part=part, row_count=rows)
    except Superseded:
        part.unlink(missing_ok=True)
        return None
    except BaseException:
        part.unlink(missing_ok=True)
        raise


@transaction.atomic
def report_finish(*, report_id: int, attempt: int, part: Path, row_count: int) -> Report | None:
    report = _current(report_id, attempt).select_for_update().first()
    if report is None:
        part.unlink(missing_ok=True)
        return None
    name = f"reports/report-{report.pk}.{report.format}"
    # The rename is atomic: a download sees the whole old file or the whole new one.
    os.replace(part, Path(settings.MEDIA_ROOT) / name)
    report.file.name = name
    report.status = Status.DONE
    report.progress = 100
    report.row_count = row_count
    report.finished_at = timezone.now()
    report.save(update_fields=["file", "status", "progress", "row_count", "finished_at"])
    return report


def report_fail(*, report_id: int, attempt: int | None, error: str) -> None:
    """Mark a report failed with a readable reason (the attempt's, or any unfinished one)."""
    reports = Report.objects.filter(pk=report_id, status__in=[Status.QUEUED, Status.RUNNING])
    if attempt is not None:
        reports = reports.filter(attempt=attempt)
    reports.update(status=Status.FAILED, error=error[:2000], finished_at=timezone.now())


def report_sweep() -> dict[str, int]:
    """Requeue reports whose message was lost or whose worker died; fail those that keep dying."""

    now = timezone.now()
    requeued = failed = 0
    waited = now - timedelta(seconds=settings.CIVIC_REPORT_REQUEUE_SECONDS)
    # started_at of a queued report is when the sweep last sent it again.
    lost = Report.objects.filter(status=Status.QUEUED, created_at__lt=waited).filter(
        Q(started_at__isnull=True) | Q(started_at__lt=waited)
    )
    for report_id in lost.values_list("pk", flat=True)[:100]:
        # Stamped so the next sweep waits as long again before sending another message.
        Report.objects.filter(pk=report_id, status=Status.QUEUED).update(started_at=now)
        enqueue_on_commit("proposals.report_build", report_id)
        requeued += 1
    stall = now - timedelta(seconds=settings.CIVIC_REPORT_STALL_SECONDS)
    stuck = Report.objects.filter(status=Status.RUNNING).filter(
        Q(heartbeat_at__lt=stall)
        | Q(heartbeat_at__isnull=True)
        | Q(started_at__lt=now - _stale_after())
    )
    for report in stuck[:100]:
        if report.attempt >= settings.CIVIC_REPORT_MAX_ATTEMPTS:
            report_fail(
                report_id=report.pk,
                attempt=report.attempt,
                error=f"The build stopped or ran out of time {report.attempt} times.",
            )
            failed += 1
        elif Report.objects.filter(
            pk=report.pk, status=Status.RUNNING, attempt=report.attempt
        ).update(status=Status.QUEUED, started_at=now):
            enqueue_on_commit("proposals.report_build", report.pk)
            requeued += 1
    return {"requeued": requeued, "failed": failed}


def report_expire() -> int:
    """Remove files kept longer than CIVIC_REPORT_RETENTION_DAYS, and stale partial files."""
    now = timezone.now()
    cutoff = now - timedelta(days=settings.CIVIC_REPORT_RETENTION_DAYS)
    expired = 0
    for report in Report.objects.filter(finished_at__lt=cutoff, expired_at__isnull=True)[:1000]:
        if report.file:
            default_storage.delete(report.file.name)
        Report.objects.filter(pk=report.pk).update(file="", expired_at=now)
        expired += 1
    folder = Path(settings.MEDIA_ROOT) / "reports"
    if folder.exists():
        for part in folder.glob("*.part"):
            if part.stat().st_mtime < (now - _stale_after() * 2).timestamp():
                part.unlink(missing_ok=True)
    return expired


def filters_readable(filters: Mapping[str, Any]) -> list[tuple[str, str]]:
    """A report's filters as (name, value) for people, in the active language: themes,
    districts, sections, statuses and answers by their names, not their codes."""
    gettext = translation.gettext
    names = {
        "section": gettext("Section"),
        "theme": gettext("Themes"),
        "district": gettext("District"),
        "language": gettext("Language"),
        "status": gettext("Status"),
        "created_after": gettext("Submitted from"),
        "created_before": gettext("Submitted until"),
        "q": gettext("Words"),
        "answer": gettext("The city's answer"),
    }
    themes = {t.slug: t.name for t in theme_list()}
    districts = {d.slug: d.name for d in district_list()}
    answers = {
        **OUTCOME,
        UNANSWERED: gettext("Awaiting the city's answer"),
        OVERDUE: gettext("Overdue"),
    }

    def value_of(name: str, value: Any) -> str:
        values = value if isinstance(value, list | tuple) else str(value).split(",")
        if name == "theme":
            return ", ".join(str(themes.get(v, v)) for v in values)
        if name == "district":
            return str(districts.get(value, value))
        if name == "status":
            return str(STATUS.get(value, value))
        if name == "answer":
            return str(answers.get(value, value))
        if name == "language" and value in LANGUAGE_CODES:
            return str(translation.get_language_info(value)["name_translated"])
        if name == "section":
            if value == WHOLE_DOCUMENT:
                return gettext("The whole document")
            section = Section.objects.filter(pk=value).first() if str(value).isdigit() else None
            return section_label(section) if section else str(value)
        return ", ".join(str(v) for v in values) if isinstance(value, list) else str(value)

    order = list(names)
    return [
        (names.get(name, name), value_of(name, value))
        for name, value in sorted(
            filters.items(), key=lambda item: order.index(item[0]) if item[0] in order else 99
        )
    ]


def _readable(report: Report, queryset: Any) -> dict[str, Any]:
    """The XLSX sheet for people: the rows of report_rows again, every code as its name in
    the report's language (made while that language is active)."""
    gettext = translation.gettext
    themes = {t.slug: t.name for t in theme_list()}
    districts = {d.slug: d.name for d in district_list()}
    languages = {
        code: translation.get_language_info(code)["name_translated"] for code in LANGUAGE_CODES
    }
    reactions = [str(REACTION[kind]) for kind in Reaction.Kind.values]
    columns = [
        (gettext("Code"), 16),
        (gettext("Submitted"), 17),
        (gettext("Published"), 17),
        (gettext("Status"), 18),
        (gettext("Section"), 30),
        (gettext("Themes"), 30),
        (gettext("District"), 18),
        (gettext("Language"), 12),
        (gettext("Title"), 40),
        (gettext("Proposal text"), 60),
        *((name, 12) for name in reactions),
        (gettext("Decision"), 18),
        (gettext("Reason for a rejection"), 24),
        (gettext("Decision note"), 40),
        (gettext("Decided at"), 17),
        (gettext("Duplicate of"), 16),
    ]

    def label(names: Mapping[Any, Any], code: str) -> str:
        return str(names.get(code, code)) if code else ""

    def rows() -> Any:
        for chunk in report_rows(queryset, language=report.language):
            for row in chunk:
                section = f"{row[5]}. {row[6]}" if row[5] else gettext("The whole document")
                yield (
                    row[0],
                    row[1],
                    row[2],
                    label(STATUS, row[3]),
                    section,
                    "; ".join(label(themes, slug) for slug in row[7].split(";") if slug),
                    label(districts, row[8]),
                    label(languages, row[9]),
                    row[10],
                    row[11],
                    *row[12:17],
                    label(ACTION, row[17]),
                    label(REASON, row[18]),
                    row[19],
                    row[20],
                    row[21],
                )

    title = gettext("Proposals")[:31]
    if title.lower() in ("proposals", "summary"):  # English: not the contract's own sheet
        title = "Proposals (readable)"
    return {
        "title": title,
        "headings": [heading for heading, _ in columns],
        "widths": [width for _, width in columns],
        "rows": rows(),
    }


def _summary(report: Report, queryset: Any) -> dict[str, Any]:
    """Counts by status, theme, section, district and day, labelled in the report's language."""
    counts = proposal_counts(queryset=queryset)
    themes = list(theme_list())
    districts = list(district_list())
    by_section = sections_in_order(counts["section"])
    days = (
        Proposal.objects.filter(pk__in=queryset.order_by().values("pk"))
        .annotate(day=TruncDate("created_at"))
        .order_by("day")
        .values_list("day")
        .annotate(n=Count("id"))
    )
    return {
        "by_status": [
            (str(label), counts["status"].get(code, 0)) for code, label in STATUS.items()
        ],
        "by_theme": [(t.name, counts["theme"].get(t.slug, 0)) for t in themes],
        "by_section": [(section_label(section), n) for section, n in by_section],
        "by_district": [(d.name, counts["district"].get(d.slug, 0)) for d in districts]
        + ([("—", counts["district"][None])] if counts["district"].get(None) else []),
        "by_day": list(days),
    }


def _summary_context(report: Report, queryset: Any, total: int) -> dict[str, Any]:
    summary = _summary(report, queryset)

    top_by_theme = []
    for theme in theme_list():
        ranked = (
            queryset.filter(themes=theme)
            .order_by()
            .annotate(
                likes=Count("reactions", filter=Q(reactions__kind=Reaction.Kind.LIKE)),
                total=Count("reactions"),
            )
            .filter(total__gt=0)
            .order_by("-likes", "-total", "id")
            .values_list("code", "title", "likes", "total")[:TOP_PER_THEME]
        )
        rows = list(ranked)
        if rows:
            top_by_theme.append({"theme": theme.name, "proposals": rows})
    return {
        "report": report,
        "strategy": report.strategy,
        "total": total,
        "generated_at": timezone.localtime(),
        "filters": filters_readable(report.filters),
        "charts": [
            {
                "slug": key,
                "title": title,
                "bars": bars([("", label, n) for label, n in summary[key]]),
            }
            for key, title in (
                ("by_status", translation.gettext("By status")),
                ("by_theme", translation.gettext("By theme")),
                ("by_section", translation.gettext("By section")),
                ("by_district", translation.gettext("By district")),
            )
        ],
        "days": summary["by_day"],
        "top_by_theme": top_by_theme,
        "reaction_names": [str(REACTION[kind]) for kind in Reaction.Kind.values],
    }
