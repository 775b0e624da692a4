"""Keeping each strategy's fingerprints and near-duplicate groups up to date.

`duplicates_refresh` is the one entry point (the task after a submission or edit, the
sweeper, the command):

- after a submission or an edit it handles that one proposal: a changed text leaves its
  group (which is split again if it held the group together), and the new signature joins
  the groups of the proposals it shares a band with and is similar enough to;
- the sweeper hands it every stale proposal of the strategy, a chunk at a time; a proposal
  only touched by a decision keeps its fingerprint (its text is the same);
- many proposals without a fingerprint (a first run, an import), changed parameters or
  `full` regroup the whole strategy: signed and grouped in memory outside any transaction
  (on SQLite a transaction would stop every other write for that long), then written back
  in bulk under the lock.

The strategy's DuplicateIndex row is the lock that keeps two refreshes from writing at once.
A group is a connected set of proposals (an edge: estimated Jaccard similarity at least the
threshold); its label is its smallest proposal id.
"""

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from proposals.duplicates import fingerprint as fp
from proposals.duplicates.selectors import (
    MEMBERS_PER_GROUP,
    similar_fingerprints,
    stale_proposals,
)
from proposals.models import DuplicateIndex, Fingerprint, FingerprintBand, Proposal

_READ_CHUNK = 5_000
_WRITE_BATCH = 5_000
_STALE_CHUNK = 500
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


def _stale(strategy_id: int) -> Q:
    return Q(strategy_id=strategy_id) & stale_proposals()


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


def _locked_index(strategy_id: int) -> DuplicateIndex:
    index, _ = DuplicateIndex.objects.get_or_create(strategy_id=strategy_id)
    return DuplicateIndex.objects.select_for_update().get(pk=index.pk)


def _saved(index: DuplicateIndex, p: fp.Params) -> None:
    index.params = p.name
    index.built_at = timezone.now()
    index.save()


def duplicates_refresh(
    *, strategy_id: int, proposal_id: int | None = None, full: bool = False
) -> RefreshResult:
    """Bring one strategy's fingerprints and groups up to date with its proposals.

    With `proposal_id` (after a submission or an edit) only that proposal is looked at, two
    key reads; without it, every stale proposal of the strategy (the sweeper, the command).
    """
    p = fp.params()
    index, _ = DuplicateIndex.objects.get_or_create(strategy_id=strategy_id)
    whole = full or index.params != p.name
    if not whole and proposal_id is None:
        # Only the sweeper and the command pay for this scan of the strategy.
        without = (
            Proposal.objects.filter(strategy_id=strategy_id, fingerprint__isnull=True)
            .values_list("id", flat=True)
            .order_by("id")[: settings.CIVIC_DUPLICATE_BATCH + 1]
        )
        whole = len(without) > settings.CIVIC_DUPLICATE_BATCH
    if whole:
        regrouped = _regroup(strategy_id, p)
        with transaction.atomic():
            index = _locked_index(strategy_id)
            _write_all(strategy_id, regrouped, p)
            index.full_rebuilds += 1
            _saved(index, p)
        return RefreshResult(strategy_id, True, len(regrouped.ids), len(regrouped.ids))

    result = RefreshResult(strategy_id, False, 0, 0)
    with transaction.atomic():
        index = _locked_index(strategy_id)
        if proposal_id is not None:
            chunks: Iterator[list[int]] = iter([_stale_one(strategy_id, proposal_id)])
        else:
            chunks = _stale_chunks(strategy_id)
        handled = False
        for stale_ids in chunks:
            if stale_ids:
                handled = True
                done = _update(strategy_id, stale_ids, p)
                result.fingerprinted += done.fingerprinted
                result.groups_changed += done.groups_changed
        if handled:
            index.incremental_updates += 1
            _saved(index, p)
    return result


def _stale_chunks(strategy_id: int) -> Iterator[list[int]]:
    last = 0
    while True:
        ids = list(
            Proposal.objects.filter(_stale(strategy_id), id__gt=last)
            .order_by("id")
            .values_list("id", flat=True)[:_STALE_CHUNK]
        )
        if not ids:
            return
        yield ids
        last = ids[-1]


# --- The whole strategy ---------------------------------------------------------------------


def _relabel(table: dict[int, list[int]], groups: _Groups) -> None:
    """Gather under one label the rows of groups joined since they were met (the smaller
    list goes into the larger, so a campaign's list is never copied)."""
    for label in [label for label in table if groups.find(label) != label]:
        rows = table.pop(label)
        root = groups.find(label)
        target = table.get(root)
        if target is None:
            table[root] = rows
        elif len(target) >= len(rows):
            target.extend(rows)
        else:
            rows.extend(target)
            table[root] = rows


