"""The summary table (docs/api.md, docs/summary.md): its rows, their order, what never reaches them,
and its files built in the background (CSV, XLSX, HTML) with the claim, staleness and
sweep machinery behind them.

Rows are made straight in the tables (the read side does not care how they got there);
answers too, as `answer_save` would leave them. Builds run eagerly: a request enqueues
its build on commit, so requests that should build are made inside
django_capture_on_commit_callbacks(execute=True). Files go to a temporary MEDIA_ROOT.
"""

import csv
import io
import re
import zipfile
from datetime import timedelta
from pathlib import Path
from xml.etree import ElementTree

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from proposals.models import Answer, Proposal, ProposalEvent, SummaryFile
from proposals.summary import services
from proposals.summary.selectors import COLUMNS, summary_row_chunks
from proposals.summary.tasks import summary_build_task, summary_sweep
from strategy.models import District, Strategy, Theme
from tests.conftest import client_for
from tests.factories import ProposalFactory, SectionFactory, StrategyFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/strategies/almaty-test/summary/"
SECRET_DRAFT = "Черновик ответа: не показывать q7x9"
SECRET_EMAIL = "secret.author.q7x9@private-mail.example"
CONTENT_TYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "html": "text/html",
}
BOM = b"\xef\xbb\xbf"
S = Proposal.Status


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def _answer(proposal, outcome, text="", *, published=True, days_ago=0) -> Answer:
    at = timezone.now() - timedelta(days=days_ago)
    return Answer.objects.create(
        proposal=proposal,
        outcome=outcome,
        text=text,
        published=published,
        answered_at=at if published else None,
    )


def _reject(proposal, reason, *, public) -> Proposal:
    event = ProposalEvent.objects.create(
        proposal=proposal,
        action=ProposalEvent.Action.REJECT,
        from_status=S.PENDING,
        to_status=S.REJECTED,
        reason=reason,
        public=public,
    )
    Proposal.objects.filter(pk=proposal.pk).update(
        status=S.REJECTED, rejection_public=public, latest_decision=event
    )
    proposal.refresh_from_db()
    return proposal


@pytest.fixture
def world(strategy):
    return build_world(strategy)


def build_world(strategy) -> dict:
    """Sections whose positions and codes disagree, and proposals of every kind.

    whole      published, on the whole document, accepted (published answer)
    later      published, section 2 (position 2), a draft answer only
    sub        published, section 1.1 (position 1), unanswered, medeu, two themes
    dup        section 1, rejected as a duplicate in public
    formula    section 1, published, not accepted; title and answer start like formulas
    taken      section 1, published with a published answer, then rejected off topic in
               public: listed, but as rejected, without the answer
    spam       section 1, rejected as spam (hidden)
    pending, withdrawn, and a published proposal of another strategy
    """
    one = SectionFactory(
        strategy=strategy, code="1", position=0, title_ru="Зелёный город", title_en=""
    )
    two = SectionFactory(strategy=strategy, code="2", position=2, title_ru="Транспорт", title_en="")
    sub = SectionFactory(
        strategy=strategy, code="1.1", position=1, parent=one, title_ru="Парки", title_en="Parks"
    )
    author = UserFactory(email=SECRET_EMAIL)
    make = lambda **kw: ProposalFactory(strategy=strategy, author=author, **kw)  # noqa: E731
    p = {}
    p["later"] = make(section=two, title="Автобусы чаще")
    p["whole"] = make(title="Город для людей")
    p["sub"] = make(
        section=sub,
        title="Больше скамеек в парках",
        district=District.objects.get(slug="medeu"),
        themes=[Theme.objects.get(slug="transport"), Theme.objects.get(slug="ecology")],
    )
    p["dup"] = _reject(make(section=one, title="Деревья во дворах"), "duplicate", public=True)
    p["formula"] = make(section=one, title="=HYPERLINK(evil) деревья")
    p["taken"] = make(section=one, title="Снять и перепроверить")
    p["spam"] = _reject(make(section=one, title="Купите наши окна"), "spam", public=False)
    p["pending"] = make(section=one, title="Ждёт модерации", status=S.PENDING)
    p["withdrawn"] = make(section=one, title="Отозвано автором", status=S.WITHDRAWN)
    other = StrategyFactory(slug="other-city", code_prefix="OTH")
    p["foreign"] = ProposalFactory(strategy=other, title="Чужая стратегия")

    _answer(p["whole"], "accepted", days_ago=3)
    _answer(p["later"], "not_accepted", SECRET_DRAFT, published=False)
    _answer(p["formula"], "not_accepted", "+7 701 000 00 00 — звоните в акимат")
    _answer(p["taken"], "already_planned", "Уже в плане на 2026 год")
    p["taken"] = _reject(p["taken"], "off_topic", public=True)
    return {"sections": {"1": one, "2": two, "1.1": sub}, "p": p}


