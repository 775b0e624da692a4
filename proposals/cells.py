"""Cells of the files a spreadsheet opens: the one rule for text it would run as a
formula, and the one CSV shape every CSV file of the site has.

A spreadsheet runs a cell that starts with = + - @ (or tab, CR before one of them).
Excel in a Russian or Kazakh locale splits a double-clicked CSV on `;`, not `,`, and
other programs guess the separator: a field `Скамейки во дворе;=2*21;` becomes three
cells, the middle one a live formula. So a formula start gets a leading `'` wherever a
re-split could make it begin a cell: at the start of the text, and after `;` `,` tab,
CR or LF with only spaces or double quotes between. The rule is idempotent, so text
neutralised twice reads as text neutralised once.

The same pattern runs in Python (the writers) and in PostgreSQL (the report's COPY);
tests/proposals/test_csv_safety.py holds the two to the same bytes.
"""

import csv
import re
from datetime import datetime
from typing import IO, Any

# POSIX-compatible enough for both Python's `re` and PostgreSQL's regular expressions:
# a lookbehind of one character, a bracket expression with `-` first, no `'`.
PATTERN = r'(?:^|(?<=[;,\t\r\n]))([ "]*)([-=+@\t\r])'
_FORMULA = re.compile(PATTERN)


def neutralise(value: str) -> str:
    """Text a spreadsheet would run as a formula, made plain text with a leading `'`."""
    return _FORMULA.sub(r"\1'\2", value)


def neutralise_sql(expression: str) -> str:
    """SQL for the text `expression` neutralised as `neutralise` does it."""
    # Plain literals: standard_conforming_strings (on since PostgreSQL 9.1) keeps `\`.
    return f"regexp_replace({expression}, '{PATTERN}', '\\1''\\2', 'g')"


def csv_writer(out: IO[str]) -> Any:
    """Every field quoted, so no reader splits one on a separator it holds; lines end in
    LF, as PostgreSQL's COPY ends them, so both writers give the same bytes."""
    return csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")


def csv_value(value: Any) -> Any:
    """A cell as the CSV files write it: times to the microsecond, as COPY writes them."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(timespec="microseconds")
    return value
