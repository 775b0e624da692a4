"""CSV and XLSX files that a spreadsheet opens without running anything a resident wrote.

A Russian or Kazakh Excel opened by double-click splits a line on `;`, not `,`: a cell
`Скамейки во дворе;=2*21;` then becomes three cells, the middle one a live formula. So
every field is quoted, and a formula start is neutralised (a leading `'`) wherever a
re-split could make it begin a cell: at the start of the text and after `;` `,` tab, CR
or LF, with only spaces or double quotes between.

Three writers: the report's CSV in Python (SQLite), the report's CSV by PostgreSQL's
COPY, and the summary table's CSV. The report tests order through the API, so on
PostgreSQL they go through COPY; one more test there holds the two report writers to
the same bytes.
"""

import csv
import io
import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import pytest
from django.db import connection
from django.utils import timezone

from proposals.cells import neutralise
from proposals.models import Answer, Proposal, ProposalEvent, Reaction, Report
from proposals.reports import writers as report_writers
from proposals.reports.copy import write_csv_copy
from proposals.reports.rows import COLUMNS as REPORT_COLUMNS
from proposals.reports.rows import report_rows
from proposals.selectors import proposal_list
from proposals.summary.selectors import COLUMNS as SUMMARY_COLUMNS
from strategy.models import District, Theme
from tests.conftest import client_for
from tests.factories import ProposalFactory, SectionFactory, UserFactory

pytestmark = pytest.mark.django_db

BOM = b"\xef\xbb\xbf"
# What residents wrote, and what the files must hold instead.
CELLS = {
    "issue": ("Скамейки во дворе;=2*21;", "Скамейки во дворе;'=2*21;"),
    "semicolon": ("Фонари;=HYPERLINK(1)", "Фонари;'=HYPERLINK(1)"),
    "semicolon-space": ("Фонари; =1+1 во дворе", "Фонари; '=1+1 во дворе"),
    "comma": ("Звоните,+7 701 000 00 00", "Звоните,'+7 701 000 00 00"),
    "tab": ("Урны\t@SUM(1;2)", "Урны\t'@SUM(1;2)"),
    "newline": ("Список дворов:\n-2+3 двора", "Список дворов:\n'-2+3 двора"),
    "crlf": ("Список дворов:\r\n=1+1", "Список дворов:\r\n'=1+1"),
    "quoted": ('Деревья;"=1+1" во дворе', 'Деревья;"\'=1+1" во дворе'),
    "leading": ("=1+1 в начале", "'=1+1 в начале"),
    "leading-tab": ("\t=1+1 табуляция", "'\t'=1+1 табуляция"),
    "plain": ("Дворы 2020-2021, e-mail; без формул", "Дворы 2020-2021, e-mail; без формул"),
}
FORMULA_START = re.compile(r"[=+\-@]")


# --- the rule ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", CELLS)
def test_neutralise_quotes_every_formula_start_a_resplit_could_expose(name):
    written, expected = CELLS[name]
    assert neutralise(written) == expected


@pytest.mark.parametrize("name", CELLS)
def test_neutralise_twice_changes_nothing_more(name):
    once = neutralise(CELLS[name][0])
    assert neutralise(once) == once


def test_neutralise_leaves_text_without_formula_starts_alone():
    for text in ("", "Обычный текст", "a;b,c", "2+2=4", "см. п. 3-4", "e@mail"):
        assert neutralise(text) == text


# --- helpers -------------------------------------------------------------------------------------


def _quoted_rows(text: str) -> list[list[str]]:
    """The records of `text`, asserting that every field is quoted (RFC 4180 with `"`)."""
    rows: list[list[str]] = []
    at = 0
    while at < len(text):
        row: list[str] = []
        while True:
            assert text[at] == '"', f"an unquoted field at {at}: {text[at : at + 40]!r}"
            at += 1
            value = []
            while True:
                end = text.index('"', at)
                value.append(text[at:end])
                if text[end + 1 : end + 2] == '"':
                    value.append('"')
                    at = end + 2
                    continue
                at = end + 1
                break
            row.append("".join(value))
            if at == len(text) or text[at] == "\n":
                at += 1
                break
            assert text[at] == ",", f"junk after a field at {at}: {text[at : at + 40]!r}"
            at += 1
        rows.append(row)
    return rows


def _resplit_cells(text: str) -> list[str]:
    """The cells a spreadsheet could make of the file by splitting on any separator and
    dropping quotes and spaces: none may start a formula."""
    return [piece.lstrip(' "') for piece in re.split(r"[;,\t\r\n]", text)]


