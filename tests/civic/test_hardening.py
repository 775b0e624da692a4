"""Hostile or odd requests get a clear 4xx and change nothing, on every database."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from civic.accounts.models import User
from civic.accounts.tasks import verification_email_sweep
from proposals.models import Proposal, ProposalEvent
from tests.conftest import client_for
from tests.factories import ProposalFactory, UserFactory

pytestmark = pytest.mark.django_db

BODY = "Во дворе нет ни одного фонаря, вечером страшно ходить."


def _submit(client, strategy_, **changes):
    return client.post(
        "/api/v1/proposals/",
        {"strategy": strategy_.slug, "title": "Фонари во дворе", "body": BODY, **changes},
    )


@pytest.mark.parametrize(
    "changes",
    [
        {"strategy": "almaty\x00test"},
        {"district": "medeu\x00"},
        {"themes": ["ecology\x00"]},
    ],
)
def test_nul_bytes_in_references_are_400(strategy, resident, changes):
    response = _submit(client_for(resident), strategy, **changes)
    assert response.status_code == 400
    assert set(changes) <= set(response.json())
    assert not Proposal.objects.exists()


@pytest.mark.parametrize("key", ["abc\x00def", "x" * 40, "'; DROP TABLE", "A" * 40])
def test_malformed_token_is_401(key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = client.get("/api/v1/auth/me/")
    assert response.status_code == 401


def test_a_real_token_still_works(resident):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=resident).key}")
    assert client.get("/api/v1/auth/me/").json()["display_name"] == resident.display_name


def test_a_malformed_session_cookie_is_no_session(api):
    api.cookies["sessionid"] = "abcdefghij\x00klmnop"
    assert api.get("/api/v1/proposals/").status_code == 200


def test_x_forwarded_for_does_not_dodge_rate_limits(api, monkeypatch):
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"login": "3/minute"})
    codes = [
        api.post(
            "/api/v1/auth/token/",
            {"email": "who@example.org", "password": "guess"},
            HTTP_X_FORWARDED_FOR=f"10.0.0.{n}",
        ).status_code
        for n in range(5)
    ]
    assert codes == [401, 401, 401, 429, 429]


def test_theme_lists_are_short_and_repeats_count_once(strategy, resident):
    client = client_for(resident)
    response = _submit(client, strategy, themes=["ecology"] * 51)
    assert response.status_code == 400
    assert "themes" in response.json()
    response = _submit(client, strategy, themes=["ecology", "transport", "ecology"])
    assert response.status_code == 201
    assert response.json()["themes"] == ["ecology", "transport"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("title", "\u200b\u200b\u200b\u200b\u200b\u200b"),  # six zero-width spaces
        ("title", "Фонари \u202eвонвиц"),  # a right-to-left override
        ("body", "Нормальный текст предложения, но \u2066с изоляцией\u2069."),
    ],
)
def test_invisible_or_reordering_text_is_refused(strategy, resident, field, value):
    response = _submit(client_for(resident), strategy, **{field: value})
    assert response.status_code == 400
    assert field in response.json()
    assert not Proposal.objects.exists()


@pytest.mark.parametrize("name", ["\x1b[31mX", "Имя\u202e", "Две\nстроки", "\u200b"])
def test_display_names_are_one_visible_line(api, name):
    response = api.post(
        "/api/v1/auth/register/",
        {
            "email": "new@example.org",
            "password": "a-long-enough-passphrase",
            "display_name": name,
            "accept_terms": True,
        },
    )
    assert response.status_code == 400
    assert "display_name" in response.json()
    assert not User.objects.exists()


def test_empty_patch_is_400_and_changes_nothing(strategy, resident):
    proposal = ProposalFactory(strategy=strategy, author=resident, status="changes_requested")
    response = client_for(resident).patch(f"/api/v1/proposals/{proposal.pk}/", {})
    assert response.status_code == 400
    proposal.refresh_from_db()
    assert proposal.status == "changes_requested"
    assert not ProposalEvent.objects.exists()


def test_api_errors_raised_by_django_itself_are_json(api):
    response = api.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    response = api.get("/api/v1/proposals/?" + "&".join(["theme=ecology"] * 1001))
    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"


def test_verification_sweep_mails_accounts_whose_email_was_lost(mailoutbox):
    lost = UserFactory(email_verified=False)
    User.objects.filter(pk=lost.pk).update(date_joined=timezone.now() - timedelta(minutes=10))
    UserFactory(email_verified=False)  # just registered: its own task may still be coming
    assert verification_email_sweep() == 1
    assert [m.to for m in mailoutbox] == [[lost.email]]
    assert verification_email_sweep() == 0


def test_admin_role_cannot_make_itself_superuser(client, admin_user):
    client.force_login(admin_user)
    page = client.get(f"/admin/accounts/user/{admin_user.pk}/change/")
    assert page.status_code == 200
    client.post(
        f"/admin/accounts/user/{admin_user.pk}/change/",
        {
            "email": admin_user.email,
            "display_name": admin_user.display_name,
            "language": "ru",
            "is_active": "on",
            "is_superuser": "on",
            "groups": [],
        },
    )
    admin_user.refresh_from_db()
    assert not admin_user.is_superuser
