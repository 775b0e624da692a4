"""Keeping each strategy's fingerprints and near-duplicate groups up to date.

`duplicates_refresh` is the one entry point (the task after a submission or edit, the
sweeper, the command). It takes the strategy's DuplicateIndex row as a lock, then:

- with few new or changed proposals, handles them one by one: a changed text leaves its
  group (which is split again if it held the group together), and every new signature
  joins the groups of the proposals it shares a band with and is similar enough to;
- with many (a first run, an import) or after the parameters changed, regroups the whole
  strategy in memory and writes it back in bulk.

A group is a connected set of proposals (an edge: estimated Jaccard similarity at least
the threshold); its label is its smallest proposal id.
"""

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from proposals.duplicates import fingerprint as fp
from proposals.models import DuplicateIndex, Fingerprint, FingerprintBand, Proposal

_READ_CHUNK = 5_000
_WRITE_BATCH = 5_000
# SQLite allows 32,766 bound parameters; stay far below in IN (...) lists.
_IN_CHUNK = 900


@dataclass
class RefreshResult:
    strategy_id: int
    full: bool
    fingerprinted: int
    groups_changed: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "strategy": self.strategy_id,
            "full": self.full,
            "fingerprinted": self.fingerprinted,
            "groups_changed": self.groups_changed,
        }


class _Groups:
    """Union-find over proposal ids; a group's label is its smallest id."""

    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, item: int) -> int:
        parent = self.parent.setdefault(item, item)
        if parent != item:
            root = self.find(parent)
            self.parent[item] = root
            return root
        return item

    def union(self, a: int, b: int) -> None:
        root_a, root_b = self.find(a), self.find(b)
        if root_a != root_b:
            low, high = sorted((root_a, root_b))
            self.parent[high] = low


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _text(title: str, body: str) -> str:
    return f"{title}\n{body}"


def _stale(strategy_id: int) -> "Q":
    return Q(strategy_id=strategy_id) & (
        Q(fingerprint__isnull=True) | Q(updated_at__gt=F("fingerprint__computed_at"))
    )


def _stale_one(strategy_id: int, proposal_id: int) -> list[int]:
    # Two primary-key reads: the join of _stale, even narrowed to one id, lets PostgreSQL
    # hash the whole fingerprint table (120 ms at 100,000 proposals).
    updated_at = (
        Proposal.objects.filter(pk=proposal_id, strategy_id=strategy_id)
        .values_list("updated_at", flat=True)
        .first()
    )
    if updated_at is None:
        return []
    computed_at = (
        Fingerprint.objects.filter(proposal_id=proposal_id)
        .values_list("computed_at", flat=True)
        .first()
    )
    return [proposal_id] if computed_at is None or updated_at > computed_at else []


def strategies_needing_refresh() -> list[int]:
    """Strategies with a proposal that has no fingerprint or was updated since it was made,
    or whose index was built with other parameters than the settings' (a changed threshold)."""
    stale = (
        Proposal.objects.filter(
            Q(fingerprint__isnull=True) | Q(updated_at__gt=F("fingerprint__computed_at"))
        )
        .values_list("strategy_id", flat=True)
        .distinct()
    )
    outdated = DuplicateIndex.objects.exclude(params=fp.params().name).values_list(
        "strategy_id", flat=True
    )
    return sorted(set(stale) | set(outdated))


def duplicates_refresh(
    *, strategy_id: int, proposal_id: int | None = None, full: bool = False
) -> RefreshResult:
    """Bring one strategy's fingerprints and groups up to date with its proposals.

    With `proposal_id` (after a submission or an edit) only that proposal is looked at, an
    index read; without it, every proposal of the strategy is checked (the sweeper, the
    command), which reads the whole strategy.
    """
    p = fp.params()
    with transaction.atomic():
        index, _ = DuplicateIndex.objects.get_or_create(strategy_id=strategy_id)
        index = DuplicateIndex.objects.select_for_update().get(pk=index.pk)
        if proposal_id is not None and index.params == p.name and not full:
            stale_ids = _stale_one(strategy_id, proposal_id)
        else:
            stale_ids = list(
                Proposal.objects.filter(_stale(strategy_id))
                .order_by("id")
                .values_list("id", flat=True)[: settings.CIVIC_DUPLICATE_BATCH + 1]
            )
        if full or index.params != p.name or len(stale_ids) > settings.CIVIC_DUPLICATE_BATCH:
            count = _rebuild_all(strategy_id, p)
            result = RefreshResult(strategy_id, True, count, count)
            index.full_rebuilds += 1
        elif stale_ids:
            result = _update(strategy_id, stale_ids, p)
            index.incremental_updates += 1
        else:
            return RefreshResult(strategy_id, False, 0, 0)
        index.params = p.name
        index.built_at = timezone.now()
        index.save()
    return result


