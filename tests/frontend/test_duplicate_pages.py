"""Near-duplicates on the pages: the submit form's "someone has proposed this already", the
decide page's nearly-the-same list, the queue's group sizes and the analysts' groups page.

Wording of new strings may still be English in ru and kk until translations land, so these
tests look at structure: ids, codes, links, counts and status codes.
"""

import html
import re

import pytest
from django.test import Client

from proposals.duplicates import fingerprint as fp
from proposals.duplicates.services import duplicates_refresh
from proposals.models import Fingerprint, Proposal
from proposals.services import proposal_moderate, proposal_submit
from strategy.models import Strategy
from tests.conftest import page_client_for
from tests.factories import StrategyFactory, UserFactory
from tests.proposals.test_duplicates import CAMPAIGNS, ELSEWHERE, UNRELATED, VARIANTS

pytestmark = pytest.mark.django_db

LANGUAGES = ["ru", "kk", "en"]
GROUPS = "/{lang}/analysis/duplicates/"


def _page(response) -> str:
    return response.content.decode()


def _publish(proposal: Proposal, moderator) -> Proposal:
    return proposal_moderate(proposal=proposal, moderator=moderator, decision="approve")


@pytest.fixture
def campaign(strategy, moderator, django_capture_on_commit_callbacks) -> dict[str, Proposal]:
    """The three campaigns and the unrelated texts, their tasks run (suggestions, groups);
    the originals, the ru typo and the ru unrelated text published."""
    found: dict[str, Proposal] = {}
    with django_capture_on_commit_callbacks(execute=True):
        for language, variants in CAMPAIGNS.items():
            for name, (title, body) in variants.items():
                found[f"{language}-{name}"] = proposal_submit(
                    author=UserFactory(), strategy=strategy, title=title, body=body
                )
        for language, (title, body) in UNRELATED.items():
            found[f"{language}-unrelated"] = proposal_submit(
                author=UserFactory(), strategy=strategy, title=title, body=body
            )
    for name in ("ru-original", "kk-original", "en-original", "ru-typo", "ru-unrelated"):
        found[name] = _publish(found[name], moderator)
    return found


# --- The submit form ------------------------------------------------------------------------


def _form(strategy: Strategy, title: str, body: str, **more: str) -> dict:
    return {
        "strategy": strategy.slug,
        "section": "",
        "title": title,
        "body": body,
        "district": "",
        "themes": [],
        **more,
    }


def _similar_section(page: str) -> str | None:
    found = re.search(r'<section class="similar[^"]*"[^>]*>(.*?)</section>', page, re.S)
    return found.group(1) if found else None


def _linked_ids(fragment: str, language: str) -> list[int]:
    return [int(pk) for pk in re.findall(rf'href="/{language}/proposals/(\d+)/"', fragment)]


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_text_nearly_like_a_published_one_comes_back_before_it_is_filed(
    campaign, strategy, resident, language, django_capture_on_commit_callbacks
):
    client = page_client_for(resident)
    url = f"/{language}/proposals/new/"
    title, body = CAMPAIGNS[language]["word"]
    before = Proposal.objects.count()

    response = client.post(url, _form(strategy, title, body))
    assert response.status_code == 200
    assert Proposal.objects.count() == before
    page = _page(response)
    assert f'<html lang="{language}">' in page
    section = _similar_section(page)
    assert section is not None
    # The published copies only (the original, and in Russian the typo), with their codes.
    published = [
        campaign[f"{language}-{v}"]
        for v in VARIANTS
        if campaign[f"{language}-{v}"].status == Proposal.Status.PUBLISHED
    ]
    assert published
    assert sorted(_linked_ids(section, language)) == sorted(p.pk for p in published)
    for proposal in published:
        assert proposal.code in section
        score = fp.similarity(
            fp.signature(f"{title}\n{body}", fp.params()),
            fp.signature(f"{proposal.title}\n{proposal.body}", fp.params()),
        )
        assert f"{round(100 * round(score, 2))}%" in section
    assert re.search(r'<input type="hidden" name="confirmed_new" value="1">', section)
    # The form keeps what the author wrote.
    assert body in html.unescape(page)

    with django_capture_on_commit_callbacks(execute=True):
        confirmed = client.post(url, _form(strategy, title, body, confirmed_new="1"))
    assert confirmed.status_code == 302
    assert confirmed.url == f"/{language}/me/proposals/"
    assert Proposal.objects.count() == before + 1
    filed = Proposal.objects.get(author=resident)
    assert (filed.title, filed.body, filed.status) == (title, body, "pending")
    # Filed, it joins its campaign's group.
    assert Fingerprint.objects.get(proposal=filed).group == campaign[f"{language}-original"].pk


