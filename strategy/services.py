"""Writes to strategies and their section trees.

The import and the admin call these; nothing else saves a Strategy or a Section.
"""

import re
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from django.db import transaction
from django.db.models import Count, ProtectedError
from django.utils import timezone

from civic.errors import InvalidInput
from strategy.importers import (
    ImportResult,
    StrategyDocument,
    StrategyImportError,
    parse_strategy_files,
)
from strategy.models import District, Section, Strategy, Theme
from strategy.signals import strategy_counts_changed
from strategy.versions import version_record

PREFIX_MAX = 20


def derive_code_prefix(*, slug: str) -> str:
    """ "almaty-2050" -> "ALM2050": three letters of the first word and the slug's digits."""
    letters = re.search(r"[A-Za-z]+", slug)
    digits = "".join(re.findall(r"[0-9]", slug))
    prefix = (letters.group()[:3].upper() if letters else "") + digits
    return prefix[:PREFIX_MAX] or "STRAT"


@transaction.atomic
def strategy_import(*, document: StrategyDocument) -> ImportResult:
    """Create or update the strategy `document.slug` and its sections, matched by code.

    Sections keep their ids, so proposals stay attached. A section that is no longer in the
    document is deleted, unless proposals point at it: then nothing changes and
    StrategyImportError names the sections. Status and dates absent from the document keep
    their stored values; so do the title, description and section texts of languages the
    document does not carry.
    """
    strategy = Strategy.objects.select_for_update().filter(slug=document.slug).first()
    created = strategy is None
    if strategy is None:
        strategy = Strategy(
            slug=document.slug,
            code_prefix=document.code_prefix or derive_code_prefix(slug=document.slug),
            status=Strategy.Status.DRAFT,
        )
    elif document.code_prefix and document.code_prefix != strategy.code_prefix:
        # Proposal codes already handed out carry the old prefix; a new one would split them.
        raise StrategyImportError(
            [
                f"{document.origins.get('code_prefix', document.slug)}: code_prefix "
                f"{document.code_prefix} differs from the stored {strategy.code_prefix}, "
                "which proposal codes already use; remove the key or set it to the stored one"
            ]
        )

    status = document.status or strategy.status
    opens_at = document.opens_at if document.opens_at is not None else strategy.opens_at
    closes_at = document.closes_at if document.closes_at is not None else strategy.closes_at
    _check_import_schedule(document, status=status, opens_at=opens_at, closes_at=closes_at)

    existing: dict[str, Section] = {} if created else {s.code: s for s in strategy.sections.all()}
    wanted = {section.code for section in document.sections}
    doomed = [section for code, section in existing.items() if code not in wanted]
    _check_deletable(doomed)

    strategy_changed = _apply_strategy_fields(
        strategy, document, status=status, opens_at=opens_at, closes_at=closes_at
    )
    if created or strategy_changed:
        strategy.updated_at = timezone.now()
        strategy.save()

    if doomed:
        try:
            Section.objects.filter(pk__in=[section.pk for section in doomed]).delete()
        except ProtectedError as exc:
            # A proposal was filed against one of them after _check_deletable looked.
            codes = sorted({p.section.code for p in exc.protected_objects if p.section_id})
            raise StrategyImportError(
                [
                    f"section {', '.join(codes)} received proposals during the import; "
                    "nothing was imported"
                ]
            ) from exc

    sections_created, sections_updated = _write_sections(strategy, document, existing, wanted)

    changed = created or strategy_changed or bool(doomed or sections_created or sections_updated)
    if changed:
        # Counts per section, and whether the public may see the tally, follow the document.
        strategy_counts_changed.send(sender=Strategy, strategy_id=strategy.pk)
    # A changed text becomes the next version; the earlier ones stay readable there.
    version_record(strategy=strategy)
    return ImportResult(
        strategy=strategy,
        created=created,
        sections_created=sections_created,
        sections_updated=sections_updated,
        sections_deleted=len(doomed),
        changed=changed,
    )


def _check_import_schedule(
    document: StrategyDocument, *, status: str, opens_at: date | None, closes_at: date | None
) -> None:
    """The document's status and dates, merged with the stored ones, must still make sense."""
    if status not in Strategy.Status.values:
        where = document.origins.get("status", document.slug)
        raise StrategyImportError([f"{where}: unknown status {status!r}"])
    if opens_at and closes_at and closes_at < opens_at:
        # The parser catches the pair given together; this is one date against a stored one.
        key = "closes_at" if document.closes_at is not None else "opens_at"
        where = document.origins.get(key, document.slug)
        raise StrategyImportError(
            [f"{where}: closes_at {closes_at} would be before opens_at {opens_at}"]
        )


def _check_deletable(doomed: list[Section]) -> None:
    if not doomed:
        return
    blocked = (
        Section.objects.filter(pk__in=[section.pk for section in doomed])
        .annotate(proposal_count=Count("proposals"))
        .filter(proposal_count__gt=0)
        .order_by("position")
    )
    messages = [
        f"section {section.code} is not in the new text but has {section.proposal_count} "
        "proposal(s); keep the section (it may be renamed) or move the proposals first"
        for section in blocked
    ]
    if messages:
        raise StrategyImportError([*messages, "nothing was imported"])


