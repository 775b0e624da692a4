"""Reports (docs/api.md, "Reports"): ordering, the files' contents, privacy, and the background
machinery that builds, sweeps and expires them.

Builds run eagerly: an order enqueues its build on commit, so every order that should be
built is made inside django_capture_on_commit_callbacks(execute=True). Files go to a
temporary MEDIA_ROOT. Proposals are made through the real services.
"""

import csv
import io
import os
import re
import time
import zipfile
from datetime import datetime, timedelta
from pathlib import Path
from xml.etree import ElementTree

import pytest
from django.utils import timezone

from civic.accounts.services import role_grant
from proposals import services
from proposals.models import Proposal, Report
from proposals.reports import services as report_services
from proposals.reports import writers
from proposals.reports.tasks import report_build, report_expire, report_sweep
from strategy.models import District, Theme
from tests.conftest import client_for
from tests.factories import SectionFactory, StrategyFactory, UserFactory

pytestmark = pytest.mark.django_db

# docs/api.md, in its order: the CSV header and the header row of the XLSX proposals sheet.
API_COLUMNS = [
    "code",
    "created_at",
    "published_at",
    "status",
    "strategy",
    "section_code",
    "section_title",
    "themes",
    "district",
    "language",
    "title",
    "body",
    "reactions_like",
    "reactions_indifferent",
    "reactions_funny",
    "reactions_sympathy",
    "reactions_outrage",
    "decision",
    "decision_reason",
    "decision_note",
    "decided_at",
    "duplicate_of",
]
FORMATS = ("csv", "xlsx", "html")
CONTENT_TYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "html": "text/html",
}
BOM = b"\xef\xbb\xbf"
BODY = "Посадить деревья вдоль арыков и починить освещение во дворах."
# An author whose every identifying detail is easy to look for in the files.
SECRET_EMAIL = "secret.author.q7x9@private-mail.example"
SECRET_ID = 918273645
LIST_URL = "/api/v1/reports/"


def detail_url(report_id: int) -> str:
    return f"/api/v1/reports/{report_id}/"


def download_url(report_id: int) -> str:
    return f"/api/v1/reports/{report_id}/download/"


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


# --- data --------------------------------------------------------------------------------------


def _themes(*slugs: str) -> list[Theme]:
    return [Theme.objects.get(slug=slug) for slug in slugs]


def _submit(author, strategy, title, body=BODY, **kwargs) -> Proposal:
    return services.proposal_submit(
        author=author, strategy=strategy, title=title, body=body, **kwargs
    )


def _approve(proposal, moderator) -> Proposal:
    return services.proposal_moderate(proposal=proposal, moderator=moderator, decision="approve")


def _reload(proposal: Proposal) -> Proposal:
    return Proposal.objects.select_related("latest_decision", "duplicate_of").get(pk=proposal.pk)


@pytest.fixture
def world(db, strategy, resident, moderator, analyst):
    """Proposals of the strategy in every status, and one of another strategy.

    published "trees"   ecology+transport, medeu, section 1, reactions 2 like/1 funny/1 outrage
    published "bikes"   transport, almaly, created 40 days ago
    pending   "smog"    ecology
    withdrawn "bench"
    rejected  "copy"    a duplicate of "trees", with a note
    changes   "stop"    changes requested
    """
    section = SectionFactory(strategy=strategy, code="1", position=0, title_ru="Зелёный город")
    author = UserFactory(id=SECRET_ID, email=SECRET_EMAIL, display_name="Жанар")
    trees = _approve(
        _submit(
            author,
            strategy,
            "Больше деревьев во дворах",
            section=section,
            district=District.objects.get(slug="medeu"),
            themes=_themes("transport", "ecology"),
        ),
        moderator,
    )
    kinds = ["like", "like", "funny", "outrage"]
    for kind in kinds:
        services.reaction_set(proposal=trees, user=UserFactory(), kind=kind)
    bikes = _approve(
        _submit(
            resident,
            strategy,
            "Велодорожки на проспекте Абая",
            body="Нужны защищённые велодорожки от Саина до Достык, с освещением.",
            district=District.objects.get(slug="almaly"),
            themes=_themes("transport"),
        ),
        moderator,
    )
    Proposal.objects.filter(pk=bikes.pk).update(created_at=timezone.now() - timedelta(days=40))
    smog = _submit(
        author,
        strategy,
        "Смог зимой над городом",
        body="Переведите частный сектор с угля на газ, дышать нечем.",
        themes=_themes("ecology"),
    )
    bench = services.proposal_withdraw(
        proposal=_submit(resident, strategy, "Скамейки в парке Горького"), actor=resident
    )
    copy = services.proposal_moderate(
        proposal=_submit(resident, strategy, "Ещё больше деревьев во дворах"),
        moderator=moderator,
        decision="reject",
        reason="duplicate",
        note="Уже предложено раньше",
        duplicate_of=trees,
    )
    stop = services.proposal_moderate(
        proposal=_submit(resident, strategy, "Остановка у рынка Алтын Орда"),
        moderator=moderator,
        decision="request_changes",
        note="Уточните адрес остановки.",
    )
    other_strategy = StrategyFactory(slug="other-city", code_prefix="OTH")
    foreign = _approve(
        _submit(resident, other_strategy, "Чужая стратегия: фонтаны", themes=_themes("transport")),
        moderator,
    )
    proposals = {
        "trees": trees,
        "bikes": bikes,
        "smog": smog,
        "bench": bench,
        "copy": copy,
        "stop": stop,
    }
    return {
        "strategy": strategy,
        "section": section,
        "author": author,
        "p": {name: _reload(p) for name, p in proposals.items()},
        "foreign": _reload(foreign),
    }


