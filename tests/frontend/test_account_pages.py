"""The account pages (frontend/views/accounts.py): signing in (never off the site, in
the account's language, throttled), signing up and verifying, password reset, signing
out, and the language switch."""

import re
from urllib.parse import urlsplit

import pytest
from django.conf import settings as django_settings
from django.test import Client

from civic.accounts.models import User
from frontend.throttling import PageThrottle
from tests.factories import UserFactory
from tests.frontend.helpers import STRONG, _input_tags, _page

pytestmark = pytest.mark.django_db


# --- signing in --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/", "https:evil.example", "/\\evil.example"]
)
def test_signing_in_never_leaves_the_site(client, resident, target):
    form = client.get("/ru/login/", {"next": target})
    assert form.status_code == 200
    login_form = re.search(
        r'<form method="post" novalidate class="narrow">.*?</form>', form.content.decode(), re.S
    )
    assert login_form
    assert 'name="next" value=""' in login_form.group(0)
    response = client.post(
        "/ru/login/",
        {"username": resident.email, "password": "correct horse battery", "next": target},
    )
    assert response.status_code == 302
    assert urlsplit(response.url).netloc in ("", "testserver")
    assert response.url.startswith("/")
    assert not response.url.startswith("//")
    assert "evil.example" not in response.url
    assert client.get("/ru/me/proposals/").status_code == 200


def test_signing_in_follows_a_local_next(client, resident):
    response = client.post(
        "/ru/login/",
        {
            "username": resident.email.upper(),
            "password": "correct horse battery",
            "next": "/ru/me/proposals/",
        },
    )
    assert response.status_code == 302
    assert response.url == "/ru/me/proposals/"


def test_signing_in_opens_the_site_in_the_accounts_language(client):
    kazakh = UserFactory(language="kk")
    response = client.post(
        "/ru/login/", {"username": kazakh.email, "password": "correct horse battery", "next": ""}
    )
    assert response.status_code == 302
    assert response.url == "/kk/"
    assert response.cookies[django_settings.LANGUAGE_COOKIE_NAME].value == "kk"


def test_a_wrong_password_is_a_400(client, resident):
    response = client.post("/ru/login/", {"username": resident.email, "password": "wrong"})
    assert response.status_code == 400
    assert client.get("/ru/me/proposals/").status_code == 302


def test_too_many_sign_ins_are_refused_with_retry_after(client, resident, monkeypatch):
    monkeypatch.setattr(PageThrottle, "THROTTLE_RATES", {"login": "3/minute"})
    for _ in range(3):
        response = client.post("/ru/login/", {"username": resident.email, "password": "wrong"})
        assert response.status_code == 400
    response = client.post(
        "/ru/login/", {"username": resident.email, "password": "correct horse battery"}
    )
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60
    assert 'role="alert"' in response.content.decode()
    # The right password did not get through either.
    assert client.get("/ru/me/proposals/").status_code == 302


def test_password_reset_requests_share_the_sign_in_budget(
    client, resident, monkeypatch, mailoutbox
):
    monkeypatch.setattr(PageThrottle, "THROTTLE_RATES", {"login": "3/minute"})
    for _ in range(3):
        client.post("/ru/login/", {"username": resident.email, "password": "wrong"})
    response = client.post("/ru/password-reset/", {"email": resident.email})
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert mailoutbox == []


# --- accounts ----------------------------------------------------------------------------------

LINK = re.compile(r"https?://\S+")


def test_signing_up_creates_an_unverified_account_and_mails_a_link(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/ru/signup/",
            {
                "display_name": "Новый житель",
                "email": "New.Resident@Example.kz",
                "password": STRONG,
                "district": "medeu",
                "accept_terms": "on",
            },
        )
    assert response.status_code == 302
    assert response.url == "/ru/signup/done/"
    user = User.objects.get(email="new.resident@example.kz")
    assert user.email_verified is False
    assert user.district.slug == "medeu"
    assert user.language == "ru"
    [mail] = mailoutbox
    assert mail.to == ["new.resident@example.kz"]
    [link] = LINK.findall(mail.body)
    assert link.startswith(f"{django_settings.CIVIC_SITE_URL}/ru/verify-email/")

    page = client.get(urlsplit(link).path)
    assert page.status_code == 200
    assert "Новый житель" in _page(page)
    user.refresh_from_db()
    assert user.email_verified is True


def test_signing_up_in_kazakh_mails_a_kazakh_link(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/kk/signup/",
            {
                "display_name": "Жаңа тұрғын",
                "email": "zhana@example.kz",
                "password": STRONG,
                "accept_terms": "on",
            },
        )
    assert response.status_code == 302
    assert User.objects.get(email="zhana@example.kz").language == "kk"
    [link] = LINK.findall(mailoutbox[0].body)
    assert link.startswith(f"{django_settings.CIVIC_SITE_URL}/kk/verify-email/")


