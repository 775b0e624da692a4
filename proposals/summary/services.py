"""Requesting, building, finishing and sweeping the summary table's files.

One `SummaryFile` per strategy, format and language. Services that change what the
table shows call `summary_mark_dirty` in their own transaction; a build records the
`source_version` it started from as `built_version`, so a file is current when the two
are equal and a change that lands mid-build leaves it stale for the next request.

Claims work as reports' do (proposals/reports/services.py): a build claims its file with
the next attempt number under a row lock, and its progress and finish are conditional on
that number, so a message delivered twice, or a build the sweep took over, can neither
finish a file twice nor mix two files.

Times kept on the row: `queued_at` is when the current build was asked for; while a
file is queued, `started_at` is when the last message for it went (as reports do), so
the request path and the sweep wait that long before sending another.
"""

import logging
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext_noop

from civic.celery import enqueue_on_commit
from civic.errors import InvalidInput
from civic.languages import LANGUAGE_CODES
from proposals.labels import STATUS
from proposals.models import Proposal, SummaryFile
from proposals.summary import writers
from proposals.summary.labels import OUTCOME, describe
from proposals.summary.selectors import (
    REJECTED,
    UNANSWERED,
    summary_counts,
    summary_row_chunks,
    summary_rows,
)
from strategy.models import District, Section, Strategy, Theme

logger = logging.getLogger(__name__)
Status = SummaryFile.Status
FORMATS = tuple(SummaryFile.Format.values)
BUILD_TASK = "proposals.summary_build"

# A summary row is short (no proposal body): even a million of them are written well
# inside this, and a build still running after it lost its worker.
TIME_LIMIT = 600
# A queued file whose message went this long ago without a build starting gets another.
REQUEUE_SECONDS = 60
# A build whose worker keeps dying is given up after this many time limits.
MAX_TRIES = 3
# Attempt numbers are a small integer on the row; they wrap long before its limit (a
# build that old is long finished, so the numbers cannot be confused).
_ATTEMPT_WRAP = 30_000


def summary_mark_dirty(*, strategy_id: int) -> None:
    """Mark every file of the strategy stale, in the caller's transaction.

    One UPDATE, and none of the files is rebuilt here: the next request for a file
    finds it stale and queues its build. Nothing to do when no file was ever asked for.
    """
    SummaryFile.objects.filter(strategy_id=strategy_id).update(
        source_version=F("source_version") + 1
    )


def summary_is_current(summary: SummaryFile) -> bool:
    """Built from what the table shows now, and still on disk (a restored or moved media
    folder is rebuilt rather than served as a 500)."""
    return (
        summary.status == Status.DONE
        and summary.built_version == summary.source_version
        and bool(summary.file)
        and (Path(settings.MEDIA_ROOT) / summary.file.name).is_file()
    )


def _stale_after() -> timedelta:
    """How long a build may take in all: the task's hard time limit and a margin."""
    return timedelta(seconds=TIME_LIMIT + 120)


def _stalled(summary: SummaryFile, now: Any) -> bool:
    return summary.started_at is None or summary.started_at < now - _stale_after()


def _send(summary_id: int) -> None:
    # The task by its registered name: tasks import these services, so importing the
    # task module here would be a cycle; proposals/apps.py registers it at start.
    enqueue_on_commit(BUILD_TASK, summary_id)