# --- helpers -----------------------------------------------------------------------------------


def _order(client, capture, *, strategy="almaty-test", fmt="csv", filters=None, build=True):
    payload = {"strategy": strategy, "format": fmt}
    if filters is not None:
        payload["filters"] = filters
    if build:
        with capture(execute=True):
            return client.post(LIST_URL, payload, format="json")
    return client.post(LIST_URL, payload, format="json")


def _built(user, capture, **kwargs) -> Report:
    response = _order(client_for(user), capture, **kwargs)
    assert response.status_code == 202, response.content
    report = Report.objects.get(pk=response.json()["id"])
    assert report.status == Report.Status.DONE, report.error
    return report


def _path(report: Report) -> Path:
    return Path(report.file.path)


def _csv(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    assert raw.startswith(BOM)
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


def _csv_records(path: Path) -> dict[str, dict[str, str]]:
    """Rows by code, each a {column: value} dict; asserts the header first."""
    rows = _csv(path)
    assert rows[0] == API_COLUMNS
    records = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    by_code = {r["code"]: r for r in records}
    assert len(by_code) == len(records), "a proposal appears twice"
    return by_code


_NS = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "rel": "http://schemas.openxmlformats.org/package/2006/relationships",
}


def _column_index(reference: str) -> int:
    letters = re.match(r"[A-Z]+", reference).group(0)
    index = 0
    for letter in letters:
        index = index * 26 + (ord(letter) - ord("A") + 1)
    return index - 1


def _parse(xml: bytes) -> ElementTree.Element:
    # The workbook was just written by the app under test, not received from anyone.
    return ElementTree.fromstring(xml)  # noqa: S314


def _xlsx(path: Path) -> dict[str, list[list[object]]]:
    """Every worksheet by name, as rows of cell values (str for text, float for numbers).

    openpyxl is not a dependency: the workbook is read from its XML parts.
    """
    with zipfile.ZipFile(path) as archive:
        workbook = _parse(archive.read("xl/workbook.xml"))
        rels = _parse(archive.read("xl/_rels/workbook.xml.rels"))
        targets = {
            rel.get("Id"): rel.get("Target") for rel in rels.findall("rel:Relationship", _NS)
        }
        shared: list[str] = []
        if "xl/sharedStrings.xml" in archive.namelist():
            strings = _parse(archive.read("xl/sharedStrings.xml"))
            shared = [
                "".join(t.text or "" for t in si.iter(f"{{{_NS['m']}}}t"))
                for si in strings.findall("m:si", _NS)
            ]
        sheets: dict[str, list[list[object]]] = {}
        for sheet in workbook.findall("m:sheets/m:sheet", _NS):
            target = targets[sheet.get(f"{{{_NS['r']}}}id")].lstrip("/")
            name = target if target.startswith("xl/") else f"xl/{target}"
            xml = _parse(archive.read(name))
            rows: list[list[object]] = []
            for row in xml.findall("m:sheetData/m:row", _NS):
                number = int(row.get("r")) - 1
                while len(rows) <= number:
                    rows.append([])
                cells = rows[number]
                for cell in row.findall("m:c", _NS):
                    at = _column_index(cell.get("r"))
                    kind = cell.get("t")
                    if kind == "inlineStr":
                        value: object = "".join(t.text or "" for t in cell.iter(f"{{{_NS['m']}}}t"))
                    elif kind == "s":
                        value = shared[int(cell.find("m:v", _NS).text)]
                    elif kind == "str":
                        value = cell.find("m:v", _NS).text or ""
                    else:
                        v = cell.find("m:v", _NS)
                        value = float(v.text) if v is not None else ""
                    while len(cells) <= at:
                        cells.append("")
                    cells[at] = value
            sheets[sheet.get("name")] = rows
    return sheets


def _xlsx_records(path: Path) -> dict[str, dict[str, object]]:
    sheets = _xlsx(path)
    # The contract's sheets first; a readable sheet in the report's language follows.
    assert list(sheets)[:2] == ["proposals", "summary"]
    rows = sheets["proposals"]
    assert rows[0] == API_COLUMNS
    records = [
        dict(zip(API_COLUMNS, row + [""] * (len(API_COLUMNS) - len(row)), strict=True))
        for row in rows[1:]
    ]
    by_code = {str(r["code"]): r for r in records}
    assert len(by_code) == len(records), "a proposal appears twice"
    return by_code


def _xlsx_raw(path: Path) -> bytes:
    """Every part of the workbook, decompressed, for searching."""
    with zipfile.ZipFile(path) as archive:
        return b"\n".join(archive.read(name) for name in archive.namelist())


