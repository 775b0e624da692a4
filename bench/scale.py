"""Lists and search at a million proposals: today's path (commit 5e8ea43) beside the working tree's.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/civic_scale REDIS_URL=redis://127.0.0.1:6379/11 \\
        .venv/bin/python bench/scale.py --keep
    .venv/bin/python bench/scale.py --keep            # SQLite, 100,000 proposals: the search figure

Builds (or, with --keep, reuses on the next run) the strategy `bench-scale` of --proposals
generated proposals (default 1,000,000 on PostgreSQL, 100,000 on SQLite) with realistic text:
sentences of the demo's proposals and of the suggester's texts (proposals/suggest/dev and
eval) put together anew, in Russian, Kazakh and English, with varied numbers and addresses;
mostly published, some pending, rejected, sent back or withdrawn; one or two themes each (the
source text's own); districts and sections; reactions from 1,000 residents, most proposals
with 0-3 and a few with hundreds. A few made-up rare words are planted in a handful of
proposals (printed). On PostgreSQL the rows are made inside the database with
generate_series; on SQLite (DATABASE_URL unset; the file lives in $CIVIC_DATA_DIR, by default
a fixed directory under /tmp so --keep can reuse it) they are inserted in batches. After bulk
inserts the run sets the kept reaction totals from the reaction rows, fills the search index
(proposals.search.services.search_index_rebuild, where it exists), rebuilds the tally and
runs VACUUM/ANALYZE.

Then it checks out --before (default 5e8ea43, the code before the issue) into a temporary git
worktree, starts a gunicorn of it (2 sync workers, debug off) beside two gunicorns of this
checkout, all on the same database, cache and settings: "after", which builds every page
(CIVIC_SNAPSHOT_CACHE_SECONDS=0), and "kept", the default, which serves a repeat from the
page kept for the database snapshot (civic/snapshots.py). It times each request --runs
times one at a time, alternating between "before" and "after" (so no figure in that table
is a kept page); it prints median and p95 in ms, and how many proposals each server says
it found. A request a server does not support shows "—". Two rows time the proposal list
web page (HTML) the same way, for the record; the targets are the API's. Finally, if wrk (Debian's package
`wrk`) is installed, it drives a page of 100 and /api/v1/themes/ on each of the three
(16 connections, 10 s each) and prints the requests/s and their ratio; the target is held
against "kept". The worktree is removed at the end.

Targets (issue "Search in three languages, and lists that stay fast at a million
proposals"): every "after" median under 50 ms on PostgreSQL (on SQLite only the searches,
the rows marked "search"), and under wrk a page of 100 at no less than half the themes'
requests/s. The run exits with 1 and names what misses them.
"""

import argparse
import inspect
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civic.settings")
# A developer's run, like `make run`: debug on in this process unless the environment says
# otherwise (the servers it starts run with debug off).
os.environ.setdefault("DJANGO_DEBUG", "1")
if not os.environ.get("DATABASE_URL"):
    # A fixed place, not a fresh temporary directory: --keep reuses the data next time.
    os.environ.setdefault("CIVIC_DATA_DIR", str(Path(tempfile.gettempdir()) / "civic-scale"))
    Path(os.environ["CIVIC_DATA_DIR"]).mkdir(parents=True, exist_ok=True)

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import AnonymousUser  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, reset_queries, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from civic.accounts.models import User  # noqa: E402
from data import drop  # noqa: E402
from proposals import demo_data, selectors  # noqa: E402
from proposals.models import Proposal, Reaction, Tally  # noqa: E402
from proposals.tallies.services import tally_rebuild  # noqa: E402
from strategy.models import District, Section, Strategy, Theme  # noqa: E402

SLUG = "bench-scale"
PREFIX = "SCL"
BEFORE = "5e8ea43"
TARGET_MS = 50
TARGET_RATIO = 0.5
SEED = 20261130
RESIDENTS = 1000
LANGUAGES = ("ru", "kk", "en")
# Shares of the proposals by language and status, in percent (cumulative cut-offs).
LANGUAGE_CUTS = (50, 75, 100)
STATUS_CUTS = (
    (80, "published"),
    (88, "pending"),
    (94, "rejected"),
    (97, "changes_requested"),
    (100, "withdrawn"),
)
# Reactions: a proposal has k >= m of them with probability 0.4 * ((m + 1) / 2) ** -2.27,
# so 60% have none, 95% fewer than four, and about 50 in a million have 100 or more.
REACTION_SHARE, REACTION_TAIL = 0.4, 2.27
KIND_CUTS = ((55, "like"), (70, "sympathy"), (82, "indifferent"), (92, "funny"), (100, "outrage"))
ADDRESSES = {
    "ru": "Адрес: {district} район, дом {n}.",
    "kk": "Мекенжай: {district} ауданы, {n}-үй.",
    "en": "Address: {district} district, building {n}.",
}
# Words none of the source texts has, each in three published proposals of its language:
# two with the word itself, one with another form of it (which only a search that knows
# word forms finds).
RARE = {
    "ru": (
        "дирижабль",
        [
            "Над нашим двором каждое утро пролетает дирижабль.",
            "Предлагаю запустить дирижабль, чтобы снимать пробки сверху.",
            "Видели два дирижабля над парком, это реклама?",
        ],
    ),
    "kk": (
        "құлпынай",
        [
            "Аулада құлпынай өсіруге болады.",
            "Саябақта жазда құлпынай сатылады.",
            "Балалар құлпынайды жақсы көреді.",
        ],
    ),
    "en": (
        "zeppelin",
        [
            "A zeppelin flies over the park every weekend.",
            "Could the city rent a zeppelin for the festival?",
            "Two zeppelins were seen over Medeu last week.",
        ],
    ),
}
SUGGEST_TEXTS = ROOT / "proposals" / "suggest"