def _codes(world, *names: str) -> list[str]:
    return [world["p"][name].code for name in names]


ORDER = ("whole", "dup", "formula", "taken", "sub", "later")


# --- rows ------------------------------------------------------------------------------------


def test_rows_are_published_and_publicly_rejected_proposals_in_document_order(api, world):
    response = api.get(URL)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == len(ORDER)
    # Whole document first, then by section position (1, 1.1, 2), then by code.
    assert [row["code"] for row in body["results"]] == _codes(world, *ORDER)


def test_a_row_carries_the_contract_fields_and_the_published_answer_only(api, world):
    rows = {row["code"]: row for row in api.get(URL).json()["results"]}
    p = world["p"]
    whole = rows[p["whole"].code]
    assert set(whole) == set(COLUMNS)
    assert whole["title"] == "Город для людей"
    assert whole["section_code"] is None
    assert whole["district"] is None
    assert whole["themes"] == []
    assert whole["outcome"] == "accepted"
    assert whole["answer_text"] == ""
    assert whole["answered_at"] is not None
    assert whole["status"] == "published"
    assert whole["rejection_reason"] is None

    sub = rows[p["sub"].code]
    assert sub["section_code"] == "1.1"
    assert sub["district"] == "medeu"
    assert sub["themes"] == ["ecology", "transport"]  # sorted
    assert (sub["outcome"], sub["answer_text"], sub["answered_at"]) == (None, None, None)

    formula = rows[p["formula"].code]
    assert formula["outcome"] == "not_accepted"
    assert formula["answer_text"] == "+7 701 000 00 00 — звоните в акимат"  # as written


def test_a_draft_answer_never_leaks(api, world):
    response = api.get(URL)
    later = {row["code"]: row for row in response.json()["results"]}[world["p"]["later"].code]
    assert (later["outcome"], later["answer_text"], later["answered_at"]) == (None, None, None)
    assert SECRET_DRAFT not in response.content.decode()


def test_publicly_rejected_rows_say_so_and_show_no_answer(api, world):
    rows = {row["code"]: row for row in api.get(URL).json()["results"]}
    dup = rows[world["p"]["dup"].code]
    assert (dup["status"], dup["rejection_reason"], dup["outcome"]) == (
        "rejected",
        "duplicate",
        None,
    )
    # Answered while published, then taken down in public: the answer is not the table's.
    taken = rows[world["p"]["taken"].code]
    assert (taken["status"], taken["rejection_reason"]) == ("rejected", "off_topic")
    assert (taken["outcome"], taken["answer_text"], taken["answered_at"]) == (None, None, None)


def test_hidden_rejections_pending_withdrawn_and_other_strategies_are_never_listed(api, world):
    content = api.get(URL + "?page_size=100").content.decode()
    for name in ("spam", "pending", "withdrawn", "foreign"):
        assert world["p"][name].code not in content, name
        assert world["p"][name].title not in content, name
    assert SECRET_EMAIL not in content
    assert '"id"' not in content and "author" not in content