def _html(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _codes(world, *names: str) -> set[str]:
    return {world["p"][name].code for name in names}


def _leftovers(media: Path) -> list[str]:
    folder = media / "reports"
    return sorted(p.name for p in folder.glob("*.part")) if folder.exists() else []


# --- 1. the API contract -----------------------------------------------------------------------


def test_order_answers_202_queued_and_the_build_finishes(
    world, analyst, django_capture_on_commit_callbacks, media
):
    api = client_for(analyst)
    response = _order(api, django_capture_on_commit_callbacks, build=False)
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "queued"
    assert isinstance(body["id"], int)
    assert body["download_url"] is None
    report = Report.objects.get(pk=body["id"])
    assert report.ordered_by == analyst
    assert report.strategy == world["strategy"]
    assert report.format == "csv"
    assert report.filters == {}

    # Not built yet (its message waits for the commit): the file is not ready.
    detail = api.get(detail_url(report.pk))
    assert detail.status_code == 200
    assert detail.json()["status"] == "queued"
    assert detail.json()["download_url"] is None
    assert api.get(download_url(report.pk)).status_code == 409

    response = _order(api, django_capture_on_commit_callbacks)
    assert response.status_code == 202
    assert response.json()["status"] == "queued"  # the answer is given before the build
    built = response.json()["id"]
    detail = api.get(detail_url(built))
    assert detail.status_code == 200
    data = detail.json()
    for key in (
        "id",
        "status",
        "progress",
        "row_count",
        "created_at",
        "finished_at",
        "error",
        "download_url",
    ):
        assert key in data, key
    assert data["id"] == built
    assert data["status"] == "done"
    assert data["progress"] == 100
    assert data["row_count"] == 6  # every status of the strategy, not the other strategy's
    assert data["error"] == ""
    assert data["finished_at"] is not None
    assert datetime.fromisoformat(data["finished_at"]) >= datetime.fromisoformat(data["created_at"])
    assert data["download_url"] == download_url(built)

    download = api.get(data["download_url"])
    assert download.status_code == 200
    assert download["Content-Type"].startswith("text/csv")
    disposition = download["Content-Disposition"]
    assert disposition.startswith("attachment")
    assert f"report-{built}.csv" in disposition
    content = b"".join(download.streaming_content)
    assert content == _path(Report.objects.get(pk=built)).read_bytes()
    assert content.startswith(BOM)


@pytest.mark.parametrize("fmt", FORMATS)
def test_download_has_the_format_content_type(
    fmt, world, analyst, django_capture_on_commit_callbacks
):
    report = _built(analyst, django_capture_on_commit_callbacks, fmt=fmt)
    response = client_for(analyst).get(download_url(report.pk))
    assert response.status_code == 200
    assert response["Content-Type"].startswith(CONTENT_TYPES[fmt])
    assert response["Content-Disposition"].startswith("attachment")
    assert response["Content-Disposition"].rstrip('"').endswith(f".{fmt}")
    assert "no-store" in response["Cache-Control"]
    assert b"".join(response.streaming_content) == _path(report).read_bytes()


def test_list_shows_only_the_callers_reports(
    world, analyst, admin_user, django_capture_on_commit_callbacks
):
    other = UserFactory()
    role_grant(user=other, role="analyst")
    mine = [_built(analyst, django_capture_on_commit_callbacks, fmt=f).pk for f in ("csv", "html")]
    theirs = _built(other, django_capture_on_commit_callbacks).pk
    admins = _built(admin_user, django_capture_on_commit_callbacks).pk

    def ids(user) -> list[int]:
        response = client_for(user).get(LIST_URL)
        assert response.status_code == 200
        return [r["id"] for r in response.json()["results"]]

    assert sorted(ids(analyst)) == sorted(mine)
    assert ids(other) == [theirs]
    assert ids(admin_user) == [admins]  # "the caller's": an admin's list is theirs too
    first = client_for(analyst).get(LIST_URL).json()["results"][0]
    assert first["status"] == "done"
    assert first["download_url"] == download_url(first["id"])


# --- 2. contents and row counts ------------------------------------------------------------------

FILTER_CASES = {
    "none": (None, ("trees", "bikes", "smog", "bench", "copy", "stop")),
    "published": ({"status": "published"}, ("trees", "bikes")),
    "themes": ({"theme": ["transport", "safety"]}, ("trees", "bikes")),
    "theme-ecology": ({"theme": ["ecology"]}, ("trees", "smog")),
    "district": ({"district": "medeu"}, ("trees",)),
    # Every form of a word: "деревьев" finds "деревья" of the other bodies too, so
    # "больше", only in these two titles, picks them out.
    "words": ({"q": "БОЛЬШЕ деревьев"}, ("trees", "copy")),
    "created-after": (
        {"created_after": "RECENT"},
        ("trees", "smog", "bench", "copy", "stop"),
    ),
}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("case", list(FILTER_CASES))
def test_rows_follow_the_filters(case, fmt, world, analyst, django_capture_on_commit_callbacks):
    filters, names = FILTER_CASES[case]
    if filters and filters.get("created_after") == "RECENT":
        filters = {"created_after": (timezone.localdate() - timedelta(days=10)).isoformat()}
    report = _built(analyst, django_capture_on_commit_callbacks, fmt=fmt, filters=filters)
    expected = _codes(world, *names)
    assert report.row_count == len(expected)
    assert report.progress == 100
    assert report.filters == (filters or {})
    path = _path(report)
    foreign = world["foreign"]
    if fmt == "csv":
        records = _csv_records(path)
        assert set(records) == expected
        raw = path.read_bytes()
    elif fmt == "xlsx":
        records = _xlsx_records(path)
        assert set(records) == expected
        raw = _xlsx_raw(path)
    else:
        page = _html(path)
        raw = page.encode()
        assert world["strategy"].title_ru in page
        meta = re.search(r'<p class="meta">(.*?)</p>', page, re.S).group(1)
        assert re.search(rf"\b{len(expected)}\b\s+предложени", meta), meta
        if filters:
            # One row a filter, by its name in the report's language (issue 12).
            table = page.split("<h2>", 2)[1]
            assert table.count('<th scope="row">') == len(filters)
            for name in filters:
                assert f'<th scope="row">{name}</th>' not in table, name
        # The first chart (by status) counts exactly the rows of the report.
        status_chart = re.findall(r"<section>(.*?)</section>", page, re.S)[0]
        counts = re.findall(r'<td class="num">([\d\s\xa0]+)</td>', status_chart)
        assert sum(int(re.sub(r"\s", "", n)) for n in counts) == len(expected), status_chart
    assert foreign.code.encode() not in raw
    assert foreign.title.encode() not in raw


def test_csv_columns_carry_the_right_values(world, analyst, django_capture_on_commit_callbacks):
    report = _built(analyst, django_capture_on_commit_callbacks, fmt="csv")
    records = _csv_records(_path(report))
    p = world["p"]
    trees = records[p["trees"].code]
    assert trees["status"] == "published"
    assert trees["strategy"] == "almaty-test"
    assert trees["section_code"] == "1"
    assert trees["section_title"] == "Зелёный город"
    assert trees["themes"] == "ecology;transport"  # slugs, in the themes' order
    assert trees["district"] == "medeu"
    assert trees["language"] == "ru"
    assert trees["title"] == "Больше деревьев во дворах"
    assert trees["body"] == BODY
    assert (
        trees["reactions_like"],
        trees["reactions_indifferent"],
        trees["reactions_funny"],
        trees["reactions_sympathy"],
        trees["reactions_outrage"],
    ) == ("2", "0", "1", "0", "1")
    assert trees["decision"] == "approve"
    assert trees["decision_reason"] == ""
    assert datetime.fromisoformat(trees["created_at"]) == p["trees"].created_at
    assert datetime.fromisoformat(trees["published_at"]) == p["trees"].published_at
    assert datetime.fromisoformat(trees["decided_at"]) == p["trees"].latest_decision.at
    assert trees["duplicate_of"] == ""

    copy = records[p["copy"].code]
    assert copy["status"] == "rejected"
    assert copy["decision"] == "reject"
    assert copy["decision_reason"] == "duplicate"
    assert copy["decision_note"] == "Уже предложено раньше"
    assert datetime.fromisoformat(copy["decided_at"]) == p["copy"].latest_decision.at
    assert copy["duplicate_of"] == p["trees"].code
    assert copy["published_at"] == ""

    stop = records[p["stop"].code]
    assert stop["status"] == "changes_requested"
    assert stop["decision"] == "request_changes"
    assert stop["decision_note"] == "Уточните адрес остановки."

    for name in ("smog", "bench"):
        row = records[p[name].code]
        assert row["decision"] == row["decided_at"] == row["decision_note"] == ""
        assert row["published_at"] == ""
        assert row["duplicate_of"] == ""
    assert records[p["smog"].code]["status"] == "pending"
    assert records[p["smog"].code]["themes"] == "ecology"
    assert records[p["smog"].code]["district"] == ""
    assert records[p["smog"].code]["section_code"] == ""
    assert records[p["bench"].code]["status"] == "withdrawn"
    assert records[p["bikes"].code]["reactions_like"] == "0"
    assert records[p["bikes"].code]["themes"] == "transport"


def test_xlsx_has_the_proposals_sheet_and_the_summary(
    world, analyst, django_capture_on_commit_callbacks
):
    report = _built(analyst, django_capture_on_commit_callbacks, fmt="xlsx")
    path = _path(report)
    with zipfile.ZipFile(path) as archive:
        workbook = archive.read("xl/workbook.xml").decode()
    assert re.findall(r'<sheet name="([^"]+)"', workbook)[:2] == ["proposals", "summary"]
    records = _xlsx_records(path)
    p = world["p"]
    trees = records[p["trees"].code]
    assert trees["themes"] == "ecology;transport"
    assert trees["district"] == "medeu"
    assert trees["section_title"] == "Зелёный город"
    assert (
        trees["reactions_like"],
        trees["reactions_indifferent"],
        trees["reactions_funny"],
        trees["reactions_sympathy"],
        trees["reactions_outrage"],
    ) == (2, 0, 1, 0, 1)
    assert isinstance(trees["created_at"], float)  # a real date cell, not text
    copy = records[p["copy"].code]
    assert copy["decision"] == "reject"
    assert copy["decision_reason"] == "duplicate"
    assert copy["decision_note"] == "Уже предложено раньше"
    assert isinstance(copy["decided_at"], float)
    assert copy["duplicate_of"] == p["trees"].code
    assert records[p["smog"].code]["decision"] == ""

    summary = _xlsx(path)["summary"]
    assert summary[0][:2] == ["status", "count"]
    by_status = {}
    for row in summary[1:]:
        if not row or row == [""] or not row[0]:
            break
        by_status[row[0]] = row[1]
    assert len(by_status) == 5  # every status, labelled
    assert sum(by_status.values()) == 6
    assert sorted(by_status.values()) == [1, 1, 1, 1, 2]


def test_html_without_filters_says_so(world, analyst, django_capture_on_commit_callbacks):
    report = _built(analyst, django_capture_on_commit_callbacks, fmt="html")
    page = _html(_path(report))
    assert report.row_count == 6
    assert f"<h1>{world['strategy'].title_ru}</h1>" in page
    filters = page.split("<h2>", 2)[1]
    assert '<th scope="row">' not in filters  # no filter table when there are no filters
    # The most supported proposal of its themes is listed with its like count.
    assert world["p"]["trees"].code in page


def test_report_in_the_analysts_language_keeps_the_column_names(
    world, analyst, django_capture_on_commit_callbacks
):
    analyst.language = "en"
    analyst.save(update_fields=["language"])
    world["section"].title_en = "Green city"
    world["section"].save(update_fields=["title_en"])
    csv_report = _built(analyst, django_capture_on_commit_callbacks, fmt="csv")
    assert csv_report.language == "en"
    records = _csv_records(_path(csv_report))  # the header is still docs/api.md's
    assert records[world["p"]["trees"].code]["section_title"] == "Green city"
    xlsx_report = _built(analyst, django_capture_on_commit_callbacks, fmt="xlsx")
    assert _xlsx_records(_path(xlsx_report))[world["p"]["trees"].code]["section_title"] == (
        "Green city"
    )
    page = _html(_path(_built(analyst, django_capture_on_commit_callbacks, fmt="html")))
    assert '<html lang="en">' in page
    assert "By status" in page


def test_html_escapes_what_residents_wrote(
    strategy, resident, moderator, analyst, django_capture_on_commit_callbacks
):
    title = '<script>alert("x")</script> Фонари'
    proposal = _approve(_submit(resident, strategy, title, themes=_themes("safety")), moderator)
    services.reaction_set(proposal=proposal, user=UserFactory(), kind="like")
    page = _html(_path(_built(analyst, django_capture_on_commit_callbacks, fmt="html")))
    assert proposal.code in page  # listed among the most supported of its theme
    assert "<script>" not in page
    assert "&lt;script&gt;" in page


@pytest.mark.parametrize("status", ["closed", "archived"])
def test_a_closed_strategy_can_still_be_reported_on(
    status, world, analyst, django_capture_on_commit_callbacks
):
    type(world["strategy"]).objects.filter(pk=world["strategy"].pk).update(status=status)
    report = _built(analyst, django_capture_on_commit_callbacks)
    assert report.row_count == 6


# --- 3. formulas ---------------------------------------------------------------------------------

FORMULA_TITLES = [
    '=HYPERLINK("http://evil.example/x","Нажмите")',
    "+7 701 000 00 00 позвоните нам",
    "-5 градусов в школах зимой",
    "@all починить фонари во дворах",
]
FORMULA_BODY = "-- первая строка списка предложений\n\tвторая строка с табуляцией"


@pytest.fixture
def formulas(strategy, resident, moderator):
    proposals = [
        _approve(_submit(resident, strategy, title), moderator) for title in FORMULA_TITLES
    ]
    body = _approve(
        _submit(resident, strategy, "Обычный заголовок без формул", body=FORMULA_BODY), moderator
    )
    note = services.proposal_moderate(
        proposal=_submit(resident, strategy, "Заголовок для заметки модератора"),
        moderator=moderator,
        decision="request_changes",
        note="=1+1 уточните, пожалуйста",
    )
    return {"titles": proposals, "body": body, "note": note}


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_text_a_spreadsheet_would_run_is_quoted(
    fmt, formulas, analyst, django_capture_on_commit_callbacks
):
    report = _built(analyst, django_capture_on_commit_callbacks, fmt=fmt)
    path = _path(report)
    records = _csv_records(path) if fmt == "csv" else _xlsx_records(path)
    for proposal, title in zip(formulas["titles"], FORMULA_TITLES, strict=True):
        assert records[proposal.code]["title"] == f"'{title}"
    body = records[formulas["body"].code]
    assert body["title"] == "Обычный заголовок без формул"  # plain text is left alone
    # A line that starts with a tab is a cell of its own to a reader that splits on tabs.
    assert body["body"] == "'-- первая строка списка предложений\n'\tвторая строка с табуляцией"
    assert records[formulas["note"].code]["decision_note"] == "'=1+1 уточните, пожалуйста"
    if fmt == "xlsx":
        with zipfile.ZipFile(path) as archive:
            sheet = archive.read("xl/worksheets/sheet1.xml").decode()
        assert "<f>" not in sheet and "<f " not in sheet  # no cell is a formula


def test_neutralise_covers_tab_and_carriage_return():
    from proposals.reports.rows import neutralise

    for start in ("=", "+", "-", "@", "\t", "\r"):
        assert neutralise(f"{start}x") == f"'{start}x"
    assert neutralise("Обычный текст") == "Обычный текст"
    assert neutralise("") == ""


# --- 4. no personal data -------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_files_hold_no_personal_data(fmt, world, analyst, django_capture_on_commit_callbacks):
    report = _built(analyst, django_capture_on_commit_callbacks, fmt=fmt)
    path = _path(report)
    raw = _xlsx_raw(path) if fmt == "xlsx" else path.read_bytes()
    assert world["author"].pk == SECRET_ID
    assert world["p"]["trees"].code.encode() in raw  # the author's proposals are there...
    for secret in (SECRET_EMAIL, SECRET_EMAIL.split("@")[0], "private-mail", str(SECRET_ID)):
        assert secret.encode() not in raw, secret  # ...but not who they are
    for user in (world["author"], analyst):
        assert user.email.encode() not in raw
    if fmt == "csv":
        header = _csv(path)[0]
        assert not {"author", "author_id", "user", "user_id", "email", "ip"} & set(header)


# --- 5. validation at order time ----------------------------------------------------------------


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param({"format": "csv", "filters": {"district": "nope"}}, id="district"),
        pytest.param({"format": "csv", "filters": {"created_after": "not-a-date"}}, id="date"),
        pytest.param({"format": "csv", "filters": {"created_after": "01.02.2024"}}, id="date-ru"),
        pytest.param({"format": "csv", "filters": {"colour": "red"}}, id="unknown-filter"),
        pytest.param({"format": "csv", "filters": ["status", "published"]}, id="filters-list"),
        pytest.param({"format": "csv", "filters": "status=published"}, id="filters-text"),
        pytest.param({"format": "csv", "filters": {"theme": ["no-such-theme"]}}, id="theme"),
        pytest.param({"format": "csv", "filters": {"status": "lost"}}, id="status"),
        pytest.param({"format": "csv", "filters": {"district": ["medeu", "almaly"]}}, id="two"),
        pytest.param({"format": "csv", "filters": {"q": {"$ne": 1}}}, id="q-object"),
        pytest.param({"format": "csv", "filters": {"section": 999999}}, id="section"),
        pytest.param({"format": "pdf"}, id="format"),
        pytest.param({"format": ""}, id="format-empty"),
        pytest.param({}, id="format-missing"),
        pytest.param({"format": "csv", "strategy": "no-such-strategy"}, id="strategy"),
        pytest.param({"format": "csv", "strategy": "draft-strategy"}, id="strategy-draft"),
        pytest.param({"format": "csv", "strategy": ""}, id="strategy-empty"),
    ],
)
def test_bad_order_is_400_and_records_nothing(
    payload, strategy, analyst, django_capture_on_commit_callbacks
):
    StrategyFactory(slug="draft-strategy", status="draft")
    data = {"strategy": "almaty-test", **payload}
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client_for(analyst).post(LIST_URL, data, format="json")
    assert response.status_code == 400, response.content
    assert Report.objects.count() == 0
    assert callbacks == []


