"""Reads for the city's answers: the responder's queue, an answer's history."""

from collections.abc import Mapping
from typing import Any

from django.db.models import (
    Case,
    Count,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from civic.accounts.models import User
from civic.accounts.selectors import staff_groups_prefetch
from proposals.filters import UNANSWERED, answered_q, overdue_q
from proposals.models import Answer, AnswerSectionLink, Proposal, ProposalEvent, Reaction
from proposals.selectors import proposal_list

# Reactions that count as support for the strategy's threshold: a like, sympathy or
# outrage asks the city to act; indifference and amusement do not.
SUPPORT_KINDS = (Reaction.Kind.LIKE, Reaction.Kind.SYMPATHY, Reaction.Kind.OUTRAGE)
STATES = ("awaiting", "draft", "answered", "overdue", "all")


def support_count() -> Subquery:
    """The supporting reactions of the outer proposal, as a subquery."""
    counted = (
        Reaction.objects.filter(proposal_id=OuterRef("pk"), kind__in=SUPPORT_KINDS)
        .order_by()
        .values("proposal_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def answer_queue(
    *, user: User, filters: Mapping[str, Any] | None = None, state: str = "awaiting"
) -> QuerySet[Proposal]:
    """Published proposals for a responder, with the list's filters.

    `awaiting` (no public answer yet, drafts included) lists the proposals the strategy
    asks to answer first (at least its support threshold) before the rest, each part
    oldest first; the other states are newest answers first.
    """
    filters = {k: v for k, v in (filters or {}).items() if k not in ("ordering", "status")}
    queryset = proposal_list(user=user, filters=filters).filter(status=Proposal.Status.PUBLISHED)
    queryset = queryset.annotate(support=support_count())
    if state == "answered":
        return queryset.filter(answered_q()).order_by("-answer__updated_at", "-id")
    if state == "draft":
        return queryset.filter(answer__published=False).order_by("-answer__updated_at", "-id")
    if state == "all":
        return queryset.order_by("published_at", "id")
    if state == "overdue":
        queryset = queryset.filter(overdue_q())
    else:
        queryset = queryset.exclude(answered_q())
    first = Q(
        strategy__support_threshold__isnull=False, support__gte=F("strategy__support_threshold")
    )
    return queryset.annotate(
        priority=Case(When(first, then=Value(1)), default=Value(0), output_field=IntegerField())
    ).order_by("-priority", "published_at", "id")


def answer_state_counts(*, queryset: QuerySet[Proposal]) -> dict[str, int]:
    """How many published proposals of a filtered set await, have a draft, are answered."""
    rows = Proposal.objects.filter(pk__in=queryset.order_by().values("pk")).aggregate(
        awaiting=Count("id", filter=~answered_q()),
        draft=Count("id", filter=Q(answer__published=False)),
        answered=Count("id", filter=answered_q()),
        overdue=Count("id", filter=overdue_q()),
    )
    return rows


def outcome_counts(*, queryset: QuerySet[Proposal]) -> dict[str, int]:
    """Public answers of a filtered set of proposals by outcome, and how many published
    ones await an answer: one GROUP BY over the set."""
    rows = dict(
        Proposal.objects.filter(
            pk__in=queryset.order_by().values("pk"), status=Proposal.Status.PUBLISHED
        )
        .order_by()
        .annotate(
            outcome=Case(When(answered_q(), then=F("answer__outcome")), default=Value(UNANSWERED))
        )
        .values_list("outcome")
        .annotate(n=Count("id"))
    )
    return {code: rows.get(code, 0) for code in (*Answer.Outcome.values, UNANSWERED)}


def answer_history(*, proposal: Proposal) -> QuerySet[ProposalEvent]:
    """Every version of the answer to a proposal, oldest first."""
    return (
        proposal.events.filter(action=ProposalEvent.Action.ANSWER)
        .select_related("actor")
        .prefetch_related(staff_groups_prefetch("actor"))
    )


def section_links_of(*, proposal: Proposal) -> list[AnswerSectionLink]:
    """The sections of revised strategy versions this proposal was linked to."""
    return list(
        AnswerSectionLink.objects.filter(proposal=proposal)
        .select_related("version")
        .order_by("version__number", "section_code")
    )