@transaction.atomic
def summary_file_request(*, strategy: Strategy, format: str, language: str) -> SummaryFile:
    """The strategy's file in `format` and `language`, asking for a build when there is
    no current one and none is under way.

    Returns the row as it stands when the caller's transaction commits the request: a
    build runs after the commit (in-process when no broker is configured), so callers
    read the row again to see whether it finished.
    """
    if format not in FORMATS:
        raise InvalidInput(
            gettext_noop("Unknown format %(format)r: csv, xlsx or html."),
            field="format",
            params={"format": format},
        )
    language = language if language in LANGUAGE_CODES else "ru"
    key = {"strategy": strategy, "format": format, "language": language}
    # Most requests find the file current: they take no lock and write nothing.
    summary = SummaryFile.objects.filter(**key).first()
    if summary is not None and summary_is_current(summary):
        return summary
    _, created = SummaryFile.objects.get_or_create(**key)
    summary = SummaryFile.objects.select_for_update().get(**key)
    now = timezone.now()
    if not created:
        if summary_is_current(summary):
            return summary
        if summary.status == Status.QUEUED:
            sent = summary.started_at or summary.queued_at
            if sent >= now - timedelta(seconds=REQUEUE_SECONDS):
                return summary
            # Its message was lost (or waits behind long work): send another; a
            # second message finds the file claimed or built and does nothing.
            summary.started_at = now
            summary.save(update_fields=["started_at"])
            _send(summary.pk)
            return summary
        if summary.status == Status.RUNNING and not _stalled(summary, now):
            return summary
        if (
            summary.status == Status.FAILED
            and summary.finished_at is not None
            and summary.finished_at >= now - timedelta(seconds=REQUEUE_SECONDS)
        ):
            # A build that just failed is not retried on every poll of a waiting page.
            return summary
    # Never built, stale, failed a while ago, or its worker is gone: build it again.
    summary.status = Status.QUEUED
    summary.queued_at = now
    summary.started_at = None
    summary.progress = 0
    summary.error = ""
    summary.save(update_fields=["status", "queued_at", "started_at", "progress", "error"])
    _send(summary.pk)
    return summary


@transaction.atomic
def summary_start(*, summary_id: int) -> int | None:
    """Claim the file for a build; the attempt number, or None if there is nothing to do
    (built or failed already, or being built by a worker still within its time)."""
    summary = SummaryFile.objects.select_for_update().filter(pk=summary_id).first()
    if summary is None or summary.status in (Status.DONE, Status.FAILED):
        return None
    now = timezone.now()
    if summary.status == Status.RUNNING and not _stalled(summary, now):
        return None
    summary.status = Status.RUNNING
    summary.attempt = summary.attempt % _ATTEMPT_WRAP + 1
    summary.started_at = now
    summary.progress = 0
    summary.error = ""
    summary.save(update_fields=["status", "attempt", "started_at", "progress", "error"])
    return summary.attempt


def _current(summary_id: int, attempt: int) -> Any:
    return SummaryFile.objects.filter(pk=summary_id, attempt=attempt, status=Status.RUNNING)


class Superseded(Exception):
    """Another build took this file over; this one stops without touching it."""


