"""The public pages (frontend/views/public.py): each answers every visitor in each
language, a path without a language goes where the cookie says, a pending proposal or a
draft strategy is seen only by those who may, the public list's filters, and no email
address on any public page."""

import html
import re

import pytest
from django.conf import settings as django_settings
from django.utils import translation

from frontend.templatetags.civic import filter_label
from proposals.services import reaction_set
from strategy.models import District, Strategy
from tests.conftest import page_client_for
from tests.factories import StrategyFactory, UserFactory
from tests.frontend.helpers import LANGUAGES, _page, _published, _submit

pytestmark = pytest.mark.django_db


# --- public pages and languages ----------------------------------------------------------------

PUBLIC_PAGES = [
    "",
    "strategies/{slug}/",
    "strategies/{slug}/tallies/",
    "proposals/",
    "proposals/{id}/",
]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("page", PUBLIC_PAGES)
def test_public_pages_answer_anonymous_visitors_in_every_language(
    client, strategy, published, language, page
):
    url = f"/{language}/" + page.format(slug=strategy.slug, id=published.pk)
    response = client.get(url)
    assert response.status_code == 200, url
    assert f'<html lang="{language}">' in response.content.decode()


def test_public_pages_show_what_they_are_about(client, strategy, published, section):
    assert strategy.title_ru in _page(client.get(f"/ru/strategies/{strategy.slug}/"))
    assert section.title_ru in _page(client.get(f"/ru/strategies/{strategy.slug}/"))
    assert published.title in _page(client.get("/ru/proposals/"))
    detail = _page(client.get(f"/ru/proposals/{published.pk}/"))
    assert published.title in detail
    assert published.code in detail


@pytest.mark.parametrize(
    ("path", "expected"),
    [("/", "/ru/"), ("/proposals/{id}/", "/ru/proposals/{id}/"), ("/proposals/", "/ru/proposals/")],
)
def test_a_path_without_language_goes_to_russian(client, published, path, expected):
    response = client.get(path.format(id=published.pk))
    assert response.status_code == 302
    assert response.url == expected.format(id=published.pk)


@pytest.mark.parametrize(
    ("path", "expected"), [("/", "/kk/"), ("/proposals/{id}/", "/kk/proposals/{id}/")]
)
def test_the_language_cookie_picks_where_a_bare_path_goes(client, published, path, expected):
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "kk"
    response = client.get(path.format(id=published.pk))
    assert response.status_code == 302
    assert response.url == expected.format(id=published.pk)


@pytest.mark.parametrize("accept", ["en", "en-US,en;q=0.9", "kk", "de-DE,de;q=0.8"])
def test_the_browser_language_does_not_change_the_default(client, published, accept):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE=accept)
    assert response.status_code == 302
    assert response.url == "/ru/"
    response = client.get(f"/proposals/{published.pk}/", HTTP_ACCEPT_LANGUAGE=accept)
    assert response.url == f"/ru/proposals/{published.pk}/"


def test_an_unknown_language_cookie_falls_back_to_russian(client):
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "de"
    response = client.get("/")
    assert response.status_code == 302
    assert response.url == "/ru/"


# --- who may see a proposal or a strategy ------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("anonymous", 404),
        ("other_resident", 404),
        ("resident", 200),
        ("moderator", 200),
        ("analyst", 200),
    ],
)
def test_a_pending_proposal_is_seen_only_by_its_author_and_staff(request, pending, who, status):
    user = None if who == "anonymous" else request.getfixturevalue(who)
    response = page_client_for(user).get(f"/ru/proposals/{pending.pk}/")
    assert response.status_code == status
    if status == 200:
        assert pending.title in _page(response)
    else:
        assert pending.title not in _page(response)


def test_a_pending_proposal_is_not_in_the_public_list(client, pending, published):
    page = _page(client.get("/ru/proposals/"))
    assert published.title in page
    assert pending.title not in page


@pytest.mark.parametrize("page", ["strategies/{slug}/", "strategies/{slug}/tallies/"])
def test_a_draft_strategy_is_not_found(client, db, page):
    draft = StrategyFactory(slug="draft-plan", status=Strategy.Status.DRAFT, title_ru="Черновик")
    response = client.get("/ru/" + page.format(slug=draft.slug))
    assert response.status_code == 404
    assert "Черновик" not in _page(response)
    assert "Черновик" not in _page(client.get("/ru/"))


# --- the public list's filters -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "path"),
    [
        ("anonymous", "/ru/proposals/"),
        ("anonymous", "/kk/proposals/"),
        ("moderator", "/ru/moderation/"),
    ],
)
@pytest.mark.parametrize(
    ("name", "value"), [("district", "nope"), ("created_after", "not-a-date"), ("theme", "nope")]
)
def test_a_bad_list_filter_is_a_400_naming_it(client, request, published, who, path, name, value):
    if who != "anonymous":
        client.force_login(request.getfixturevalue(who))
    response = client.get(path, {name: value})
    assert response.status_code == 400
    errors = re.search(r'id="filter-errors".*?</div>', response.content.decode(), re.S)
    assert errors
    with translation.override(path.split("/")[1]):
        label = filter_label(name)
    assert label in html.unescape(errors.group(0))


def test_the_public_list_ignores_a_status_filter(client, pending, published):
    response = client.get("/ru/proposals/", {"status": "pending"})
    assert response.status_code == 200
    page = _page(response)
    assert published.title in page
    assert pending.title not in page


def test_the_public_list_filters_by_district(client, strategy, resident, moderator):
    medeu = _published(
        resident,
        strategy,
        moderator,
        title="В Медеуском районе",
        district=District.objects.get(slug="medeu"),
    )
    other = _published(resident, strategy, moderator, title="Без района вообще")
    page = _page(client.get("/ru/proposals/", {"district": "medeu"}))
    assert medeu.title in page
    assert other.title not in page


# --- no personal data --------------------------------------------------------------------------


def test_author_emails_never_appear_on_public_pages(
    client, strategy, moderator, other_resident, section, django_capture_on_commit_callbacks
):
    author = UserFactory(email="aigerim.private@example.kz", display_name="Айгерим")
    with django_capture_on_commit_callbacks(execute=True):
        proposal = _published(author, strategy, moderator, section=section, title="Парк у реки")
        reaction_set(proposal=proposal, user=other_resident, kind="like")
        _submit(author, strategy, title="Ещё одно предложение")
    pages = {
        "home": "/ru/",
        "strategy": f"/ru/strategies/{strategy.slug}/",
        "list": "/ru/proposals/",
        "detail": f"/ru/proposals/{proposal.pk}/",
        "tallies": f"/ru/strategies/{strategy.slug}/tallies/",
    }
    for name, url in pages.items():
        for viewer in (None, other_resident):
            page = _page(page_client_for(viewer).get(url))
            assert author.email not in page, name
            assert other_resident.email not in page, name
            assert moderator.email not in page, name
    # The pages did show the proposal: the check above is not vacuous.
    assert "Айгерим" in _page(client.get(pages["detail"]))
    assert proposal.title in _page(client.get(pages["tallies"]))