# --- The whole strategy ---------------------------------------------------------------------


def group_signatures(ids: list[int], signatures: list[np.ndarray], p: fp.Params) -> _Groups:
    """Group proposals in memory. Proposals sharing a band key form a bucket; each proposal
    is compared with one member of every group already met in that bucket and joins those
    it is similar enough to. A campaign of a thousand copies is one group in its buckets, so
    it costs a thousand comparisons, not half a million; two alike proposals behind an
    unlike older one still meet."""
    groups = _Groups()
    if not ids:
        return groups
    matrix = np.vstack(signatures)
    for band in range(p.bands):
        columns = matrix[:, band * p.rows : (band + 1) * p.rows]
        # Rows with equal band values are the bucket; np.unique groups them at C speed.
        _, bucket_of, counts = np.unique(columns, axis=0, return_inverse=True, return_counts=True)
        bucket_of = bucket_of.ravel()
        shared = np.flatnonzero(counts[bucket_of] > 1)
        # Per bucket: one row for each group met in it so far.
        met: dict[int, list[int]] = defaultdict(list)
        for row in shared.tolist():
            seen = met[int(bucket_of[row])]
            joined = False
            for other in seen:
                if groups.find(ids[other]) == groups.find(ids[row]):
                    joined = True
                elif fp.similarity(matrix[other], matrix[row]) >= p.threshold:
                    groups.union(ids[other], ids[row])
                    joined = True
            if not joined:
                seen.append(row)
    return groups


def _proposal_texts(strategy_id: int) -> Iterator[tuple[int, Any, str]]:
    last = 0
    while True:
        chunk = list(
            Proposal.objects.filter(strategy_id=strategy_id, id__gt=last)
            .order_by("id")
            .values_list("id", "updated_at", "title", "body")[:_READ_CHUNK]
        )
        if not chunk:
            return
        for proposal_id, updated_at, title, body in chunk:
            yield proposal_id, updated_at, _text(title, body)
        last = chunk[-1][0]


def _rebuild_all(strategy_id: int, p: fp.Params) -> int:
    ids: list[int] = []
    stamps: list[Any] = []
    hashes: list[str] = []
    signatures: list[np.ndarray] = []
    batch: list[str] = []

    def flush() -> None:
        for text_hash, signature in fp.fingerprints(batch, p):
            hashes.append(text_hash)
            signatures.append(signature)
        batch.clear()

    for proposal_id, updated_at, text in _proposal_texts(strategy_id):
        ids.append(proposal_id)
        stamps.append(updated_at)
        batch.append(text)
        if len(batch) >= _READ_CHUNK:
            flush()
    flush()
    groups = group_signatures(ids, signatures, p)

    FingerprintBand.objects.filter(strategy_id=strategy_id).delete()
    Fingerprint.objects.filter(strategy_id=strategy_id).delete()
    for start in range(0, len(ids), _WRITE_BATCH):
        stop = start + _WRITE_BATCH
        Fingerprint.objects.bulk_create(
            Fingerprint(
                proposal_id=proposal_id,
                strategy_id=strategy_id,
                signature=fp.to_bytes(signature),
                text_hash=text_hash,
                group=groups.find(proposal_id),
                computed_at=updated_at,
            )
            for proposal_id, signature, text_hash, updated_at in zip(
                ids[start:stop],
                signatures[start:stop],
                hashes[start:stop],
                stamps[start:stop],
                strict=True,
            )
        )
        _write_bands(strategy_id, ids[start:stop], signatures[start:stop], p)
    if connection.vendor == "postgresql":
        # The planner's statistics still describe the tables before the bulk write: without
        # fresh ones it scans every band instead of reading the key index (100 ms a lookup
        # at 100,000 proposals instead of 1).
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE proposals_fingerprint, proposals_fingerprintband")
    return len(ids)


def _write_bands(
    strategy_id: int, ids: list[int], signatures: list[np.ndarray], p: fp.Params
) -> None:
    rows = [
        (proposal_id, strategy_id, key)
        for proposal_id, signature in zip(ids, signatures, strict=True)
        for key in fp.band_keys(signature, p)
    ]
    if connection.vendor == "postgresql":
        # A first run writes a row per band of every proposal (14 per proposal by
        # default): COPY takes them several times faster than INSERT.
        table = FingerprintBand._meta.db_table
        with connection.cursor() as cursor:
            copy_sql = f"COPY {table} (fingerprint_id, strategy_id, key) FROM STDIN"  # noqa: S608
            with cursor.cursor.copy(copy_sql) as copy:
                for row in rows:
                    copy.write_row(row)
        return
    FingerprintBand.objects.bulk_create(
        (
            FingerprintBand(fingerprint_id=proposal_id, strategy_id=sid, key=key)
            for proposal_id, sid, key in rows
        ),
        batch_size=_WRITE_BATCH,
    )


