"""Notifications at scale: one comment's fan-out to 100,000 followers, and the daily digest
run for 100,000 people, with the time and the process's peak memory.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/civic_bench .venv/bin/python bench/digest.py
    .venv/bin/python bench/digest.py --followers 10000     # a throw-away SQLite database

The digests go to a mail backend that builds each message to its final bytes, as the SMTP
backend does before it writes to the socket, and then drops it: the figure is Civic's own
work (queries, rendering, bookkeeping), not a mail server's. Each follower has
`--comments` new comments on the proposal they follow, so a digest lists that many items.
The rows are generated (bench/data.py's approach); nothing here is real residents' data.
Peak memory is the process's maximum resident set (ru_maxrss), read after each phase:
run with --followers 10000 and 100000 to see that it does not grow with the number.
"""

import argparse
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civic.settings")
os.environ.setdefault("DJANGO_DEBUG", "1")
if not os.environ.get("DATABASE_URL"):
    os.environ["CIVIC_DATA_DIR"] = tempfile.mkdtemp(prefix="civic-digest-")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.mail.backends.base import BaseEmailBackend  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, connections, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from civic.accounts.models import User  # noqa: E402
from proposals.following.emails import digest_due, send_digest_chunk, send_digests  # noqa: E402
from proposals.following.services import fan_out  # noqa: E402
from proposals.models import (  # noqa: E402
    Comment,
    Follow,
    Notification,
    NotificationDigest,
    Proposal,
)
from strategy.models import Strategy  # noqa: E402

SLUG = "bench-digest"
BATCH = 5000


class RenderingBackend(BaseEmailBackend):
    """Builds every message to bytes, like smtp.EmailBackend before sending, and drops it."""

    sent = 0
    size = 0

    def send_messages(self, messages: list) -> int:
        for message in messages:
            RenderingBackend.size += len(message.message().as_bytes())
        RenderingBackend.sent += len(messages)
        return len(messages)


def _worker_chunk(user_ids: list[int], now: datetime) -> tuple[int, int]:
    RenderingBackend.size = 0
    sent = send_digest_chunk(user_ids=user_ids, now=now)
    return sent, RenderingBackend.size


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def clean() -> None:
    Comment.objects.filter(proposal__strategy__slug=SLUG).delete()
    Proposal.objects.filter(strategy__slug=SLUG).delete()
    Strategy.objects.filter(slug=SLUG).delete()
    User.objects.filter(email__startswith="digest-bench-").delete()


def setup(followers: int, comments: int) -> tuple[Proposal, list[Comment]]:
    clean()
    started = time.perf_counter()
    with transaction.atomic():
        strategy = Strategy.objects.create(
            slug=SLUG, code_prefix="DIG", status="open", title_ru="Бенчмарк"
        )
        author = User.objects.create(
            email="digest-bench-author@example.org", display_name="author", email_verified=True
        )
        proposal = Proposal.objects.create(
            strategy=strategy,
            author=author,
            code="DIG-000001",
            title="Ливнёвка на Абая",
            body="Каждую весну перекрёсток затапливает.",
            status="published",
            language="ru",
            published_at=timezone.now(),
        )
        languages = ("ru", "kk", "en")
        for start in range(0, followers, BATCH):
            rows = [
                User(
                    email=f"digest-bench-reader-{n}@example.org",
                    display_name=f"Reader {n}",
                    language=languages[n % 3],
                    email_verified=True,
                    notify_email="daily",
                    password="!",  # noqa: S106 - an unusable password, as set_unusable_password makes
                )
                for n in range(start, min(start + BATCH, followers))
            ]
            User.objects.bulk_create(rows, batch_size=BATCH)
        reader_ids = (
            User.objects.filter(email__startswith="digest-bench-reader-")
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        for start in range(0, followers, BATCH):
            ids = list(reader_ids[start : start + BATCH])
            Follow.objects.bulk_create(
                [Follow(user_id=i, proposal=proposal) for i in ids], batch_size=BATCH
            )
        made = [
            Comment.objects.create(
                proposal=proposal, author=author, body=f"Комментарий {n}: вода стоит неделями."
            )
            for n in range(comments)
        ]
    print(
        f"set up {followers:,} followers and {comments} comments in {time.perf_counter() - started:.1f} s"
    )
    return proposal, made


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--followers", type=int, default=100_000)
    parser.add_argument("--comments", type=int, default=3)
    # Celery's default concurrency: a worker process per CPU.
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        call_command("migrate", verbosity=0)
    settings.EMAIL_BACKEND = f"{RenderingBackend.__module__}.RenderingBackend"
    settings.CIVIC_DIGEST_HOUR = 0
    print(
        f"database: {connection.vendor}; followers: {args.followers:,}; comments each: {args.comments}"
    )
    proposal, comments = setup(args.followers, args.comments)
    print(f"peak memory after setup: {peak_mib():.0f} MiB")

    started = time.perf_counter()
    for comment in comments:
        fan_out(event="comment", object_id=comment.pk)
    elapsed = time.perf_counter() - started
    rows = Notification.objects.filter(proposal=proposal).count()
    print(
        f"fan-out: {len(comments)} comments to {args.followers:,} followers, {rows:,} notifications "
        f"in {elapsed:.1f} s ({elapsed / len(comments):.1f} s a comment); peak memory {peak_mib():.0f} MiB"
    )

    if connection.vendor == "postgresql":
        # Fresh statistics, as autovacuum keeps them between a day's comments and its
        # digests: just after bulk inserts the planner would guess and scan the tables.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    now = timezone.now() + timezone.timedelta(seconds=1)
    started = time.perf_counter()
    chunks = list(digest_due(now=now))
    if args.processes == 1:
        sent = sum(send_digest_chunk(user_ids=chunk, now=now) for chunk in chunks)
        size = RenderingBackend.size
    else:
        # As the periodic task does with Celery workers: each chunk is one task, taken by
        # whichever worker process is free. Forked processes open their own connections.
        connections.close_all()
        with multiprocessing.get_context("fork").Pool(args.processes) as pool:
            results = pool.starmap(_worker_chunk, [(chunk, now) for chunk in chunks])
        sent = sum(n for n, _ in results)
        size = sum(b for _, b in results)
    elapsed = time.perf_counter() - started
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        f"digest run in {args.processes} process(es): {sent:,} emails "
        f"({size / max(sent, 1):,.0f} bytes each) in {elapsed:.1f} s "
        f"({sent / elapsed:,.0f} a second); peak memory {peak_mib():.0f} MiB"
        + (f", largest worker {children:.0f} MiB" if args.processes > 1 else "")
    )
    started = time.perf_counter()
    again = send_digests(now=now)
    print(f"second run the same day: {again} emails in {time.perf_counter() - started:.2f} s")
    sent_rows = NotificationDigest.objects.filter(
        sent_at__isnull=False, user__email__startswith="digest-bench-reader-"
    ).count()
    clean()
    if again or sent_rows != args.followers:
        sys.exit(f"wrong: {again} emails sent twice, {sent_rows:,} digests recorded")


if __name__ == "__main__":
    main()