def test_pages_are_capped_and_linked(api, world):
    body = api.get(URL + "?page_size=2").json()
    assert body["count"] == len(ORDER)
    assert len(body["results"]) == 2
    assert body["next"] and "page=2" in body["next"]
    second = api.get(URL + "?page_size=2&page=2").json()
    assert [r["code"] for r in second["results"]] == _codes(world, *ORDER[2:4])
    assert len(api.get(URL + "?page_size=1000").json()["results"]) == len(ORDER)


def test_draft_and_unknown_strategies_are_404(api, world, strategy):
    Strategy.objects.filter(pk=strategy.pk).update(status=Strategy.Status.DRAFT)
    assert api.get(URL).status_code == 404
    assert api.get(URL + "?format=csv").status_code == 404
    assert not SummaryFile.objects.exists()
    assert api.get("/api/v1/strategies/no-such-thing/summary/").status_code == 404


@pytest.mark.parametrize("value", ["pdf", "", "CSV", "csv;drop"])
def test_an_unknown_format_is_a_400_naming_format(api, world, value):
    response = api.get(URL, {"format": value})
    assert response.status_code == 400
    assert "format" in response.json()
    assert not SummaryFile.objects.exists()


def test_anyone_may_read_it(world, people_by_role):
    for who, user in people_by_role.items():
        assert client_for(user).get(URL).status_code == 200, who


# --- the query count ----------------------------------------------------------------------------


def _fill(strategy, total: int) -> None:
    themes = list(Theme.objects.all()[:3])
    districts = list(District.objects.all()[:2])
    sections = [SectionFactory(strategy=strategy, position=100 + n) for n in range(3)]
    have = Proposal.objects.filter(strategy=strategy).count()
    for n in range(have, total):
        proposal = ProposalFactory(
            strategy=strategy,
            section=sections[n % 3] if n % 4 else None,
            district=districts[n % 2] if n % 3 else None,
            themes=themes[: n % 4],
        )
        if n % 5 == 0:
            _reject(proposal, "duplicate", public=True)
        elif n % 2:
            _answer(proposal, "not_accepted", "Нет средств", published=bool(n % 3))


def test_the_query_count_does_not_grow_with_the_rows(strategy):
    counts = []
    for total in (10, 500):
        _fill(strategy, total)
        api = client_for(None)
        with CaptureQueriesContext(connection) as captured:
            response = api.get(URL + "?page_size=100")
        assert response.status_code == 200
        assert response.json()["count"] == total
        assert len(response.json()["results"]) == min(total, 100)
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1], counts
    # The strategy, the count, the page and its themes.
    assert counts[0] <= 4, counts


def test_the_file_chunks_read_every_row_once_in_order(strategy):
    _fill(strategy, 57)
    chunks = list(summary_row_chunks(strategy=strategy, chunk=10))
    assert [len(c) for c in chunks] == [10] * 5 + [7]
    codes = [row["code"] for chunk in chunks for row in chunk]
    api_codes = [r["code"] for r in client_for(None).get(URL + "?page_size=100").json()["results"]]
    assert codes == api_codes


# --- files: the request flow ----------------------------------------------------------------------


def _get(api, capture, fmt, **headers):
    with capture(execute=True):
        return api.get(URL, {"format": fmt}, **headers)