@dataclass(frozen=True)
class Doc:
    """A source text: its language, a title, its sentences and its themes."""

    language: str
    title: str
    sentences: tuple[str, ...]
    themes: tuple[str, ...]


# ---------------------------------------------------------------------------------------
# The text pool


def _varied(text: str) -> str:
    """Numbers after a space or "№" become {n} and {m} in turn, which each proposal fills
    with its own; numbers inside names ("ТЭЦ-2", "Orbita-1") stay."""
    slots = iter(["{n}", "{m}"] * 50)
    return re.sub(r"(?<=[\s№])\d+(?=[\s,.!?)]|$)", lambda _: next(slots), text)


def _sentences(text: str) -> tuple[str, ...]:
    """The sentences of `text`, each ending in a stop, since they are joined to others."""
    parts = (part.strip() for part in re.split(r"(?<=[.!?])\s+", text))
    return tuple(
        _varied(part if part.endswith((".", "!", "?", "…")) else f"{part}.")
        for part in parts
        if part
    )


def _title(sentence: str) -> str:
    title = sentence.rstrip(".!? ")
    if len(title) > 110:
        title = title[:100].rsplit(" ", 1)[0] + "…"
    return title


def text_pool() -> list[Doc]:
    """Every source text, in the order ru, kk, en."""
    docs = [
        Doc(
            item["language"],
            _varied(item["title"]),
            _sentences(item["body"]),
            tuple(item["themes"]),
        )
        for item in demo_data.DEMO_PROPOSALS
    ]
    for path in sorted(SUGGEST_TEXTS.glob("*/*.jsonl")):
        language = path.stem.rsplit("-", 1)[-1]
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            item = json.loads(line)
            sentences = _sentences(item["text"])
            title = _title(sentences[0])
            if len(title) < 10:  # a greeting or an exclamation: the whole text instead
                title = _title(" ".join(sentences))
            docs.append(Doc(language, title, sentences, tuple(item["themes"])))
    return sorted(docs, key=lambda doc: LANGUAGES.index(doc.language))


# ---------------------------------------------------------------------------------------
# Building the data


def scale_strategy(slug: str, count: int) -> tuple[Strategy, bool]:
    """The strategy `slug` with `count` generated proposals, made now if it is not there;
    and whether it was made now."""
    strategy = Strategy.objects.filter(slug=slug).first()
    if strategy is not None and Proposal.objects.filter(strategy=strategy).count() != count:
        started = time.perf_counter()
        drop(strategy)
        print(f"dropped the earlier {slug} in {time.perf_counter() - started:.1f} s")
        strategy = None
    if strategy is not None:
        print(f"reusing {slug}: {count:,} proposals")
        return strategy, False
    started = time.perf_counter()
    with transaction.atomic():
        strategy = Strategy.objects.create(
            slug=slug,
            code_prefix=PREFIX,
            status=Strategy.Status.OPEN,
            title_ru="Город на миллион предложений",
            title_kk="Миллион ұсыныс қаласы",
            title_en="A city of a million proposals",
        )
        for n in range(1, 9):
            Section.objects.create(
                strategy=strategy, code=str(n), position=n, title_ru=f"Раздел {n}"
            )
        author, _ = User.objects.get_or_create(
            email="bench@example.org", defaults={"display_name": "bench"}
        )
        residents = _residents()
        pool = text_pool()
        if connection.vendor == "postgresql":
            _fill_postgres(strategy, count, author, residents, pool)
        else:
            _fill_python(strategy, count, author, residents, pool)
    with connection.cursor() as cursor:
        # Statistics of the new rows before anything else reads them: without them the
        # totals' GROUP BY and the indexer's batches get plans made for empty tables.
        cursor.execute("ANALYZE")
    print(f"generated {count:,} proposals in {time.perf_counter() - started:.1f} s")
    return strategy, True


def _residents() -> list[int]:
    emails = [f"scale-resident-{n:04d}@example.org" for n in range(RESIDENTS)]
    have = set(User.objects.filter(email__in=emails).values_list("email", flat=True))
    User.objects.bulk_create(
        [
            User(email=email, display_name=email.split("@")[0])
            for email in emails
            if email not in have
        ]
    )
    return list(User.objects.filter(email__in=emails).order_by("id").values_list("id", flat=True))


def _h(seed: int, of: str = "n") -> str:
    """A deterministic pseudo-random non-negative bigint of `of`, one stream per seed."""
    return f"(hashint8extended(({of})::bigint, {seed}) & 9223372036854775807)"