def _apply_strategy_fields(
    strategy: Strategy,
    document: StrategyDocument,
    *,
    status: str,
    opens_at: date | None,
    closes_at: date | None,
) -> bool:
    values: dict[str, object] = {"status": status, "opens_at": opens_at, "closes_at": closes_at}
    for language in document.languages:
        values[f"title_{language}"] = document.title.get(language, "")
        values[f"description_{language}"] = document.description.get(language, "")
    return _assign(strategy, values)


def _write_sections(
    strategy: Strategy,
    document: StrategyDocument,
    existing: dict[str, Section],
    wanted: set[str],
) -> tuple[int, int]:
    """Update matched sections in place and create the new ones; returns (created, updated)."""
    rows = {code: section for code, section in existing.items() if code in wanted}
    created = updated = 0
    # Pre-order puts every parent before its children, so each parent has a pk by then.
    for item in sorted(document.sections, key=lambda s: s.position):
        parent = rows[item.parent_code] if item.parent_code else None
        values: dict[str, object] = {
            "parent": parent,
            "position": item.position,
            "depth": item.depth,
        }
        for language in document.languages:
            values[f"title_{language}"] = item.title.get(language, "")
            values[f"body_{language}"] = item.body.get(language, "")
        section = rows.get(item.code)
        if section is None:
            section = Section(strategy=strategy, code=item.code)
            _assign(section, values)
            section.save()
            rows[item.code] = section
            created += 1
        elif _assign(section, values):
            section.save()
            updated += 1
    return created, updated


def _assign(obj: Strategy | Section, values: dict[str, object]) -> bool:
    """Set the fields; True when any of them changed."""
    changed = False
    for name, value in values.items():
        if name == "parent":
            # Compare ids: the stored parent is not loaded, and loading it costs a query.
            parent_id = value.pk if value is not None else None  # type: ignore[attr-defined]
            if obj.parent_id != parent_id:  # type: ignore[union-attr]
                obj.parent = value  # type: ignore[union-attr, assignment]
                changed = True
        elif getattr(obj, name) != value:
            setattr(obj, name, value)
            changed = True
    return changed


@transaction.atomic
def strategy_schedule(
    *, strategy: Strategy, status: str, opens_at: date | None, closes_at: date | None
) -> Strategy:
    """Set the status and the dates of the consultation."""
    if status not in Strategy.Status.values:
        raise InvalidInput(
            f"Unknown status {status!r}; use one of {', '.join(Strategy.Status.values)}.",
            field="status",
        )
    if opens_at and closes_at and closes_at < opens_at:
        raise InvalidInput(
            "The closing date must not be before the opening date.", field="closes_at"
        )
    strategy.status = status
    strategy.opens_at = opens_at
    strategy.closes_at = closes_at
    strategy.updated_at = timezone.now()
    strategy.save(update_fields=["status", "opens_at", "closes_at", "updated_at"])
    # Whether the public may see the tally follows the status.
    strategy_counts_changed.send(sender=Strategy, strategy_id=strategy.pk)
    return strategy


@transaction.atomic
def reference_item_save(*, item: Theme | District) -> Theme | District:
    """Save a theme or district; every tally lists them all, so every tally is redone."""
    item.save()
    for strategy_id in Strategy.objects.values_list("id", flat=True):
        strategy_counts_changed.send(sender=Strategy, strategy_id=strategy_id)
    return item


@transaction.atomic
def strategy_set_answer_rules(
    *,
    strategy: Strategy,
    answer_deadline_days: int | None,
    support_threshold: int | None,
    publish_answers: bool,
) -> Strategy:
    """The city's commitments for a strategy: answer within so many days, answer first
    what has this much support, and whether answers go public when saved."""
    for name, value in (
        ("answer_deadline_days", answer_deadline_days),
        ("support_threshold", support_threshold),
    ):
        if value is not None and not (isinstance(value, int) and 1 <= value <= 100_000):
            raise InvalidInput(
                f"{name} is a whole number from 1 to 100000, or empty for none.", field=name
            )
    strategy.answer_deadline_days = answer_deadline_days
    strategy.support_threshold = support_threshold
    strategy.publish_answers = publish_answers
    strategy.updated_at = timezone.now()
    strategy.save(
        update_fields=["answer_deadline_days", "support_threshold", "publish_answers", "updated_at"]
    )
    # The tallies count what is overdue against the deadline.
    strategy_counts_changed.send(sender=Strategy, strategy_id=strategy.pk)
    return strategy


def strategy_import_files(paths: Sequence[Path | str]) -> ImportResult:
    """Parse the files of one document and write it; raises StrategyImportError."""
    document = parse_strategy_files(paths)
    return strategy_import(document=document)
