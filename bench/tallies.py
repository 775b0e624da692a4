"""How long a full tally rebuild takes for a strategy with many proposals.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/civic_bench \\
        .venv/bin/python bench/tallies.py --proposals 1000000

Rows are generated inside PostgreSQL with generate_series (a million take well
under a minute); on SQLite they are inserted in batches, so keep it small there.
The strategy it creates is dropped afterwards unless --keep is given. Prints the
time of each rebuild and the peak memory of this process.
"""

import argparse
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civic.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from civic.accounts.models import User  # noqa: E402
from proposals.models import Proposal, Reaction, Tally  # noqa: E402
from proposals.tallies import tally_rebuild  # noqa: E402
from strategy.models import District, Section, Strategy, Theme  # noqa: E402

SLUG = "bench-tallies"


def _fill_postgres(strategy: Strategy, count: int, author: User) -> None:
    sections = list(Section.objects.filter(strategy=strategy).values_list("id", flat=True))
    districts = list(District.objects.values_list("id", flat=True))
    themes = list(Theme.objects.values_list("id", flat=True))
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO proposals_proposal
                (code, strategy_id, section_id, author_id, title, body, search_text, language,
                 district_id, status, created_at, updated_at, published_at)
            SELECT 'BEN-' || lpad(n::text, 8, '0'), %(strategy)s,
                   (%(sections)s::bigint[])[1 + n %% cardinality(%(sections)s::bigint[])],
                   %(author)s, 'Предложение ' || n, repeat('текст ', 10), '',
                   (ARRAY['ru','kk','en'])[1 + n %% 3],
                   (%(districts)s::bigint[])[1 + n %% cardinality(%(districts)s::bigint[])],
                   (ARRAY['published','published','published','pending','rejected',
                          'changes_requested','withdrawn'])[1 + n %% 7],
                   now() - (n %% 90) * interval '1 day', now(),
                   CASE WHEN n %% 7 < 3 THEN now() - (n %% 80) * interval '1 day' END
            FROM generate_series(1, %(count)s) AS n
            """,
            {
                "strategy": strategy.pk,
                "sections": sections,
                "author": author.pk,
                "districts": districts,
                "count": count,
            },
        )
        cursor.execute(
            """
            INSERT INTO proposals_proposal_themes (proposal_id, theme_id)
            SELECT p.id, (%(themes)s::bigint[])[1 + (p.id + k) %% cardinality(%(themes)s::bigint[])]
            FROM proposals_proposal p, generate_series(0, 1) AS k
            WHERE p.strategy_id = %(strategy)s
            """,
            {"themes": themes, "strategy": strategy.pk},
        )
        # One reaction on every fifth proposal, from one of a few hundred residents.
        cursor.execute(
            """
            INSERT INTO proposals_reaction (proposal_id, user_id, kind, created_at, updated_at)
            SELECT p.id, %(author)s,
                   (ARRAY['like','indifferent','funny','sympathy','outrage'])[1 + p.id %% 5],
                   now(), now()
            FROM proposals_proposal p
            WHERE p.strategy_id = %(strategy)s AND p.id %% 5 = 0
            """,
            {"author": author.pk, "strategy": strategy.pk},
        )
        cursor.execute("ANALYZE")


def _fill_batches(strategy: Strategy, count: int, author: User) -> None:
    sections = list(Section.objects.filter(strategy=strategy))
    districts = list(District.objects.all())
    statuses = [
        "published",
        "published",
        "published",
        "pending",
        "rejected",
        "changes_requested",
        "withdrawn",
    ]
    batch = []
    for n in range(1, count + 1):
        status = statuses[n % 7]
        batch.append(
            Proposal(
                code=f"BEN-{n:08d}",
                strategy=strategy,
                section=sections[n % len(sections)],
                author=author,
                title=f"Предложение {n}",
                body="текст " * 10,
                language=["ru", "kk", "en"][n % 3],
                district=districts[n % len(districts)],
                status=status,
                published_at=strategy.created_at if status == "published" else None,
            )
        )
        if len(batch) == 5000:
            Proposal.objects.bulk_create(batch)
            batch = []
    Proposal.objects.bulk_create(batch)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--proposals", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the generated strategy")
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    strategy = Strategy.objects.filter(slug=SLUG).first()
    if strategy is not None and not Proposal.objects.filter(strategy=strategy).exists():
        _drop(strategy)
        strategy = None
    if strategy is None:
        started = time.perf_counter()
        with transaction.atomic():
            strategy = Strategy.objects.create(
                slug=SLUG, code_prefix="BEN", status="open", title_ru="Бенчмарк"
            )
            for n in range(1, 9):
                Section.objects.create(
                    strategy=strategy, code=str(n), position=n, title_ru=f"Раздел {n}"
                )
            author, _ = User.objects.get_or_create(
                email="bench@example.org", defaults={"display_name": "bench"}
            )
            if connection.vendor == "postgresql":
                _fill_postgres(strategy, args.proposals, author)
            else:
                _fill_batches(strategy, args.proposals, author)
        print(f"generated {args.proposals:,} proposals in {time.perf_counter() - started:.1f} s")

    count = Proposal.objects.filter(strategy=strategy).count()
    reactions = Reaction.objects.filter(proposal__strategy=strategy).count()
    print(f"database: {connection.vendor}; proposals: {count:,}; reactions: {reactions:,}")
    timings = []
    for run in range(1, args.runs + 1):
        started = time.perf_counter()
        tally = tally_rebuild(strategy_id=strategy.pk)
        timings.append(time.perf_counter() - started)
        print(f"rebuild {run}: {timings[-1]:.2f} s (received {tally.data['totals']['received']:,})")
    print(f"best {min(timings):.2f} s, median {sorted(timings)[len(timings) // 2]:.2f} s")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory of this process: {peak:.0f} MiB")

    if not args.keep:
        _drop(strategy)


def _drop(strategy: Strategy) -> None:
    """Delete the generated rows in bulk: the ORM's cascade would load a million objects."""
    proposals = "SELECT id FROM proposals_proposal WHERE strategy_id = %s"
    with transaction.atomic(), connection.cursor() as cursor:
        for table in ("proposals_proposal_themes", "proposals_reaction", "proposals_proposalevent"):
            cursor.execute(
                f"DELETE FROM {table} WHERE proposal_id IN ({proposals})",  # noqa: S608
                [strategy.pk],
            )
        cursor.execute("DELETE FROM proposals_proposal WHERE strategy_id = %s", [strategy.pk])
        Tally.objects.filter(strategy=strategy).delete()
        Section.objects.filter(strategy=strategy).delete()
        strategy.delete()


if __name__ == "__main__":
    main()