# --- One proposal at a time -----------------------------------------------------------------


def band_candidates(strategy_id: int, keys: Iterable[int]) -> set[int]:
    """Proposals of the strategy sharing at least one of these band keys."""
    found: set[int] = set()
    for chunk in _chunks(sorted(set(keys)), _IN_CHUNK):
        found.update(
            FingerprintBand.objects.filter(strategy_id=strategy_id, key__in=chunk)
            .values_list("fingerprint_id", flat=True)
            .distinct()
        )
    return found


def stored_signatures(ids: Iterable[int]) -> dict[int, tuple[np.ndarray, int]]:
    """The stored signature and group of each of these proposals that has one."""
    found: dict[int, tuple[np.ndarray, int]] = {}
    for chunk in _chunks(sorted(set(ids)), _IN_CHUNK):
        for proposal_id, signature, group in Fingerprint.objects.filter(
            proposal_id__in=chunk
        ).values_list("proposal_id", "signature", "group"):
            found[proposal_id] = (fp.from_bytes(signature), group)
    return found


def _split(strategy_id: int, labels: set[int], leaving: set[int], p: fp.Params) -> int:
    """Regroup the members of groups some proposals are leaving: without them, the rest
    may no longer hang together."""
    changed = 0
    for label in labels:
        members = list(
            Fingerprint.objects.filter(strategy_id=strategy_id, group=label)
            .exclude(proposal_id__in=leaving)
            .order_by("proposal_id")
            .values_list("proposal_id", "signature")
        )
        ids = [proposal_id for proposal_id, _ in members]
        groups = group_signatures(ids, [fp.from_bytes(sig) for _, sig in members], p)
        relabel: dict[int, list[int]] = defaultdict(list)
        for proposal_id in ids:
            relabel[groups.find(proposal_id)].append(proposal_id)
        for new_label, proposal_ids in relabel.items():
            if new_label != label:
                for chunk in _chunks(proposal_ids, _IN_CHUNK):
                    changed += Fingerprint.objects.filter(proposal_id__in=chunk).update(
                        group=new_label
                    )
    return changed


def _update(strategy_id: int, stale_ids: list[int], p: fp.Params) -> RefreshResult:
    proposals = list(
        Proposal.objects.filter(pk__in=stale_ids).values_list("id", "updated_at", "title", "body")
    )
    existing = {
        proposal_id: (text_hash, group)
        for proposal_id, text_hash, group in Fingerprint.objects.filter(
            proposal_id__in=stale_ids
        ).values_list("proposal_id", "text_hash", "group")
    }
    changed: list[tuple[int, Any, str, str]] = []
    for proposal_id, updated_at, title, body in proposals:
        text = _text(title, body)
        text_hash = fp.text_hash(text)
        old = existing.get(proposal_id)
        if old is not None and old[0] == text_hash:
            # A decision or withdrawal touched the row, not its text.
            Fingerprint.objects.filter(proposal_id=proposal_id).update(computed_at=updated_at)
        else:
            changed.append((proposal_id, updated_at, text, text_hash))
    if not changed:
        return RefreshResult(strategy_id, False, 0, 0)

    changed_ids = {proposal_id for proposal_id, *_ in changed}
    leaving_groups = {
        group for proposal_id, (_, group) in existing.items() if proposal_id in changed_ids
    }
    FingerprintBand.objects.filter(fingerprint_id__in=changed_ids).delete()
    Fingerprint.objects.filter(proposal_id__in=changed_ids).delete()
    groups_changed = _split(strategy_id, leaving_groups, changed_ids, p)

    signatures = fp.signatures([text for _, _, text, _ in changed], p)
    for (proposal_id, updated_at, _, text_hash), signature in zip(changed, signatures, strict=True):
        keys = fp.band_keys(signature, p)
        candidates = stored_signatures(band_candidates(strategy_id, keys))
        similar_groups = {
            group
            for candidate, (other, group) in candidates.items()
            if fp.similarity(signature, other) >= p.threshold
        }
        label = min(similar_groups | {proposal_id})
        Fingerprint.objects.create(
            proposal_id=proposal_id,
            strategy_id=strategy_id,
            signature=fp.to_bytes(signature),
            text_hash=text_hash,
            group=label,
            computed_at=updated_at,
        )
        _write_bands(strategy_id, [proposal_id], [signature], p)
        merging = similar_groups - {label}
        if merging:
            groups_changed += Fingerprint.objects.filter(
                strategy_id=strategy_id, group__in=merging
            ).update(group=label)
    return RefreshResult(strategy_id, False, len(changed), groups_changed)