def test_good_filters_are_kept_as_validated(world, analyst, django_capture_on_commit_callbacks):
    filters = {"theme": "transport", "district": "medeu", "status": "published"}
    report = _built(analyst, django_capture_on_commit_callbacks, filters=filters)
    assert report.filters == {"theme": ["transport"], "district": "medeu", "status": "published"}
    assert set(_csv_records(_path(report))) == _codes(world, "trees")


# --- 6. who may do what --------------------------------------------------------------------------

ACTORS = ("anonymous", "resident", "moderator", "analyst", "admin")


@pytest.mark.parametrize(
    ("actor", "expected"),
    [("anonymous", 401), ("resident", 403), ("moderator", 403), ("analyst", 202), ("admin", 202)],
)
def test_who_may_order(
    actor, expected, strategy, people_by_role, django_capture_on_commit_callbacks
):
    response = _order(client_for(people_by_role[actor]), django_capture_on_commit_callbacks)
    assert response.status_code == expected, response.content
    assert Report.objects.count() == (1 if expected == 202 else 0)
    if expected == 202:
        assert Report.objects.get().status == "done"


@pytest.mark.parametrize(
    ("actor", "expected"),
    [("anonymous", 401), ("resident", 403), ("moderator", 403), ("analyst", 200), ("admin", 200)],
)
def test_who_may_list(actor, expected, people_by_role):
    assert client_for(people_by_role[actor]).get(LIST_URL).status_code == expected


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        ("anonymous", (401, 401)),
        ("resident", (403, 403)),
        ("moderator", (403, 403)),
        ("owner", (200, 200)),
        ("other-analyst", (404, 404)),
        ("admin", (200, 200)),
    ],
)
def test_who_may_read_and_download_a_report(
    actor, expected, strategy, people_by_role, analyst, django_capture_on_commit_callbacks
):
    report = _built(analyst, django_capture_on_commit_callbacks)
    if actor == "owner":
        user = analyst
    elif actor == "other-analyst":
        user = UserFactory()
        role_grant(user=user, role="analyst")
    else:
        user = people_by_role[actor]
    api = client_for(user)
    detail = api.get(detail_url(report.pk))
    download = api.get(download_url(report.pk))
    assert (detail.status_code, download.status_code) == expected
    if expected[1] == 200:
        assert b"".join(download.streaming_content) == _path(report).read_bytes()
    else:
        assert report.file.name.encode() not in detail.content