def _cases(value: str, cuts: tuple[tuple[int, str], ...]) -> str:
    whens = " ".join(f"WHEN {value} < {cut} THEN '{name}'" for cut, name in cuts[:-1])
    return f"(CASE {whens} ELSE '{cuts[-1][1]}' END)"


# Per generated proposal n: its language l (0-2), its source text d1 (title, sentences,
# themes) and the text d2 one more sentence comes from, both of language l.
_LANGUAGE = (
    f"(CASE WHEN {_h(1)} %% 100 < {LANGUAGE_CUTS[0]} THEN 0 "
    f"WHEN {_h(1)} %% 100 < {LANGUAGE_CUTS[1]} THEN 1 ELSE 2 END)"
)
_PICKS = f"""
    SELECT s.*, p.starts[s.l + 1] + {_h(2)} %% p.lens[s.l + 1] AS d1,
           p.starts[s.l + 1] + {_h(3)} %% p.lens[s.l + 1] AS d2
    FROM pool p, (SELECT s0.*, {_LANGUAGE} AS l FROM {{source}}) s
"""  # noqa: S608 - expressions of this module
_POOL = """
    pool AS (
        SELECT %(titles)s::text[] AS titles, %(firsts)s::int[] AS firsts,
               %(counts)s::int[] AS counts, %(sentences)s::text[] AS sentences,
               %(theme1)s::bigint[] AS theme1, %(theme2)s::bigint[] AS theme2,
               %(starts)s::int[] AS starts, %(lens)s::int[] AS lens,
               %(sections)s::bigint[] AS sections, %(districts)s::bigint[] AS districts,
               %(district_names)s::text[] AS district_names, %(addresses)s::text[] AS addresses,
               %(languages)s::text[] AS languages
    )
"""
# Reactions of proposal n: how many (k), and the kind of its j-th.
_UNIFORM = f"((1 + {_h(11)} %% 1000000)::float8 / 1000000)"
_REACTIONS = (
    f"(CASE WHEN {_UNIFORM} < {REACTION_SHARE} THEN least(%(residents)s, "
    f"floor(2 * power({REACTION_SHARE} / {_UNIFORM}, 1 / {REACTION_TAIL}) - 1)::int) ELSE 0 END)"
)
_KIND = _cases(f"{_h(12, 'n * 1000 + j')} %% 100", KIND_CUTS)


def _pool_parameters(pool: list[Doc], strategy: Strategy) -> dict:
    themes = dict(Theme.objects.values_list("slug", "id"))
    districts = list(District.objects.order_by("id"))
    sentences: list[str] = []
    firsts, counts = [], []
    for doc in pool:
        firsts.append(len(sentences) + 1)
        counts.append(len(doc.sentences))
        sentences.extend(doc.sentences)
    by_language = [sum(doc.language == language for doc in pool) for language in LANGUAGES]
    return {
        "titles": [doc.title for doc in pool],
        "firsts": firsts,
        "counts": counts,
        "sentences": sentences,
        "theme1": [themes.get(doc.themes[0], 0) if doc.themes else 0 for doc in pool],
        "theme2": [themes.get(doc.themes[1], 0) if len(doc.themes) > 1 else 0 for doc in pool],
        "starts": [1 + sum(by_language[:i]) for i in range(3)],
        "lens": by_language,
        "sections": list(
            Section.objects.filter(strategy=strategy).order_by("id").values_list("id", flat=True)
        ),
        "districts": [district.pk for district in districts],
        "district_names": [
            getattr(district, f"name_{language}") or district.name_ru
            for language in LANGUAGES
            for district in districts
        ],
        "addresses": [ADDRESSES[language] for language in LANGUAGES],
        "languages": list(LANGUAGES),
    }


