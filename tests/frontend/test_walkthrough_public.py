"""What a visitor and a resident see on the public pages: reactions, the proposal filter,
campaign groups, and the tallies page."""

import html
import re
from datetime import timedelta

import pytest
from django.utils import timezone, translation

from proposals.models import Proposal
from proposals.services import proposal_moderate, proposal_submit, reaction_set
from proposals.tallies.services import tally_rebuild
from strategy.models import Theme
from tests.conftest import page_client_for
from tests.factories import SectionFactory, UserFactory

pytestmark = pytest.mark.django_db

BODY = "Посадить деревья вдоль арыков и починить освещение во дворах."


def _published(author, strategy, moderator, title="Больше деревьев во дворах", **kwargs):
    proposal = proposal_submit(
        author=author,
        strategy=strategy,
        title=title,
        body=kwargs.pop("body", BODY),
        themes=kwargs.pop("themes", [Theme.objects.get(slug="ecology")]),
        **kwargs,
    )
    return proposal_moderate(proposal=proposal, moderator=moderator, decision="approve")


def _page(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def published(strategy, resident, moderator):
    return _published(resident, strategy, moderator)


def test_a_visitor_sees_reaction_counts_as_counts_with_a_way_to_sign_in(published):
    page = _page(page_client_for(None).get(f"/en/proposals/{published.pk}/"))
    assert 'class="reaction-count"' in page
    assert "<button" not in page.split('id="reactions-title"')[1].split("</section>")[0]
    assert "Sign in to react" in page


def test_an_unverified_resident_is_told_why_they_cannot_react(published):
    unverified = UserFactory(email_verified=False)
    page = _page(page_client_for(unverified).get(f"/en/proposals/{published.pk}/"))
    reactions = page.split('id="reactions-title"')[1].split("</section>")[0]
    assert "Verify your email address to react" in reactions
    assert 'action="/en/verify-email/resend/"' in reactions


def test_a_verified_resident_gets_no_verification_hint(published, other_resident):
    page = _page(page_client_for(other_resident).get(f"/en/proposals/{published.pk}/"))
    assert "Verify your email address to react" not in page


def test_after_reacting_the_page_returns_to_the_reactions(published, other_resident):
    client = page_client_for(other_resident)
    response = client.post(f"/ru/proposals/{published.pk}/reaction/", {"kind": "like"})
    assert response.status_code == 302
    assert response.url == f"/ru/proposals/{published.pk}/#reactions-title"


def test_the_list_filters_proposals_about_the_whole_document(strategy, resident, moderator, api):
    section = SectionFactory(strategy=strategy, code="1", position=0, title_ru="Экология")
    whole = _published(resident, strategy, moderator, title="О стратегии в целом")
    _published(resident, strategy, moderator, title="О разделе про экологию", section=section)
    client = page_client_for(None)
    page = _page(client.get("/en/proposals/", {"strategy": strategy.slug}))
    assert '<option value="none">The whole document</option>' in page

    page = _page(client.get("/en/proposals/", {"strategy": strategy.slug, "section": "none"}))
    assert '<option value="none" selected>The whole document</option>' in page
    assert "О стратегии в целом" in page
    assert "О разделе про экологию" not in page

    response = api.get("/api/v1/proposals/", {"section": "none"})
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [whole.pk]


def test_public_cards_say_they_are_one_of_a_campaign(
    strategy, moderator, django_capture_on_commit_callbacks
):
    body = "Просим построить крытый каток в микрорайоне Орбита для детей и взрослых круглый год."
    with django_capture_on_commit_callbacks(execute=True):
        copies = [
            proposal_submit(
                author=UserFactory(), strategy=strategy, title="Каток в Орбите", body=body
            )
            for _ in range(3)
        ]
        alone = proposal_submit(
            author=UserFactory(), strategy=strategy, title="Освещение", body=BODY
        )
    for proposal in [copies[0], copies[1], alone]:
        proposal_moderate(proposal=proposal, moderator=moderator, decision="approve")
    page = page_client_for(None).get("/en/proposals/").content.decode()
    cards = dict(
        re.findall(
            r'<article class="card" aria-labelledby="p(\d+)-title">(.*?)</article>', page, re.S
        )
    )
    # The copy still waiting for a moderator is nobody's business but the staff's.
    for proposal in copies[:2]:
        assert "One of 2 nearly identical proposals" in cards[str(proposal.pk)]
    assert "nearly identical" not in cards[str(alone.pk)]


@pytest.fixture
def tallied(strategy, resident, other_resident, moderator):
    themes = {slug: Theme.objects.get(slug=slug) for slug in ("ecology", "transport")}
    green = _published(resident, strategy, moderator, themes=[themes["ecology"]])
    buses = [
        _published(
            resident, strategy, moderator, title=f"Автобусы {n}", themes=[themes["transport"]]
        )
        for n in range(2)
    ]
    kazakh = _published(
        resident,
        strategy,
        moderator,
        title="Аулаларға автобус жүргізу",
        themes=[themes["transport"]],
    )
    Proposal.objects.filter(pk=kazakh.pk).update(language="kk")
    # Two days apart, three proposals on the later one.
    earlier = timezone.now() - timedelta(days=2)
    Proposal.objects.filter(pk=green.pk).update(created_at=earlier, published_at=earlier)
    reaction_set(proposal=kazakh, user=other_resident, kind="like")
    reaction_set(proposal=green, user=other_resident, kind="outrage")
    tally_rebuild(strategy_id=strategy.pk)
    return {"green": green, "buses": buses, "kazakh": kazakh, "earlier": earlier}


def test_the_day_chart_has_its_dates_and_scale(strategy, tallied):
    page = _page(page_client_for(None).get(f"/en/strategies/{strategy.slug}/tallies/"))
    chart = page.split('id="days-title"')[1].split("</figure>")[0]
    first = timezone.localdate(tallied["earlier"]).isoformat()
    last = timezone.localdate().isoformat()
    axis = re.search(r'<p class="axis-x">(.*?)</p>', chart, re.S).group(1)
    assert re.findall(r'<time datetime="([\d-]+)">', axis) == [first, last]
    assert re.search(r'<p class="axis-y">[^<]*\b3\b[^<]*</p>', chart)


def test_theme_bars_are_ordered_by_count(strategy, tallied):
    page = _page(page_client_for(None).get(f"/en/strategies/{strategy.slug}/tallies/"))
    chart = page.split('id="chart-theme"')[1].split("</figure>")[0]
    labels = re.findall(r'<span class="label">([^<]*)</span>', chart)
    values = [int(v) for v in re.findall(r'<span class="value">([^<]*)</span>', chart)]
    assert values == sorted(values, reverse=True)
    with translation.override("en"):
        names = [Theme.objects.get(slug=slug).name for slug in ("transport", "ecology")]
    assert values[:2] == [3, 1]
    assert labels[:2] == names


def test_the_most_supported_list_says_each_titles_language(strategy, tallied, api):
    page = _page(page_client_for(None).get(f"/en/strategies/{strategy.slug}/tallies/"))
    top = page.split('id="top-title"')[1].split("</section>")[0]
    item = re.search(r"<li>(.*?)</li>", top, re.S).group(1)
    assert 'lang="kk"' in item
    assert "Kazakh" in item or "Қазақша" in item
    body = api.get(f"/api/v1/strategies/{strategy.slug}/tallies/").json()
    assert [row["language"] for row in body["top_proposals"]] == ["kk", "ru"]


def test_the_reactions_order_says_what_it_counts(strategy):
    page = _page(page_client_for(None).get("/en/proposals/"))
    assert "Most reactions of any kind first" in page
