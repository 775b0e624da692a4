"""Summary table files: CSV, an XLSX workbook and a printable HTML page.

Each writer takes the row chunks of selectors.summary_row_chunks and keeps none of them:
memory stays flat whatever the number of rows. CSV and XLSX carry the machine column
names (selectors.COLUMNS) like the reports do; the HTML page is for people, with
headings, section titles and outcomes in the file's language.
"""

from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

import xlsxwriter
from django.template.loader import render_to_string
from django.utils import timezone

from proposals.cells import csv_value, csv_writer, neutralise
from proposals.summary.selectors import COLUMNS, Row

Chunks = Iterable[list[Row]]
OnChunk = Callable[[int], None]


def _cells(row: Row) -> list[Any]:
    """A row's cells in COLUMNS order: themes joined by `;`, times local, None empty,
    and text a spreadsheet would run as a formula neutralised as reports do it."""
    cells: list[Any] = []
    for column in COLUMNS:
        value = row[column]
        if column == "themes":
            value = ";".join(value)
        if value is None:
            cells.append("")
        elif isinstance(value, datetime):
            cells.append(timezone.localtime(value))
        else:
            cells.append(neutralise(str(value)))
    return cells


def write_csv(path: Path, chunks: Chunks, on_chunk: OnChunk) -> int:
    """UTF-8 with a byte-order mark, so Excel opens Cyrillic and Kazakh text correctly;
    every field quoted, as the reports' CSV (proposals.cells)."""
    rows = 0
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv_writer(out)
        writer.writerow(COLUMNS)
        for chunk in chunks:
            writer.writerows([csv_value(v) for v in _cells(row)] for row in chunk)
            rows += len(chunk)
            on_chunk(rows)
    return rows


def write_xlsx(path: Path, chunks: Chunks, on_chunk: OnChunk) -> int:
    """One sheet, `summary`, with the column names as its header row.

    constant_memory writes each row to disk as it comes; strings are never read as
    formulas, numbers or links.
    """
    workbook = xlsxwriter.Workbook(
        str(path),
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
            "remove_timezone": True,
        },
    )
    try:
        bold = workbook.add_format({"bold": True})
        when = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"})
        sheet = workbook.add_worksheet("summary")
        sheet.write_row(0, 0, COLUMNS, bold)
        sheet.freeze_panes(1, 0)
        number = 0
        for chunk in chunks:
            for row in chunk:
                number += 1
                for column, value in enumerate(_cells(row)):
                    if value == "":
                        continue
                    if isinstance(value, datetime):
                        sheet.write_datetime(number, column, value, when)
                    else:
                        sheet.write_string(number, column, value)
            on_chunk(number)
        return number
    finally:
        workbook.close()


TEMPLATE = "proposals/summary/summary.html"


def write_html(path: Path, chunks: Chunks, on_chunk: OnChunk, context: dict[str, Any]) -> int:
    """The printable table, section by section, written in parts as the chunks come.

    The one template is rendered once per part (`head`, a section's `open`, its `rows`,
    `close`, `foot`), so a table of any size never sits in memory whole. `context` is
    made by services in the file's language: the strategy, the time, the counts, and
    `sections`, `districts`, `themes` (id or slug to a name) and `describe` (a row's
    outcome as a reader says it).
    """
    sections = context["sections"]
    rows = 0
    opened = False
    current: object = object()

    def part(name: str, **extra: Any) -> str:
        return render_to_string(TEMPLATE, {**context, "part": name, **extra})

    with path.open("w", encoding="utf-8") as out:
        out.write(part("head"))
        for chunk in chunks:
            run: list[dict[str, Any]] = []
            for row in chunk:
                if row["section_id"] != current:
                    if run:
                        out.write(part("rows", rows=run))
                        run = []
                    if opened:
                        out.write(part("close"))
                    current = row["section_id"]
                    out.write(part("open", section=sections.get(current)))
                    opened = True
                run.append(_readable(row, context))
            if run:
                out.write(part("rows", rows=run))
            rows += len(chunk)
            on_chunk(rows)
        if opened:
            out.write(part("close"))
        out.write(part("foot", total=rows))
    return rows


def _readable(row: Row, context: dict[str, Any]) -> dict[str, Any]:
    return {
        **row,
        "district_name": context["districts"].get(row["district"], row["district"] or ""),
        "theme_names": [context["themes"].get(slug, slug) for slug in row["themes"]],
        "outcome_label": context["describe"](row),
        "answered_at": timezone.localtime(row["answered_at"]) if row["answered_at"] else None,
    }