def _fill_postgres(
    strategy: Strategy, count: int, author: User, residents: list[int], pool: list[Doc]
) -> None:
    parameters = {
        **_pool_parameters(pool, strategy),
        "strategy": strategy.pk,
        "author": author.pk,
        "count": count,
        "prefix": f"{PREFIX}-",
        "residents": len(residents),
        "resident_ids": residents,
    }
    status = _cases(f"{_h(4)} %% 100", STATUS_CUTS)
    districts = len(parameters["districts"])
    sections = len(parameters["sections"])
    # One in five proposals names no district, one in nine no section (the whole document);
    # created over a year in the order of their numbers, published within three days.
    picks = _PICKS.format(source="generate_series(1, %(count)s) AS s0(n)")
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH {_POOL}
            INSERT INTO proposals_proposal
                (code, strategy_id, section_id, author_id, title, body, search_text, language,
                 district_id, status, created_at, updated_at, published_at,
                 author_themes, suggested_themes, suggestion_version, rejection_public)
            SELECT code, %(strategy)s, section_id, %(author)s, title, body,
                   lower(title || E'\\n' || body), language, district_id, status,
                   created_at, created_at,
                   CASE WHEN status = 'published'
                        THEN least(now(), created_at + published_after) END,
                   '[]'::jsonb, '[]'::jsonb, '', status = 'rejected' AND n %% 2 = 0
            FROM (
                SELECT b.*,
                       replace(replace(title0, '{{n}}', n1), '{{m}}', n2) AS title,
                       replace(replace(body0, '{{n}}', n1), '{{m}}', n2) AS body
                FROM (
                    SELECT g.n, %(prefix)s || lpad(g.n::text, 8, '0') AS code,
                           p.languages[g.l + 1] AS language,
                           {status} AS status,
                           CASE WHEN g.di <= {districts} THEN p.districts[g.di] END
                               AS district_id,
                           CASE WHEN g.si <= {sections} THEN p.sections[g.si] END AS section_id,
                           now() - interval '365 days'
                               + interval '365 days' * (g.n::float8 / %(count)s)
                               + interval '1 second' * ({_h(9)} %% 600) AS created_at,
                           interval '1 hour' * (1 + {_h(10)} %% 72) AS published_after,
                           (1 + {_h(5)} %% 150)::text AS n1,
                           (2 + {_h(6)} %% 400)::text AS n2,
                           p.titles[g.d1] AS title0,
                           array_to_string(
                               p.sentences[p.firsts[g.d1]:p.firsts[g.d1] + p.counts[g.d1] - 1],
                               ' '
                           )
                           || ' ' || p.sentences[p.firsts[g.d2] + {_h(7)} %% p.counts[g.d2]]
                           || CASE WHEN g.di <= {districts} AND {_h(8)} %% 2 = 0
                                   THEN ' ' || replace(
                                       p.addresses[g.l + 1], '{{district}}',
                                       p.district_names[g.l * {districts} + g.di])
                                   ELSE '' END AS body0
                    FROM pool p, (
                        SELECT x.*, 1 + {_h(13)} %% ({districts} + 2) AS di,
                               1 + {_h(14)} %% ({sections} + 1) AS si
                        FROM ({picks}) x
                    ) g
                ) b
            ) c
            """,  # noqa: S608 - expressions of this module, values as parameters
            parameters,
        )
        print(f"  proposals: {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        # The source text's first theme, and its second for half of them.
        picks = _PICKS.format(
            source="(SELECT id, substr(code, 5)::bigint AS n FROM proposals_proposal "
            "WHERE strategy_id = %(strategy)s) AS s0"
        )
        cursor.execute(
            f"""
            WITH {_POOL}
            INSERT INTO proposals_proposal_themes (proposal_id, theme_id)
            SELECT g.id, t.theme
            FROM pool p, ({picks}) g,
                 LATERAL unnest(ARRAY[p.theme1[g.d1],
                                      CASE WHEN {_h(15)} %% 2 = 0 THEN p.theme2[g.d1] END])
                     AS t(theme)
            WHERE t.theme IS NOT NULL AND t.theme <> 0
            """,  # noqa: S608 - expressions of this module, values as parameters
            parameters,
        )
        print(f"  theme links: {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        cursor.execute(
            f"""
            INSERT INTO proposals_reaction (proposal_id, user_id, kind, created_at, updated_at)
            SELECT s.id, (%(resident_ids)s::bigint[])[1 + (s.n * 37 + j) %% %(residents)s],
                   {_KIND}, s.published_at + interval '1 minute' * j,
                   s.published_at + interval '1 minute' * j
            FROM (SELECT id, substr(code, 5)::bigint AS n, published_at
                  FROM proposals_proposal
                  WHERE strategy_id = %(strategy)s AND status = 'published') s,
                 LATERAL generate_series(0, {_REACTIONS} - 1) AS j
            """,  # noqa: S608 - expressions of this module, values as parameters
            parameters,
        )
        print(f"  reactions: {time.perf_counter() - started:.1f} s")


def _fill_python(
    strategy: Strategy, count: int, author: User, residents: list[int], pool: list[Doc]
) -> None:
    """The same data inserted in batches, for SQLite (about a minute for 100,000)."""
    rng = random.Random(SEED)
    themes = dict(Theme.objects.values_list("slug", "id"))
    districts = list(District.objects.order_by("id"))
    sections = list(Section.objects.filter(strategy=strategy).order_by("id"))
    by_language = {
        language: [doc for doc in pool if doc.language == language] for language in LANGUAGES
    }
    start = timezone.now() - timedelta(days=365)
    links = Proposal.themes.through
    for first in range(1, count + 1, 5000):
        batch, their_themes = [], []
        for n in range(first, min(count, first + 4999) + 1):
            cut = rng.random() * 100
            language = LANGUAGES[next(i for i, c in enumerate(LANGUAGE_CUTS) if cut < c)]
            main, other = rng.choice(by_language[language]), rng.choice(by_language[language])
            cut = rng.random() * 100
            status = next(name for c, name in STATUS_CUTS if cut < c)
            district = rng.choice([*districts, None, None])
            section = rng.choice([*sections, None])
            body = " ".join(main.sentences) + " " + rng.choice(other.sentences)
            if district is not None and rng.random() < 0.5:
                name = getattr(district, f"name_{language}") or district.name_ru
                body += " " + ADDRESSES[language].replace("{district}", name)
            n1, n2 = str(rng.randint(1, 150)), str(rng.randint(2, 401))
            title = main.title.replace("{n}", n1).replace("{m}", n2)
            body = body.replace("{n}", n1).replace("{m}", n2)
            created = start + timedelta(days=365 * n / count, seconds=rng.randrange(600))
            batch.append(
                Proposal(
                    code=f"{PREFIX}-{n:08d}",
                    strategy=strategy,
                    section=section,
                    author=author,
                    title=title,
                    body=body,
                    search_text=f"{title}\n{body}".casefold(),
                    language=language,
                    district=district,
                    status=status,
                    created_at=created,
                    updated_at=created,
                    published_at=min(timezone.now(), created + timedelta(hours=rng.randint(1, 72)))
                    if status == "published"
                    else None,
                    rejection_public=status == "rejected" and n % 2 == 0,
                )
            )
            slugs = main.themes[:1] + (main.themes[1:2] if rng.random() < 0.5 else ())
            their_themes.append([themes[slug] for slug in slugs if slug in themes])
        Proposal.objects.bulk_create(batch)
        links.objects.bulk_create(
            [
                links(proposal_id=proposal.pk, theme_id=theme)
                for proposal, ids in zip(batch, their_themes, strict=True)
                for theme in ids
            ]
        )
        reactions = []
        for proposal in batch:
            if proposal.status != "published":
                continue
            uniform = (1 + rng.randrange(1_000_000)) / 1_000_000
            if uniform >= REACTION_SHARE:
                continue
            k = min(
                len(residents),
                int(2 * (REACTION_SHARE / uniform) ** (1 / REACTION_TAIL) - 1),
            )
            base = rng.randrange(len(residents))
            for j in range(k):
                cut = rng.random() * 100
                at = proposal.published_at + timedelta(minutes=j)
                reactions.append(
                    Reaction(
                        proposal_id=proposal.pk,
                        user_id=residents[(base + j) % len(residents)],
                        kind=next(name for c, name in KIND_CUTS if cut < c),
                        created_at=at,
                        updated_at=at,
                    )
                )
        Reaction.objects.bulk_create(reactions, batch_size=5000)
        reset_queries()  # debug on: keep the logged SQL of a hundred batches out of memory


def plant_rare_words(strategy: Strategy) -> dict[str, list[str]]:
    """Append each rare word's sentences to published proposals of its language, spread
    over the strategy; {word: codes}."""
    planted: dict[str, list[str]] = {}
    rows = Proposal.objects.filter(strategy=strategy)
    low = rows.order_by("id").values_list("id", flat=True).first()
    high = rows.order_by("-id").values_list("id", flat=True).first()
    for language, (word, sentences) in RARE.items():
        for k, sentence in enumerate(sentences):
            at = low + (high - low) * (2 * k + 1 + LANGUAGES.index(language)) // 8
            proposal = (
                rows.filter(id__gte=at, status=Proposal.Status.PUBLISHED, language=language)
                .order_by("id")
                .only("id", "code", "title", "body")
                .first()
            )
            body = f"{proposal.body} {sentence}"
            rows.filter(pk=proposal.pk).update(
                body=body, search_text=f"{proposal.title}\n{body}".casefold()
            )
            planted.setdefault(word, []).append(proposal.code)
    return planted


def rebuild_reaction_totals(strategy: Strategy) -> str:
    """The kept totals on the rows from the reaction rows; says how."""
    try:
        # Imported here: another helper is writing it; the bench does the same in SQL until then.
        from proposals.services import reaction_totals_rebuild
    except ImportError:
        reaction_totals_rebuild = None
    if reaction_totals_rebuild is not None:
        accepts = inspect.signature(reaction_totals_rebuild).parameters
        if "strategy_id" in accepts:
            reaction_totals_rebuild(strategy_id=strategy.pk)
        else:
            reaction_totals_rebuild()
        return "proposals.services.reaction_totals_rebuild"
    kinds = Reaction.Kind.values
    counted = ", ".join(
        f"SUM(CASE WHEN r.kind = '{kind}' THEN 1 ELSE 0 END) AS n_{kind}" for kind in kinds
    )
    assigned = ", ".join(f"reactions_{kind} = c.n_{kind}" for kind in kinds)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE proposals_proposal
            SET {assigned}, reactions_total = c.n_total
            FROM (
                SELECT r.proposal_id, {counted}, COUNT(*) AS n_total
                FROM proposals_reaction r
                JOIN proposals_proposal p ON p.id = r.proposal_id
                WHERE p.strategy_id = %s
                GROUP BY r.proposal_id
            ) AS c
            WHERE proposals_proposal.id = c.proposal_id
            """,  # noqa: S608 - column names from the model's choices
            [strategy.pk],
        )
    return "the bench's own UPDATE (proposals.services.reaction_totals_rebuild is not there yet)"


