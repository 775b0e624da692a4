"""Report files of a whole strategy: wall time and peak memory of the process that builds
them, beside PostgreSQL's own COPY (SELECT ...) TO STDOUT of the same columns (the floor).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/civic_bench \\
        .venv/bin/python bench/reports.py --proposals 1000000

Each build runs in a fresh child process, as a worker would run it (the report task's own
code: claim, stream, write, finish), and reports its own peak RSS. The COPY runs in a child
too, writing to a file. The generated strategy is kept for the next run (--drop removes it).
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civic.settings")
# A developer's run, like `make run`: debug on unless the environment says otherwise.
os.environ.setdefault("DJANGO_DEBUG", "1")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from civic.accounts.models import User  # noqa: E402
from civic.accounts.services import role_grant  # noqa: E402
from data import drop, generated_strategy  # noqa: E402
from proposals.models import Proposal, Report  # noqa: E402

SLUG = "bench-reports"

# The same columns as the report, computed by PostgreSQL alone.
COPY_SQL = """
COPY (
  SELECT p.code, p.created_at, p.published_at, p.status, s.slug, sec.code, sec.title_ru,
         (SELECT string_agg(t.slug, ';' ORDER BY t.position, t.slug)
            FROM proposals_proposal_themes pt JOIN strategy_theme t ON t.id = pt.theme_id
           WHERE pt.proposal_id = p.id),
         d.slug, p.language, p.title, p.body,
         count(r.id) FILTER (WHERE r.kind = 'like'),
         count(r.id) FILTER (WHERE r.kind = 'indifferent'),
         count(r.id) FILTER (WHERE r.kind = 'funny'),
         count(r.id) FILTER (WHERE r.kind = 'sympathy'),
         count(r.id) FILTER (WHERE r.kind = 'outrage'),
         e.action, e.reason, e.note, e.at, dup.code
    FROM proposals_proposal p
    JOIN strategy_strategy s ON s.id = p.strategy_id
    LEFT JOIN strategy_section sec ON sec.id = p.section_id
    LEFT JOIN strategy_district d ON d.id = p.district_id
    LEFT JOIN proposals_proposalevent e ON e.id = p.latest_decision_id
    LEFT JOIN proposals_proposal dup ON dup.id = p.duplicate_of_id
    LEFT JOIN proposals_reaction r ON r.proposal_id = p.id
   WHERE p.strategy_id = %s
   GROUP BY p.id, s.slug, sec.code, sec.title_ru, d.slug, e.action, e.reason, e.note, e.at,
            dup.code
   ORDER BY p.id
) TO STDOUT WITH (FORMAT csv, HEADER)
"""


def child_build(report_id: int) -> None:
    """Run in the child: build one report exactly as the Celery task does."""
    from proposals.reports.tasks import report_build

    started = time.perf_counter()
    report_build.run(report_id)
    elapsed = time.perf_counter() - started
    report = Report.objects.get(pk=report_id)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    size = Path(report.file.path).stat().st_size if report.file else 0
    print(
        json.dumps(
            {
                "status": report.status,
                "error": report.error,
                "rows": report.row_count,
                "seconds": elapsed,
                "peak_mib": peak,
                "bytes": size,
            }
        )
    )


def child_copy(strategy_id: int, out: str) -> None:
    started = time.perf_counter()
    size = 0
    connection.ensure_connection()
    with (
        connection.connection.cursor() as cursor,
        cursor.copy(COPY_SQL, (strategy_id,)) as copy,
        open(out, "wb") as target,  # noqa: PTH123
    ):
        for data in copy:
            target.write(data)
            size += len(data)
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": elapsed, "peak_mib": peak, "bytes": size}))


def _run_child(*args: str) -> dict:
    result = subprocess.run(
        [sys.executable, __file__, *args], capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--proposals", type=int, default=1_000_000)
    parser.add_argument("--formats", default="csv,xlsx")
    parser.add_argument("--drop", action="store_true", help="remove the generated strategy")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("This benchmark compares with PostgreSQL's COPY: set DATABASE_URL.")

    call_command("migrate", verbosity=0)
    strategy = generated_strategy(SLUG, args.proposals, body_words=50)
    analyst, _ = User.objects.get_or_create(
        email="bench-analyst@example.org", defaults={"display_name": "bench analyst"}
    )
    role_grant(user=analyst, role="analyst")
    count = Proposal.objects.filter(strategy=strategy).count()
    print(f"database: {connection.vendor}; proposals: {count:,}; media: {settings.MEDIA_ROOT}")

    floor = _run_child("--child-copy", str(strategy.pk), "/tmp/civic-bench-copy.csv")  # noqa: S108
    print(f"{'what':8} {'rows':>10} {'seconds':>8} {'x COPY':>7} {'peak MiB':>9} {'file MiB':>9}")
    print(
        f"{'COPY':8} {count:>10,} {floor['seconds']:>8.1f} {1:>7.2f} "
        f"{floor['peak_mib']:>9.0f} {floor['bytes'] / 2**20:>9.1f}"
    )
    for format in args.formats.split(","):
        report = Report.objects.create(ordered_by=analyst, strategy=strategy, format=format)
        result = _run_child("--child-build", str(report.pk))
        if result["status"] != "done":
            print(f"{format}: {result['status']}: {result['error']}")
            continue
        print(
            f"{format.upper():8} {result['rows']:>10,} {result['seconds']:>8.1f} "
            f"{result['seconds'] / floor['seconds']:>7.2f} {result['peak_mib']:>9.0f} "
            f"{result['bytes'] / 2**20:>9.1f}"
        )
        report.file.delete(save=False)
        report.delete()
    Path("/tmp/civic-bench-copy.csv").unlink(missing_ok=True)  # noqa: S108
    if args.drop:
        drop(strategy)


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child-build":
        child_build(int(sys.argv[2]))
    elif len(sys.argv) > 3 and sys.argv[1] == "--child-copy":
        child_copy(int(sys.argv[2]), sys.argv[3])
    else:
        main()