def test_unknown_report_is_404(analyst):
    api = client_for(analyst)
    assert api.get(detail_url(424242)).status_code == 404
    assert api.get(download_url(424242)).status_code == 404


# --- 7. a build that fails -----------------------------------------------------------------------


def test_failed_build_is_readable_and_leaves_no_file(
    world, analyst, monkeypatch, media, django_capture_on_commit_callbacks
):
    def broken(path, *args):
        path.write_bytes(b"code,created_at\nhalf a row")  # a partial file, then the failure
        raise RuntimeError("disk full")

    # The Python writer, and the COPY writer PostgreSQL uses for CSV.
    monkeypatch.setattr(writers, "write_csv", broken)
    monkeypatch.setattr(report_services, "write_csv_copy", broken)
    response = _order(client_for(analyst), django_capture_on_commit_callbacks)
    assert response.status_code == 202
    api = client_for(analyst)
    data = api.get(detail_url(response.json()["id"])).json()
    assert data["status"] == "failed"
    assert "disk full" in data["error"]
    assert data["download_url"] is None
    assert data["finished_at"] is not None
    assert _leftovers(media) == []
    assert list((media / "reports").iterdir()) == []
    download = api.get(download_url(data["id"]))
    assert download.status_code == 409
    # Running the message again does not resurrect it.
    report_build(data["id"])
    assert Report.objects.get(pk=data["id"]).status == "failed"