def search_finds(word: str) -> bool:
    """Whether this checkout's list finds `word` (false when the index is empty)."""
    return selectors.proposal_list(user=AnonymousUser(), filters={"q": word}).order_by().exists()


def prepare(args: argparse.Namespace) -> Strategy:
    call_command("migrate", verbosity=0)
    strategy, made = scale_strategy(SLUG, args.proposals)
    changed = made
    if made:
        planted = plant_rare_words(strategy)
        for word, codes in planted.items():
            print(f"  rare word «{word}» (or another form of it) in {', '.join(codes)}")
    has_totals = any(field.name == "reactions_total" for field in Proposal._meta.get_fields())
    if not has_totals:
        print("reaction totals: Proposal.reactions_total is not there; skipped")
    elif made or (
        not Proposal.objects.filter(strategy=strategy, reactions_total__gt=0).exists()
        and Reaction.objects.filter(proposal__strategy=strategy).exists()
    ):
        started = time.perf_counter()
        how = rebuild_reaction_totals(strategy)
        print(f"reaction totals: {time.perf_counter() - started:.1f} s, by {how}")
        changed = True
    try:
        # Imported here: the search module is being written; the bench runs either way.
        from proposals.search.services import search_index_rebuild
    except ImportError:
        print(
            "search index: proposals.search.services.search_index_rebuild is not there yet; skipped"
        )
    else:
        rare = RARE["ru"][0]
        if made or args.reindex or not search_finds(rare):
            started = time.perf_counter()
            indexed = search_index_rebuild()
            print(f"search index: {indexed:,} proposals in {time.perf_counter() - started:.1f} s")
            changed = True
        else:
            print(f"search index: finds «{rare}» already; kept (--reindex to rebuild)")
    if changed:
        started = time.perf_counter()
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # FULL: the updates after the bulk insert (totals, index, rare words) left a
                # dead copy of many rows, which a scan of today's path would read too.
                cursor.execute("VACUUM (FULL, ANALYZE) proposals_proposal")
                # A plain VACUUM after it: FULL leaves the visibility map empty, and
                # without it an index-only scan (a deep page's ids) visits the heap.
                cursor.execute("VACUUM proposals_proposal")
                cursor.execute("VACUUM (ANALYZE) proposals_proposal_themes, proposals_reaction")
            else:
                cursor.execute("ANALYZE")
        print(f"vacuum and analyze: {time.perf_counter() - started:.1f} s")
    if changed or not Tally.objects.filter(strategy=strategy, generated_at__isnull=False).exists():
        started = time.perf_counter()
        tally_rebuild(strategy_id=strategy.pk)
        print(f"tally: {time.perf_counter() - started:.1f} s")
    return strategy