def _content(response) -> bytes:
    return b"".join(response.streaming_content)


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "html"])
def test_first_a_202_while_it_builds_then_200_with_the_file(
    api, world, django_capture_on_commit_callbacks, fmt
):
    first = _get(api, django_capture_on_commit_callbacks, fmt)
    assert first.status_code == 202
    assert first.json() == {"status": "queued", "progress": 0}
    assert first["Cache-Control"] == "no-store"

    summary = SummaryFile.objects.get()
    assert (summary.format, summary.language, summary.status) == (fmt, "ru", "done")
    assert summary.row_count == len(ORDER)
    assert summary.built_version == summary.source_version

    second = api.get(URL, {"format": fmt})
    assert second.status_code == 200
    assert second["Content-Type"].startswith(CONTENT_TYPES[fmt])
    assert second["Content-Disposition"].startswith("attachment")
    assert second["Content-Disposition"].rstrip('"').endswith(f"almaty-test-summary-ru.{fmt}")
    assert second["Cache-Control"] == "public, max-age=60"
    assert "Accept-Language" in second["Vary"]
    content = _content(second)
    assert content == (Path(summary.file.path)).read_bytes()
    assert not list((Path(summary.file.path).parent).glob("*.part"))


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_without_a_broker_the_first_request_already_gets_the_file(world):
    # No test transaction around the request: the build runs in-process when the
    # request's transaction commits, as under `make run`.
    response = client_for(None).get(URL, {"format": "csv"})
    assert response.status_code == 200
    assert _content(response).startswith(BOM + b'"code","title",')


