"""Writes of the city's answers: every save is a history row in the same transaction.

A responder (or an admin) answers a published proposal with an outcome and a text. An
answer may be kept as a draft and published later; once published it stays public and
may only be edited. Publication queues the emails to the author and those who reacted.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from civic.accounts.models import User
from civic.accounts.rules import allows
from civic.celery import enqueue_on_commit
from civic.errors import DomainError, InvalidInput, NotAllowed, StateConflict
from civic.text import clean_text
from proposals.following.services import fan_out_later
from proposals.models import Answer, Proposal, ProposalEvent
from proposals.summary.services import summary_mark_dirty
from proposals.tallies.services import tally_mark_dirty

Outcome = Answer.Outcome
TEXT_MAX = 10_000


def answer_text_clean(*, outcome: str, text: str) -> str:
    """The text as an answer stores it; required for every outcome but `accepted`."""
    if outcome not in Outcome.values:
        raise InvalidInput(
            gettext_noop("Unknown outcome %(outcome)r."),
            field="outcome",
            params={"outcome": outcome},
        )
    if outcome == Outcome.ACCEPTED and not (text or "").strip():
        return ""
    if not (text or "").strip():
        raise InvalidInput(
            gettext_noop("Explain the answer: a text is required for this outcome."),
            field="text",
        )
    return clean_text(text, field="text", min_length=1, max_length=TEXT_MAX)


def may_answer(user: User) -> bool:
    return allows(user, "proposals.answer")


def _state(answer: Answer | None) -> dict[str, Any] | None:
    if answer is None:
        return None
    return {"outcome": answer.outcome, "text": answer.text, "published": answer.published}


@transaction.atomic
def answer_save(
    *,
    proposal: Proposal,
    responder: User,
    outcome: str,
    text: str = "",
    publish: bool | None = None,
    expected_outcome: str | None = None,
) -> Answer:
    """Create or change the answer to a published proposal.

    `publish` defaults to the strategy's "publish answers immediately" setting, and an
    answer already published stays so. `expected_outcome` is the outcome the responder
    saw ("" for none): when someone changed the answer since, this is a conflict rather
    than a silent overwrite.
    """

    if not may_answer(responder):
        raise NotAllowed(gettext_noop("Only responders give the city's answer."))
    text = answer_text_clean(outcome=outcome, text=text)
    # The proposal's row lock makes two responders saving at once take turns, so the
    # second sees the first one's answer (and its expected_outcome check can fail).
    proposal = Proposal.objects.select_for_update().select_related("strategy").get(pk=proposal.pk)
    if proposal.status != Proposal.Status.PUBLISHED:
        raise StateConflict(
            gettext_noop("Only published proposals can be answered; this one is %(status)s."),
            code="not_published",
            params={"status": proposal.status},
        )
    answer = Answer.objects.filter(proposal=proposal).first()
    current = answer.outcome if answer is not None else ""
    if expected_outcome is not None and expected_outcome != current:
        raise StateConflict(
            gettext_noop(
                "The answer is now %(outcome)s, not %(expected)s: someone changed it first."
            ),
            code="answer_changed",
            params={"outcome": current or "-", "expected": expected_outcome or "-"},
        )
    was_published = answer is not None and answer.published
    if publish is None:
        publish = was_published or proposal.strategy.publish_answers
    elif was_published and not publish:
        raise InvalidInput(
            gettext_noop("A published answer stays public; edit it instead."), field="publish"
        )

    before = _state(answer)
    now = timezone.now()
    if answer is None:
        answer = Answer(proposal=proposal, created_at=now)
    answer.outcome = outcome
    answer.text = text
    answer.published = publish
    if publish and answer.answered_at is None:
        answer.answered_at = now
    answer.updated_at = now
    answer.author = responder
    after = _state(answer)
    if before == after and answer.pk is not None:
        return answer  # nothing changed: no history row, no tally refresh
    answer.save()
    ProposalEvent.objects.create(
        proposal=proposal,
        actor=responder,
        action=ProposalEvent.Action.ANSWER,
        from_status=proposal.status,
        to_status=proposal.status,
        # The history API shows the new text as the row's note; the whole before and
        # after stay in `changes` for the answer's own page.
        note=text,
        changes={"before": before, "after": after},
        at=now,
    )
    tally_mark_dirty(strategy_id=proposal.strategy_id)
    summary_mark_dirty(strategy_id=proposal.strategy_id)
    if publish and not was_published:
        enqueue_on_commit("proposals.send_answer_emails", proposal.pk)
        fan_out_later(event="answer", object_id=proposal.pk)
    return answer


@dataclass
class GroupAnswer:
    """What a bulk answer did: the proposals answered, and those skipped with why."""

    answered: list[Proposal] = field(default_factory=list)
    skipped: list[tuple[Proposal, DomainError]] = field(default_factory=list)


@transaction.atomic
def answer_save_many(
    *,
    proposals: Iterable[Proposal],
    responder: User,
    outcome: str,
    text: str = "",
    publish: bool | None = None,
) -> GroupAnswer:
    """One answer for a group of near-duplicates: each member gets its own answer and its
    own history row. Members that cannot be answered (no longer published, or already
    published with another answer being kept) are skipped and reported, not failed."""
    if not may_answer(responder):
        raise NotAllowed(gettext_noop("Only responders give the city's answer."))
    answer_text_clean(outcome=outcome, text=text)  # refuse bad input before any row moves
    result = GroupAnswer()
    for proposal in proposals:
        try:
            with transaction.atomic():
                answer_save(
                    proposal=proposal,
                    responder=responder,
                    outcome=outcome,
                    text=text,
                    publish=publish,
                )
        except (StateConflict, InvalidInput) as exc:
            result.skipped.append((proposal, exc))
        else:
            result.answered.append(proposal)
    return result
