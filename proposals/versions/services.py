"""Linking answered proposals to the sections of a revised strategy that they changed.

A responder links a proposal the city accepted (in full or in part) to a section of a
version; the comparison of two versions then says "changed after proposals …" for that
section. Each link and unlink is a line of the proposal's history, in the same transaction.
"""

import re
from datetime import datetime, time
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from civic.accounts.models import User
from civic.accounts.rules import allows
from civic.errors import InvalidInput, NotAllowed, StateConflict
from proposals.models import Answer, AnswerSectionLink, Proposal, ProposalEvent
from strategy.models import Strategy, StrategyVersion
from strategy.services import strategy_import_files

_CODE_RE = re.compile(r"[0-9]+(?:\.[0-9]+)*")


def may_link(user: User) -> bool:
    return allows(user, "proposals.link_section")


def section_code_clean(code: str) -> str:
    """ "1.2", "1.2." and "01.02" name one section, as in the importer."""
    code = (code or "").strip().rstrip(".")
    if _CODE_RE.fullmatch(code):
        return ".".join(str(int(part)) for part in code.split("."))
    return code


def _check(*, proposal: Proposal, version: StrategyVersion, section_code: str, user: User) -> str:
    if not may_link(user):
        raise NotAllowed(
            gettext_noop("Only responders link proposals to the sections they changed.")
        )
    if version.strategy_id != proposal.strategy_id:
        raise InvalidInput(
            gettext_noop("The proposal is about another strategy than this version."),
            field="proposal",
        )
    code = section_code_clean(section_code)
    if code not in {section["code"] for section in version.sections}:
        raise InvalidInput(
            gettext_noop("Version %(number)s has no section %(code)s."),
            field="section_code",
            params={"number": version.number, "code": code or "-"},
        )
    return code


def _event(proposal: Proposal, actor: User, key: str, version: StrategyVersion, code: str) -> None:
    # Filed under "answer": a link is part of what the city answered, and the status
    # stays where it was.
    ProposalEvent.objects.create(
        proposal=proposal,
        actor=actor,
        action=ProposalEvent.Action.ANSWER,
        from_status=proposal.status,
        to_status=proposal.status,
        changes={key: {"version": version.number, "section_code": code}},
    )


@transaction.atomic
def section_link_add(
    *, proposal: Proposal, version: StrategyVersion, section_code: str, responder: User
) -> AnswerSectionLink:
    """Link an accepted proposal to a section of `version`; linking twice changes nothing."""
    code = _check(proposal=proposal, version=version, section_code=section_code, user=responder)
    # The row lock orders this after an answer being saved at the same moment.
    proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
    if proposal.status != Proposal.Status.PUBLISHED:
        raise StateConflict(
            gettext_noop("Only published proposals can be linked; this one is %(status)s."),
            code="not_published",
            params={"status": proposal.status},
        )
    answer = Answer.objects.filter(proposal=proposal, published=True).first()
    if answer is None or answer.outcome not in Answer.CHANGES_TEXT:
        raise StateConflict(
            gettext_noop(
                "Only proposals the city accepted, in full or in part, can be linked to "
                "the text they changed."
            ),
            code="not_accepted",
        )
    link, created = AnswerSectionLink.objects.get_or_create(
        proposal=proposal,
        version=version,
        section_code=code,
        defaults={"linked_by": responder, "linked_at": timezone.now()},
    )
    if created:
        _event(proposal, responder, "linked_section", version, code)
    return link


@transaction.atomic
def section_link_remove(
    *, proposal: Proposal, version: StrategyVersion, section_code: str, responder: User
) -> bool:
    """Undo a link; True when there was one (unlinking what is not linked is harmless)."""
    code = _check(proposal=proposal, version=version, section_code=section_code, user=responder)
    proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
    deleted, _ = AnswerSectionLink.objects.filter(
        proposal=proposal, version=version, section_code=code
    ).delete()
    if deleted:
        _event(proposal, responder, "unlinked_section", version, code)
    return bool(deleted)


# --- the demo's revised document ------------------------------------------------------------

DEMO_DIR = Path(settings.BASE_DIR) / "strategy" / "demo"
DEMO_REVISED_DIR = DEMO_DIR / "revised"
# The sections the revised demo document changes (1.4 is new): proposals answered
# "accepted" or "accepted in part" on these show on the comparison.
DEMO_REVISED_SECTIONS = ("1.2", "1.4", "2.2", "3.3", "4.3", "5.1", "5.2", "8.3")
# What each revised section took up, for proposals filed on no section or on its parent.
DEMO_SECTION_THEMES = {
    "1.2": {"education", "health"},
    "1.4": {"transport"},
    "2.2": {"transport"},
    "3.3": {"health", "social"},
    "4.3": {"safety"},
    "5.1": {"ecology"},
    "5.2": {"ecology"},
    "8.3": {"governance"},
}
DEMO_LINKS_PER_SECTION = 6


def _parent(code: str) -> str | None:
    return code.rpartition(".")[0] or None


def demo_revise(*, strategy: Strategy, responder: User) -> int:
    """Import the demo's revised document as the next version and link the accepted
    proposals to the sections it changed: first those filed on the section, else those
    on its parent (or on no section) sharing its themes. Idempotent: a second run imports
    the same text (no new version) and finds the links made. Returns the revision's links.
    """
    files = sorted(DEMO_REVISED_DIR.glob(f"{strategy.slug}.*.md"))
    with transaction.atomic():
        strategy_import_files(files)
        revision = StrategyVersion.objects.filter(strategy=strategy).order_by("-number").first()
        if revision is None or revision.number < 2:
            return 0
        first = StrategyVersion.objects.filter(strategy=strategy, number=1).first()
        if first is not None and strategy.opens_at and first.imported_at.date() > strategy.opens_at:
            # Demo data only: the first text was what the discussion opened on.
            opened = timezone.make_aware(datetime.combine(strategy.opens_at, time(9)))
            StrategyVersion.objects.filter(pk=first.pk).update(imported_at=opened)
        accepted = list(
            Proposal.objects.filter(
                strategy=strategy,
                status=Proposal.Status.PUBLISHED,
                answer__published=True,
                answer__outcome__in=Answer.CHANGES_TEXT,
            )
            .select_related("section")
            .prefetch_related("themes")
            .order_by("created_at", "id")
        )
        present = {section["code"] for section in revision.sections}
        for code in revision.changed_sections:
            if code not in present:
                continue
            for proposal in _demo_candidates(code, accepted)[:DEMO_LINKS_PER_SECTION]:
                section_link_add(
                    proposal=proposal, version=revision, section_code=code, responder=responder
                )
        return AnswerSectionLink.objects.filter(version=revision).count()


def _demo_candidates(code: str, accepted: list[Proposal]) -> list[Proposal]:
    themes = DEMO_SECTION_THEMES.get(code, set())

    def on(section_code: str | None) -> list[Proposal]:
        return [
            p
            for p in accepted
            if (p.section.code if p.section_id else None) == section_code
            and (section_code == code or themes & {t.slug for t in p.themes.all()})
        ]

    parent = _parent(code)
    return on(code) or (on(parent) if parent else []) or on(None)
