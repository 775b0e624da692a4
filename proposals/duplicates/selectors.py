"""Reading near-duplicates: for an author before submitting, for a moderator beside a pending
proposal, for an analyst as the groups of a strategy with their sizes, and for the refresh
as the stored proposals a signature is like.

A lookup reads at most CANDIDATE_LIMIT proposals sharing a band (the oldest first) and at
most MEMBERS_PER_GROUP of any one group, so a campaign of fifty thousand copies costs what
a campaign of fifty does: a text like one member of a group is like the group.
"""

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
from django.db.models import Count, F, Q, QuerySet, Window
from django.db.models.functions import RowNumber

from civic.accounts.models import User
from proposals.duplicates import fingerprint as fp
from proposals.models import DuplicateIndex, Fingerprint, FingerprintBand, Proposal
from proposals.selectors import proposal_visible_to
from strategy.models import Strategy

# How many proposals of a group a list shows (its size counts them all).
GROUP_SAMPLE = 10
CANDIDATE_LIMIT = 1_000
MEMBERS_PER_GROUP = 32
MIN_SIZE_RANGE = (2, 1_000_000)


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


def parse_min_size(raw: str) -> int | None:
    """The smallest group size asked for, or None when `raw` is not a whole number in range
    (checked before int(): thousands of digits would make int() itself fail)."""
    low, high = MIN_SIZE_RANGE
    if not (raw.isascii() and raw.isdigit() and len(raw) <= len(str(high))):
        return None
    value = int(raw)
    return value if low <= value <= high else None


# --- For the refresh ------------------------------------------------------------------------


def similar_fingerprints(
    *, strategy_id: int, signature: np.ndarray, exclude: int | None = None
) -> list[tuple[int, int, float]]:
    """(proposal, group, similarity) of the stored fingerprints of the strategy at least the
    threshold alike to `signature`, among those sharing one of its bands."""
    p = fp.params()
    # Two index reads: the band rows, then the fingerprints by key. Asking the database for
    # the group in the same query (a join, DISTINCT, ORDER BY) made it hash the whole
    # fingerprint table: 120 ms a lookup at 100,000 proposals instead of 2.
    band_rows = FingerprintBand.objects.filter(
        strategy_id=strategy_id, key__in=fp.band_keys(signature, p)
    ).values_list("fingerprint_id", flat=True)[: 2 * CANDIDATE_LIMIT]
    candidates = sorted(set(band_rows) - {exclude})[:CANDIDATE_LIMIT]
    # Groups first, signatures only of the members compared: a campaign's thousand
    # candidates cost a thousand small rows and 32 signatures, not a thousand signatures.
    per_group: dict[int, list[int]] = defaultdict(list)
    for proposal_id, group in (
        Fingerprint.objects.filter(proposal_id__in=candidates)
        .order_by("proposal_id")
        .values_list("proposal_id", "group")
    ):
        if len(per_group[group]) < MEMBERS_PER_GROUP:
            per_group[group].append(proposal_id)
    group_of = {pk: group for group, members in per_group.items() for pk in members}
    found = []
    for proposal_id, stored in Fingerprint.objects.filter(proposal_id__in=group_of).values_list(
        "proposal_id", "signature"
    ):
        score = fp.similarity(signature, fp.from_bytes(stored))
        if score >= p.threshold:
            found.append((proposal_id, group_of[proposal_id], score))
    return found


def stale_proposals() -> Q:
    """Proposals without a fingerprint, or updated since theirs was made."""
    return Q(fingerprint__isnull=True) | Q(updated_at__gt=F("fingerprint__computed_at"))


def strategies_needing_refresh() -> list[int]:
    """Strategies with a proposal that has no fingerprint or was updated since it was made,
    or whose index was built with other parameters than the settings' (a changed threshold)."""
    stale = (
        Proposal.objects.filter(stale_proposals()).values_list("strategy_id", flat=True).distinct()
    )
    outdated = DuplicateIndex.objects.exclude(params=fp.params().name).values_list(
        "strategy_id", flat=True
    )
    return sorted(set(stale) | set(outdated))


# --- For people -----------------------------------------------------------------------------