# ---------------------------------------------------------------------------------------
# Two servers, side by side


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """A gunicorn of the code in `tree`, on a free local port, its output in `log`: shown
    if it does not start or logs an error, kept out of the table otherwise (today's path
    logs a warning for each request it does not know)."""

    def __init__(self, name: str, tree: Path, env: dict[str, str], workers: int, log: Path) -> None:
        self.name, self.tree, self.log = name, tree, log
        self.env = {**env, "PYTHONPATH": str(tree)}
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        where = subprocess.run(
            [sys.executable, "-c", "import proposals; print(proposals.__file__)"],
            cwd=tree,
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        if not Path(where).is_relative_to(tree):
            sys.exit(f"{name}: the code comes from {where}, not from {tree}")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "civic.wsgi",
                "--chdir",
                str(tree),
                "--workers",
                str(workers),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--timeout",
                "300",
                "--log-level",
                "warning",
            ],
            cwd=tree,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=log.open("wb"),
            start_new_session=True,
        )
        for _ in range(150):
            try:
                urllib.request.urlopen(f"{self.base}/healthz", timeout=1)  # noqa: S310 - loopback
                return
            except OSError:
                if self.process.poll() is not None:
                    self.show_log()
                    sys.exit(f"{name}: gunicorn exited with {self.process.returncode}")
                time.sleep(0.2)
        self.stop()
        self.show_log()
        sys.exit(f"{name}: gunicorn did not answer on {self.base}")

    def show_log(self, *, errors_only: bool = False) -> None:
        lines = self.log.read_text(errors="replace").splitlines()
        if errors_only and not any("ERROR" in line or "Traceback" in line for line in lines):
            return
        print(f"--- {self.name} server's log, last lines ---", file=sys.stderr)
        print("\n".join(lines[-60:]), file=sys.stderr)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def fetch(url: str) -> tuple[int, bytes, float]:
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=300) as response:  # noqa: S310 - loopback
            body, status = response.read(), response.status
    except urllib.error.HTTPError as error:
        body, status = error.read(), error.code
    return status, body, time.perf_counter() - started


def _path(query: dict[str, str | int]) -> str:
    return "/api/v1/proposals/?" + urllib.parse.urlencode(query)


def _local(url: str, **change: str | int) -> str:
    """`url` (absolute, as the API writes its links) as a path, with `change` in its query."""
    parts = urllib.parse.urlsplit(url)
    query = dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
    query.update({key: str(value) for key, value in change.items()})
    return f"{parts.path}?{urllib.parse.urlencode(query)}"


def deep_cursor(server: Server, depth: int) -> tuple[str | None, str]:
    """A cursor link `depth` proposals into the strategy, found by following `next` links
    100 at a time; None if the server's pages have no cursor links."""
    for first in (
        _path({"strategy": SLUG, "page_size": 100}),
        _path({"strategy": SLUG, "page_size": 100, "cursor": ""}),
    ):
        status, body, _ = fetch(server.base + first)
        link = json.loads(body).get("next") if status == 200 else None
        if link and "cursor=" in link:
            break
    else:
        return None, "no cursor links"
    started = time.perf_counter()
    hops = 1
    while hops < depth // 100:
        status, body, _ = fetch(server.base + _local(link))
        link = json.loads(body).get("next") if status == 200 else None
        if not link:
            return None, f"the chain of next links ended after {hops} pages (HTTP {status})"
        hops += 1
    return (
        _local(link, page_size=20),
        f"followed {hops:,} next links of 100 in {time.perf_counter() - started:.1f} s",
    )