def test_failed_xlsx_build_leaves_no_partial_workbook(
    world, analyst, monkeypatch, media, django_capture_on_commit_callbacks
):
    from proposals.reports import rows

    real = rows.report_rows

    def failing_rows(queryset, *, language, chunk=rows.CHUNK):
        yield from real(queryset, language=language, chunk=2)
        raise RuntimeError("database went away")

    monkeypatch.setattr(report_services, "report_rows", failing_rows)
    response = _order(client_for(analyst), django_capture_on_commit_callbacks, fmt="xlsx")
    report = Report.objects.get(pk=response.json()["id"])
    assert report.status == "failed"
    assert "database went away" in report.error
    assert not report.file
    assert list((media / "reports").iterdir()) == []


# --- 8. a build runs once ------------------------------------------------------------------------


def test_running_the_build_again_changes_nothing(
    world, analyst, media, django_capture_on_commit_callbacks
):
    report = _built(analyst, django_capture_on_commit_callbacks, fmt="csv")
    content = _path(report).read_bytes()
    files = sorted((media / "reports").iterdir())
    report_build(report.pk)  # a redelivered message
    again = Report.objects.get(pk=report.pk)
    assert again.status == "done"
    assert again.finished_at == report.finished_at
    assert again.attempt == report.attempt == 1
    assert again.file.name == report.file.name
    assert again.row_count == report.row_count
    assert _path(again).read_bytes() == content
    assert sorted((media / "reports").iterdir()) == files


