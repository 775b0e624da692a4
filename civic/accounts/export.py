"""Download my data: a JSON file of everything kept about a person, built in the background.

The account's own part is written here; every other app adds its part through
`personal_data` (proposals, reactions and the events about them come from the proposals
app), so this module never imports a higher app. A build claims the export with the next
attempt number under a row lock, and only that build may finish it: a message delivered
twice, or a build the sweep took over, cannot finish twice or leave two files.
"""

import json
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from civic.accounts import personal_data
from civic.accounts.consent import terms_version
from civic.accounts.models import DataExport, User
from civic.accounts.selectors import user_roles
from civic.celery import enqueue_on_commit

Status = DataExport.Status
# Bumped when the shape of the file changes, so a reader can tell which one it holds.
FORMAT_VERSION = 1
FOLDER = "exports"
# A queued export whose message has not started a build within this long was lost.
REQUEUE_AFTER = timedelta(minutes=2)


def _folder() -> Path:
    folder = Path(settings.MEDIA_ROOT) / FOLDER
    # Private: only the process that serves the owner's request reads these files.
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def _stale_after() -> timedelta:
    """How long a build may run before its worker is taken for dead (the hard limit)."""
    return timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60)


def _remove_file_on_commit(name: str) -> None:
    if name:
        transaction.on_commit(lambda: default_storage.delete(name))


def data_export_of(*, user: User) -> DataExport | None:
    return DataExport.objects.filter(user=user).first()


def data_export_ready(export: DataExport) -> bool:
    return (
        export.status == Status.DONE
        and bool(export.file)
        and (Path(settings.MEDIA_ROOT) / export.file.name).is_file()
    )


@transaction.atomic
def data_export_request(*, user: User) -> DataExport:
    """Ask for the file (again): one per account, so asking again rebuilds it."""
    # The task module imports the services, which import this one: the task can only be
    # looked up when called, as the other services that queue builds do.

    export, _ = DataExport.objects.select_for_update().get_or_create(user=user)
    old_file = export.file.name if export.file else ""
    # The attempt number stays: a build still running for the old request can no longer
    # finish, since it finishes only a running export with its own number.
    export.status = Status.QUEUED
    export.file = ""
    export.requested_at = timezone.now()
    export.started_at = export.finished_at = None
    export.error = ""
    export.save()
    _remove_file_on_commit(old_file)
    enqueue_on_commit("accounts.data_export_build", export.pk)
    return export


@transaction.atomic
def data_export_start(*, export_id: int) -> int | None:
    """Claim the export for a build; the attempt number, or None if there is nothing to do
    (gone, finished, or being built by a worker still within its time)."""
    export = DataExport.objects.select_for_update().filter(pk=export_id).first()
    if export is None or export.status in (Status.DONE, Status.FAILED):
        return None
    now = timezone.now()
    if (
        export.status == Status.RUNNING
        and export.started_at
        and export.started_at > now - _stale_after()
    ):
        return None
    export.status = Status.RUNNING
    export.attempt += 1
    export.started_at = now
    export.save(update_fields=["status", "attempt", "started_at"])
    return export.attempt


def data_export_document(*, user: User) -> dict[str, Any]:
    """Everything kept about the person, as JSON values."""
    return {
        "format": FORMAT_VERSION,
        "generated_at": timezone.now().isoformat(),
        "terms_version": terms_version(),
        "account": _account(user),
        **personal_data.export_all(user),
    }


def _account(user: User) -> dict[str, Any]:
    return {
        "id": user.pk,
        "email": user.email,
        "pending_email": user.pending_email or None,
        "email_verified": user.email_verified,
        "display_name": user.display_name,
        "district": user.district.slug if user.district_id else None,
        "language": user.language,
        "notify_answers": user.notify_answers,
        "notify_email": user.notify_email,
        "follow_automatically": user.follow_automatically,
        "roles": user_roles(user),
        "date_joined": user.date_joined.isoformat(),
        "last_login": user.last_login.isoformat() if user.last_login else None,
        "consented_terms_version": user.consented_terms_version or None,
        "consented_at": user.consented_at.isoformat() if user.consented_at else None,
    }


