"""The pages that turn emails about answers off and on: the one-click unsubscribe page
behind the signed link, and the account's email settings."""

import html

import pytest
from django.test import Client

from civic.accounts.models import User
from proposals.answers.notify import unsubscribe_token
from tests.conftest import page_client_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LANGUAGES = ("ru", "kk", "en")


def _page(response) -> str:
    return html.unescape(response.content.decode())


def _notify(user: User) -> bool:
    return User.objects.values_list("notify_answers", flat=True).get(pk=user.pk)


@pytest.fixture
def reader(db) -> User:
    return UserFactory(language="en", display_name="Secret Reader", email="reader@example.org")


# --- /<lang>/unsubscribe/<token>/ -------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_opening_the_link_asks_and_changes_nothing(reader, language):
    path = f"/{language}/unsubscribe/{unsubscribe_token(reader)}/"
    response = Client().get(path)
    assert response.status_code == 200
    page = _page(response)
    assert f'<form method="post" action="{path}">' in page
    assert 'name="enable"' not in page  # the button turns them off
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]
    # The page names nobody: the link may be forwarded with the email.
    assert reader.email not in page
    assert reader.display_name not in page
    assert _notify(reader) is True


def test_the_question_and_answer_read_in_english(reader):
    path = f"/en/unsubscribe/{unsubscribe_token(reader)}/"
    client = Client(enforce_csrf_checks=True)
    assert "Stop emails about answers?" in _page(client.get(path))
    response = client.post(path)
    page = _page(response)
    assert "You will no longer get emails about the city's answers." in page
    assert 'name="enable" value="1"' in page  # a way back
    response = client.post(path, {"enable": "1"})
    assert "You will get emails about the city's answers again." in _page(response)


def test_a_one_click_post_without_session_or_csrf_token_unsubscribes(reader):
    path = f"/en/unsubscribe/{unsubscribe_token(reader)}/"
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        path,
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert _notify(reader) is False
    # Twice is the same as once.
    assert client.post(path).status_code == 200
    assert _notify(reader) is False
    # And the page offers them back.
    assert client.post(path, {"enable": "1"}).status_code == 200
    assert _notify(reader) is True


def test_the_link_acts_on_its_own_account_whoever_is_signed_in(reader, other_resident):
    client = page_client_for(other_resident)
    response = client.post(f"/ru/unsubscribe/{unsubscribe_token(reader)}/")
    assert response.status_code == 200
    assert _notify(reader) is False
    assert _notify(other_resident) is True


def test_a_link_already_used_offers_to_turn_them_back_on(reader):
    reader.notify_answers = False
    reader.save(update_fields=["notify_answers"])
    response = Client().get(f"/en/unsubscribe/{unsubscribe_token(reader)}/")
    page = _page(response)
    assert "You do not get emails about the city's answers." in page
    assert 'name="enable" value="1"' in page
    assert _notify(reader) is False


def test_a_link_without_a_language_is_sent_to_one(reader):
    token = unsubscribe_token(reader)
    response = Client().get(f"/unsubscribe/{token}/")
    assert response.status_code == 302
    assert response["Location"] == f"/ru/unsubscribe/{token}/"


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("method", ["get", "post"])
def test_a_bad_link_is_a_404_page_that_says_so(reader, language, method):
    token = unsubscribe_token(reader)
    for bad in (token[:-2] + "xx", "garbage", f"{token}extra"):
        response = getattr(Client(), method)(f"/{language}/unsubscribe/{bad}/")
        assert response.status_code == 404
        assert 'role="alert"' in _page(response)
        assert "<form" not in _page(response).split("<main", 1)[1]
    assert _notify(reader) is True


def test_other_methods_are_refused(reader):
    path = f"/en/unsubscribe/{unsubscribe_token(reader)}/"
    assert Client().put(path).status_code == 405
    assert Client().delete(path).status_code == 405
    assert _notify(reader) is True


# --- /<lang>/me/notifications/settings/ --------------------------------------------------------


def test_email_settings_need_an_account(reader):
    response = Client().get("/en/me/notifications/settings/")
    assert response.status_code == 302
    assert "/login/" in response["Location"]
    response = Client().post("/en/me/notifications/settings/", {"notify_answers": "0"})
    assert response.status_code == 302
    assert _notify(reader) is True


@pytest.mark.parametrize("language", LANGUAGES)
def test_email_settings_show_the_choice_and_the_nav_links_to_them(resident, language):
    response = page_client_for(resident).get(f"/{language}/me/notifications/settings/")
    assert response.status_code == 200
    page = _page(response)
    assert 'name="notify_answers" value="1" checked' in page
    assert 'name="notify_answers" value="0">' in page
    assert f'href="/{language}/me/notifications/"' in page


def test_nav_has_no_email_settings_for_visitors():
    assert "/me/notifications/" not in _page(Client().get("/en/"))


def test_a_resident_turns_the_emails_off_and_on(resident):
    client = page_client_for(resident)
    response = client.post("/en/me/notifications/settings/", {"notify_answers": "0"}, follow=True)
    assert response.status_code == 200
    assert _notify(resident) is False
    page = _page(response)
    assert "You will no longer get emails about the city's answers." in page
    assert 'name="notify_answers" value="0" checked' in page
    client.post("/en/me/notifications/settings/", {"notify_answers": "1"})
    assert _notify(resident) is True


@pytest.mark.parametrize("value", [None, "", "yes", "2"])
def test_a_bad_choice_is_a_400_that_changes_nothing(resident, value):
    data = {} if value is None else {"notify_answers": value}
    response = page_client_for(resident).post("/en/me/notifications/settings/", data)
    assert response.status_code == 400
    assert "Choose whether to get these emails." in _page(response)
    assert _notify(resident) is True


def test_email_settings_keep_csrf_protection(resident):
    client = Client(enforce_csrf_checks=True)
    client.force_login(resident)
    response = client.post("/en/me/notifications/settings/", {"notify_answers": "0"})
    assert response.status_code == 403
    assert _notify(resident) is True