@pytest.mark.parametrize(
    "fields",
    [
        {"email": "resident-taken"},
        {"password": "12345678"},
        {"email": "not-an-email"},
        {"display_name": ""},
        {"district": "nope"},
    ],
)
def test_a_refused_sign_up_creates_nothing_and_mails_nothing(
    client, resident, mailoutbox, django_capture_on_commit_callbacks, fields
):
    data = {
        "display_name": "Новый житель",
        "email": "new@example.kz",
        "password": STRONG,
        "accept_terms": "on",
    }
    data.update(fields)
    if data["email"] == "resident-taken":
        data["email"] = resident.email.upper()
    before = User.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/ru/signup/", data)
    assert response.status_code == 400
    assert User.objects.count() == before
    assert mailoutbox == []


@pytest.mark.parametrize("token", ["not-a-token", "tampered"])
def test_a_bad_verification_link_is_a_400(client, token):
    unverified = UserFactory(email_verified=False)
    if token == "tampered":
        from civic.accounts.tokens import email_token_make

        token = email_token_make(user_id=unverified.pk, email=unverified.email)[:-2] + "xx"
    response = client.get(f"/ru/verify-email/{token}/")
    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()
    unverified.refresh_from_db()
    assert unverified.email_verified is False


def test_an_unverified_resident_can_ask_for_the_link_again(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    unverified = UserFactory(email_verified=False)
    client.force_login(unverified)
    assert client.get("/ru/verify-email/resend/").status_code == 405
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/ru/verify-email/resend/")
    assert response.status_code == 302
    assert response.url == "/ru/me/proposals/"
    [mail] = mailoutbox
    assert mail.to == [unverified.email]
    [link] = LINK.findall(mail.body)
    assert client.get(urlsplit(link).path).status_code == 200
    unverified.refresh_from_db()
    assert unverified.email_verified is True


def test_password_reset_mails_a_link_that_sets_a_new_password(client, resident, mailoutbox):
    response = client.post("/ru/password-reset/", {"email": resident.email})
    assert response.status_code == 302
    assert response.url == "/ru/password-reset/sent/"
    [mail] = mailoutbox
    assert mail.to == [resident.email]
    [link] = LINK.findall(mail.body)
    path = urlsplit(link).path
    assert re.fullmatch(r"/ru/password-reset/[^/]+/[^/]+/", path), link

    form = client.get(path, follow=True)
    assert form.status_code == 200
    assert _input_tags(form, "new_password1")
    set_password_url = form.redirect_chain[-1][0]
    response = client.post(set_password_url, {"new_password1": STRONG, "new_password2": STRONG})
    assert response.status_code == 302
    assert response.url == "/ru/password-reset/complete/"
    resident.refresh_from_db()
    assert resident.check_password(STRONG)
    assert not resident.check_password("correct horse battery")
    signed_in = Client().post("/ru/login/", {"username": resident.email, "password": STRONG})
    assert signed_in.status_code == 302


def test_password_reset_for_an_unknown_address_says_the_same_and_mails_nothing(client, mailoutbox):
    response = client.post("/ru/password-reset/", {"email": "nobody@example.kz"})
    assert response.status_code == 302
    assert response.url == "/ru/password-reset/sent/"
    assert mailoutbox == []


def test_a_used_password_reset_link_is_refused(client, resident, mailoutbox):
    client.post("/ru/password-reset/", {"email": resident.email})
    path = urlsplit(LINK.findall(mailoutbox[0].body)[0]).path
    form = client.get(path, follow=True)
    client.post(form.redirect_chain[-1][0], {"new_password1": STRONG, "new_password2": STRONG})
    again = Client().get(path, follow=True)
    assert again.status_code == 200
    assert not _input_tags(again, "new_password1")


def test_signing_out_is_a_post(client, resident):
    client.force_login(resident)
    assert client.get("/ru/logout/").status_code == 405
    assert client.get("/ru/me/proposals/").status_code == 200
    response = client.post("/ru/logout/")
    assert response.status_code == 302
    assert client.get("/ru/me/proposals/").status_code == 302


# --- language switch ---------------------------------------------------------------------------


def test_switching_language_keeps_the_page_and_remembers_the_choice(client):
    response = client.post("/language/", {"language": "kk", "next": "/ru/proposals/"})
    assert response.status_code == 302
    assert response.url == "/kk/proposals/"
    assert response.cookies[django_settings.LANGUAGE_COOKIE_NAME].value == "kk"
    # The cookie then decides where a bare path goes.
    assert client.get("/").url == "/kk/"


def test_switching_language_updates_a_signed_in_residents_language(client, resident):
    assert resident.language == "ru"
    client.force_login(resident)
    response = client.post("/language/", {"language": "en", "next": "/ru/me/proposals/"})
    assert response.status_code == 302
    assert response.url == "/en/me/proposals/"
    resident.refresh_from_db()
    assert resident.language == "en"


def test_switching_to_an_unknown_language_changes_nothing(client, resident):
    client.force_login(resident)
    response = client.post("/language/", {"language": "xx", "next": "/ru/proposals/"})
    assert response.status_code == 302
    resident.refresh_from_db()
    assert resident.language == "ru"
    assert client.get("/").url == "/ru/"


def test_switching_language_does_not_leave_the_site(client):
    response = client.post("/language/", {"language": "kk", "next": "https://evil.example/"})
    assert response.status_code == 302
    assert "evil.example" not in response.url


def test_switching_language_is_a_post(client):
    assert client.get("/language/", {"language": "kk", "next": "/ru/"}).status_code == 405
