"""API tokens expire, can be revoked, and end with every session when the password changes."""

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from civic.accounts import services
from civic.accounts.models import User

pytestmark = pytest.mark.django_db

TOKEN = "/api/v1/auth/token/"
ME = "/api/v1/auth/me/"
LOGOUT = "/api/v1/auth/logout/"
PASSWORD = "correct horse battery"  # the factories' password
STRONG = "Tulip-Garden-1987!"
RESET_LINK = re.compile(r"https?://\S+/password-reset/[^/\s]+/[^/\s]+/")


def _token_client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def _sign_in(user: User) -> str:
    response = APIClient().post(TOKEN, {"email": user.email, "password": PASSWORD})
    assert response.status_code == 200, response.content
    return response.json()["token"]


def _age(key: str, days: float) -> None:
    Token.objects.filter(key=key).update(created=timezone.now() - timedelta(days=days))


def _signed_in_page_client(user: User) -> Client:
    client = Client()
    response = client.post("/ru/login/", {"username": user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(ME).status_code == 200
    return client


# --- expiry ------------------------------------------------------------------------------------


def test_a_token_works_until_the_ttl_and_is_refused_and_deleted_after(resident, settings):
    settings.CIVIC_TOKEN_TTL_DAYS = 30
    key = _sign_in(resident)
    _age(key, 29)
    assert _token_client(key).get(ME).status_code == 200
    _age(key, 31)
    response = _token_client(key).get(ME)
    assert response.status_code == 401
    assert not Token.objects.filter(key=key).exists()


def test_the_ttl_is_a_setting(resident, settings):
    settings.CIVIC_TOKEN_TTL_DAYS = 2
    key = _sign_in(resident)
    _age(key, 3)
    assert _token_client(key).get(ME).status_code == 401


def test_signing_in_after_expiry_gives_a_new_token_that_works(resident, settings):
    settings.CIVIC_TOKEN_TTL_DAYS = 30
    old = _sign_in(resident)
    _age(old, 31)
    new = _sign_in(resident)
    assert new != old
    assert _token_client(new).get(ME).status_code == 200
    assert _token_client(old).get(ME).status_code == 401


# --- sign-out ----------------------------------------------------------------------------------


def test_logout_revokes_the_token_in_use(resident):
    key = _sign_in(resident)
    client = _token_client(key)
    response = client.post(LOGOUT)
    assert response.status_code == 204
    assert client.get(ME).status_code == 401
    assert not Token.objects.filter(user=resident).exists()
    # Signing in again gives a fresh token.
    assert _sign_in(resident) != key


def test_logout_needs_a_signed_in_caller(api):
    assert api.post(LOGOUT).status_code == 401


def test_logout_with_a_session_ends_the_session(resident):
    client = APIClient(enforce_csrf_checks=False)
    client.force_login(resident)
    assert client.get(ME).status_code == 200
    assert client.post(LOGOUT).status_code == 204
    assert client.get(ME).status_code == 401


# --- a password change ends tokens and sessions ------------------------------------------------


def test_the_password_reset_page_ends_every_token_and_session(client, resident, mailoutbox):
    key = _sign_in(resident)
    elsewhere = _signed_in_page_client(resident)

    client.post("/ru/password-reset/", {"email": resident.email})
    path = urlsplit(RESET_LINK.search(mailoutbox[0].body).group(0)).path
    form = client.get(path, follow=True)
    response = client.post(
        form.redirect_chain[-1][0], {"new_password1": STRONG, "new_password2": STRONG}
    )
    assert response.status_code == 302

    assert _token_client(key).get(ME).status_code == 401
    assert not Token.objects.filter(user=resident).exists()
    # The browser signed in before the reset is signed out.
    assert elsewhere.get(ME).status_code == 401


def test_an_admin_setting_a_residents_password_ends_their_tokens_and_sessions(
    client, resident, admin_user
):
    key = _sign_in(resident)
    elsewhere = _signed_in_page_client(resident)
    client.force_login(admin_user)
    response = client.post(
        f"/admin/accounts/user/{resident.pk}/password/",
        {"usable_password": "true", "password1": STRONG, "password2": STRONG},
    )
    assert response.status_code == 302
    resident.refresh_from_db()
    assert resident.check_password(STRONG)
    assert _token_client(key).get(ME).status_code == 401
    assert elsewhere.get(ME).status_code == 401
    # The admin's own session is untouched.
    assert client.get("/admin/").status_code == 200


def test_changing_ones_own_password_in_the_admin_ends_other_sessions_and_tokens(admin_user):
    key = _sign_in(admin_user)
    elsewhere = _signed_in_page_client(admin_user)
    here = Client()
    here.force_login(admin_user)
    response = here.post(
        "/admin/password_change/",
        {"old_password": PASSWORD, "new_password1": STRONG, "new_password2": STRONG},
    )
    assert response.status_code == 302, response.content
    admin_user.refresh_from_db()
    assert admin_user.check_password(STRONG)
    assert _token_client(key).get(ME).status_code == 401
    assert elsewhere.get(ME).status_code == 401
    # The session that changed the password stays signed in.
    assert here.get("/admin/").status_code == 200


def test_the_service_deletes_only_that_accounts_tokens(resident, other_resident):
    mine, theirs = _sign_in(resident), _sign_in(other_resident)
    services.user_credentials_revoke(user=resident)
    assert _token_client(mine).get(ME).status_code == 401
    assert _token_client(theirs).get(ME).status_code == 200


def test_a_new_password_set_through_the_model_and_revoke_ends_sessions(resident):
    """Sessions carry an HMAC of the password hash that Django checks on every request, so a
    new password alone signs every browser out; the service deletes what has no such check."""
    elsewhere = _signed_in_page_client(resident)
    key = _sign_in(resident)
    user = User.objects.get(pk=resident.pk)
    user.set_password(STRONG)
    user.save()
    services.user_credentials_revoke(user=user)
    assert elsewhere.get(ME).status_code == 401
    assert _token_client(key).get(ME).status_code == 401