def _check_csv(raw: bytes, columns: tuple[str, ...]) -> list[dict[str, str]]:
    assert raw.startswith(BOM)
    text = raw.decode("utf-8")[1:]
    rows = _quoted_rows(text)
    assert rows == list(csv.reader(io.StringIO(text)))  # the same records as any reader sees
    assert rows[0] == list(columns)
    for cell in _resplit_cells(text):
        assert not FORMULA_START.match(cell), f"a re-split cell starts a formula: {cell!r}"
    return [dict(zip(columns, row, strict=True)) for row in rows[1:]]


_NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}


def _lf(text: str) -> str:
    # XML reads a written CR LF as LF; OOXML may keep the CR as `_x000D_`.
    return text.replace("_x000D_", "\r").replace("\r\n", "\n")


def _xlsx_texts(content: bytes) -> list[str]:
    """Every text cell of every sheet (line ends as LF), asserting that no cell is a
    formula."""
    texts: list[str] = []
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        names = archive.namelist()
        shared: list[str] = []
        if "xl/sharedStrings.xml" in names:
            strings = ElementTree.fromstring(archive.read("xl/sharedStrings.xml"))  # noqa: S314
            shared = [
                "".join(t.text or "" for t in si.iter(f"{{{_NS['m']}}}t"))
                for si in strings.findall("m:si", _NS)
            ]
        for name in names:
            if not name.startswith("xl/worksheets/sheet"):
                continue
            # Written by the app under test a moment ago, not received from anyone.
            sheet = ElementTree.fromstring(archive.read(name))  # noqa: S314
            for cell in sheet.iter(f"{{{_NS['m']}}}c"):
                assert cell.find("m:f", _NS) is None, f"a formula in {name}"
                assert cell.get("t") != "str", f"a formula's cached text in {name}"
                if cell.get("t") == "s":
                    texts.append(_lf(shared[int(cell.find("m:v", _NS).text)]))
                elif cell.get("t") == "inlineStr":
                    texts.append(_lf("".join(t.text or "" for t in cell.iter(f"{{{_NS['m']}}}t"))))
    return texts


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def dangerous(strategy, moderator) -> dict[str, Proposal]:
    """A proposal per cell of CELLS, the text in its title, published on a section whose
    title, a decision note and an answer are dangerous too."""
    section = SectionFactory(strategy=strategy, code="1", position=0, title_ru="Дворы;=1+1")
    proposals = {
        name: ProposalFactory(strategy=strategy, section=section, title=written)
        for name, (written, _) in CELLS.items()
    }
    Answer.objects.create(
        proposal=proposals["plain"],
        outcome="not_accepted",
        text="Не принято;=2*21;",
        published=True,
        answered_at=timezone.now(),
    )
    pending = ProposalFactory(
        strategy=strategy, title="Ждёт ответа автора", status=Proposal.Status.CHANGES_REQUESTED
    )
    event = ProposalEvent.objects.create(
        proposal=pending,
        action=ProposalEvent.Action.REQUEST_CHANGES,
        from_status=Proposal.Status.PENDING,
        to_status=Proposal.Status.CHANGES_REQUESTED,
        note="Уточните;+7 701 000 00 00",
        actor=moderator,
    )
    Proposal.objects.filter(pk=pending.pk).update(latest_decision=event)
    proposals["pending"] = pending
    return proposals


def _report(analyst, capture, fmt: str) -> bytes:
    with capture(execute=True):
        response = client_for(analyst).post(
            "/api/v1/reports/", {"strategy": "almaty-test", "format": fmt}, format="json"
        )
    assert response.status_code == 202, response.content
    report = Report.objects.get(pk=response.json()["id"])
    assert report.status == Report.Status.DONE, report.error
    return Path(report.file.path).read_bytes()


def _summary(api, capture, fmt: str) -> bytes:
    url = "/api/v1/strategies/almaty-test/summary/"
    with capture(execute=True):
        assert api.get(url, {"format": fmt}).status_code == 202
    response = api.get(url, {"format": fmt})
    assert response.status_code == 200
    return b"".join(response.streaming_content)


# --- the report's CSV: Python on SQLite, COPY on PostgreSQL ------------------------------------


