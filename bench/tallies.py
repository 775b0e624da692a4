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
# A developer's run, like `make run`: debug on unless the environment says otherwise.
os.environ.setdefault("DJANGO_DEBUG", "1")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from data import drop, generated_strategy  # noqa: E402
from proposals.models import Answer, Proposal, Reaction  # noqa: E402
from proposals.tallies.services import tally_rebuild  # noqa: E402

SLUG = "bench-tallies"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--proposals", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the generated strategy")
    parser.add_argument(
        "--answered",
        type=int,
        default=50,
        help="percent of published proposals the city has answered (PostgreSQL only)",
    )
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    strategy = generated_strategy(SLUG, args.proposals)
    if (
        connection.vendor == "postgresql"
        and not Answer.objects.filter(proposal__strategy=strategy).exists()
    ):
        _answer(strategy, args.answered)
    count = Proposal.objects.filter(strategy=strategy).count()
    reactions = Reaction.objects.filter(proposal__strategy=strategy).count()
    answers = Answer.objects.filter(proposal__strategy=strategy).count()
    print(
        f"database: {connection.vendor}; proposals: {count:,}; reactions: {reactions:,}; "
        f"answers: {answers:,}"
    )
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
        drop(strategy)


def _answer(strategy: object, percent: int) -> None:
    """Answers for `percent` of the published proposals, in every outcome, 0–29 days after
    publication, written by PostgreSQL itself like the proposals are."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {Answer._meta.db_table}
                (proposal_id, outcome, text, published, answered_at, created_at, updated_at)
            SELECT id,
                   (ARRAY['accepted','accepted_in_part','already_planned','not_accepted',
                          'out_of_scope'])[1 + id %% 5],
                   'Ответ акимата', true,
                   published_at + interval '1 day' * (id %% 30), now(), now()
            FROM {Proposal._meta.db_table}
            WHERE strategy_id = %s AND status = 'published' AND id %% 100 < %s
            """,  # noqa: S608 - table names from the models, values as parameters
            [strategy.pk, percent],
        )


if __name__ == "__main__":
    main()