@dataclass
class Request:
    name: str
    paths: dict[str, str | None]  # per server; None: the server does not support it
    search: bool = False
    # A web page, timed beside the API for the record: the targets are the API's.
    page: bool = False


@dataclass
class Timing:
    status: int = 0
    times: list[float] | None = None
    found: str = ""


def _found(body: bytes) -> str:
    try:
        data = json.loads(body)
    except ValueError:
        return ""
    if not isinstance(data, dict) or "count" not in data:
        return ""
    estimate = "~" if data.get("count_is_estimate") else ""
    count = data["count"]
    return f"{estimate}{count:,}" if isinstance(count, int) else str(count)


def measure(requests: list[Request], servers: list[Server], runs: int) -> dict:
    """{(request name, server name): Timing}; each server's requests alternate with the
    other's, so a busy moment of the machine falls on both."""
    results: dict[tuple[str, str], Timing] = {}
    for request in requests:
        for server in servers:
            path = request.paths.get(server.name)
            timing = results[request.name, server.name] = Timing()
            if path is None:
                continue
            for _ in range(3):  # both workers, and the database's caches
                timing.status, body, _ = fetch(server.base + path)
            if timing.status == 200:
                timing.times, timing.found = [], _found(body)
        for _ in range(runs):
            for server in servers:
                timing = results[request.name, server.name]
                if timing.times is not None:
                    status, _, elapsed = fetch(server.base + request.paths[server.name])
                    if status != 200:
                        timing.status, timing.times = status, None
                        continue
                    timing.times.append(elapsed * 1000)
    return results


def _median(times: list[float]) -> float:
    return statistics.median(times)


