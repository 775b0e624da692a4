from collections.abc import Mapping
from typing import Any

from django.db.models import Count, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from civic.accounts import roles
from civic.accounts.models import User
from civic.errors import InvalidInput
from proposals.filters import ProposalFilter
from proposals.models import Proposal, ProposalEvent, Reaction
from strategy.models import Theme


def _reaction_count(kind: str | None = None) -> Coalesce:
    reactions = Reaction.objects.filter(proposal_id=OuterRef("pk"))
    if kind:
        reactions = reactions.filter(kind=kind)
    counted = reactions.order_by().values("proposal_id").annotate(n=Count("id")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def _with_related(queryset: QuerySet[Proposal]) -> QuerySet[Proposal]:
    """Everything a proposal's representation needs, in a fixed number of queries."""
    return (
        queryset.select_related(
            "strategy", "section", "district", "author", "latest_decision", "duplicate_of"
        )
        .prefetch_related(Prefetch("themes", queryset=Theme.objects.only("id", "slug")))
        .annotate(
            reactions_total=_reaction_count(),
            **{f"reactions_{kind}": _reaction_count(kind) for kind in Reaction.Kind.values},
        )
    )


def proposal_visible_to(user: User) -> QuerySet[Proposal]:
    """Proposals this user may open: all for staff, published plus their own for others."""
    if user.is_authenticated and user.has_perm(roles.VIEW_ALL):
        return Proposal.objects.all()
    visible = Q(status=Proposal.Status.PUBLISHED)
    if user.is_authenticated:
        visible |= Q(author=user)
    return Proposal.objects.filter(visible)


def proposal_list(*, user: User, filters: Mapping[str, Any] | None = None) -> QuerySet[Proposal]:
    """The proposal list: published ones for everyone, every status for staff.

    Raises InvalidInput (one message per bad filter) rather than returning an empty
    page for a filter value that names nothing.
    """
    if user.is_authenticated and user.has_perm(roles.VIEW_ALL):
        queryset = Proposal.objects.all()
    else:
        queryset = Proposal.objects.filter(status=Proposal.Status.PUBLISHED)
    filterset = ProposalFilter(filters or {}, queryset=_with_related(queryset))
    if not filterset.is_valid():
        raise InvalidInput(
            "Invalid filter.",
            errors={field: list(messages) for field, messages in filterset.errors.items()},
        )
    return filterset.qs


def proposal_list_of_author(*, user: User) -> QuerySet[Proposal]:
    return _with_related(Proposal.objects.filter(author=user)).order_by("-created_at", "-id")


def proposal_get_visible(*, user: User, proposal_id: int) -> Proposal | None:
    """The proposal with everything its representation needs, if this user may see it."""
    return _with_related(proposal_visible_to(user)).filter(pk=proposal_id).first()


def proposal_find_visible(*, user: User, proposal_id: int) -> Proposal | None:
    """Just the row, for a write that is about to lock and reload it anyway."""
    return proposal_visible_to(user).filter(pk=proposal_id).first()


def reaction_counts(*, proposal: Proposal) -> dict[str, int]:
    counts = dict(
        Reaction.objects.filter(proposal=proposal)
        .order_by()
        .values_list("kind")
        .annotate(n=Count("id"))
    )
    return {kind: counts.get(kind, 0) for kind in Reaction.Kind.values}


def proposal_history(*, proposal: Proposal) -> QuerySet[ProposalEvent]:
    return proposal.events.select_related("actor").order_by("at", "id")