def group_signatures(ids: list[int], signatures: list[np.ndarray], p: fp.Params) -> _Groups:
    """Group proposals in memory. Proposals sharing a band key form a bucket. Each proposal
    is compared with the members of every other group met in that bucket (up to
    MEMBERS_PER_GROUP of each, as a lookup does) and joins those it is alike enough to, so a
    link to any member counts; a campaign of a thousand copies is one group in its buckets
    and costs about a thousand comparisons, not half a million."""
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
        # Per bucket: its rows met so far, by the label of their group.
        met: dict[int, dict[int, list[int]]] = defaultdict(dict)
        for row in shared.tolist():
            table = met[int(bucket_of[row])]
            _relabel(table, groups)
            own = groups.find(ids[row])
            for label, rows in list(table.items()):
                if label == groups.find(own):
                    continue
                for other in rows[:MEMBERS_PER_GROUP]:
                    if fp.similarity(matrix[other], matrix[row]) >= p.threshold:
                        groups.union(ids[other], ids[row])
                        break
            table.setdefault(groups.find(ids[row]), []).append(row)
    return groups


@dataclass
class _Regrouped:
    ids: list[int]
    stamps: list[Any]
    hashes: list[str]
    signatures: list[np.ndarray]
    groups: _Groups


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
            yield proposal_id, updated_at, fp.proposal_text(title, body)
        last = chunk[-1][0]


def _regroup(strategy_id: int, p: fp.Params) -> _Regrouped:
    """Sign and group every proposal of the strategy, in memory, holding no lock. A proposal
    edited meanwhile is written with the stamp of the text read, so it stays stale and the
    next refresh redoes it."""
    out = _Regrouped([], [], [], [], _Groups())
    batch: list[str] = []

    def flush() -> None:
        for text_hash, signature in fp.fingerprints(batch, p):
            out.hashes.append(text_hash)
            out.signatures.append(signature)
        batch.clear()

    for proposal_id, updated_at, text in _proposal_texts(strategy_id):
        out.ids.append(proposal_id)
        out.stamps.append(updated_at)
        batch.append(text)
        if len(batch) >= _READ_CHUNK:
            flush()
    flush()
    out.groups = group_signatures(out.ids, out.signatures, p)
    return out


def _write_all(strategy_id: int, regrouped: _Regrouped, p: fp.Params) -> None:
    FingerprintBand.objects.filter(strategy_id=strategy_id).delete()
    # The bands are gone, so nothing cascades: one DELETE, not the ORM's collector reading
    # every fingerprint back first (7 s at 50,000).
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {Fingerprint._meta.db_table} WHERE strategy_id = %s",  # noqa: S608
            [strategy_id],
        )
    ids = regrouped.ids
    for start in range(0, len(ids), _WRITE_BATCH):
        stop = start + _WRITE_BATCH
        Fingerprint.objects.bulk_create(
            Fingerprint(
                proposal_id=proposal_id,
                strategy_id=strategy_id,
                signature=fp.to_bytes(signature),
                text_hash=text_hash,
                group=regrouped.groups.find(proposal_id),
                computed_at=updated_at,
            )
            for proposal_id, signature, text_hash, updated_at in zip(
                ids[start:stop],
                regrouped.signatures[start:stop],
                regrouped.hashes[start:stop],
                regrouped.stamps[start:stop],
                strict=True,
            )
        )
        _write_bands(strategy_id, ids[start:stop], regrouped.signatures[start:stop], p)
    if connection.vendor == "postgresql":
        # The planner's statistics still describe the tables before the bulk write: without
        # fresh ones it scans every band instead of reading the key index (100 ms a lookup
        # at 100,000 proposals instead of 1).
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE proposals_fingerprint, proposals_fingerprintband")


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
    # Oldest first (the model's ordering is newest first): each joins the groups of older
    # ones under their label, instead of relabelling a growing group at every step.
    proposals = list(
        Proposal.objects.filter(pk__in=stale_ids)
        .order_by("id")
        .values_list("id", "updated_at", "title", "body")
    )
    existing = {
        fingerprint.proposal_id: fingerprint
        for fingerprint in Fingerprint.objects.filter(proposal_id__in=stale_ids).only(
            "proposal_id", "text_hash", "group", "computed_at"
        )
    }
    changed: list[tuple[int, Any, str, str]] = []
    touched: list[Fingerprint] = []
    for proposal_id, updated_at, title, body in proposals:
        text = fp.proposal_text(title, body)
        text_hash = fp.text_hash(text)
        old = existing.get(proposal_id)
        if old is not None and old.text_hash == text_hash:
            # A decision or withdrawal touched the row, not its text.
            old.computed_at = updated_at
            touched.append(old)
        else:
            changed.append((proposal_id, updated_at, text, text_hash))
    Fingerprint.objects.bulk_update(touched, ["computed_at"])
    if not changed:
        return RefreshResult(strategy_id, False, 0, 0)

    changed_ids = {proposal_id for proposal_id, *_ in changed}
    leaving_groups = {
        fingerprint.group
        for proposal_id, fingerprint in existing.items()
        if proposal_id in changed_ids
    }
    FingerprintBand.objects.filter(fingerprint_id__in=changed_ids).delete()
    Fingerprint.objects.filter(proposal_id__in=changed_ids).delete()
    groups_changed = _split(strategy_id, leaving_groups, changed_ids, p)

    signatures = fp.signatures([text for _, _, text, _ in changed], p)
    for (proposal_id, updated_at, _, text_hash), signature in zip(changed, signatures, strict=True):
        similar_groups = {
            group
            for _, group, _ in similar_fingerprints(
                strategy_id=strategy_id, signature=signature, exclude=proposal_id
            )
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