def test_the_similar_ones_are_listed_most_similar_first(campaign, strategy, resident, moderator):
    _publish(campaign["ru-sentence"], moderator)
    title, body = CAMPAIGNS["ru"]["punctuation"]
    page = _page(page_client_for(resident).post("/ru/proposals/new/", _form(strategy, title, body)))
    section = _similar_section(page)
    ids = _linked_ids(section, "ru")
    assert ids[0] == campaign["ru-original"].pk  # the same folded text: 100%
    assert "100%" in section
    assert set(ids) == {campaign[n].pk for n in ("ru-original", "ru-typo", "ru-sentence")}
    percents = [int(n) for n in re.findall(r"(\d+)%", section)]
    assert percents == sorted(percents, reverse=True) and len(percents) == 3


def test_a_text_like_no_published_one_is_filed_at_once(campaign, strategy, resident):
    before = Proposal.objects.count()
    response = page_client_for(resident).post("/kk/proposals/new/", _form(strategy, *ELSEWHERE))
    assert response.status_code == 302
    assert response.url == "/kk/me/proposals/"
    assert Proposal.objects.count() == before + 1


def test_only_published_proposals_stop_a_submission(strategy, resident, submit, moderator):
    submit(strategy, *CAMPAIGNS["en"]["original"])  # pending
    rejected = submit(strategy, *CAMPAIGNS["en"]["word"])
    proposal_moderate(proposal=rejected, moderator=moderator, decision="reject", reason="other")
    before = Proposal.objects.count()
    response = page_client_for(resident).post(
        "/en/proposals/new/", _form(strategy, *CAMPAIGNS["en"]["typo"])
    )
    assert response.status_code == 302
    assert Proposal.objects.count() == before + 1


def test_a_published_copy_in_another_strategy_does_not_stop_a_submission(
    strategy, resident, submit, moderator
):
    other = StrategyFactory(slug="astana-test", code_prefix="AST")
    _publish(submit(other, *CAMPAIGNS["ru"]["original"]), moderator)
    response = page_client_for(resident).post(
        "/ru/proposals/new/", _form(strategy, *CAMPAIGNS["ru"]["typo"])
    )
    assert response.status_code == 302
    assert Proposal.objects.filter(strategy=strategy).count() == 1


def test_an_invalid_form_is_a_400_without_the_similar_list(campaign, strategy, resident):
    before = Proposal.objects.count()
    body = CAMPAIGNS["ru"]["word"][1]
    response = page_client_for(resident).post("/ru/proposals/new/", _form(strategy, "", body))
    assert response.status_code == 400
    assert _similar_section(_page(response)) is None
    assert 'name="confirmed_new"' not in _page(response)
    assert Proposal.objects.count() == before


# --- The decide page ------------------------------------------------------------------------


def _near_section(page: str) -> str:
    found = re.search(r'<section class="near-duplicates"[^>]*>(.*?)</section>', page, re.S)
    assert found, "no near-duplicates section"
    return found.group(1)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_decide_page_lists_the_nearly_same_proposals(campaign, moderator, language):
    proposal = campaign[f"{language}-word"]
    response = page_client_for(moderator).get(f"/{language}/moderation/{proposal.pk}/")
    assert response.status_code == 200
    section = _near_section(_page(response))
    others = [campaign[f"{language}-{v}"] for v in VARIANTS if v != "word"]
    assert sorted(_linked_ids(section, language)) == sorted(p.pk for p in others)
    assert proposal.code not in section
    assert campaign[f"{language}-unrelated"].code not in section
    for other in others:
        other.refresh_from_db()
        item = re.search(
            rf'<li><span class="code">{other.code}</span>.*?</li>', section, re.S
        ).group(0)
        assert f"status-{other.status}" in item
        assert re.search(r"\d+%", item)
    assert "status-published" in section and "status-pending" in section


def test_the_decide_page_of_a_lone_proposal_lists_none(campaign, moderator):
    proposal = campaign["kk-unrelated"]
    section = _near_section(_page(page_client_for(moderator).get(f"/ru/moderation/{proposal.pk}/")))
    assert _linked_ids(section, "ru") == []
    assert 'class="candidates"' not in section