def test_a_build_under_way_is_not_queued_again(api, world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as sent:
        assert api.get(URL, {"format": "csv"}).status_code == 202
    assert len(sent) == 1
    for _ in range(3):
        with django_capture_on_commit_callbacks() as again:
            response = api.get(URL, {"format": "csv"})
        assert response.status_code == 202
        assert again == []
    # A message long lost: the next request sends another.
    SummaryFile.objects.update(queued_at=timezone.now() - timedelta(minutes=5))
    with django_capture_on_commit_callbacks(execute=True) as again:
        assert api.get(URL, {"format": "csv"}).status_code == 202
    assert len(again) == 1
    assert api.get(URL, {"format": "csv"}).status_code == 200


def test_each_language_and_format_is_its_own_file(api, world, django_capture_on_commit_callbacks):
    for language in ("ru", "kk", "en"):
        _get(api, django_capture_on_commit_callbacks, "html", HTTP_ACCEPT_LANGUAGE=language)
    _get(api, django_capture_on_commit_callbacks, "csv", HTTP_ACCEPT_LANGUAGE="en")
    assert sorted(SummaryFile.objects.values_list("format", "language")) == [
        ("csv", "en"),
        ("html", "en"),
        ("html", "kk"),
        ("html", "ru"),
    ]
    pages = {
        language: _content(api.get(URL, {"format": "html"}, HTTP_ACCEPT_LANGUAGE=language)).decode()
        for language in ("ru", "kk", "en")
    }
    assert '<html lang="ru">' in pages["ru"] and ">Код</th>" in pages["ru"]
    assert '<html lang="kk">' in pages["kk"] and ">Коды</th>" in pages["kk"]
    assert '<html lang="en">' in pages["en"] and ">Code</th>" in pages["en"]
    # Section titles in the file's language, falling back to Russian.
    assert "1.1. Parks" in pages["en"] and "1.1. Парки" in pages["ru"]
    assert "2. Транспорт" in pages["en"]


# --- files: staleness ------------------------------------------------------------------------------


def _csv_rows(content: bytes) -> list[dict[str, str]]:
    assert content.startswith(BOM)
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows[0] == list(COLUMNS)
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def test_a_change_makes_the_file_stale_and_the_next_request_rebuilds_it(
    api, world, django_capture_on_commit_callbacks
):
    _get(api, django_capture_on_commit_callbacks, "csv")
    _get(api, django_capture_on_commit_callbacks, "xlsx")
    before = _csv_rows(_content(api.get(URL, {"format": "csv"})))
    later = world["p"]["later"].code
    assert {r["code"]: r for r in before}[later]["outcome"] == ""

    # What answer_save does: publish the answer and mark the strategy's files stale.
    Answer.objects.filter(proposal=world["p"]["later"]).update(
        published=True, answered_at=timezone.now(), text="Принято к сведению"
    )
    services.summary_mark_dirty(strategy_id=world["p"]["later"].strategy_id)
    assert all(not services.summary_is_current(s) for s in SummaryFile.objects.all())

    assert _get(api, django_capture_on_commit_callbacks, "csv").status_code == 202
    after = _csv_rows(_content(api.get(URL, {"format": "csv"})))
    row = {r["code"]: r for r in after}[later]
    assert (row["outcome"], row["answer_text"]) == ("not_accepted", "Принято к сведению")
    # The other file waits for its own request.
    assert not services.summary_is_current(SummaryFile.objects.get(format="xlsx"))


def test_marking_dirty_without_files_is_one_cheap_query(strategy, django_assert_num_queries):
    with django_assert_num_queries(1):
        services.summary_mark_dirty(strategy_id=strategy.pk)
    assert not SummaryFile.objects.exists()


def test_a_change_landing_mid_build_leaves_the_file_stale(world, strategy, monkeypatch):
    summary = SummaryFile.objects.create(strategy=strategy, format="csv", language="ru")
    attempt = services.summary_start(summary_id=summary.pk)
    assert attempt == 1
    version = summary.source_version

    original = services.summary_row_chunks

    def change_midway(**kwargs):
        for n, chunk in enumerate(original(**kwargs)):
            if n == 0:
                services.summary_mark_dirty(strategy_id=strategy.pk)
            yield chunk

    monkeypatch.setattr(services, "summary_row_chunks", change_midway)
    built = services.summary_build(summary_id=summary.pk, attempt=attempt)
    assert built.status == "done"
    assert built.built_version == version
    summary.refresh_from_db()
    assert summary.source_version == version + 1
    assert not services.summary_is_current(summary)


def test_a_missing_file_is_rebuilt_not_a_500(api, world, django_capture_on_commit_callbacks):
    _get(api, django_capture_on_commit_callbacks, "csv")
    Path(SummaryFile.objects.get().file.path).unlink()
    assert _get(api, django_capture_on_commit_callbacks, "csv").status_code == 202
    assert api.get(URL, {"format": "csv"}).status_code == 200


# --- files: contents -------------------------------------------------------------------------------


def test_csv_holds_every_row_with_formula_starts_neutralised(
    api, world, django_capture_on_commit_callbacks
):
    _get(api, django_capture_on_commit_callbacks, "csv")
    content = _content(api.get(URL, {"format": "csv"}))
    rows = _csv_rows(content)
    assert [r["code"] for r in rows] == _codes(world, *ORDER)
    formula = {r["code"]: r for r in rows}[world["p"]["formula"].code]
    assert formula["title"] == "'=HYPERLINK(evil) деревья"
    assert formula["answer_text"] == "'+7 701 000 00 00 — звоните в акимат"
    sub = {r["code"]: r for r in rows}[world["p"]["sub"].code]
    assert (sub["section_code"], sub["district"], sub["themes"]) == (
        "1.1",
        "medeu",
        "ecology;transport",
    )
    dup = {r["code"]: r for r in rows}[world["p"]["dup"].code]
    assert (dup["status"], dup["rejection_reason"], dup["outcome"]) == ("rejected", "duplicate", "")
    whole = {r["code"]: r for r in rows}[world["p"]["whole"].code]
    assert whole["outcome"] == "accepted"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:.]+\+0[56]:00", whole["answered_at"])
    for secret in (SECRET_DRAFT, SECRET_EMAIL, world["p"]["spam"].title):
        assert secret.encode() not in content


_NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}


