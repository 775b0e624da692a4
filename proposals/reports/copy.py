"""The CSV report on PostgreSQL: the database writes the rows itself with COPY ... TO STDOUT.

The proposals are the ones the report's filters select (the proposal list's own query, as
a subquery), in id order, one COPY per chunk of ids so progress and the heartbeat move.
The file is the Python writer's byte for byte (writers.write_csv over rows.py, which
SQLite and other databases use): the same columns, every field quoted (FORCE_QUOTE *,
with no NULL left to come out unquoted), cells neutralised by the same pattern
(proposals.cells), local times to the microsecond, lines ending in LF.
"""

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection

from civic.languages import LANGUAGE_CODES
from proposals.cells import csv_writer, neutralise_sql
from proposals.reports.rows import COLUMNS

CHUNK = 100_000
_plain = neutralise_sql
# Every field quoted, as csv_writer quotes them; lines end in LF, as it ends them.
_OPTIONS = "(FORMAT csv, FORCE_QUOTE *)"


def _local(expression: str) -> str:
    # The session's time zone is the site's (set_config below). No time is an empty
    # string, not NULL, which COPY would leave unquoted.
    return (
        f"""COALESCE(to_char({expression}, 'YYYY-MM-DD"T"HH24:MI:SS.US') """
        f"""|| to_char({expression}, 'TZH:TZM'), '')"""
    )


_THEMES = """COALESCE((SELECT string_agg(t.slug, ';' ORDER BY t.position, t.slug)
                   FROM proposals_proposal_themes pt
                   JOIN strategy_theme t ON t.id = pt.theme_id
                  WHERE pt.proposal_id = p.id), '')"""


def _select(language: str, subquery: str) -> str:
    title = f"COALESCE(NULLIF(sec.title_{language}, ''), sec.title_ru, '')"
    return f"""
SELECT {_plain("COALESCE(p.code, '')")}, {_local("p.created_at")}, {_local("p.published_at")}, p.status,
       {_plain("s.slug")}, {_plain("COALESCE(sec.code, '')")}, {_plain(title)},
       {_plain(_THEMES)},
       {_plain("COALESCE(d.slug, '')")}, p.language, {_plain("p.title")}, {_plain("p.body")},
       r.like, r.indifferent, r.funny, r.sympathy, r.outrage,
       COALESCE(e.action, ''), COALESCE(e.reason, ''), {_plain("COALESCE(e.note, '')")},
       {_local("e.at")}, {_plain("COALESCE(dup.code, '')")}
  FROM proposals_proposal p
  JOIN strategy_strategy s ON s.id = p.strategy_id
  LEFT JOIN strategy_section sec ON sec.id = p.section_id
  LEFT JOIN strategy_district d ON d.id = p.district_id
  LEFT JOIN proposals_proposalevent e ON e.id = p.latest_decision_id
  LEFT JOIN proposals_proposal dup ON dup.id = p.duplicate_of_id
  CROSS JOIN LATERAL (
      SELECT count(*) FILTER (WHERE kind = 'like') AS like,
             count(*) FILTER (WHERE kind = 'indifferent') AS indifferent,
             count(*) FILTER (WHERE kind = 'funny') AS funny,
             count(*) FILTER (WHERE kind = 'sympathy') AS sympathy,
             count(*) FILTER (WHERE kind = 'outrage') AS outrage
        FROM proposals_reaction WHERE proposal_id = p.id) r
 WHERE p.id IN ({subquery})
 ORDER BY p.id"""  # noqa: S608 - only our own SQL and the ORM's, values are parameters


def write_csv_copy(
    path: Path, queryset: Any, language: str, on_chunk: Callable[[int], None]
) -> int:
    """Write the CSV report of `queryset` with PostgreSQL's COPY; returns the row count."""
    language = language if language in LANGUAGE_CODES else "ru"
    rows = 0
    last = 0
    with path.open("wb") as out, connection.cursor() as cursor:
        header = io.StringIO()
        csv_writer(header).writerow(COLUMNS)
        out.write(("\ufeff" + header.getvalue()).encode())
        # Times in the site's zone, like every other timestamp we hand out. Not SET LOCAL:
        # each chunk commits its progress, so the build is no single transaction.
        cursor.execute("SELECT set_config('TimeZone', %s, false)", [settings.TIME_ZONE])
        try:
            while True:
                after = queryset.order_by("pk").filter(pk__gt=last).values_list("pk", flat=True)
                # The id that closes this chunk: the CHUNK-th of the set after `last`.
                window = list(after[CHUNK - 1 : CHUNK])
                if window:
                    upper, size = window[0], CHUNK
                else:
                    size = after.count()
                    if not size:
                        break
                    upper = after.order_by("-pk")[0]
                # The id range goes inside the subquery, so each COPY reads only its chunk.
                chunk = queryset.filter(pk__gt=last, pk__lte=upper).order_by().values("pk")
                subquery, params = chunk.query.sql_with_params()
                sql = f"COPY ({_select(language, subquery)}) TO STDOUT WITH {_OPTIONS}"
                with cursor.cursor.copy(sql, params) as copy:
                    for block in copy:
                        out.write(block)
                rows += size
                last = upper
                on_chunk(rows)
        finally:
            cursor.execute("SELECT set_config('TimeZone', 'UTC', false)")
    return rows