def test_report_csv_quotes_every_field_and_neutralises_after_separators(
    dangerous, analyst, django_capture_on_commit_callbacks
):
    records = _check_csv(
        _report(analyst, django_capture_on_commit_callbacks, "csv"), REPORT_COLUMNS
    )
    by_code = {r["code"]: r for r in records}
    for name, (_, expected) in CELLS.items():
        record = by_code[dangerous[name].code]
        assert record["title"] == expected, name
        assert record["section_title"] == "Дворы;'=1+1"
    assert by_code[dangerous["pending"].code]["decision_note"] == "Уточните;'+7 701 000 00 00"
    # The numbers are quoted too, and still read back as the numbers.
    assert by_code[dangerous["issue"].code]["reactions_like"] == "0"


def test_report_xlsx_holds_text_never_formulas(
    dangerous, analyst, django_capture_on_commit_callbacks
):
    texts = _xlsx_texts(_report(analyst, django_capture_on_commit_callbacks, "xlsx"))
    for name, (_, expected) in CELLS.items():
        assert _lf(expected) in texts, name


# --- the summary table's CSV -----------------------------------------------------------------


def test_summary_csv_quotes_every_field_and_neutralises_after_separators(
    api, dangerous, django_capture_on_commit_callbacks
):
    records = _check_csv(_summary(api, django_capture_on_commit_callbacks, "csv"), SUMMARY_COLUMNS)
    by_code = {r["code"]: r for r in records}
    for name, (_, expected) in CELLS.items():
        assert by_code[dangerous[name].code]["title"] == expected, name
    assert by_code[dangerous["plain"].code]["answer_text"] == "Не принято;'=2*21;"


def test_summary_xlsx_holds_text_never_formulas(api, dangerous, django_capture_on_commit_callbacks):
    texts = _xlsx_texts(_summary(api, django_capture_on_commit_callbacks, "xlsx"))
    for name, (_, expected) in CELLS.items():
        assert _lf(expected) in texts, name
    assert "Не принято;'=2*21;" in texts


# --- COPY and Python: the same bytes -----------------------------------------------------------


@pytest.fixture
def varied(dangerous, strategy, moderator):
    """Rows with every kind of value the report holds: empty and set dates, a date on a
    whole second, reactions, themes, a district, a duplicate, quotes and line breaks."""
    section = SectionFactory(
        strategy=strategy, code="2", position=1, title_ru="Транспорт", title_kk="", title_en="Roads"
    )
    original = dangerous["issue"]
    copy = ProposalFactory(
        strategy=strategy,
        section=section,
        title='Ещё раз "то же самое", только, короче',
        body='Текст с "кавычками",\r\nпереводом строки и 😀 эмодзи; -1 и =A1',
        district=District.objects.get(slug="medeu"),
        themes=[Theme.objects.get(slug="transport"), Theme.objects.get(slug="ecology")],
        language="kk",
        status=Proposal.Status.REJECTED,
        published_at=None,
        duplicate_of=original,
    )
    event = ProposalEvent.objects.create(
        proposal=copy,
        action=ProposalEvent.Action.REJECT,
        from_status=Proposal.Status.PENDING,
        to_status=Proposal.Status.REJECTED,
        reason="duplicate",
        note="",
        actor=moderator,
    )
    Proposal.objects.filter(pk=copy.pk).update(
        latest_decision=event, created_at=timezone.now().replace(microsecond=0)
    )
    for kind in ("like", "like", "funny", "outrage"):
        Reaction.objects.create(proposal=original, user=UserFactory(), kind=kind)
    Proposal.objects.filter(pk=dangerous["plain"].pk).update(
        published_at=timezone.now().replace(microsecond=0)
    )
    return copy


@pytest.mark.parametrize("language", ["ru", "kk", "en"])
def test_copy_writes_the_same_bytes_as_the_python_writer(varied, analyst, tmp_path, language):
    if connection.vendor != "postgresql":
        pytest.skip("COPY is PostgreSQL's: set DATABASE_URL to a PostgreSQL database")
    queryset = proposal_list(user=analyst, filters={"strategy": "almaty-test"})
    by_copy, by_python = tmp_path / "copy.csv", tmp_path / "python.csv"
    assert write_csv_copy(by_copy, queryset, language, lambda n: None) == queryset.count()
    report_writers.write_csv(by_python, report_rows(queryset, language=language), lambda n: None)
    copied, written = by_copy.read_bytes(), by_python.read_bytes()
    assert copied.decode() == written.decode()  # a readable difference first
    assert copied == written
    records = _check_csv(copied, REPORT_COLUMNS)
    assert len(records) == queryset.count() == len(CELLS) + 2
