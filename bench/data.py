"""Generated proposals for the benchmarks: a strategy of N proposals, and its removal.

On PostgreSQL the rows are made inside the database with generate_series (a million take
well under a minute); elsewhere they are inserted in batches, so keep N small there.
"""

import time

from django.db import connection, transaction

from civic.accounts.models import User
from proposals.models import DuplicateIndex, Proposal, Tally
from strategy.models import District, Section, Strategy, Theme


def generated_strategy(slug: str, count: int, *, body_words: int = 10) -> Strategy:
    """The strategy `slug` with `count` generated proposals, made now if it is not there."""
    strategy = Strategy.objects.filter(slug=slug).first()
    if strategy is not None and Proposal.objects.filter(strategy=strategy).count() != count:
        drop(strategy)
        strategy = None
    if strategy is None:
        started = time.perf_counter()
        with transaction.atomic():
            strategy = Strategy.objects.create(
                slug=slug, code_prefix="BEN", status="open", title_ru="Бенчмарк"
            )
            for n in range(1, 9):
                Section.objects.create(
                    strategy=strategy, code=str(n), position=n, title_ru=f"Раздел {n}"
                )
            author, _ = User.objects.get_or_create(
                email="bench@example.org", defaults={"display_name": "bench"}
            )
            if connection.vendor == "postgresql":
                fill_postgres(strategy, count, author, body_words)
            else:
                fill_batches(strategy, count, author, body_words)
        print(f"generated {count:,} proposals in {time.perf_counter() - started:.1f} s")
    return strategy


def fill_postgres(strategy: Strategy, count: int, author: User, body_words: int = 10) -> None:
    sections = list(Section.objects.filter(strategy=strategy).values_list("id", flat=True))
    districts = list(District.objects.values_list("id", flat=True))
    themes = list(Theme.objects.values_list("id", flat=True))
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO proposals_proposal
                (code, strategy_id, section_id, author_id, title, body, search_text, language,
                 district_id, status, created_at, updated_at, published_at,
                 author_themes, suggested_themes, suggestion_version, rejection_public)
            SELECT 'BEN-' || lpad(n::text, 8, '0'), %(strategy)s,
                   (%(sections)s::bigint[])[1 + n %% cardinality(%(sections)s::bigint[])],
                   %(author)s, 'Предложение ' || n, repeat('текст ', %(words)s), '',
                   (ARRAY['ru','kk','en'])[1 + n %% 3],
                   (%(districts)s::bigint[])[1 + n %% cardinality(%(districts)s::bigint[])],
                   (ARRAY['published','published','published','pending','rejected',
                          'changes_requested','withdrawn'])[1 + n %% 7],
                   now() - (n %% 90) * interval '1 day', now(),
                   CASE WHEN n %% 7 < 3 THEN now() - (n %% 80) * interval '1 day' END,
                   '[]'::jsonb, '[]'::jsonb, '', false
            FROM generate_series(1, %(count)s) AS n
            """,
            {
                "strategy": strategy.pk,
                "sections": sections,
                "author": author.pk,
                "districts": districts,
                "count": count,
                "words": body_words,
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


def fill_batches(strategy: Strategy, count: int, author: User, body_words: int = 10) -> None:
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
                body="текст " * body_words,
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


def drop(strategy: Strategy) -> None:
    """Delete the generated rows in bulk: the ORM's cascade would load a million objects."""
    proposals = "SELECT id FROM proposals_proposal WHERE strategy_id = %s"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM proposals_fingerprintband WHERE fingerprint_id IN ({proposals})",  # noqa: S608
            [strategy.pk],
        )
        for table in (
            "proposals_proposal_themes",
            "proposals_reaction",
            "proposals_proposalevent",
            "proposals_fingerprint",
        ):
            cursor.execute(
                f"DELETE FROM {table} WHERE proposal_id IN ({proposals})",  # noqa: S608
                [strategy.pk],
            )
        cursor.execute("DELETE FROM proposals_proposal WHERE strategy_id = %s", [strategy.pk])
        Tally.objects.filter(strategy=strategy).delete()
        DuplicateIndex.objects.filter(strategy=strategy).delete()
        Section.objects.filter(strategy=strategy).delete()
        strategy.delete()
