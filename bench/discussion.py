"""The discussion under a proposal: SQL queries and render time of the proposal page and of
the comments API, for discussions of 10, 100 and 1,000 comments.

    .venv/bin/python bench/discussion.py                  # a fresh SQLite database
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/civic_bench_disc .venv/bin/python bench/discussion.py
    .venv/bin/python bench/discussion.py --sizes 1000 --profile    # where the time goes

Without DATABASE_URL it builds its own throw-away SQLite database; with it, the database
must be migrated (`DJANGO_DEBUG=1 DATABASE_URL=… manage.py migrate`). Either way the run
makes its own strategy `bench-discussion`, and removes what an earlier run left in it.

Each size is a published proposal with the city's answer and N comments: a third of them
replies, some hidden by a moderator, some hidden by residents' flags, some deleted with a
reply under them (and some without, which leave the list), some edited, written by
residents, the proposal's author and every staff role. Each is read as an anonymous
visitor, as a verified resident who wrote some of the comments (some still editable) and
flagged others, and as a moderator: the proposal page, and the API's first and last pages
of 100 comments. Each URL is fetched once to warm up, once to count its queries, then
`--runs` times for the median. The run exits with 1 if a viewer's query count for a URL
differs between sizes: the counts must not grow with the discussion.
"""

import argparse
import cProfile
import io
import math
import os
import pstats
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civic.settings")
# A developer's run, like `make run` and bench/page_queries.py: debug on unless the
# environment says otherwise (debug off needs collected static files and a secret key).
os.environ.setdefault("DJANGO_DEBUG", "1")
if not os.environ.get("DATABASE_URL"):
    os.environ["CIVIC_DATA_DIR"] = tempfile.mkdtemp(prefix="civic-discussion-")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core import signals  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import close_old_connections, connection, reset_queries, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from civic.accounts.models import User  # noqa: E402
from civic.accounts.services import role_grant  # noqa: E402
from proposals.answers.services import answer_save  # noqa: E402
from proposals.comments.selectors import comment_list  # noqa: E402
from proposals.models import Comment, CommentFlag, Proposal  # noqa: E402
from proposals.services import proposal_moderate, proposal_submit  # noqa: E402
from strategy.models import Strategy  # noqa: E402

SLUG = "bench-discussion"
API_PAGE = 100  # the API's largest page (civic/pagination.py)
VIEWERS = ("anonymous", "resident", "moderator")

BODIES = [
    "Согласен, этот участок давно нужно привести в порядок.",
    "Каждую весну здесь стоит вода по щиколотку, и дети ходят в школу в обход по проезжей "
    "части. Ливнёвку чистили последний раз лет пять назад, решётки забиты листьями. "
    "Фото выкладывал в канале района: https://example.kz/photos/drain?id=42",
    "Поддерживаю предложение, но с одной оговоркой: освещение надо ставить не только вдоль "
    "арыков, но и во дворах, где сейчас темно уже в шесть вечера.\n\nВ прошлом году "
    "похожий проект сделали в Бостандыкском районе, и жалоб стало заметно меньше.",
    "Не уверен, что деревья приживутся без полива. Кто будет отвечать за уход за ними "
    "первые три года? В тексте предложения об этом ничего не сказано, а без ухода "
    "саженцы засохнут к августу, как это уже было на проспекте Абая. Подробнее о том, "
    "как это устроено в других городах: https://example.kz/articles/trees-care и "
    "http://example.org/urban-green/report.pdf\n\nПредлагаю добавить в предложение "
    "пункт о договоре на уход.",
]


def _person(email: str, name: str, role: str | None = None) -> User:
    user, _ = User.objects.get_or_create(
        email=email,
        defaults={
            "display_name": name,
            "email_verified": True,
            "consented_terms_version": settings.CIVIC_TERMS_VERSION,
            "consented_at": timezone.now(),
        },
    )
    if role:
        role_grant(user=user, role=role)
    return user


def _people() -> dict[str, object]:
    residents = [_person(f"disc-resident{n}@bench.example.org", f"Житель {n}") for n in range(12)]
    return {
        "author": _person("disc-author@bench.example.org", "Автор предложения"),
        "viewer": _person("disc-viewer@bench.example.org", "Читатель"),
        "moderator": _person("disc-moderator@bench.example.org", "Модератор", "moderator"),
        "analyst": _person("disc-analyst@bench.example.org", "Аналитик", "analyst"),
        "responder": _person("disc-responder@bench.example.org", "Ответчик", "responder"),
        "admin": _person("disc-admin@bench.example.org", "Админ", "admin"),
        "residents": residents,
    }