def _p95(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[max(0, -(-95 * len(ordered) // 100) - 1)]


def _cell(timing: Timing) -> str:
    if timing.times:
        return f"{_median(timing.times):,.0f} / {_p95(timing.times):,.0f}"
    return "—" if not timing.status else f"— (HTTP {timing.status})"


def wrk_rate(url: str, connections: int, seconds: int) -> tuple[float, str, str]:
    subprocess.run(["wrk", "-t2", "-c4", "-d2s", url], check=True, capture_output=True)
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+(\S+)", out).group(1)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rate, p99, f"   NON-2xx: {errors.group(1)}" if errors else ""


def _worktree(commit: str) -> Path:
    place = Path(tempfile.mkdtemp(prefix="civic-before-"))
    tree = place / "tree"
    subprocess.run(
        ["git", "worktree", "add", "--detach", str(tree), commit],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    return tree


def _remove_worktree(tree: Path) -> None:
    subprocess.run(
        ["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, capture_output=True
    )
    subprocess.run(["git", "worktree", "prune"], cwd=ROOT, capture_output=True)
    shutil.rmtree(tree.parent, ignore_errors=True)


def _words(args: argparse.Namespace) -> None:
    published = Proposal.objects.filter(status=Proposal.Status.PUBLISHED)
    for label, word in (
        ("rare", RARE["ru"][0]),
        ("common", args.common),
        ("for relevance", args.relevance),
    ):
        found = published.filter(search_text__contains=word.casefold()).count()
        print(f"  {label} word «{word}»: in {found:,} published proposals (as a substring)")


def main() -> None:
    postgres = bool(os.environ.get("DATABASE_URL", "").startswith("postgres"))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--proposals",
        type=int,
        default=1_000_000 if postgres else 100_000,
        help="default 1,000,000 on PostgreSQL, 100,000 on SQLite",
    )
    parser.add_argument("--runs", type=int, default=20, help="timed requests per URL and server")
    parser.add_argument("--keep", action="store_true", help="keep the generated strategy")
    parser.add_argument("--reindex", action="store_true", help="refill the search index")
    parser.add_argument("--before", default=BEFORE, help="the commit of today's path")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=10, help="of each wrk run")
    parser.add_argument("--connections", type=int, default=16, help="of each wrk run")
    parser.add_argument("--common", default="прошу", help="a word many proposals have")
    parser.add_argument("--relevance", default="остановка", help="q= for ordering=relevance")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install wrk): the throughput part will be skipped")

    strategy = prepare(args)
    published = Proposal.objects.filter(strategy=strategy, status=Proposal.Status.PUBLISHED)
    count = published.count()
    deep_page = max(1, min(5000, count // 20 - 1))
    print(
        f"database: {connection.vendor}; proposals in {SLUG}: {args.proposals:,}, "
        f"published: {count:,}; reactions: "
        f"{Reaction.objects.filter(proposal__strategy=strategy).count():,}"
    )
    _words(args)
    connection.close()

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": os.environ["DJANGO_SETTINGS_MODULE"],
        "DJANGO_DEBUG": "0",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY", "bench-" + "k" * 50),
        "DJANGO_LOG_LEVEL": "WARNING",
        # One place for collected static files: the worktree has none, and the API needs none.
        "DJANGO_STATIC_ROOT": str(ROOT / "staticfiles"),
    }
    tree = _worktree(args.before)
    servers: list[Server] = []
    failures: list[str] = []
    try:
        # "after" builds every page, so the one-at-a-time table times the path itself;
        # "kept" is the shipped default, which serves a repeat from the page kept for the
        # database snapshot (civic/snapshots.py), and is what wrk is held to.
        for name, code, extra in (
            ("before", tree, {}),
            ("after", ROOT, {"CIVIC_SNAPSHOT_CACHE_SECONDS": "0"}),
            ("kept", ROOT, {}),
        ):
            log = tree.parent / f"{name}.log"
            servers.append(Server(name, code, {**env, **extra}, args.workers, log))
        before, after, kept = servers
        deep, how = deep_cursor(after, (deep_page - 1) * 20)
        print(f"cursor at position {(deep_page - 1) * 20:,}: {how}")
        strategy_page = {"strategy": SLUG}
        same = {
            name: {server.name: path for server in (before, after)}
            for name, path in {
                "first page of 20": _path({**strategy_page, "page_size": 20}),
                f"page {deep_page:,} of 20": _path({**strategy_page, "page": deep_page}),
                "theme + district": _path(
                    {**strategy_page, "theme": "transport", "district": "alatau"}
                ),
                "ordering=-reactions": _path({**strategy_page, "ordering": "-reactions"}),
                f"q={RARE['ru'][0]} (rare), all strategies": _path({"q": RARE["ru"][0]}),
                f"q={args.common} (common), all strategies": _path({"q": args.common}),
                f"q={args.relevance} ordering=relevance": _path(
                    {"q": args.relevance, "ordering": "relevance"}
                ),
                "tallies": f"/api/v1/strategies/{SLUG}/tallies/",
            }.items()
        }
        requests = [
            Request(name, paths, search=name.startswith("q=")) for name, paths in same.items()
        ]
        requests += [
            Request(
                "list page (HTML), first page",
                {server.name: f"/ru/proposals/?strategy={SLUG}" for server in (before, after)},
                page=True,
            ),
            Request(
                "list page (HTML), theme + district",
                {
                    server.name: f"/ru/proposals/?strategy={SLUG}&theme=transport&district=alatau"
                    for server in (before, after)
                },
                page=True,
            ),
        ]
        requests.insert(
            4,
            Request(
                f"cursor at {(deep_page - 1) * 20:,}, 20 a page",
                {"before": None, "after": deep},
            ),
        )
        print(
            f"gunicorn: {args.workers} sync workers each, debug off; {args.runs} requests "
            f"one at a time per URL and server; before: {args.before}, after: this checkout "
            "building every page (CIVIC_SNAPSHOT_CACHE_SECONDS=0)"
        )
        results = measure(requests, [before, after], args.runs)
        print()
        print("| request | before ms (median / p95) | after ms (median / p95) | found |")
        print("| --- | --- | --- | --- |")
        for request in requests:
            old, new = results[request.name, "before"], results[request.name, "after"]
            found = f"{old.found or '—'} / {new.found or '—'}" if old.found or new.found else ""
            print(f"| {request.name} | {_cell(old)} | {_cell(new)} | {found} |")
            checked = (postgres or request.search) and not request.page
            if not checked:
                continue
            if not new.times:
                failures.append(f"{request.name}: not answered ({_cell(new)})")
            elif _median(new.times) > TARGET_MS:
                failures.append(
                    f"{request.name}: {_median(new.times):,.0f} ms median (target {TARGET_MS} ms)"
                )
        print("found: the list's count, before / after; ~ an estimate")
        if not postgres:
            print("SQLite: only the searches (q=) are held to the target")
        print()

        if shutil.which("wrk") is None:
            print(
                "wrk is not installed (apt-get install wrk): the throughput comparison was not run"
            )
        else:
            print(f"wrk: {args.connections} connections, {args.seconds} s each")
            for server in servers:
                rates = {}
                for label, path in (
                    ("page of 100", "/api/v1/proposals/?page_size=100"),
                    ("themes", "/api/v1/themes/"),
                ):
                    rate, p99, errors = wrk_rate(server.base + path, args.connections, args.seconds)
                    rates[label] = rate
                    print(f"  {server.name:6} {label:12} {rate:9.1f} req/s   p99 {p99:>8}{errors}")
                ratio = rates["page of 100"] / rates["themes"]
                print(f"  {server.name:6} page of 100 at {ratio:.2f}x the themes' requests/s")
                if server is kept and ratio < TARGET_RATIO:
                    failures.append(
                        f"page of 100 under wrk: {ratio:.2f}x the themes' requests/s "
                        f"(target {TARGET_RATIO}x)"
                    )
    finally:
        for server in servers:
            server.stop()
            server.show_log(errors_only=True)
        _remove_worktree(tree)
        if not args.keep:
            drop(Strategy.objects.get(slug=SLUG))

    if failures:
        print()
        for failure in failures:
            print(f"OVER TARGET: {failure}")
        sys.exit(1)
    print("every figure within its target")


if __name__ == "__main__":
    main()
