"""Issue 12: reports read in the orderer's language, not as codes."""

import re
import zipfile

import pytest

from strategy.models import District, Theme
from tests.conftest import page_client_for
from tests.proposals.test_reports import (  # noqa: F401 (world is a fixture)
    _built,
    _path,
    _xlsx,
    _xlsx_records,
    world,
)

pytestmark = pytest.mark.django_db


def test_xlsx_has_a_readable_sheet_in_the_report_language(
    world,  # noqa: F811
    analyst,
    django_capture_on_commit_callbacks,
):
    analyst.language = "ru"
    analyst.save(update_fields=["language"])
    report = _built(analyst, django_capture_on_commit_callbacks, fmt="xlsx")
    path = _path(report)
    sheets = _xlsx(path)
    # The contract's sheets stay first and as they were.
    assert list(sheets)[:2] == ["proposals", "summary"]
    assert _xlsx_records(path)[world["p"]["trees"].code]["status"] == "published"
    assert list(sheets)[2] == "Предложения"
    rows = sheets["Предложения"]
    headings = rows[0]
    assert "Статус" in headings and "Темы" in headings and "Район" in headings
    by_code = {row[0]: dict(zip(headings, row, strict=False)) for row in rows[1:]}
    trees = by_code[world["p"]["trees"].code]
    assert trees["Статус"] == "Опубликовано"
    assert "published" not in trees.values() and "ecology;transport" not in trees.values()
    district = world["p"]["trees"].district
    assert trees["Район"] == district.name_ru
    copy = by_code[world["p"]["copy"].code]
    assert copy["Причина отклонения"] == "Дублирует другое предложение"
    assert len(by_code) == report.row_count
    with zipfile.ZipFile(path) as archive:
        sheet = archive.read("xl/worksheets/sheet3.xml").decode()
    assert "<autoFilter " in sheet
    assert re.search(r'<col [^>]*width="', sheet)


FILTERS = {"theme": ["transport", "ecology"], "status": "published", "district": "medeu"}


def _readable_names() -> list[str]:
    return [
        *(Theme.objects.get(slug=slug).name_ru for slug in FILTERS["theme"]),
        District.objects.get(slug="medeu").name_ru,
        "Опубликовано",
    ]


def test_html_summary_names_the_filters_in_the_report_language(
    world,  # noqa: F811
    analyst,
    django_capture_on_commit_callbacks,
):
    analyst.language = "ru"
    analyst.save(update_fields=["language"])
    report = _built(analyst, django_capture_on_commit_callbacks, fmt="html", filters=FILTERS)
    page = _path(report).read_text(encoding="utf-8")
    table = page.split("<h2>", 2)[1].split("</table>")[0]
    for name in _readable_names():
        assert name in table
    for code in ("transport", "ecology", "published", "medeu", ">theme<", ">status<"):
        assert code not in table
    assert ">Темы<" in table and ">Статус<" in table


def test_reports_page_names_the_filters(
    world,  # noqa: F811
    analyst,
    django_capture_on_commit_callbacks,
):
    _built(analyst, django_capture_on_commit_callbacks, fmt="csv", filters=FILTERS)
    page = page_client_for(analyst).get("/ru/analysis/reports/").content.decode()
    assert "theme=" not in page and "status=published" not in page
    for name in _readable_names():
        assert name in page
