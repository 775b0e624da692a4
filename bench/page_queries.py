"""How many SQL queries each web page makes, and how long it takes to render.

    .venv/bin/python bench/page_queries.py            # a fresh SQLite database with the demo
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/civic_pages .venv/bin/python bench/page_queries.py

Without DATABASE_URL it builds its own throw-away SQLite database with the demo data;
with it, the database must be migrated and hold the demo (`manage.py load_demo`).
Each page is fetched once to warm up, then measured; the query count includes the
session and the signed-in user. Lists hold 20 proposals a page (history 50), and the
counts do not depend on that: tests/frontend/test_queries.py pins them.

The demo has no discussion: the first run adds one to the measured proposal (20 comments,
each with a reply, one flagged), which its author's follow turns into notifications.
"""

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civic.settings")
# A developer's run, like `make run`: debug on unless the environment says otherwise.
os.environ.setdefault("DJANGO_DEBUG", "1")
if not os.environ.get("DATABASE_URL"):
    os.environ["CIVIC_DATA_DIR"] = tempfile.mkdtemp(prefix="civic-pages-")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core import signals  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import close_old_connections, connection, reset_queries  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from civic.accounts.models import User  # noqa: E402
from proposals import demo_data  # noqa: E402
from proposals.comments.services import comment_create, comment_flag  # noqa: E402
from proposals.following.services import follow_set  # noqa: E402
from proposals.models import Comment, Proposal  # noqa: E402


def discussion(proposal: Proposal, reader: User) -> Comment:
    """Comments on `proposal`, news of them for `reader`, and a flagged comment for the
    moderators' queue; made once, since a PostgreSQL database keeps them."""
    flagged = Comment.objects.filter(proposal=proposal, flags__isnull=False).first()
    if flagged is not None:
        return flagged
    emails = [person["email"] for person in demo_data.DEMO_RESIDENTS[:6]]
    people = [user for user in User.objects.filter(email__in=emails) if user != reader]
    follow_set(user=reader, following=True, proposal=proposal)
    follow_set(user=reader, following=True, strategy=proposal.strategy)
    tops = []
    for n in range(20):
        top = comment_create(
            proposal=proposal,
            author=people[n % len(people)],
            body=f"Поддерживаю, это нужно сделать в первую очередь ({n}).",
        )
        comment_create(
            proposal=proposal,
            author=people[(n + 1) % len(people)],
            body=f"Согласен, но сначала надо посчитать стоимость ({n}).",
            parent=top,
        )
        tops.append(top)
    comment_flag(comment=tops[0], user=people[1], reason="spam")
    return tops[0]


def main() -> None:
    settings.ALLOWED_HOSTS = ["*"]
    # Keep one connection for the whole run, so each page's queries are all counted.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    if not os.environ.get("DATABASE_URL"):
        call_command("migrate", verbosity=0)
        call_command("load_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    call_command("rebuild_tallies", stdout=open(os.devnull, "w"))  # noqa: SIM115
    published = Proposal.objects.filter(status="published").order_by("id").first()
    pending = Proposal.objects.filter(status="pending").order_by("id").first()
    asked = Proposal.objects.filter(status="changes_requested").order_by("id").first()
    flagged = discussion(published, asked.author)
    pages = [
        (None, "home", "/ru/"),
        (None, "strategy", "/ru/strategies/almaty-2050/"),
        (None, "tallies", "/ru/strategies/almaty-2050/tallies/"),
        (None, "proposal list", "/ru/proposals/"),
        (None, "proposal list, by reactions", "/ru/proposals/?ordering=-reactions&theme=transport"),
        (None, "proposal", f"/ru/proposals/{published.pk}/"),
        (None, "sign up", "/ru/signup/"),
        (None, "sign in", "/ru/login/"),
        (None, "password reset", "/ru/password-reset/"),
        (asked.author.email, "new proposal", "/ru/proposals/new/"),
        (asked.author.email, "my proposals", "/ru/me/proposals/"),
        (asked.author.email, "edit proposal", f"/ru/proposals/{asked.pk}/edit/"),
        (asked.author.email, "proposal (signed in)", f"/ru/proposals/{published.pk}/"),
        (asked.author.email, "strategy (signed in)", "/ru/strategies/almaty-2050/"),
        (asked.author.email, "notifications", "/ru/me/notifications/"),
        (asked.author.email, "notifications, unread", "/ru/me/notifications/?unread=1"),
        (asked.author.email, "notification settings", "/ru/me/notifications/settings/"),
        ("moderator@demo.civic.kz", "flagged comments", "/ru/moderation/comments/"),
        ("moderator@demo.civic.kz", "comment review", f"/ru/moderation/comments/{flagged.pk}/"),
        ("moderator@demo.civic.kz", "moderation queue", "/ru/moderation/"),
        ("moderator@demo.civic.kz", "moderation decision", f"/ru/moderation/{pending.pk}/"),
        ("moderator@demo.civic.kz", "decision history", "/ru/moderation/history/"),
        ("analyst@demo.civic.kz", "analysis workspace", "/ru/analysis/"),
        (
            "analyst@demo.civic.kz",
            "analysis, filtered",
            "/ru/analysis/?status=published&theme=transport",
        ),
        ("analyst@demo.civic.kz", "reports", "/ru/analysis/reports/"),
        (None, "proposals, answered", "/ru/proposals/?answer=accepted"),
        (None, "proposals, rejected in public", "/ru/proposals/?status=rejected"),
        (None, "summary table", "/ru/strategies/almaty-2050/summary/"),
        (None, "versions", "/ru/strategies/almaty-2050/versions/"),
        (None, "version comparison", "/ru/strategies/almaty-2050/versions/1/compare/2/"),
        ("responder@demo.civic.kz", "answers queue", "/ru/answers/"),
        ("responder@demo.civic.kz", "answers, overdue", "/ru/answers/?state=overdue"),
        ("responder@demo.civic.kz", "answer a proposal", f"/ru/answers/{published.pk}/"),
    ]
    print(f"database: {connection.vendor}; {Proposal.objects.count()} proposals")
    print(f"{'page':32} {'URL':58} {'status':>6} {'queries':>7} {'ms (median of 5)':>16}")
    clients: dict[str | None, Client] = {}
    for email, name, url in pages:
        if email not in clients:
            clients[email] = Client()
            if email:
                clients[email].force_login(User.objects.get(email=email))
        client = clients[email]
        client.get(url)
        # The log holds at most 9,000 queries (DEBUG): loading the demo filled it.
        reset_queries()
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        times = []
        for _ in range(5):
            started = time.perf_counter()
            client.get(url)
            times.append((time.perf_counter() - started) * 1000)
        print(
            f"{name:32} {url:58} {response.status_code:>6} {len(queries):>7} "
            f"{statistics.median(times):>16.1f}"
        )


if __name__ == "__main__":
    main()
