"""The Django admin: an admin-role account below superuser cannot take over staff accounts,
and its sign-in counts in the same `login` limit as the pages' and the API's."""

import pytest
from django.test import Client
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from civic.accounts.models import User
from civic.accounts.services import role_grant
from frontend.throttling import PageThrottle
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"  # the factories' password
STRONG = "Tulip-Garden-1987!"


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser("root@example.kz", PASSWORD, display_name="Root")


@pytest.fixture
def responder(db):
    user = UserFactory(display_name="Ответчик")
    role_grant(user=user, role="responder")
    return user


@pytest.fixture
def other_admin(db):
    user = UserFactory(display_name="Второй админ")
    role_grant(user=user, role="admin")
    return user


def _admin_client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _change_post(target: User, **changes) -> dict:
    data = {
        "email": target.email,
        "display_name": target.display_name,
        "language": target.language,
        "is_active": "on" if target.is_active else "",
        "groups": list(target.groups.values_list("pk", flat=True)),
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value not in ("", None)}


def _set_password(client: Client, target: User):
    return client.post(
        f"/admin/accounts/user/{target.pk}/password/",
        {"usable_password": "true", "password1": STRONG, "password2": STRONG},
    )


# --- finding 1: credentials of staff accounts --------------------------------------------------


@pytest.mark.parametrize("target_name", ["superuser", "other_admin", "moderator", "responder"])
def test_admin_role_cannot_set_a_staff_accounts_password(request, admin_user, target_name):
    target = request.getfixturevalue(target_name)
    client = _admin_client(admin_user)
    assert client.get(f"/admin/accounts/user/{target.pk}/password/").status_code == 403
    assert _set_password(client, target).status_code == 403
    target.refresh_from_db()
    assert target.check_password(PASSWORD)
    assert not target.check_password(STRONG)
    # And so cannot sign in as it.
    assert not Client().login(username=target.email, password=STRONG)


def test_admin_role_cannot_set_its_own_password_without_the_old_one(admin_user):
    client = _admin_client(admin_user)
    assert _set_password(client, admin_user).status_code == 403
    admin_user.refresh_from_db()
    assert admin_user.check_password(PASSWORD)


@pytest.mark.parametrize("target_name", ["superuser", "other_admin", "moderator", "responder"])
def test_admin_role_cannot_change_a_staff_accounts_email_activity_or_roles(
    request, admin_user, target_name
):
    target = request.getfixturevalue(target_name)
    groups_before = set(target.groups.values_list("name", flat=True))
    client = _admin_client(admin_user)
    page = client.get(f"/admin/accounts/user/{target.pk}/change/")
    assert page.status_code == 200  # staff stay visible
    response = client.post(
        f"/admin/accounts/user/{target.pk}/change/",
        _change_post(
            target,
            email="attacker@example.kz",
            is_active="",
            is_staff="on",
            is_superuser="on",
            groups=[],
            display_name="Переименован",
        ),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    target.refresh_from_db()
    assert target.email != "attacker@example.kz"
    assert target.is_active
    assert set(target.groups.values_list("name", flat=True)) == groups_before
    # What is not a credential still changes.
    assert target.display_name == "Переименован"


def test_admin_role_still_manages_residents(resident, admin_user):
    client = _admin_client(admin_user)
    response = client.post(
        f"/admin/accounts/user/{resident.pk}/change/",
        _change_post(resident, email="new-address@example.kz", is_active=""),
    )
    assert response.status_code == 302
    resident.refresh_from_db()
    assert resident.email == "new-address@example.kz"
    assert not resident.is_active
    assert _set_password(client, resident).status_code == 302
    resident.refresh_from_db()
    assert resident.check_password(STRONG)


def test_a_superuser_manages_staff_credentials(superuser, other_admin):
    client = _admin_client(superuser)
    assert _set_password(client, other_admin).status_code == 302
    response = client.post(
        f"/admin/accounts/user/{other_admin.pk}/change/",
        _change_post(other_admin, email="moved@example.kz", is_active=""),
    )
    assert response.status_code == 302
    other_admin.refresh_from_db()
    assert other_admin.check_password(STRONG)
    assert other_admin.email == "moved@example.kz"
    assert not other_admin.is_active


# --- finding 2: the admin's sign-in is rate-limited --------------------------------------------


def _admin_sign_in(client: Client, user: User, password: str):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": user.email, "password": password, "next": "/admin/"},
    )


def test_admin_sign_in_is_limited_and_the_right_password_is_refused_past_it(
    admin_user, monkeypatch
):
    monkeypatch.setattr(PageThrottle, "THROTTLE_RATES", {"login": "3/minute"})
    client = Client()
    for _ in range(3):
        assert _admin_sign_in(client, admin_user, "wrong").status_code == 200
    response = _admin_sign_in(client, admin_user, PASSWORD)
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60
    assert client.get("/admin/").status_code == 302  # still signed out


def test_admin_sign_in_shares_the_budget_of_the_pages_and_the_api(admin_user, monkeypatch):
    monkeypatch.setattr(PageThrottle, "THROTTLE_RATES", {"login": "3/minute"})
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"login": "3/minute"})
    client = Client()
    client.post("/ru/login/", {"username": admin_user.email, "password": "wrong"})
    APIClient().post("/api/v1/auth/token/", {"email": admin_user.email, "password": "wrong"})
    assert _admin_sign_in(client, admin_user, "wrong").status_code == 200
    assert _admin_sign_in(client, admin_user, PASSWORD).status_code == 429
    assert (
        APIClient()
        .post("/api/v1/auth/token/", {"email": admin_user.email, "password": PASSWORD})
        .status_code
        == 429
    )


def test_admin_sign_in_within_the_limit_works(admin_user):
    client = Client()
    response = _admin_sign_in(client, admin_user, PASSWORD)
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200