def test_a_fresh_claim_is_not_taken_twice(world, analyst, django_capture_on_commit_callbacks):
    response = _order(client_for(analyst), django_capture_on_commit_callbacks, build=False)
    report_id = response.json()["id"]
    assert report_services.report_start(report_id=report_id) == 1
    assert report_services.report_start(report_id=report_id) is None
    report_build(report_id)  # a second message while the first build still runs
    report = Report.objects.get(pk=report_id)
    assert report.status == "running"
    assert report.attempt == 1
    assert not report.file


def _requeue(report_id: int) -> None:
    """What the sweep does to a build it thinks is dead."""
    Report.objects.filter(pk=report_id).update(status="queued")


def test_a_superseded_build_cannot_finish(
    world, analyst, media, django_capture_on_commit_callbacks
):
    response = _order(client_for(analyst), django_capture_on_commit_callbacks, build=False)
    report_id = response.json()["id"]
    assert report_services.report_start(report_id=report_id) == 1
    _requeue(report_id)
    assert report_services.report_start(report_id=report_id) == 2

    # The first build finishes writing after the second took over: refused, its file dropped.
    (media / "reports").mkdir(exist_ok=True)
    stale = media / "reports" / f"report-{report_id}-1.csv.part"
    stale.write_bytes(b"stale content")
    assert (
        report_services.report_finish(report_id=report_id, attempt=1, part=stale, row_count=99)
        is None
    )
    report = Report.objects.get(pk=report_id)
    assert report.status == "running"
    assert report.attempt == 2
    assert report.row_count is None
    assert not report.file
    assert not stale.exists()

    # The first build still writing: it stops at its first chunk and leaves nothing.
    assert report_services.report_build_file(report_id=report_id, attempt=1) is None
    assert Report.objects.get(pk=report_id).status == "running"
    assert _leftovers(media) == []

    # The current build finishes; the old one still cannot replace its file afterwards.
    done = report_services.report_build_file(report_id=report_id, attempt=2)
    assert done is not None and done.status == "done" and done.row_count == 6
    content = _path(done).read_bytes()
    stale.write_bytes(b"stale content")
    assert (
        report_services.report_finish(report_id=report_id, attempt=1, part=stale, row_count=99)
        is None
    )
    final = Report.objects.get(pk=report_id)
    assert (final.status, final.attempt, final.row_count) == ("done", 2, 6)
    assert final.finished_at == done.finished_at
    assert _path(final).read_bytes() == content


# --- 9. the sweep --------------------------------------------------------------------------------


def _queued(analyst, strategy, **kwargs) -> Report:
    return Report.objects.create(
        ordered_by=analyst, strategy=strategy, format="csv", filters={}, **kwargs
    )


def test_sweep_requeues_a_build_whose_worker_died(
    world, analyst, settings, django_capture_on_commit_callbacks
):
    settings.CIVIC_REPORT_TIME_LIMIT = 1
    report = _queued(analyst, world["strategy"])
    assert report_services.report_start(report_id=report.pk) == 1
    Report.objects.filter(pk=report.pk).update(started_at=timezone.now() - timedelta(minutes=5))
    fresh = _queued(analyst, world["strategy"])
    assert report_services.report_start(report_id=fresh.pk) == 1  # still within its time

    with django_capture_on_commit_callbacks(execute=True):
        assert report_sweep() == {"requeued": 1, "failed": 0}
    report.refresh_from_db()
    assert report.status == "done"
    assert report.attempt == 2
    assert report.row_count == 6
    assert _path(report).exists()
    fresh.refresh_from_db()
    assert (fresh.status, fresh.attempt) == ("running", 1)


