"""The list's two paginations walk the same order, and counts say when they estimate."""

import base64
import json
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from proposals import paging
from proposals.models import Proposal
from tests.factories import ProposalFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def rows(strategy):
    now = timezone.now()
    made = []
    for n in range(23):
        # Ties on purpose: three rows per moment, reaction totals repeating.
        made.append(
            ProposalFactory(
                strategy=strategy,
                title=f"Арыки и тротуары {n}",
                body="Почистить арыки и расширить тротуары на улице номер " + str(n),
                created_at=now - timedelta(minutes=n // 3),
            )
        )
    for n, proposal in enumerate(made):
        Proposal.objects.filter(pk=proposal.pk).update(reactions_total=n % 4)
    return made


def _walk_pages(api, params: dict) -> list[int]:
    seen, page = [], 1
    while True:
        body = api.get("/api/v1/proposals/", {**params, "page": page, "page_size": 5}).json()
        seen += [row["id"] for row in body["results"]]
        if not body["next"]:
            return seen
        page += 1


def _walk_cursor(api, params: dict) -> tuple[list[list[int]], str | None]:
    pages, url = [], None
    response = api.get("/api/v1/proposals/", {**params, "cursor": "", "page_size": 5})
    while True:
        body = response.json()
        assert response.status_code == 200, body
        pages.append([row["id"] for row in body["results"]])
        if not body["next"]:
            return pages, body["previous"]
        url = body["next"]
        response = api.get(url)


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"ordering": "created_at"},
        {"ordering": "-reactions"},
        {"q": "арыков", "ordering": "-reactions"},
        {"q": "тротуар"},
    ],
    ids=["newest", "oldest", "reactions", "search-by-reactions", "relevance"],
)
def test_a_cursor_walks_the_order_that_pages_do(api, rows, params):
    by_page = _walk_pages(api, params)
    assert sorted(by_page) == sorted(p.pk for p in rows)
    pages, previous = _walk_cursor(api, params)
    assert [pk for page in pages for pk in page] == by_page
    assert all(len(page) == 5 for page in pages[:-1])
    # And back again from the last page, one page at a time.
    back = []
    while previous:
        body = api.get(previous).json()
        back.insert(0, [row["id"] for row in body["results"]])
        previous = body["previous"]
    assert back == pages[:-1]


@pytest.mark.parametrize(
    "cursor",
    [
        "not-a-cursor",
        "eyJvIjoiY3JlYXRlZF9hdCJ9",
        "eyJvIjoiLWNyZWF0ZWRfYXQiLCJkIjoibiIsImsiOlsxLDJdfQ",
    ],
    ids=["garbage", "another-ordering", "wrong-key"],
)
def test_a_bad_cursor_is_a_400(api, rows, cursor):
    response = api.get("/api/v1/proposals/", {"cursor": cursor})
    assert response.status_code == 400
    assert response.json()["cursor"] == ["Invalid cursor."]


def _cursor(content: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(content).encode()).decode()


@pytest.mark.parametrize(
    ("params", "content"),
    [
        ({"q": "арык"}, {"o": "relevance", "n": 10**30}),
        ({"q": "арык"}, {"o": "relevance", "n": -1}),
        (
            {"ordering": "-reactions"},
            {"o": "-reactions", "d": "n", "k": [2**64, "2026-01-01T00:00:00+00:00", 1]},
        ),
        ({}, {"o": "-created_at", "d": "n", "k": ["0001-01-01T00:00:00+14:00", 1]}),
        ({}, {"o": "-created_at", "d": "n", "k": ["2026-01-01T00:00:00", 1]}),
        ({}, {"o": "-created_at", "d": "n", "k": ["2026-01-01T00:00:00+00:00", True]}),
        ({}, [[[[[1]]]]]),
    ],
    ids=["huge-position", "negative", "huge-key", "year-one", "naive", "boolean", "nested"],
)
def test_a_cursor_made_up_by_hand_is_a_400(api, rows, params, content):
    response = api.get("/api/v1/proposals/", {**params, "cursor": _cursor(content)})
    assert response.status_code == 400
    assert response.json()["cursor"] == ["Invalid cursor."]
    # Nor can one be so deep that parsing it is the attack.
    deep = base64.urlsafe_b64encode(b"[" * 5000).decode()
    assert api.get("/api/v1/proposals/", {"cursor": deep}).status_code == 400


def test_counts_are_exact_and_say_so(api, rows):
    body = api.get("/api/v1/proposals/", {"page_size": 5}).json()
    assert body["count"] == 23 and body["count_is_estimate"] is False
    body = api.get("/api/v1/proposals/", {"cursor": "", "q": "арык"}).json()
    assert body["count"] == 23 and body["count_is_estimate"] is False


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="only PostgreSQL estimates; SQLite counts"
)
def test_a_large_set_is_counted_by_the_planners_estimate(api, rows, monkeypatch):
    monkeypatch.setattr(paging, "EXACT_COUNT_UP_TO", 5)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE proposals_proposal")
    body = api.get("/api/v1/proposals/", {"page_size": 5}).json()
    assert body["count_is_estimate"] is True
    assert 6 <= body["count"] <= 100
    # A set under the line is still counted exactly.
    body = api.get("/api/v1/proposals/", {"q": "номер 17"}).json()
    assert body["count"] == 1 and body["count_is_estimate"] is False


def test_a_page_past_the_end_is_a_404(api, rows):
    assert api.get("/api/v1/proposals/", {"page": 6, "page_size": 5}).status_code == 404
    assert api.get("/api/v1/proposals/", {"page": 5, "page_size": 5}).status_code == 200
    for page in ("x", "²", "0", "-1", "1.5", "9" * 30):
        assert api.get("/api/v1/proposals/", {"page": page}).status_code == 404, page


def test_the_last_page_as_drf_named_it(api, rows):
    body = api.get("/api/v1/proposals/", {"page": "last", "page_size": 5}).json()
    assert len(body["results"]) == 3 and body["next"] is None  # 23 rows, 5 a page


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the time limit is PostgreSQL's statement_timeout"
)
def test_the_counts_time_limit_ends_with_the_count(rows):
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        before = cursor.fetchone()[0]
        assert paging.list_count(Proposal.objects.filter(status="published")) == (23, False)
        # The test's own transaction goes on: the 20 ms limit must not.
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == before


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the time limit is PostgreSQL's statement_timeout"
)
def test_a_count_over_its_time_limit_gives_way_to_the_estimate(rows, monkeypatch):
    # A count made slow on purpose: each row takes a millisecond to filter.
    monkeypatch.setattr(paging, "COUNT_TIMEOUT_MS", 5)
    # The planner expects few rows, so the exact count is tried.
    monkeypatch.setattr(paging, "_planner_rows", lambda sql, params: 10)
    slow = Proposal.objects.extra(where=["pg_sleep(0.001) IS NOT NULL"])  # noqa: S610
    assert paging.list_count(slow) == (10, True)
    # And the transaction is still usable afterwards.
    assert Proposal.objects.count() == 23