def data_export_build_file(*, export_id: int, attempt: int) -> DataExport | None:
    """Write the file of a claimed export, then finish it; None if another build took over."""
    export = (
        DataExport.objects.select_related("user", "user__district").filter(pk=export_id).first()
    )
    if export is None:
        return None  # the account was deleted meanwhile, and its export with it
    part = _folder() / f"export-{export.pk}-{attempt}.json.part"
    try:
        document = data_export_document(user=export.user)
        # Created readable by this account only, before a byte of it is written.
        descriptor = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            json.dump(document, out, ensure_ascii=False, indent=2)
        return data_export_finish(export_id=export_id, attempt=attempt, part=part)
    except BaseException:
        part.unlink(missing_ok=True)
        raise


@transaction.atomic
def data_export_finish(*, export_id: int, attempt: int, part: Path) -> DataExport | None:
    export = (
        DataExport.objects.select_for_update()
        .filter(pk=export_id, attempt=attempt, status=Status.RUNNING)
        .first()
    )
    if export is None:
        part.unlink(missing_ok=True)
        return None
    name = f"{FOLDER}/export-{export.pk}.json"
    # The rename is atomic: a download sees the whole old file or the whole new one.
    os.replace(part, Path(settings.MEDIA_ROOT) / name)
    export.file.name = name
    export.status = Status.DONE
    export.finished_at = timezone.now()
    export.save(update_fields=["file", "status", "finished_at"])
    return export


def data_export_fail(*, export_id: int, attempt: int, error: str) -> None:
    DataExport.objects.filter(pk=export_id, attempt=attempt, status=Status.RUNNING).update(
        status=Status.FAILED, error=error[:2000], finished_at=timezone.now()
    )


def data_export_sweep() -> int:
    """Send again the exports whose message was lost or whose worker died."""

    now = timezone.now()
    waited = now - REQUEUE_AFTER
    # started_at of a queued export is when the sweep last sent it again.
    lost = DataExport.objects.filter(status=Status.QUEUED, requested_at__lt=waited).filter(
        Q(started_at__isnull=True) | Q(started_at__lt=waited)
    )
    dead = DataExport.objects.filter(status=Status.RUNNING, started_at__lt=now - _stale_after())
    requeued = 0
    for export_id in list(lost.values_list("pk", flat=True)[:200]):
        DataExport.objects.filter(pk=export_id, status=Status.QUEUED).update(started_at=now)
        enqueue_on_commit("accounts.data_export_build", export_id)
        requeued += 1
    for export_id in list(dead.values_list("pk", flat=True)[:200]):
        enqueue_on_commit("accounts.data_export_build", export_id)
        requeued += 1
    return requeued


def data_export_expire() -> int:
    """Remove files (and their rows) kept longer than CIVIC_EXPORT_RETENTION_DAYS, and
    partial files a dead build left behind."""
    now = timezone.now()
    cutoff = now - timedelta(days=settings.CIVIC_EXPORT_RETENTION_DAYS)
    expired = 0
    old = DataExport.objects.filter(status__in=[Status.DONE, Status.FAILED], finished_at__lt=cutoff)
    for export in old[:1000]:
        # Conditional on finished_at: an export asked for again meanwhile is left alone.
        if DataExport.objects.filter(pk=export.pk, finished_at=export.finished_at).delete()[0]:
            expired += 1
            if export.file:
                default_storage.delete(export.file.name)
    folder = Path(settings.MEDIA_ROOT) / FOLDER
    if folder.exists():
        for part in folder.glob("*.part"):
            if part.stat().st_mtime < (now - _stale_after() * 2).timestamp():
                part.unlink(missing_ok=True)
    return expired


@transaction.atomic
def data_export_discard(*, user: User) -> None:
    """Remove the account's export and its file (an account being deleted)."""
    for export in DataExport.objects.select_for_update().filter(user=user):
        export.delete()
        _remove_file_on_commit(export.file.name if export.file else "")