def test_sweep_hands_over_a_build_that_stopped_writing_long_before_its_time_limit(
    world, analyst, settings, django_capture_on_commit_callbacks
):
    # An hour to finish, but five minutes without a chunk written means the worker is gone.
    settings.CIVIC_REPORT_TIME_LIMIT = 3600
    settings.CIVIC_REPORT_STALL_SECONDS = 300
    silent = _queued(analyst, world["strategy"])
    busy = _queued(analyst, world["strategy"])
    for report in (silent, busy):
        assert report_services.report_start(report_id=report.pk) == 1
    Report.objects.filter(pk=silent.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=6))
    Report.objects.filter(pk=busy.pk).update(
        started_at=timezone.now() - timedelta(minutes=30), heartbeat_at=timezone.now()
    )
    # A redelivered message does not take over a build that is still writing.
    assert report_services.report_start(report_id=busy.pk) is None

    with django_capture_on_commit_callbacks(execute=True):
        assert report_sweep() == {"requeued": 1, "failed": 0}
    silent.refresh_from_db()
    busy.refresh_from_db()
    assert (silent.status, silent.attempt) == ("done", 2)
    assert (busy.status, busy.attempt) == ("running", 1)


def test_sweep_fails_a_build_that_keeps_dying(
    world, analyst, settings, django_capture_on_commit_callbacks
):
    settings.CIVIC_REPORT_TIME_LIMIT = 1
    settings.CIVIC_REPORT_MAX_ATTEMPTS = 3
    report = _queued(analyst, world["strategy"])
    report_services.report_start(report_id=report.pk)
    Report.objects.filter(pk=report.pk).update(
        attempt=3, started_at=timezone.now() - timedelta(minutes=5)
    )
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert report_sweep() == {"requeued": 0, "failed": 1}
    assert callbacks == []
    report.refresh_from_db()
    assert report.status == "failed"
    assert "3" in report.error  # how many times it was tried, in words an analyst reads
    assert "Traceback" not in report.error
    assert report.finished_at is not None
    api = client_for(analyst)
    assert api.get(detail_url(report.pk)).json()["error"] == report.error
    assert api.get(download_url(report.pk)).status_code == 409


def test_sweep_builds_a_report_whose_message_was_lost(
    world, analyst, settings, django_capture_on_commit_callbacks
):
    settings.CIVIC_REPORT_REQUEUE_SECONDS = 300
    lost = _queued(analyst, world["strategy"], created_at=timezone.now() - timedelta(minutes=10))
    recent = _queued(analyst, world["strategy"])  # its message may still be on its way
    with django_capture_on_commit_callbacks(execute=True):
        assert report_sweep() == {"requeued": 1, "failed": 0}
    lost.refresh_from_db()
    assert lost.status == "done"
    assert lost.row_count == 6
    assert _path(lost).exists()
    recent.refresh_from_db()
    assert recent.status == "queued"
    assert recent.started_at is None


def test_sweep_leaves_finished_reports_alone(
    world, analyst, settings, django_capture_on_commit_callbacks
):
    settings.CIVIC_REPORT_TIME_LIMIT = 1
    settings.CIVIC_REPORT_REQUEUE_SECONDS = 1
    report = _built(analyst, django_capture_on_commit_callbacks)
    Report.objects.filter(pk=report.pk).update(
        created_at=timezone.now() - timedelta(hours=2),
        started_at=timezone.now() - timedelta(hours=2),
    )
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert report_sweep() == {"requeued": 0, "failed": 0}
    assert callbacks == []
    again = Report.objects.get(pk=report.pk)
    assert (again.status, again.attempt, again.finished_at) == ("done", 1, report.finished_at)


# --- 10. expiry ----------------------------------------------------------------------------------


def test_expiry_removes_old_files_and_keeps_recent_ones(
    world, analyst, settings, media, django_capture_on_commit_callbacks
):
    settings.CIVIC_REPORT_RETENTION_DAYS = 7
    old = _built(analyst, django_capture_on_commit_callbacks, fmt="csv")
    recent = _built(analyst, django_capture_on_commit_callbacks, fmt="xlsx")
    Report.objects.filter(pk=old.pk).update(finished_at=timezone.now() - timedelta(days=8))
    old_path, recent_path = _path(old), _path(recent)

    assert report_expire() == 1
    assert not old_path.exists()
    assert recent_path.exists()
    api = client_for(analyst)
    response = api.get(download_url(old.pk))
    assert response.status_code == 410
    assert response.json()["code"] == "expired"
    assert api.get(detail_url(old.pk)).json()["download_url"] is None
    assert api.get(download_url(recent.pk)).status_code == 200
    assert Report.objects.get(pk=old.pk).expired_at is not None
    assert report_expire() == 0  # expired once


def test_expiry_removes_stale_partial_files_only(settings, media):
    folder = media / "reports"
    folder.mkdir()
    stale = folder / "report-1-1.csv.part"
    fresh = folder / "report-2-1.csv.part"
    stale.write_text("x")
    fresh.write_text("y")
    long_ago = time.time() - 3 * (settings.CIVIC_REPORT_TIME_LIMIT + 60) - 60
    os.utime(stale, (long_ago, long_ago))
    report_expire()
    assert not stale.exists()
    assert fresh.exists()