def _similar_to(
    *, strategy_id: int, text: str, queryset: QuerySet[Proposal], exclude: int | None, limit: int
) -> list[Similar]:
    signature = fp.signature(text, fp.params())
    scores = {
        proposal_id: score
        for proposal_id, _, score in similar_fingerprints(
            strategy_id=strategy_id, signature=signature, exclude=exclude
        )
    }
    # Rank on the scores alone, then load only the rows shown.
    visible = set(queryset.filter(pk__in=scores).values_list("pk", flat=True))
    ranked = sorted(visible, key=lambda proposal_id: (-scores[proposal_id], proposal_id))[:limit]
    rows = Proposal.objects.in_bulk(ranked)
    return [Similar(rows[pk], round(scores[pk], 2)) for pk in ranked if pk in rows]


def near_duplicates_of_text(
    *, strategy: Strategy, title: str, body: str, limit: int = 5
) -> list[Similar]:
    """Published proposals of the strategy nearly the same as a text not yet submitted, most
    similar first: what the author is shown before submitting."""
    return _similar_to(
        strategy_id=strategy.pk,
        text=fp.proposal_text(title, body),
        queryset=Proposal.objects.filter(status=Proposal.Status.PUBLISHED),
        exclude=None,
        limit=limit,
    )


def near_duplicates_of_proposal(
    *, user: User, proposal: Proposal, limit: int = 20
) -> list[Similar]:
    """The proposals of the same strategy (that this user may see) nearly the same as this
    one, most similar first. Works from the text, so a proposal the background task has not
    fingerprinted yet already has its near-duplicates."""
    return _similar_to(
        strategy_id=proposal.strategy_id,
        text=fp.proposal_text(proposal.title, proposal.body),
        queryset=proposal_visible_to(user),
        exclude=proposal.pk,
        limit=limit,
    )


def group_sizes(*, proposal_ids: list[int], published_only: bool = False) -> dict[int, int]:
    """For each of these proposals in a group of two or more, the group's size
    (`published_only`: counting only the published members, what the public may know of)."""
    rows = list(
        Fingerprint.objects.filter(proposal_id__in=proposal_ids).values_list(
            "proposal_id", "strategy_id", "group"
        )
    )
    # Through the (strategy, group) index: a group label is unique within its strategy.
    by_strategy: dict[int, set[int]] = defaultdict(set)
    for _, strategy_id, group in rows:
        by_strategy[strategy_id].add(group)
    condition = Q()
    for strategy_id, groups in by_strategy.items():
        condition |= Q(strategy_id=strategy_id, group__in=groups)
    if published_only:
        condition &= Q(proposal__status=Proposal.Status.PUBLISHED)
    sizes = (
        dict(
            Fingerprint.objects.filter(condition)
            .values("strategy_id", "group")
            .annotate(size=Count("proposal_id"))
            .values_list("group", "size")
        )
        if rows
        else {}
    )
    return {proposal_id: sizes[group] for proposal_id, _, group in rows if sizes.get(group, 0) > 1}


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
    if not groups:
        return []
    statuses: dict[int, dict[str, int]] = defaultdict(dict)
    for label, status, count in (
        Fingerprint.objects.filter(strategy=strategy, group__in=groups)
        .values("group", "proposal__status")
        .annotate(count=Count("proposal_id"))
        .values_list("group", "proposal__status", "count")
    ):
        statuses[label][status] = count
    # The first GROUP_SAMPLE members of each group, numbered by the database: a group of
    # fifty thousand sends ten rows, not fifty thousand.
    first = (
        Fingerprint.objects.filter(strategy=strategy, group__in=groups)
        .annotate(
            place=Window(RowNumber(), partition_by=[F("group")], order_by=F("proposal_id").asc())
        )
        .filter(place__lte=GROUP_SAMPLE)
        .order_by("group", "proposal_id")
        .values_list("group", "proposal_id")
    )
    members: dict[int, list[int]] = defaultdict(list)
    for label, proposal_id in first:
        members[label].append(proposal_id)
    by_id = Proposal.objects.in_bulk(
        [proposal_id for ids in members.values() for proposal_id in ids]
    )
    for label, group in groups.items():
        group.statuses = dict(sorted(statuses[label].items()))
        group.proposals = [by_id[pk] for pk in members[label] if pk in by_id]
    return list(groups.values())
