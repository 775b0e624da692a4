"""Reads of the full-text index: which proposals match a query, how well, and where."""

import re
from functools import lru_cache
from typing import Any

from django.db import connection
from django.db.models import BooleanField, FloatField, QuerySet, Value

from civic.languages import LANGUAGE_CODES
from civic.sql import RowSQL
from proposals.models import Proposal
from proposals.search.analysis import (
    kazakh_stem,
    normalise,
    query_stems,
    query_words,
    stems,
    words,
)
from strategy.models import Section, Strategy

_WORD = re.compile(r"[^\W_]{2,}")
# A snippet shows this many words around the first match in the body.
SNIPPET_WORDS = 24
OPEN, CLOSE = "«", "»"
# Searches whose ranks a SQLite connection keeps (see _fts5_rank).
KEPT_SEARCHES = 8


def _postgres_query(words: list[str]) -> tuple[str, list[str]]:
    """A tsquery of every word, each as its Russian/English stem or its Kazakh one."""
    parts, params = [], []
    for word in words:
        kazakh = kazakh_stem(word)
        if kazakh != word or not word.isascii():
            parts.append("(plainto_tsquery('russian', %s) || plainto_tsquery('simple', %s))")
            params += [word, kazakh]
        else:
            parts.append("plainto_tsquery('russian', %s)")
            params.append(word)
    return " && ".join(parts), params


def _fts5_query(words: list[str]) -> str:
    # Stems are letters and digits only, so quoting them is all FTS5's syntax needs.
    return " AND ".join(
        "(" + " OR ".join(f'"{stem}"' for stem in sorted(stems(word))) + ")" for word in words
    )


def search_filter(queryset: QuerySet[Proposal], q: str) -> QuerySet[Proposal]:
    """The proposals of `queryset` that hold every word of `q` in some form, annotated
    with `search_rank` (higher is better; a title match outweighs a body match).

    A query with no word in it (punctuation, single letters) matches nothing.
    """
    words = query_words(q)
    if not words:
        return queryset.annotate(search_rank=Value(0.0)).none()
    if connection.vendor == "postgresql":
        tsquery, params = _postgres_query(words)
        # Built of constants; every word goes in as a parameter.
        matches = RowSQL(
            "{row}.search_vector @@ (" + tsquery + ")", params, output_field=BooleanField()
        )
        rank = RowSQL(
            "ts_rank({row}.search_vector, (" + tsquery + "))", params, output_field=FloatField()
        )
        return queryset.filter(matches).annotate(search_rank=rank)
    match = _fts5_query(words)
    _fts5_rank(match)
    return queryset.filter(
        RowSQL(
            "{row}.id IN (SELECT id FROM temp.search_ranks WHERE query = %s)",
            [match],
            output_field=BooleanField(),
        )
    ).annotate(
        search_rank=RowSQL(
            "(SELECT rank FROM temp.search_ranks WHERE query = %s AND id = {row}.id)",
            [match],
            output_field=FloatField(),
        )
    )