def test_the_decide_page_lists_them_before_the_task_has_run(campaign, strategy, moderator):
    # Submitted without its tasks: no fingerprint yet, its near-duplicates are there already.
    waiting = proposal_submit(
        author=UserFactory(),
        strategy=strategy,
        title=CAMPAIGNS["en"]["typo"][0],
        body=CAMPAIGNS["en"]["typo"][1] + " Thanks.",
    )
    assert not Fingerprint.objects.filter(proposal=waiting).exists()
    section = _near_section(_page(page_client_for(moderator).get(f"/en/moderation/{waiting.pk}/")))
    assert sorted(_linked_ids(section, "en")) == sorted(campaign[f"en-{v}"].pk for v in VARIANTS)


# --- The moderation queue -------------------------------------------------------------------


def _cards(page: str) -> dict[int, str]:
    return {
        int(pk): card
        for pk, card in re.findall(
            r'<article class="card" aria-labelledby="p(\d+)-title">(.*?)</article>', page, re.S
        )
    }


@pytest.mark.parametrize("language", LANGUAGES)
def test_queue_cards_say_how_large_their_group_is(campaign, moderator, language):
    response = page_client_for(moderator).get(f"/{language}/moderation/")
    assert response.status_code == 200
    cards = _cards(_page(response))
    pending = {p.pk for p in campaign.values() if p.status == "pending"}
    assert set(cards) == pending
    for name, proposal in campaign.items():
        if proposal.pk not in cards:
            continue
        card = cards[proposal.pk]
        size = re.search(r'<p class="group-size"><strong>[^<]*?(\d+)[^<]*</strong></p>', card)
        if name.endswith("-unrelated"):
            assert size is None, name
        else:
            assert size is not None, name
            assert size.group(1) == "5"


def test_queue_cards_show_suggested_themes(campaign, moderator):
    cards = _cards(_page(page_client_for(moderator).get("/ru/moderation/")))
    card = cards[campaign["ru-word"].pk]
    assert '<p class="suggested">' in card
    assert re.search(r"\d+%", card.split('<p class="suggested">')[1])


def test_a_group_grows_on_the_queue(campaign, moderator, submit, strategy):
    submit(strategy, *CAMPAIGNS["kk"]["typo"])
    cards = _cards(_page(page_client_for(moderator).get("/ru/moderation/")))
    size = re.search(r"(\d+)", cards[campaign["kk-word"].pk].split('class="group-size"')[1])
    assert size.group(1) == "6"


# --- The groups page ------------------------------------------------------------------------


def _rows(page: str) -> dict[int, str]:
    return {
        int(label): row for label, row in re.findall(r'<tr id="group-(\d+)">(.*?)</tr>', page, re.S)
    }


def _row_order(page: str) -> list[int]:
    return [int(label) for label in re.findall(r'<tr id="group-(\d+)">', page)]


@pytest.mark.parametrize(
    ("who", "expected"),
    [("resident", 403), ("moderator", 200), ("analyst", 200), ("admin_user", 200)],
)
def test_the_groups_page_is_for_staff(campaign, request, who, expected):
    user = request.getfixturevalue(who)
    assert page_client_for(user).get(GROUPS.format(lang="ru")).status_code == expected


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_anonymous_visitor_of_the_groups_page_is_sent_to_sign_in(strategy, language):
    response = Client().get(GROUPS.format(lang=language), {"min_size": "3"})
    assert response.status_code == 302
    assert response.url.startswith(f"/{language}/login/?next=")


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_groups_page_has_a_row_per_group_largest_first(
    campaign, analyst, submit, strategy, language
):
    submit(strategy, *CAMPAIGNS["en"]["typo"])
    response = page_client_for(analyst).get(
        GROUPS.format(lang=language), {"strategy": strategy.slug}
    )
    assert response.status_code == 200
    page = _page(response)
    assert f'<html lang="{language}">' in page
    first = {lang: campaign[f"{lang}-original"].pk for lang in CAMPAIGNS}
    assert _row_order(page) == [first["en"], first["ru"], first["kk"]]
    rows = _rows(page)
    sizes = {
        label: int(re.search(r'<td class="num"><strong>(\d+)</strong></td>', row).group(1))
        for label, row in rows.items()
    }
    assert sizes == {first["en"]: 6, first["ru"]: 5, first["kk"]: 5}
    ru = rows[first["ru"]]
    counts = dict(re.findall(r'<span class="status status-([a-z_]+)">[^<]*</span> (\d+)', ru))
    assert counts == {"pending": "3", "published": "2"}
    members = _linked_ids(ru, language)
    assert members == sorted(campaign[f"ru-{v}"].pk for v in VARIANTS)
    for v in VARIANTS:
        assert campaign[f"ru-{v}"].code in ru
    assert 'lang="kk"' in rows[first["kk"]]
    for name in ("ru-unrelated", "kk-unrelated", "en-unrelated"):
        assert campaign[name].pk not in rows