def summary_build(*, summary_id: int, attempt: int) -> SummaryFile | None:
    """Write the file of a claimed build, then finish it; None if another build took over.

    The source version is read before any row: a change committed after it leaves the
    finished file stale, whether or not this build happened to read the change.
    """
    summary = SummaryFile.objects.select_related("strategy").get(pk=summary_id)
    version = summary.source_version
    strategy = summary.strategy
    folder = Path(settings.MEDIA_ROOT) / "summaries"
    folder.mkdir(parents=True, exist_ok=True)
    part = folder / f"summary-{summary.pk}-{attempt}.{summary.format}.part"
    total = summary_rows(strategy=strategy).count()

    def on_chunk(written: int) -> None:
        progress = min(99, written * 100 // total) if total else 99
        if not _current(summary_id, attempt).update(progress=progress):
            raise Superseded

    try:
        with translation.override(summary.language):
            chunks = summary_row_chunks(strategy=strategy)
            if summary.format == SummaryFile.Format.CSV:
                rows = writers.write_csv(part, chunks, on_chunk)
            elif summary.format == SummaryFile.Format.XLSX:
                rows = writers.write_xlsx(part, chunks, on_chunk)
            else:
                context = _html_context(strategy, summary.language, total)
                rows = writers.write_html(part, chunks, on_chunk, context)
        return summary_finish(
            summary_id=summary_id, attempt=attempt, part=part, row_count=rows, version=version
        )
    except Superseded:
        part.unlink(missing_ok=True)
        return None
    except BaseException:
        part.unlink(missing_ok=True)
        raise


@transaction.atomic
def summary_finish(
    *, summary_id: int, attempt: int, part: Path, row_count: int, version: int
) -> SummaryFile | None:
    summary = _current(summary_id, attempt).select_for_update().first()
    if summary is None:
        part.unlink(missing_ok=True)
        return None
    name = f"summaries/summary-{summary.pk}.{summary.format}"
    # The rename is atomic: a download sees the whole old file or the whole new one.
    os.replace(part, Path(settings.MEDIA_ROOT) / name)
    summary.file.name = name
    summary.status = Status.DONE
    summary.progress = 100
    summary.row_count = row_count
    summary.built_version = version
    summary.finished_at = timezone.now()
    summary.save(
        update_fields=["file", "status", "progress", "row_count", "built_version", "finished_at"]
    )
    return summary


def summary_fail(*, summary_id: int, attempt: int | None, error: str) -> None:
    """Mark a build failed with a readable reason (the attempt's, or any unfinished one).

    The file stays stale on purpose (its built version is not moved), so the next
    request after a short wait asks for it again.
    """
    files = SummaryFile.objects.filter(pk=summary_id, status__in=[Status.QUEUED, Status.RUNNING])
    if attempt is not None:
        files = files.filter(attempt=attempt)
    files.update(status=Status.FAILED, error=error[:2000], finished_at=timezone.now())


def summary_sweep() -> dict[str, int]:
    """Send again the builds whose message was lost or whose worker died; fail the ones
    that kept dying for MAX_TRIES time limits."""
    now = timezone.now()
    requeued = failed = 0
    waited = now - timedelta(seconds=REQUEUE_SECONDS)
    lost = (
        SummaryFile.objects.filter(status=Status.QUEUED, queued_at__lt=waited)
        .exclude(started_at__gte=waited)
        .values_list("pk", flat=True)
    )
    for summary_id in lost[:100]:
        # Stamped so the next sweep waits as long again before sending another message.
        SummaryFile.objects.filter(pk=summary_id, status=Status.QUEUED).update(started_at=now)
        _send(summary_id)
        requeued += 1
    stuck = SummaryFile.objects.filter(status=Status.RUNNING, started_at__lt=now - _stale_after())
    for summary in stuck[:100]:
        if summary.queued_at < now - _stale_after() * MAX_TRIES:
            summary_fail(
                summary_id=summary.pk,
                attempt=summary.attempt,
                error=f"The build stopped or ran out of time for {MAX_TRIES} time limits.",
            )
            failed += 1
        elif SummaryFile.objects.filter(
            pk=summary.pk, status=Status.RUNNING, attempt=summary.attempt
        ).update(status=Status.QUEUED, started_at=now):
            _send(summary.pk)
            requeued += 1
    return {"requeued": requeued, "failed": failed}


# --- the HTML file's context ---------------------------------------------------------------


def _html_context(strategy: Strategy, language: str, total: int) -> dict[str, Any]:
    counts = summary_counts(strategy=strategy)
    return {
        "strategy": strategy,
        "language": language,
        "site_url": settings.CIVIC_SITE_URL,
        "generated_at": timezone.localtime(),
        "total": total,
        "counts": [(str(OUTCOME[outcome]), counts[outcome]) for outcome in OUTCOME]
        + [
            (translation.gettext("Awaiting the city's answer"), counts[UNANSWERED]),
            (str(STATUS[Proposal.Status.REJECTED]), counts[REJECTED]),
        ],
        "sections": {s.pk: s for s in Section.objects.filter(strategy=strategy)},
        "districts": {d.slug: d.name for d in District.objects.all()},
        "themes": {t.slug: t.name for t in Theme.objects.all()},
        "describe": describe,
    }