def _fts5_rank(match: str) -> None:
    """Rank every match of `match` once, into a table of this connection.

    bm25() only works in the query that holds MATCH, and asked once per listed row (a
    correlated subquery) it ran the whole full-text query again for each: 1.8 s for a
    word 5,000 proposals of 100,000 hold, where one pass over the index takes 9 ms. The
    ranks are written afresh at each search, keyed by the query, so a list built from
    them (lazily, perhaps after another search) reads this search's ranks.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS search_ranks"
            " (query TEXT, id INTEGER, rank REAL, PRIMARY KEY (query, id))"
        )
        cursor.execute("DELETE FROM temp.search_ranks WHERE query = %s", [match])
        # bm25 is lower for better matches; negated so both engines sort rank descending.
        cursor.execute(
            "INSERT INTO temp.search_ranks (query, id, rank)"
            " SELECT %s, rowid, -bm25(proposals_search, 2.0, 1.0) FROM proposals_search"
            " WHERE proposals_search MATCH %s",
            [match, match],
        )
        # A long-lived connection keeps the ranks of its last few searches, not of all.
        cursor.execute(
            "DELETE FROM temp.search_ranks WHERE query IN (SELECT query FROM"
            " temp.search_ranks GROUP BY query ORDER BY max(rowid) DESC LIMIT -1 OFFSET %s)",
            [KEPT_SEARCHES],
        )


Parts = list[tuple[str, bool]]  # pieces of text, each marked as a match or not


def _marked(text: str, wanted: frozenset[str]) -> Parts:
    """The text in pieces, every matching word a piece of its own marked True."""
    parts: Parts = []
    last = 0
    for word in _WORD.finditer(text):
        if stems(normalise(word.group())) & wanted:
            parts += [(text[last : word.start()], False), (word.group(), True)]
            last = word.end()
    parts.append((text[last:], False))
    return [part for part in parts if part[0]]


def highlight_parts(*, title: str, body: str, q: str) -> Parts:
    """Why a proposal matched: the title if a word of `q` is in it, and the part of the
    body around the first match, " — " between them.

    Marked in Python from the same stems as the index, so both engines mark alike; the
    pages render the matches as <mark>, the API between « and ».
    """
    wanted = query_stems(q)
    parts = _marked(title, wanted)
    if not any(matched for _, matched in parts):
        parts = []
    spaced = body.split()
    first = next(
        (n for n, word in enumerate(spaced) if any(m for _, m in _marked(word, wanted))),
        None,
    )
    if first is not None or not parts:
        start = max(0, (first or 0) - SNIPPET_WORDS // 3)
        window = " ".join(spaced[start : start + SNIPPET_WORDS])
        if start > 0:
            window = "…" + window
        if start + SNIPPET_WORDS < len(spaced):
            window += "…"
        if parts:
            parts.append((" — ", False))
        parts += _marked(window, wanted)
    return parts


def parts_text(parts: Parts) -> str:
    """Highlight parts as the API's plain text: the matched words between « and »."""
    return "".join(f"{OPEN}{text}{CLOSE}" if matched else text for text, matched in parts)


def highlight(*, title: str, body: str, q: str) -> str:
    return parts_text(highlight_parts(title=title, body=body, q=q))


@lru_cache(maxsize=8192)
def _text_stems(text: str) -> frozenset[str]:
    # Keyed by the text itself: a strategy's sections change only on import, and a
    # changed text is simply another key.
    return frozenset(stem for word in words(text) for stem in stems(word))


def section_search(*, strategy: Strategy, q: str, language: str) -> list[dict[str, Any]]:
    """The strategy's sections that hold every word of `q` (in any of their three
    languages), best first: a word in a title counts twice.

    A document has hundreds of sections, not millions, so they are matched in Python
    against stems kept per text; each result carries `highlight` in `language` where the
    match is there, else in the language that matched, and the body's `parts` around
    the match.
    """
    wanted = [stems(word) for word in query_words(q)]
    if not wanted:
        return []
    found = []
    for section in Section.objects.filter(strategy=strategy).order_by("position"):
        texts = {
            code: (getattr(section, f"title_{code}"), getattr(section, f"body_{code}"))
            for code in LANGUAGE_CODES
        }
        held = {
            code: (_text_stems(title), _text_stems(body)) for code, (title, body) in texts.items()
        }
        if not all(
            any(forms & (title | body) for title, body in held.values()) for forms in wanted
        ):
            continue
        score = sum(
            2 * bool(forms & title) + bool(forms & body)
            for forms in wanted
            for title, body in held.values()
        )
        shown = next(
            (
                code
                for code in (language, *LANGUAGE_CODES)
                if all(forms & (held[code][0] | held[code][1]) for forms in wanted)
            ),
            language,
        )
        title, body = texts[shown]
        found.append(
            (
                -score,
                section.position,
                {
                    "id": section.pk,
                    "code": section.code,
                    "title": title or section.title,
                    "language": shown,
                    # The body's match: the title is shown as it is.
                    "parts": highlight_parts(title="", body=body, q=q),
                },
            )
        )
    return [row for _, _, row in sorted(found, key=lambda item: item[:2])]
