"""Reading near-duplicates: for an author before submitting, for a moderator beside a pending
proposal, and for an analyst as the groups of a strategy with their sizes."""

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, QuerySet

from civic.accounts.models import User
from proposals.duplicates import fingerprint as fp
from proposals.duplicates.services import band_candidates, stored_signatures
from proposals.models import Fingerprint, Proposal
from proposals.selectors import proposal_visible_to
from strategy.models import Strategy

# How many proposals of a group a list shows (its size counts them all).
GROUP_SAMPLE = 10


@dataclass(frozen=True)
class Similar:
    proposal: Proposal
    similarity: float


@dataclass
class DuplicateGroup:
    label: int
    size: int
    statuses: dict[str, int] = field(default_factory=dict)
    proposals: list[Proposal] = field(default_factory=list)


def _similar_to(
    *, strategy_id: int, text: str, queryset: QuerySet[Proposal], exclude: int | None, limit: int
) -> list[Similar]:
    p = fp.params()
    signature = fp.signature(text, p)
    candidates = band_candidates(strategy_id, fp.band_keys(signature, p))
    candidates.discard(exclude)
    scores = {
        proposal_id: fp.similarity(signature, other)
        for proposal_id, (other, _) in stored_signatures(candidates).items()
    }
    close = [proposal_id for proposal_id, score in scores.items() if score >= p.threshold]
    found = queryset.filter(pk__in=close).select_related("strategy")
    ranked = sorted(found, key=lambda proposal: (-scores[proposal.pk], proposal.pk))
    return [Similar(proposal, round(scores[proposal.pk], 2)) for proposal in ranked[:limit]]


def similar_published(
    *, strategy: Strategy, title: str, body: str, limit: int = 5
) -> list[Similar]:
    """Published proposals of the strategy nearly the same as a text not yet submitted, most
    similar first: what the author is shown before submitting."""
    return _similar_to(
        strategy_id=strategy.pk,
        text=f"{title}\n{body}",
        queryset=Proposal.objects.filter(status=Proposal.Status.PUBLISHED),
        exclude=None,
        limit=limit,
    )


def near_duplicates(*, user: User, proposal: Proposal, limit: int = 20) -> list[Similar]:
    """The proposals of the same strategy (that this user may see) nearly the same as this
    one, most similar first. Works from the text, so a proposal the background task has not
    fingerprinted yet already has its near-duplicates."""
    return _similar_to(
        strategy_id=proposal.strategy_id,
        text=f"{proposal.title}\n{proposal.body}",
        queryset=proposal_visible_to(user),
        exclude=proposal.pk,
        limit=limit,
    )


def group_sizes(*, proposal_ids: list[int]) -> dict[int, int]:
    """For each of these proposals in a group of two or more, the group's size."""
    labels = dict(
        Fingerprint.objects.filter(proposal_id__in=proposal_ids).values_list("proposal_id", "group")
    )
    sizes = dict(
        Fingerprint.objects.filter(group__in=set(labels.values()))
        .values("group")
        .annotate(size=Count("proposal_id"))
        .values_list("group", "size")
    )
    return {
        proposal_id: sizes[label]
        for proposal_id, label in labels.items()
        if sizes.get(label, 0) > 1
    }


def duplicate_group_labels(*, strategy: Strategy, min_size: int = 2) -> QuerySet:
    """(group, size) of the strategy's groups of at least `min_size`, largest first."""
    return (
        Fingerprint.objects.filter(strategy=strategy)
        .values("group")
        .annotate(size=Count("proposal_id"))
        .filter(size__gte=max(min_size, 2))
        .order_by("-size", "group")
        .values_list("group", "size")
    )


def duplicate_groups(*, strategy: Strategy, labels: list[tuple[int, int]]) -> list[DuplicateGroup]:
    """The groups of these (label, size) pairs with their status counts and first members."""
    groups = {label: DuplicateGroup(label=label, size=size) for label, size in labels}
    statuses: dict[int, Counter[str]] = defaultdict(Counter)
    for label, status, count in (
        Fingerprint.objects.filter(strategy=strategy, group__in=groups)
        .values("group", "proposal__status")
        .annotate(count=Count("proposal_id"))
        .values_list("group", "proposal__status", "count")
    ):
        statuses[label][status] = count
    members: dict[int, list[int]] = defaultdict(list)
    for label, proposal_id in (
        Fingerprint.objects.filter(strategy=strategy, group__in=groups)
        .order_by("group", "proposal_id")
        .values_list("group", "proposal_id")
    ):
        if len(members[label]) < GROUP_SAMPLE:
            members[label].append(proposal_id)
    wanted = [proposal_id for ids in members.values() for proposal_id in ids]
    by_id = Proposal.objects.select_related("strategy").in_bulk(wanted)
    for label, group in groups.items():
        group.statuses = dict(sorted(statuses[label].items()))
        group.proposals = [
            by_id[proposal_id] for proposal_id in members[label] if proposal_id in by_id
        ]
    return list(groups.values())