def _xlsx_rows(content: bytes) -> list[list[str]]:
    """The one sheet's rows as text (openpyxl is not a dependency: read the XML)."""
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        names = archive.namelist()
        assert "xl/worksheets/sheet1.xml" in names
        assert "xl/worksheets/sheet2.xml" not in names
        workbook = archive.read("xl/workbook.xml").decode()
        assert 'name="summary"' in workbook
        shared = []
        if "xl/sharedStrings.xml" in names:
            strings = ElementTree.fromstring(archive.read("xl/sharedStrings.xml"))  # noqa: S314
            shared = [
                "".join(t.text or "" for t in si.iter(f"{{{_NS['m']}}}t"))
                for si in strings.findall("m:si", _NS)
            ]
        sheet = ElementTree.fromstring(archive.read("xl/worksheets/sheet1.xml"))  # noqa: S314
    rows = []
    for row in sheet.findall("m:sheetData/m:row", _NS):
        cells = []
        for cell in row.findall("m:c", _NS):
            value = cell.find("m:v", _NS)
            if cell.get("t") == "s":
                cells.append(shared[int(value.text)])
            elif cell.get("t") == "inlineStr":
                cells.append("".join(t.text or "" for t in cell.iter(f"{{{_NS['m']}}}t")))
            else:
                cells.append(value.text if value is not None else "")
            assert cell.find("m:f", _NS) is None, "a cell became a formula"
        rows.append(cells)
    return rows


def test_xlsx_is_a_workbook_with_the_column_names_and_every_row(
    api, world, django_capture_on_commit_callbacks
):
    _get(api, django_capture_on_commit_callbacks, "xlsx")
    content = _content(api.get(URL, {"format": "xlsx"}))
    rows = _xlsx_rows(content)
    assert rows[0] == list(COLUMNS)
    assert [r[0] for r in rows[1:]] == _codes(world, *ORDER)
    assert "'=HYPERLINK(evil) деревья" in rows[ORDER.index("formula") + 1]
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        raw = b"".join(archive.read(name) for name in archive.namelist())
    assert SECRET_DRAFT.encode() not in raw


def test_html_is_printable_section_by_section_with_outcomes(
    api, world, django_capture_on_commit_callbacks
):
    _get(api, django_capture_on_commit_callbacks, "html", HTTP_ACCEPT_LANGUAGE="en")
    page = _content(api.get(URL, {"format": "html"}, HTTP_ACCEPT_LANGUAGE="en")).decode()
    assert page.startswith("<!doctype html>")
    assert page.rstrip().endswith("</html>")
    headings = re.findall(r"<h2>(.*?)</h2>", page)
    assert headings == ["The whole document", "1. Зелёный город", "1.1. Parks", "2. Транспорт"]
    # The rows, in document order, each linking to its page on the site.
    codes = re.findall(r'<td class="code"><a href="[^"]+/en/proposals/\d+/">([^<]+)</a>', page)
    assert codes == _codes(world, *ORDER)
    assert "Accepted" in page and "Not accepted" in page
    assert "Rejected: Duplicate of another proposal" in page
    assert "Rejected: Off topic" in page
    assert "Уже в плане" not in page  # the taken-down proposal's answer
    assert "=HYPERLINK(evil) деревья" in page  # people read it as written
    assert "Medeu" in page or "Медеу" in page
    for secret in (SECRET_DRAFT, SECRET_EMAIL, world["p"]["spam"].title):
        assert secret not in page


# --- claims, failures and the sweep -----------------------------------------------------------------


def test_a_claimed_build_runs_once(world, strategy):
    summary = SummaryFile.objects.create(strategy=strategy, format="csv", language="ru")
    summary_build_task(summary.pk)
    summary.refresh_from_db()
    assert (summary.status, summary.attempt, summary.progress) == ("done", 1, 100)
    finished = summary.finished_at
    # A redelivered message finds it built.
    summary_build_task(summary.pk)
    summary.refresh_from_db()
    assert (summary.attempt, summary.finished_at) == (1, finished)


