"""The proposal list page on the API's path: a page's ids first, the count exact while it
is cheap and otherwise labelled an estimate, and the answer facet never counting a large
set row by row (at a million proposals that was a second a page)."""

import pytest
from django.db import connection

from proposals import paging
from proposals.answers.services import answer_save
from proposals.models import Proposal
from proposals.tallies.services import tally_rebuild
from tests.conftest import page_client_for
from tests.factories import ProposalFactory

needs_estimates = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="only PostgreSQL estimates; SQLite counts"
)


@pytest.fixture
def listed(strategy, responder) -> list[Proposal]:
    proposals = ProposalFactory.create_batch(25, strategy=strategy)
    answer_save(proposal=proposals[0], responder=responder, outcome="accepted")
    answer_save(proposal=proposals[1], responder=responder, outcome="not_accepted", text="Нет.")
    return proposals


def _cards(html: str, proposals: list[Proposal]) -> list[str]:
    """The codes of `proposals` in the order the page shows them."""
    found = [(html.find(p.code), p.code) for p in proposals if p.code in html]
    return [code for _, code in sorted(found)]


def test_pages_show_the_right_rows_in_order_with_an_exact_count(listed):
    newest_first = sorted(listed, key=lambda p: (p.created_at, p.pk), reverse=True)
    client = page_client_for(None)
    first = client.get("/en/proposals/").content.decode()
    second = client.get("/en/proposals/?page=2").content.decode()
    assert _cards(first, listed) == [p.code for p in newest_first[:20]]
    assert _cards(second, listed) == [p.code for p in newest_first[20:]]
    assert "25 proposals found" in first and "About" not in first
    # Beyond the last page is the last page, as Django's get_page gives it.
    assert _cards(client.get("/en/proposals/?page=9").content.decode(), listed) == _cards(
        second, listed
    )


def test_facets_of_a_small_set_are_counted(listed):
    response = page_client_for(None).get("/en/proposals/?language=ru")
    outcomes = response.context["outcomes"]
    assert outcomes["accepted"] == 1 and outcomes["not_accepted"] == 1
    assert outcomes["unanswered"] == 23


@needs_estimates
def test_a_large_set_says_about_and_takes_a_strategys_facets_from_its_tally(
    listed, strategy, monkeypatch
):
    monkeypatch.setattr(paging, "EXACT_COUNT_UP_TO", 2)
    monkeypatch.setattr(paging, "ESTIMATE_SLACK", 1)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE proposals_proposal")
    tally_rebuild(strategy_id=strategy.pk)
    client = page_client_for(None)

    response = client.get(f"/ru/proposals/?strategy={strategy.slug}")
    html = response.content.decode()
    assert "Найдено около" in html
    # The tally's numbers are the rows' numbers.
    outcomes = response.context["outcomes"]
    assert outcomes["accepted"] == 1 and outcomes["not_accepted"] == 1
    assert outcomes["unanswered"] == 23

    # Any other large set: the facet's links stay, without numbers.
    response = client.get(f"/en/proposals/?strategy={strategy.slug}&language=ru")
    assert set(response.context["outcomes"].values()) == {None}
    html = response.content.decode()
    assert "answer=accepted" in html and 'class="n"' not in html


def test_a_short_estimate_never_hides_the_pages_after_it(listed, monkeypatch):
    """An estimate can be short (the planner's guess, or the count's time limit): the
    pages go as deep as the rows, and the next link follows the rows, not the count."""
    monkeypatch.setattr(paging, "list_count", lambda queryset: (3, True))
    newest_first = sorted(listed, key=lambda p: (p.created_at, p.pk), reverse=True)
    client = page_client_for(None)
    first = client.get("/en/proposals/")
    assert "About 3 proposals found" in first.content.decode()
    assert first.context["page"].has_next()
    second = client.get("/en/proposals/?page=2")
    assert _cards(second.content.decode(), listed) == [p.code for p in newest_first[20:]]
    assert not second.context["page"].has_next()
    assert "Page 2 of 2" in second.content.decode()
    # Past the rows: an empty page with the way back, never an error.
    beyond = client.get("/en/proposals/?page=7")
    assert beyond.status_code == 200 and _cards(beyond.content.decode(), listed) == []
    assert beyond.context["page"].has_previous()
