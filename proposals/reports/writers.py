"""Report files: CSV, an XLSX workbook and a printable HTML summary.

The CSV and XLSX writers take the row chunks of rows.report_rows and keep none of them:
memory stays flat whatever the number of rows.
"""

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import xlsxwriter
from django.template.loader import render_to_string

from proposals.cells import csv_value, csv_writer
from proposals.reports.rows import COLUMNS

Chunks = Iterable[list[tuple[Any, ...]]]
OnChunk = Callable[[int], None]


def _counted(chunks: Chunks, on_chunk: OnChunk) -> Iterator[list[tuple[Any, ...]]]:
    written = 0
    for chunk in chunks:
        yield chunk
        written += len(chunk)
        on_chunk(written)


def write_csv(path: Path, chunks: Chunks, on_chunk: OnChunk) -> int:
    """UTF-8 with a byte-order mark, so Excel opens Cyrillic and Kazakh text correctly;
    every field quoted, cells already neutralised by rows.report_rows. PostgreSQL's COPY
    (copy.py) writes the same bytes."""
    rows = 0
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv_writer(out)
        writer.writerow(COLUMNS)
        for chunk in _counted(chunks, on_chunk):
            writer.writerows([csv_value(value) for value in row] for row in chunk)
            rows += len(chunk)
    return rows


def write_xlsx(
    path: Path,
    chunks: Chunks,
    on_chunk: OnChunk,
    summary: dict[str, Any],
    readable: dict[str, Any] | None = None,
) -> int:
    """A sheet of proposals and a summary sheet of counts, then (`readable`: its "title",
    "headings", "widths" and "rows") the proposals again for people, in the report's language.

    constant_memory writes each row to disk as it comes (the write-only mode of
    XlsxWriter); strings are never read as formulas or numbers.
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
        day = workbook.add_format({"num_format": "yyyy-mm-dd"})
        sheet = workbook.add_worksheet("proposals")
        counts = workbook.add_worksheet("summary")
        _write_summary(counts, summary, bold, day)
        sheet.write_row(0, 0, COLUMNS, bold)
        sheet.freeze_panes(1, 0)
        number = 0
        for chunk in _counted(chunks, on_chunk):
            for row in chunk:
                number += 1
                for column, value in enumerate(row):
                    if value is None or value == "":
                        continue
                    if isinstance(value, datetime):
                        sheet.write_datetime(number, column, value, when)
                    elif isinstance(value, int):
                        sheet.write_number(number, column, value)
                    else:
                        sheet.write_string(number, column, value)
        if readable is not None:
            # A second pass over fresh rows: constant_memory writes one sheet after another.
            _write_readable(workbook.add_worksheet(readable["title"]), readable, bold, when)
        return number
    finally:
        workbook.close()


def _write_readable(sheet: Any, readable: dict[str, Any], bold: Any, when: Any) -> None:
    headings = readable["headings"]
    for column, width in enumerate(readable["widths"]):
        sheet.set_column(column, column, width)
    sheet.write_row(0, 0, headings, bold)
    sheet.freeze_panes(1, 0)
    number = 0
    for row in readable["rows"]:
        number += 1
        for column, value in enumerate(row):
            if value is None or value == "":
                continue
            if isinstance(value, datetime):
                sheet.write_datetime(number, column, value, when)
            elif isinstance(value, int):
                sheet.write_number(number, column, value)
            else:
                sheet.write_string(number, column, value)
    sheet.autofilter(0, 0, max(number, 1), len(headings) - 1)


def _write_summary(sheet: Any, summary: dict[str, Any], bold: Any, day: Any) -> None:
    row = 0
    for title, items in (
        ("status", summary["by_status"]),
        ("theme", summary["by_theme"]),
        ("section", summary["by_section"]),
        ("district", summary["by_district"]),
    ):
        sheet.write_row(row, 0, (title, "count"), bold)
        row += 1
        for label, count in items:
            sheet.write_string(row, 0, label)
            sheet.write_number(row, 1, count)
            row += 1
        row += 1
    sheet.write_row(row, 0, ("day", "received"), bold)
    row += 1
    for date, count in summary["by_day"]:
        sheet.write_datetime(row, 0, date, day)
        sheet.write_number(row, 1, count)
        row += 1
    sheet.set_column(0, 0, 40)


def write_html(path: Path, context: dict[str, Any]) -> int:
    """The printable summary; `context` is made by services in the analyst's language."""
    path.write_text(render_to_string("proposals/reports/summary.html", context), encoding="utf-8")
    return context["total"]