def test_a_build_taken_over_stops_without_touching_the_file(world, strategy, media):
    summary = SummaryFile.objects.create(strategy=strategy, format="csv", language="ru")
    first = services.summary_start(summary_id=summary.pk)
    # Its worker seems gone; the sweep hands the build to another.
    SummaryFile.objects.filter(pk=summary.pk).update(started_at=timezone.now() - timedelta(hours=1))
    second = services.summary_start(summary_id=summary.pk)
    assert second == first + 1
    assert services.summary_build(summary_id=summary.pk, attempt=first) is None
    summary.refresh_from_db()
    assert (summary.status, summary.file.name) == ("running", "")
    assert not list((media / "summaries").glob("*"))
    assert services.summary_build(summary_id=summary.pk, attempt=second).status == "done"


def test_a_failed_build_says_why_and_is_asked_for_again_later(
    api, world, strategy, django_capture_on_commit_callbacks, monkeypatch
):
    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(services.writers, "write_csv", broken)
    assert _get(api, django_capture_on_commit_callbacks, "csv").status_code == 202
    summary = SummaryFile.objects.get()
    assert summary.status == "failed"
    assert "disk full" in summary.error
    # Just failed: a polling page does not start it again at once.
    with django_capture_on_commit_callbacks() as sent:
        response = api.get(URL, {"format": "csv"})
    assert (response.status_code, response.json()["status"], sent) == (202, "failed", [])
    monkeypatch.undo()
    SummaryFile.objects.update(finished_at=timezone.now() - timedelta(minutes=5))
    assert _get(api, django_capture_on_commit_callbacks, "csv").status_code == 202
    assert api.get(URL, {"format": "csv"}).status_code == 200


def test_the_sweep_sends_lost_builds_again_and_gives_up_on_dying_ones(
    world, strategy, django_capture_on_commit_callbacks
):
    now = timezone.now()
    lost = SummaryFile.objects.create(
        strategy=strategy, format="csv", language="ru", queued_at=now - timedelta(minutes=5)
    )
    fresh = SummaryFile.objects.create(strategy=strategy, format="csv", language="en")
    stuck = SummaryFile.objects.create(
        strategy=strategy,
        format="xlsx",
        language="ru",
        status="running",
        attempt=1,
        queued_at=now - timedelta(minutes=20),
        started_at=now - timedelta(minutes=20),
    )
    dying = SummaryFile.objects.create(
        strategy=strategy,
        format="html",
        language="ru",
        status="running",
        attempt=3,
        queued_at=now - timedelta(hours=2),
        started_at=now - timedelta(minutes=20),
    )
    with django_capture_on_commit_callbacks(execute=True):
        result = summary_sweep()
    assert result == {"requeued": 2, "failed": 1}
    for row in (lost, fresh, stuck, dying):
        row.refresh_from_db()
    assert (lost.status, stuck.status) == ("done", "done")
    assert stuck.attempt == 2
    assert fresh.status == "queued"  # its message is not late yet
    assert dying.status == "failed" and "time limits" in dying.error
    # A second sweep right away sends nothing.
    with django_capture_on_commit_callbacks() as sent:
        assert summary_sweep() == {"requeued": 0, "failed": 0}
    assert sent == []


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "html"])
def test_a_strategy_without_rows_has_files_too(
    api, strategy, django_capture_on_commit_callbacks, fmt
):
    assert api.get(URL).json() == {"count": 0, "next": None, "previous": None, "results": []}
    _get(api, django_capture_on_commit_callbacks, fmt)
    summary = SummaryFile.objects.get()
    assert (summary.status, summary.row_count, summary.progress) == ("done", 0, 100)
    content = _content(api.get(URL, {"format": fmt}))
    if fmt == "csv":
        assert content == BOM + ",".join(f'"{c}"' for c in COLUMNS).encode() + b"\n"
    elif fmt == "xlsx":
        assert _xlsx_rows(content) == [list(COLUMNS)]
    else:
        assert "<table>" not in content.decode()
        assert "</html>" in content.decode()
