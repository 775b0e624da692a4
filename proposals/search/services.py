"""Writes of the full-text index: one per proposal, in the transaction that sets its text.

PostgreSQL keeps a `search_vector` column (tsvector, GIN-indexed): the title weighs A and
the body B, each stemmed by the `russian` configuration (which stems English words with
the English Snowball stemmer) plus, under `simple`, the Kazakh stems of analysis.py.
SQLite keeps an FTS5 table `proposals_search` whose rowid is the proposal's id, holding
every stem from analysis.py. Neither is in the model: they are the engines' own kinds of
index, made by migration proposals 0019.
"""

from collections.abc import Iterable, Sequence

from django.db import connection, transaction

from proposals.models import Proposal
from proposals.search.analysis import index_terms, kazakh_terms, normalise

BATCH = 2000

_POSTGRES_UPDATE = """
    UPDATE proposals_proposal AS p SET search_vector =
        setweight(to_tsvector('russian', v.title), 'A')
        || setweight(to_tsvector('simple', v.title_kk), 'A')
        || setweight(to_tsvector('russian', v.body), 'B')
        || setweight(to_tsvector('simple', v.body_kk), 'B')
    FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[], %s::text[])
        AS v(id, title, title_kk, body, body_kk)
    WHERE p.id = v.id
"""


def _write(rows: Sequence[tuple[int, str, str]]) -> None:
    if not rows:
        return
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                _POSTGRES_UPDATE,
                [
                    [pk for pk, _, _ in rows],
                    [normalise(title) for _, title, _ in rows],
                    [kazakh_terms(title) for _, title, _ in rows],
                    [normalise(body) for _, _, body in rows],
                    [kazakh_terms(body) for _, _, body in rows],
                ],
            )
            return
        ids = [pk for pk, _, _ in rows]
        placeholders = ", ".join(["%s"] * len(ids))
        cursor.execute(f"DELETE FROM proposals_search WHERE rowid IN ({placeholders})", ids)  # noqa: S608
        cursor.executemany(
            "INSERT INTO proposals_search (rowid, title, body) VALUES (%s, %s, %s)",
            [(pk, index_terms(title), index_terms(body)) for pk, title, body in rows],
        )


def search_index_update(*, proposal_ids: Iterable[int]) -> None:
    """Index the current title and body of these proposals."""
    ids = list(proposal_ids)
    for start in range(0, len(ids), BATCH):
        _write(
            list(
                Proposal.objects.filter(pk__in=ids[start : start + BATCH]).values_list(
                    "pk", "title", "body"
                )
            )
        )


def search_index_rebuild(*, strategy_id: int | None = None) -> int:
    """Index every proposal (of one strategy, if given) again; returns how many.

    Walks the table by id in batches, so memory stays flat at a million rows.
    """
    proposals = Proposal.objects.order_by("pk")
    if strategy_id is not None:
        proposals = proposals.filter(strategy_id=strategy_id)
    done, last = 0, 0
    while True:
        rows = list(proposals.filter(pk__gt=last).values_list("pk", "title", "body")[:BATCH])
        if not rows:
            return done
        # One transaction a batch: on SQLite each INSERT would otherwise be its own commit.
        with transaction.atomic():
            _write(rows)
        done += len(rows)
        last = rows[-1][0]
