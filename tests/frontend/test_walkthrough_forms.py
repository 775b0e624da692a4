"""Issue 12, forms and empty states: what a walk through the pages found."""

import html

import pytest

from proposals.models import Proposal
from proposals.services import proposal_moderate, proposal_submit
from tests.conftest import page_client_for

pytestmark = pytest.mark.django_db


def _page(response) -> str:
    return html.unescape(response.content.decode())


# --- item 5: title and body refused together -------------------------------------------------


def test_a_short_title_and_a_short_body_are_refused_together(resident, strategy):
    response = page_client_for(resident).post(
        "/en/proposals/new/",
        {
            "strategy": strategy.slug,
            "section": "",
            "title": "Dom",
            "body": "Too short",
            "district": "",
        },
    )
    assert response.status_code == 400
    assert not Proposal.objects.exists()
    page = _page(response)
    assert "Must be at least 5 characters." in page
    assert "Must be at least 20 characters." in page


def test_editing_refuses_title_and_body_together(resident, moderator, strategy):
    proposal = proposal_submit(
        author=resident,
        strategy=strategy,
        title="Trees in the yards",
        body="Plant more trees in residential yards.",
    )
    proposal_moderate(
        proposal=proposal, moderator=moderator, decision="request_changes", note="Be precise."
    )
    response = page_client_for(resident).post(
        f"/en/proposals/{proposal.pk}/edit/",
        {"section": "", "title": "Dom", "body": "Too short", "district": ""},
    )
    assert response.status_code == 400
    page = _page(response)
    assert "Must be at least 5 characters." in page
    assert "Must be at least 20 characters." in page


# --- item 4: empty states of filtered lists --------------------------------------------------


def test_the_analysis_page_says_when_nothing_matches(analyst, resident, strategy):
    proposal_submit(
        author=resident,
        strategy=strategy,
        title="Trees in the yards",
        body="Plant more trees in residential yards.",
    )
    response = page_client_for(analyst).get("/en/analysis/", {"q": "nothingmatcheszzz"})
    assert response.status_code == 200
    page = _page(response)
    assert "0 proposals match" in page
    assert "No proposals match these filters." in page
    assert "Order the report" in page


def test_a_filtered_queue_with_no_match_is_not_called_empty(moderator, resident, strategy):
    proposal_submit(
        author=resident,
        strategy=strategy,
        title="Trees in the yards",
        body="Plant more trees in residential yards.",
    )
    client = page_client_for(moderator)
    page = _page(client.get("/en/moderation/", {"q": "nothingmatcheszzz"}))
    assert "0 proposals are waiting" in page
    assert "No pending proposal matches these filters." in page
    assert "The queue is empty." not in page


def test_an_empty_queue_is_called_empty(moderator):
    page = _page(page_client_for(moderator).get("/en/moderation/"))
    assert "The queue is empty." in page
    assert "No pending proposal matches these filters." not in page


# --- item 6: the author of a duplicate is sent to the original -------------------------------


def _rejected_as_duplicate(resident, other_resident, moderator, strategy, *, publish: bool):
    original = proposal_submit(
        author=other_resident,
        strategy=strategy,
        title="Bike lanes on Abay avenue",
        body="Separate bike lanes along the whole Abay avenue.",
    )
    if publish:
        original = proposal_moderate(proposal=original, moderator=moderator, decision="approve")
    copy = proposal_submit(
        author=resident,
        strategy=strategy,
        title="Bike lanes on Abay, please",
        body="Please build separate bike lanes along Abay avenue.",
    )
    proposal_moderate(
        proposal=copy,
        moderator=moderator,
        decision="reject",
        reason="duplicate",
        duplicate_of=original,
    )
    return original


def test_my_proposals_links_a_duplicate_to_its_original(
    resident, other_resident, moderator, strategy
):
    original = _rejected_as_duplicate(resident, other_resident, moderator, strategy, publish=True)
    page = _page(page_client_for(resident).get("/en/me/proposals/"))
    assert f'href="/en/proposals/{original.pk}/">{original.code}</a>' in page
    assert f'href="/en/proposals/{original.pk}/#reactions-title">React to it instead' in page


def test_my_proposals_hides_an_original_the_author_may_not_see(
    resident, other_resident, moderator, strategy
):
    original = _rejected_as_duplicate(resident, other_resident, moderator, strategy, publish=False)
    page = _page(page_client_for(resident).get("/en/me/proposals/"))
    assert original.code not in page
    assert "React to it instead" not in page


# --- item 11: the 500 page looks like the others, without the database ----------------------


def test_the_500_page_is_styled_and_needs_no_database(rf, django_assert_num_queries):
    from civic.views import server_error

    with django_assert_num_queries(0):
        response = server_error(rf.get("/ru/"))
    page = response.content.decode()
    assert response.status_code == 500
    assert '<link rel="stylesheet" href="/static/frontend/civic.css">' in page
    assert '<header class="site">' in page and '<main id="main"' in page
    # No one language holds the whole page (the title is in all three), so none is declared
    # for it; each section declares its own.
    assert '<html lang="mul">' in page
    for lang, heading in (
        ("ru", "Ошибка сервера"),
        ("kk", "Сервер қатесі"),
        ("en", "Server error"),
    ):
        assert f'<section lang="{lang}"' in page
        assert heading in page
    assert "·" not in page.split("<main", 1)[1].split("</main>")[0]


# --- item 7: the strategy page's introduction and contents ------------------------------------


def test_the_introduction_is_in_paragraphs_without_hard_breaks(client, strategy):
    strategy.description_en = "The city grows,\nand its streets\nmust grow too.\n\nSecond part."
    strategy.save()
    page = _page(client.get(f"/en/strategies/{strategy.slug}/"))
    assert '<p class="lead">The city grows, and its streets must grow too.</p>' in page
    assert '<p class="lead">Second part.</p>' in page
    assert "<br>" not in page


def test_the_contents_are_numbered_once():
    from pathlib import Path

    css = (Path(__file__).parents[2] / "frontend/static/frontend/civic.css").read_text()
    assert ".toc ol { list-style: none;" in css