def _strategy() -> Strategy:
    today = timezone.localdate()
    strategy, _ = Strategy.objects.get_or_create(
        slug=SLUG,
        defaults={
            "code_prefix": "DSC",
            "status": Strategy.Status.OPEN,
            "title_ru": "Бенчмарк обсуждения",
            "opens_at": today - timedelta(days=30),
            "closes_at": today + timedelta(days=30),
        },
    )
    # Comments keep their authors (PROTECT), proposals keep the rest: comments go first.
    Comment.objects.filter(proposal__strategy=strategy).delete()
    Proposal.objects.filter(strategy=strategy).delete()
    return strategy


def _author_of(i: int, people: dict) -> User:
    """Twelve slots: the viewer, the proposal's author, each staff role, and residents."""
    slot = i % 12
    named = {0: "viewer", 2: "author", 4: "moderator", 6: "analyst", 8: "responder", 10: "admin"}
    if slot in named:
        return people[named[slot]]
    pool = people["residents"]
    return pool[(i // 12 + slot) % len(pool)]


def make_discussion(proposal: Proposal, size: int, people: dict) -> dict[str, int]:
    """`size` comments in the proportions the docstring gives, straight into the tables.

    Not through the services: without a broker every write would run its tasks (the fan-out
    of notifications, a tally rebuild) in process, and this measures reading only. The rows
    are what the services leave: the table's check constraints hold them to it.
    """
    now = timezone.now()
    step = timedelta(seconds=30)  # the last 30 are within the 15-minute edit window
    rows: list[Comment] = []
    for i in range(size):
        deleted = i % 9 == 3 or i % 9 == 7  # 3: a reply stands under it; 7: none does
        hidden_by, reason = "", ""
        if not deleted and i % 10 == 1:
            hidden_by = Comment.HiddenBy.MODERATOR
            reason = ("spam", "offensive", "personal_data", "off_topic", "other")[i // 10 % 5]
        elif not deleted and i % 10 == 6:
            hidden_by, reason = Comment.HiddenBy.FLAGS, Comment.HideReason.FLAGGED
        created = now - (size - i) * step
        rows.append(
            Comment(
                proposal=proposal,
                author=_author_of(i, people),
                body="" if deleted else BODIES[i % len(BODIES)] + f" (№{i})",
                created_at=created,
                edited_at=created + timedelta(minutes=2) if not deleted and i % 7 == 5 else None,
                deleted_at=created + timedelta(minutes=5) if deleted else None,
                hidden_by=hidden_by,
                hidden_reason=reason,
            )
        )
    with transaction.atomic():
        # Every third comment (i % 3 == 2) replies to the one two before it (i % 3 == 0).
        tops = [c for i, c in enumerate(rows) if i % 3 != 2]
        Comment.objects.bulk_create(tops)
        for i, comment in enumerate(rows):
            if i % 3 == 2:
                comment.parent = rows[i - 2]
        Comment.objects.bulk_create([c for i, c in enumerate(rows) if i % 3 == 2])
        flags = []
        residents, viewer = people["residents"], people["viewer"]
        for i, comment in enumerate(rows):
            if comment.hidden_by == Comment.HiddenBy.FLAGS:
                flaggers = [r for r in residents if r.pk != comment.author_id][:3]
                flags += [CommentFlag(comment=comment, user=r, reason="spam") for r in flaggers]
            elif i % 10 == 8 and not comment.deleted_at and comment.author_id != viewer.pk:
                # The resident viewer has reported these; the page offers no second report.
                flags.append(CommentFlag(comment=comment, user=viewer, reason="spam"))
        CommentFlag.objects.bulk_create(flags)
    return {
        "replies": sum(1 for c in rows if c.parent_id),
        "hidden_by_moderator": sum(1 for c in rows if c.hidden_by == Comment.HiddenBy.MODERATOR),
        "hidden_by_flags": sum(1 for c in rows if c.hidden_by == Comment.HiddenBy.FLAGS),
        "deleted": sum(1 for c in rows if c.deleted_at),
        "edited": sum(1 for c in rows if c.edited_at),
        "flags": len(flags),
    }


def make_proposal(strategy: Strategy, size: int, people: dict) -> Proposal:
    proposal = proposal_submit(
        author=people["author"],
        strategy=strategy,
        title=f"Обсуждение на {size} комментариев",
        body="Посадить деревья вдоль арыков и починить освещение во дворах микрорайона.",
    )
    proposal = proposal_moderate(
        proposal=proposal, moderator=people["moderator"], decision="approve"
    )
    answer_save(
        proposal=proposal,
        responder=people["responder"],
        outcome="accepted_in_part",
        text="Освещение включено в план на следующий год; посадки — после проекта полива.",
        publish=True,
    )
    return proposal


def _fetch(client: Client, url: str, runs: int, sql: bool = False) -> dict[str, object]:
    client.get(url)  # warm-up
    # The log holds at most 9,000 queries (DEBUG): making the data filled it.
    reset_queries()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    if sql:
        for n, query in enumerate(queries.captured_queries, 1):
            print(f"    {n:>3}. {query['sql'][:300]}")
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        client.get(url)
        times.append((time.perf_counter() - started) * 1000)
    return {
        "status": response.status_code,
        "queries": len(queries),
        "ms": statistics.median(times),
        "bytes": len(response.content),
        # Comments on the page, or in the API's page.
        "shown": len(response.json()["results"])
        if url.startswith("/api/")
        else response.content.count(b'<article class="comment'),
    }


def _targets(proposal: Proposal, shown: int) -> list[tuple[str, str]]:
    api = f"/api/v1/proposals/{proposal.pk}/comments/?page_size={API_PAGE}"
    last = max(1, math.ceil(shown / API_PAGE))
    return [
        ("page", f"/ru/proposals/{proposal.pk}/"),
        ("API page 1", f"{api}&page=1"),
        ("API last page", f"{api}&page={last}"),
    ]


def _profile(client: Client, url: str, runs: int, limit: int) -> None:
    """cProfile's view of `runs` fetches; it slows call-heavy code (templates) the most."""
    client.get(url)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(runs):
        client.get(url)
    profiler.disable()
    for order in ("cumulative", "tottime"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(limit)
        print(f"--- {url}, {runs} runs, by {order}")
        print(out.getvalue())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10,100,1000", help="comments per discussion")
    parser.add_argument("--runs", type=int, default=7, help="timed fetches per URL (median)")
    parser.add_argument(
        "--profile", action="store_true", help="cProfile the largest page for each viewer"
    )
    parser.add_argument("--profile-lines", type=int, default=30)
    parser.add_argument("--sql", action="store_true", help="print each URL's queries")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    settings.ALLOWED_HOSTS = ["*"]
    # The decision and answer emails of the set-up stay in memory, off the table.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    # Keep one connection for the whole run, so each page's queries are all counted.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    if not os.environ.get("DATABASE_URL"):
        call_command("migrate", verbosity=0)

    started = time.perf_counter()
    people = _people()
    strategy = _strategy()
    proposals: dict[int, Proposal] = {}
    for size in sizes:
        proposals[size] = make_proposal(strategy, size, people)
        made = make_discussion(proposals[size], size, people)
        print(f"{size:>5} comments: " + ", ".join(f"{k} {v}" for k, v in made.items()))
    print(f"data made in {time.perf_counter() - started:.1f} s")

    clients = {"anonymous": Client()}
    for viewer, who in (("resident", "viewer"), ("moderator", "moderator")):
        clients[viewer] = Client()
        clients[viewer].force_login(people[who])
    for client in clients.values():
        # The session and the language settle on the first visit.
        client.get(f"/ru/proposals/{proposals[sizes[0]].pk}/")

    load = ", ".join(f"{n:.1f}" for n in os.getloadavg())
    print(
        f"\ndatabase: {connection.vendor}; DEBUG={settings.DEBUG}; load average {load} "
        f"on {os.cpu_count()} CPUs; median of {args.runs} fetches; API pages of {API_PAGE}"
    )
    header = (
        f"{'comments':>8} {'viewer':10} {'what':14} {'status':>6} {'queries':>7} "
        f"{'median ms':>9} {'shown':>5} {'KiB':>7}"
    )
    print(header)
    print("-" * len(header))
    counts: dict[tuple[str, str], dict[int, int]] = {}
    for size in sizes:
        proposal = proposals[size]
        for viewer in VIEWERS:
            client = clients[viewer]
            for what, url in _targets(proposal, shown=comment_list(proposal=proposal).count()):
                row = _fetch(client, url, args.runs, sql=args.sql)
                counts.setdefault((viewer, what), {})[size] = row["queries"]
                print(
                    f"{size:>8} {viewer:10} {what:14} {row['status']:>6} {row['queries']:>7} "
                    f"{row['ms']:>9.1f} {row['shown']:>5} {row['bytes'] / 1024:>7.1f}"
                )

    if args.profile:
        largest = proposals[max(sizes)]
        for viewer in VIEWERS:
            _profile(clients[viewer], f"/ru/proposals/{largest.pk}/", 3, args.profile_lines)

    grows = {key: by_size for key, by_size in counts.items() if len(set(by_size.values())) > 1}
    print()
    if grows:
        for (viewer, what), by_size in grows.items():
            print(f"QUERIES GROW: {viewer}, {what}: {by_size}")
        return 1
    if len(sizes) > 1:
        print("The query count of every viewer and URL is the same for every size.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
