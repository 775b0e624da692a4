"""The public summary table page and its downloads.

The rows are the ones tests/proposals/test_summary.py builds (its `world` fixture):
a proposal on the whole document, sections whose positions and codes disagree, a draft
answer, public and hidden rejections.
"""

import html
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from proposals.models import SummaryFile
from strategy.models import Strategy
from tests.conftest import page_client_for
from tests.proposals.test_summary import ORDER, SECRET_DRAFT, SECRET_EMAIL, _fill, build_world

pytestmark = pytest.mark.django_db

PAGE = "/ru/strategies/almaty-test/summary/"
EN_PAGE = "/en/strategies/almaty-test/summary/"
REFRESH = re.compile(r'<meta\s+http-equiv="refresh"', re.I)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def world(strategy) -> dict:
    return build_world(strategy)


def _get(url: str, status: int = 200) -> str:
    response = page_client_for(None).get(url)
    assert response.status_code == status, url
    return response.content.decode()


def _codes(page: str) -> list[str]:
    return re.findall(r'<td class="code"><a href="/\w\w/proposals/\d+/">([^<]+)</a></td>', page)


def test_the_table_shows_every_row_section_by_section(world):
    page = _get(EN_PAGE)
    p = world["p"]
    assert _codes(page) == [p[name].code for name in ORDER]
    headings = [html.unescape(h) for h in re.findall(r"<h2 id=\"summary-\d+\">(.*?)</h2>", page)]
    assert headings == ["The whole document", "1. Зелёный город", "1.1. Parks", "2. Транспорт"]
    for name in ORDER:
        assert f'href="/en/proposals/{p[name].pk}/"' in page
    assert "Accepted" in page
    assert "Not accepted" in page
    assert "Rejected: Duplicate of another proposal" in page
    assert "Awaiting the city&#x27;s answer" in page or "Awaiting the city's answer" in page
    assert "+7 701 000 00 00" in page
    for hidden in (SECRET_DRAFT, SECRET_EMAIL, "Уже в плане"):
        assert hidden not in page
    for name in ("spam", "pending", "withdrawn", "foreign"):
        assert p[name].code not in page, name
    # A wide table scrolls inside its own region on a phone, not the whole page.
    assert page.count('<div class="table-scroll" tabindex="0" role="region"') == 4


def test_the_page_speaks_russian_by_default(world):
    page = _get(PAGE)
    assert '<html lang="ru">' in page
    assert ">Код</th>" in page
    assert "Отклонено" in page


@pytest.mark.parametrize(
    ("outcome", "names"),
    [
        ("accepted", ("whole",)),
        ("not_accepted", ("formula",)),
        ("unanswered", ("sub", "later")),
        ("rejected", ("dup", "taken")),
        ("", ORDER),
    ],
)
def test_the_table_filters_by_outcome(world, outcome, names):
    page = _get(f"{EN_PAGE}?outcome={outcome}")
    assert _codes(page) == [world["p"][name].code for name in names]
    if outcome:
        assert re.search(rf'href="\?outcome={outcome}" aria-current="page"', page)


def test_the_filter_shows_counts(world):
    page = _get(EN_PAGE)
    counts = dict(re.findall(r'href="\?(?:outcome=(\w+))?"[^>]*>[^<]*<span class="n">(\d+)', page))
    assert counts[""] == str(len(ORDER))
    assert counts["accepted"] == "1"
    assert counts["unanswered"] == "2"
    assert counts["rejected"] == "2"
    assert counts["out_of_scope"] == "0"


def test_an_unknown_outcome_is_a_400_naming_it(world):
    page = _get(f"{EN_PAGE}?outcome=maybe", status=400)
    assert "maybe" in page
    assert _codes(page) == []


def test_a_draft_or_unknown_strategy_is_404(world, strategy):
    Strategy.objects.filter(pk=strategy.pk).update(status=Strategy.Status.DRAFT)
    _get(PAGE, status=404)
    _get(PAGE + "download/csv/", status=404)
    _get("/ru/strategies/nothing-here/summary/", status=404)


def test_the_strategy_page_links_to_the_summary(world):
    assert 'href="/ru/strategies/almaty-test/summary/"' in _get("/ru/strategies/almaty-test/")


def test_pages_of_fifty_rows_repeat_the_section_heading(strategy):
    _fill(strategy, 60)
    first, second = _get(PAGE), _get(PAGE + "?page=2")
    assert len(_codes(first)) == 50
    assert len(_codes(second)) == 10
    assert not set(_codes(first)) & set(_codes(second))
    assert re.search(r'<h2 id="summary-1">', second)
    assert 'rel="next" href="?page=2"' in first


def test_the_query_count_does_not_grow_with_the_rows(strategy):
    counts = []
    for total in (10, 500):
        _fill(strategy, total)
        client = page_client_for(None)
        # The last page: rows of sections in both cases (a page of rows on the whole
        # document alone needs no section titles, and saves their query).
        last = (total + 49) // 50
        with CaptureQueriesContext(connection) as captured:
            response = client.get(f"{PAGE}?page={last}")
        assert response.status_code == 200
        assert len(_codes(response.content.decode())) == total - 50 * (last - 1)
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1], counts
    # The strategy, the counts by outcome, the page's count, rows, themes and section
    # titles, and the themes and districts every page names.
    assert counts[0] <= 8, counts


# --- downloads ----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "html"])
def test_the_download_links_wait_for_the_file_then_give_it(
    world, fmt, django_capture_on_commit_callbacks
):
    page = _get(PAGE)
    link = f"/ru/strategies/almaty-test/summary/download/{fmt}/"
    assert f'href="{link}"' in page
    client = page_client_for(None)
    with django_capture_on_commit_callbacks(execute=True):
        waiting = client.get(link)
    assert waiting.status_code == 200
    assert waiting["Cache-Control"] == "no-store"
    text = waiting.content.decode()
    assert REFRESH.search(text)
    assert '<progress id="summary-progress" max="100" value="0">' in text
    assert f'href="{PAGE}"' in text

    ready = client.get(link)
    assert ready.status_code == 200
    assert ready["Content-Disposition"].startswith("attachment")
    assert ready["Content-Disposition"].rstrip('"').endswith(f"summary-ru.{fmt}")
    content = b"".join(ready.streaming_content)
    assert content
    assert SummaryFile.objects.get(format=fmt).language == "ru"


def test_a_download_in_english_builds_the_english_file(world, django_capture_on_commit_callbacks):
    client = page_client_for(None)
    with django_capture_on_commit_callbacks(execute=True):
        client.get("/en/strategies/almaty-test/summary/download/html/")
    content = b"".join(
        client.get("/en/strategies/almaty-test/summary/download/html/").streaming_content
    ).decode()
    assert '<html lang="en">' in content
    assert ">Code</th>" in content


def test_an_unknown_download_format_is_404(world):
    _get(PAGE + "download/pdf/", status=404)
    assert not SummaryFile.objects.exists()