def test_the_groups_page_filters_by_size(campaign, moderator, submit, strategy):
    submit(strategy, *CAMPAIGNS["kk"]["typo"])
    client = page_client_for(moderator)
    six = _page(client.get(GROUPS.format(lang="ru"), {"min_size": "6"}))
    assert _row_order(six) == [campaign["kk-original"].pk]
    none = client.get(GROUPS.format(lang="ru"), {"min_size": "7"})
    assert none.status_code == 200
    assert _row_order(_page(none)) == []
    assert 'class="error"' not in _page(none)


def test_the_groups_page_shows_the_first_members_of_a_large_group(
    campaign, analyst, strategy, monkeypatch
):
    from proposals.duplicates import selectors

    monkeypatch.setattr(selectors, "GROUP_SAMPLE", 2)
    rows = _rows(_page(page_client_for(analyst).get(GROUPS.format(lang="en"))))
    ru = rows[campaign["ru-original"].pk]
    assert _linked_ids(ru, "en") == sorted(campaign[f"ru-{v}"].pk for v in VARIANTS)[:2]
    assert re.search(r'<li class="muted">[^<]*5[^<]*</li>', ru)


def test_the_groups_page_of_another_strategy(campaign, analyst, submit, strategy):
    other = StrategyFactory(slug="astana-test", code_prefix="AST")
    a = submit(other, *CAMPAIGNS["en"]["original"])
    b = submit(other, *CAMPAIGNS["en"]["word"])
    page = _page(page_client_for(analyst).get(GROUPS.format(lang="ru"), {"strategy": other.slug}))
    assert _row_order(page) == [a.pk]
    assert sorted(_linked_ids(_rows(page)[a.pk], "ru")) == [a.pk, b.pk]


def test_the_groups_page_of_a_strategy_without_groups(strategy, analyst):
    response = page_client_for(analyst).get(GROUPS.format(lang="ru"))
    assert response.status_code == 200
    assert _row_order(_page(response)) == []
    assert "<table" not in _page(response)


def _shows_nothing_but_the_error(response) -> None:
    assert response.status_code == 400
    page = _page(response)
    assert re.search(r'<p class="error" id="dup-error" role="alert">[^<]+</p>', page)
    assert "<table" not in page and "group-" not in page
    assert 'class="count"' not in page


@pytest.mark.parametrize(
    "min_size", ["1", "0", "-3", "x", "2.0", "²", "３", " 2", "", "99999999", "1000001"]
)
@pytest.mark.parametrize("language", LANGUAGES)
def test_the_groups_page_refuses_a_bad_min_size(strategy, analyst, language, min_size):
    response = page_client_for(analyst).get(GROUPS.format(lang=language), {"min_size": min_size})
    _shows_nothing_but_the_error(response)
    assert 'aria-invalid="true"' in _page(response)


def test_the_groups_page_shows_staff_a_draft_strategy_as_the_api_does(strategy, analyst):
    StrategyFactory(slug="draft-plan", code_prefix="DRF", status=Strategy.Status.DRAFT)
    response = page_client_for(analyst).get(GROUPS.format(lang="ru"), {"strategy": "draft-plan"})
    assert response.status_code == 200
    # The default is still the public strategy, not the draft.
    page = _page(page_client_for(analyst).get(GROUPS.format(lang="ru")))
    assert f'<option value="{strategy.slug}" selected>' in page


@pytest.mark.parametrize("slug", ["no-such-plan"])
def test_the_groups_page_refuses_an_unknown_strategy(strategy, analyst, slug):
    response = page_client_for(analyst).get(GROUPS.format(lang="ru"), {"strategy": slug})
    _shows_nothing_but_the_error(response)
    assert slug in _page(response)


def test_the_groups_page_refuses_a_min_size_too_long_to_read(strategy, analyst):
    client = page_client_for(analyst)
    client.raise_request_exception = False
    response = client.get(GROUPS.format(lang="ru"), {"min_size": "9" * 5000})
    _shows_nothing_but_the_error(response)


def test_the_groups_page_follows_a_full_rebuild(campaign, analyst, strategy):
    duplicates_refresh(strategy_id=strategy.pk, full=True)
    page = _page(page_client_for(analyst).get(GROUPS.format(lang="ru")))
    assert sorted(_row_order(page)) == sorted(campaign[f"{lang}-original"].pk for lang in CAMPAIGNS)
