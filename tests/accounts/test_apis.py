"""Accounts through the API: register, verify the email, log in with a token, roles."""

import re
import time
from io import StringIO

import pytest
from django.conf import settings as django_settings
from django.core import signing
from django.core.management import CommandError, call_command
from rest_framework.authtoken.models import Token

from civic.accounts import roles
from civic.accounts.models import User
from civic.accounts.services import role_grant
from civic.accounts.tokens import email_token_make
from proposals.models import Proposal
from tests.conftest import client_for
from tests.factories import ProposalFactory, UserFactory

REGISTER = "/api/v1/auth/register/"
VERIFY = "/api/v1/auth/verify-email/"
TOKEN = "/api/v1/auth/token/"
ME = "/api/v1/auth/me/"
PASSWORD = "correct horse battery"  # the factories' password
STRONG = "Tulip-Garden-1987!"
LINK = re.compile(r"(\S+/verify-email/([^/\s]+)/)(?:\s|$)")


@pytest.fixture
def register(api, mailoutbox, django_capture_on_commit_callbacks):
    """POST the registration, run the after-commit tasks, return (response, mails)."""

    def _register(headers=None, **fields):
        payload = {
            "email": "aigerim@example.kz",
            "password": STRONG,
            "display_name": "Айгерим",
            "accept_terms": True,
        }
        payload.update(fields)
        with django_capture_on_commit_callbacks(execute=True):
            response = api.post(REGISTER, payload, format="json", **(headers or {}))
        return response, list(mailoutbox)

    return _register


def _link(mail) -> tuple[str, str]:
    match = LINK.search(mail.body)
    assert match, mail.body
    return match.group(1), match.group(2)


# --- register --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_register_creates_an_unverified_resident_and_mails_a_link(register):
    response, mails = register(email="  Aigerim@Example.KZ ", district="medeu")

    assert response.status_code == 201, response.content
    user = User.objects.get()
    assert response.json() == {
        "id": user.pk,
        "email": "aigerim@example.kz",
        "display_name": "Айгерим",
        "email_verified": False,
    }
    assert user.email == "aigerim@example.kz"
    assert user.district.slug == "medeu"
    assert user.email_verified is False
    assert user.check_password(STRONG)
    assert user.password != STRONG
    assert list(user.groups.all()) == []
    [mail] = mails
    assert mail.to == ["aigerim@example.kz"]
    link, token = _link(mail)
    assert link == f"{django_settings.CIVIC_SITE_URL}/ru/verify-email/{token}/"
    assert link.endswith(f"/verify-email/{token}/")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "subject"),
    [
        ("ru", "Подтвердите адрес электронной почты"),
        ("kk", "Электрондық пошта мекенжайын растаңыз"),
        ("en", "Confirm your email address"),
    ],
)
def test_register_mails_in_the_callers_language(register, language, subject):
    response, [mail] = register(headers={"HTTP_ACCEPT_LANGUAGE": language})

    assert response.status_code == 201
    assert User.objects.get().language == language
    assert mail.subject == subject


@pytest.mark.django_db
def test_register_sends_nothing_before_the_commit(
    api, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = api.post(
            REGISTER,
            {
                "email": "later@example.kz",
                "password": STRONG,
                "display_name": "Later",
                "accept_terms": True,
            },
            format="json",
        )

    assert response.status_code == 201
    assert mailoutbox == []
    assert callbacks


@pytest.mark.django_db
@pytest.mark.parametrize(
    "email", ["aigerim@example.kz", "AIGERIM@example.kz", " aigerim@EXAMPLE.kz"]
)
def test_register_duplicate_email(register, email):
    first, _ = register()
    assert first.status_code == 201

    response, mails = register(email=email, display_name="Другая")

    assert response.status_code == 400, response.content
    assert "email" in response.json()
    assert response.json()["code"] == "email_taken"
    assert User.objects.count() == 1
    assert User.objects.get().display_name == "Айгерим"
    assert len(mails) == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "password",
    ["short1!", "password", "12345678901234", "aigerim@example.kz", "aigerimexample"],
    ids=["too-short", "common", "numeric", "same-as-email", "like-email"],
)
def test_register_weak_password(register, password):
    response, mails = register(password=password)

    assert response.status_code == 400, response.content
    assert "password" in response.json()
    assert isinstance(response.json()["password"], list)
    assert not User.objects.exists()
    assert mails == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"email": ""}, "email"),
        ({"email": None}, "email"),
        ({"display_name": "   "}, "display_name"),
        ({"display_name": ""}, "display_name"),
        ({"display_name": 42}, "display_name"),
        ({"display_name": "я" * 81}, "display_name"),
        ({"password": 12345678}, "password"),
        ({"district": "atlantis"}, "district"),
    ],
    ids=str,
)
def test_register_invalid_fields(register, fields, field):
    response, mails = register(**fields)

    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not User.objects.exists()
    assert mails == []


@pytest.mark.django_db
@pytest.mark.parametrize("missing", ["email", "password", "display_name"])
def test_register_missing_field(api, missing):
    payload = {
        "email": "aigerim@example.kz",
        "password": STRONG,
        "display_name": "Айгерим",
        "accept_terms": True,
    }
    del payload[missing]

    response = api.post(REGISTER, payload, format="json")

    assert response.status_code == 400
    assert missing in response.json()
    assert not User.objects.exists()


@pytest.mark.django_db
def test_register_response_never_echoes_the_password(register):
    response, _ = register()

    assert STRONG.encode() not in response.content
    assert "password" not in response.json()


# --- verify the email ------------------------------------------------------------------------


@pytest.mark.django_db
def test_verify_with_the_token_from_the_email(register, api):
    _, [mail] = register()
    _, token = _link(mail)

    response = api.post(VERIFY, {"token": token}, format="json")

    assert response.status_code == 200, response.content
    user = User.objects.get()
    assert user.email_verified is True
    assert response.json() == {
        "id": user.pk,
        "email": "aigerim@example.kz",
        "display_name": "Айгерим",
        "email_verified": True,
    }
    login = api.post(TOKEN, {"email": "aigerim@example.kz", "password": STRONG}, format="json")
    api.credentials(HTTP_AUTHORIZATION=f"Token {login.json()['token']}")
    me = api.get(ME)
    assert me.status_code == 200
    assert me.json()["email_verified"] is True


@pytest.mark.django_db
def test_verified_account_may_submit_unverified_may_not(register, api, strategy):
    _, [mail] = register()
    _, token = _link(mail)
    user = User.objects.get()
    payload = {
        "strategy": strategy.slug,
        "title": "Тротуары без ям",
        "body": "Отремонтировать тротуары на улице Жандосова.",
    }

    refused = client_for(user).post("/api/v1/proposals/", payload, format="json")
    assert refused.status_code == 403
    assert refused.json()["code"] == "email_not_verified"
    assert not Proposal.objects.exists()

    assert api.post(VERIFY, {"token": token}, format="json").status_code == 200
    user.refresh_from_db()
    accepted = client_for(user).post("/api/v1/proposals/", payload, format="json")
    assert accepted.status_code == 201, accepted.content
    assert Proposal.objects.get().author == user


@pytest.mark.django_db
def test_verify_twice_is_harmless(register, api):
    _, [mail] = register()
    _, token = _link(mail)

    first = api.post(VERIFY, {"token": token}, format="json")
    second = api.post(VERIFY, {"token": token}, format="json")

    assert (first.status_code, second.status_code) == (200, 200)
    assert User.objects.get().email_verified is True


@pytest.mark.django_db
def test_verify_page_from_the_link(register, client):
    _, [mail] = register()
    link, _ = _link(mail)
    path = link.removeprefix(django_settings.CIVIC_SITE_URL)
    assert path.startswith("/ru/verify-email/")

    response = client.get(path)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert "Айгерим" in response.content.decode()
    assert User.objects.get().email_verified is True


@pytest.mark.django_db
@pytest.mark.parametrize("token", ["garbage", "a" * 900, "eyJ1Ijo1fQ:1tX:bad"])
def test_verify_page_with_a_bad_token(client, resident, token):
    resident.email_verified = False
    resident.save(update_fields=["email_verified"])

    response = client.get(f"/verify-email/{token}/", follow=True)

    assert response.redirect_chain == [(f"/ru/verify-email/{token}/", 302)]
    assert response.status_code == 400
    resident.refresh_from_db()
    assert resident.email_verified is False


def _unverified(**kwargs) -> User:
    return UserFactory(email_verified=False, **kwargs)


@pytest.mark.django_db
def test_verify_bad_tokens(api):
    user = _unverified()
    good = email_token_make(user_id=user.pk, email=user.email)
    forged = {
        "garbage": "garbage",
        "tampered": good[:-2] + ("AA" if not good.endswith("AA") else "BB"),
        "unsalted": signing.dumps({"u": user.pk, "e": user.email}, compress=True),
        "other-email": email_token_make(user_id=user.pk, email="someone@example.org"),
        "unknown-user": email_token_make(user_id=user.pk + 1000, email=user.email),
        "empty": "",
    }

    for name, token in forged.items():
        response = api.post(VERIFY, {"token": token}, format="json")
        assert response.status_code == 400, name
        assert "token" in response.json(), name
        if name != "empty":
            assert response.json()["code"] == "token_invalid", name

    user.refresh_from_db()
    assert user.email_verified is False


@pytest.mark.django_db
def test_verify_token_is_not_json_typed(api):
    response = api.post(VERIFY, {"token": 12345}, format="json")

    assert response.status_code == 400
    assert "token" in response.json()


@pytest.mark.django_db
def test_verify_expired_token_by_setting(api, settings):
    user = _unverified()
    token = email_token_make(user_id=user.pk, email=user.email)
    settings.CIVIC_EMAIL_VERIFICATION_MAX_AGE = -1

    response = api.post(VERIFY, {"token": token}, format="json")

    assert response.status_code == 400
    assert "token" in response.json()
    assert response.json()["code"] == "token_expired"
    user.refresh_from_db()
    assert user.email_verified is False


@pytest.mark.django_db
def test_verify_token_signed_four_days_ago_has_expired(api, monkeypatch):
    user = _unverified()
    four_days_ago = int(time.time()) - 4 * 24 * 3600
    monkeypatch.setattr(
        signing.TimestampSigner, "timestamp", lambda self: signing.b62_encode(four_days_ago)
    )
    old = email_token_make(user_id=user.pk, email=user.email)
    monkeypatch.undo()
    fresh = email_token_make(user_id=user.pk, email=user.email)

    expired = api.post(VERIFY, {"token": old}, format="json")
    page = api.get(f"/en/verify-email/{old}/")

    assert expired.status_code == 400
    assert expired.json()["code"] == "token_expired"
    assert page.status_code == 400
    user.refresh_from_db()
    assert user.email_verified is False
    assert api.post(VERIFY, {"token": fresh}, format="json").status_code == 200


@pytest.mark.django_db
def test_token_made_for_an_old_email_does_not_verify_the_new_one(api):
    user = _unverified(email="old@example.org")
    token = email_token_make(user_id=user.pk, email=user.email)
    user.email = "new@example.org"
    user.save(update_fields=["email"])

    response = api.post(VERIFY, {"token": token}, format="json")

    assert response.status_code == 400
    user.refresh_from_db()
    assert user.email_verified is False


@pytest.mark.django_db
def test_resend_verification(mailoutbox, django_capture_on_commit_callbacks, api, resident):
    user = _unverified(email="resend@example.org")

    with django_capture_on_commit_callbacks(execute=True):
        resent = client_for(user).post(f"{VERIFY}resend/")
        verified = client_for(resident).post(f"{VERIFY}resend/")
        anonymous = api.post(f"{VERIFY}resend/")

    assert (resent.status_code, verified.status_code, anonymous.status_code) == (202, 202, 401)
    assert [mail.to for mail in mailoutbox] == [["resend@example.org"]]
    _, token = _link(mailoutbox[0])
    assert api.post(VERIFY, {"token": token}, format="json").status_code == 200


# --- token login -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_token_login(api, resident):
    response = api.post(TOKEN, {"email": resident.email, "password": PASSWORD}, format="json")

    assert response.status_code == 200, response.content
    assert set(response.json()) == {"token"}
    token = Token.objects.get(user=resident)
    assert response.json()["token"] == token.key
    again = api.post(TOKEN, {"email": resident.email.upper(), "password": PASSWORD}, format="json")
    assert again.status_code == 200
    assert again.json()["token"] == token.key

    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    me = api.get(ME)
    assert me.status_code == 200
    assert me.json()["id"] == resident.pk


@pytest.mark.django_db
def test_unverified_account_may_log_in(api):
    user = _unverified()

    response = api.post(TOKEN, {"email": user.email, "password": PASSWORD}, format="json")

    assert response.status_code == 200
    api.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    assert api.get(ME).json()["email_verified"] is False


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("{email}", "wrong password"),
        ("{email}", PASSWORD.upper()),
        ("nobody@example.org", PASSWORD),
        ("{email}", PASSWORD + " "),
    ],
    ids=["wrong", "wrong-case", "unknown-email", "trailing-space"],
)
def test_token_login_refused(api, resident, email, password):
    response = api.post(
        TOKEN, {"email": email.format(email=resident.email), "password": password}, format="json"
    )

    assert response.status_code == 401
    assert "token" not in response.json()
    assert not Token.objects.exists()


@pytest.mark.django_db
def test_inactive_account_may_not_log_in(api):
    user = UserFactory(is_active=False)

    response = api.post(TOKEN, {"email": user.email, "password": PASSWORD}, format="json")

    assert response.status_code == 401
    assert not Token.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "payload",
    [{}, {"email": "a@example.org"}, {"password": PASSWORD}, {"email": 1, "password": PASSWORD}],
    ids=str,
)
def test_token_login_malformed(api, payload):
    response = api.post(TOKEN, payload, format="json")

    assert response.status_code == 400
    assert set(response.json()) & {"email", "password"}


# --- me and roles ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_me_requires_login(api):
    response = api.get(ME)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Token"


@pytest.mark.django_db
def test_me_body(resident):
    from strategy.models import District

    resident.district = District.objects.get(slug="bostandyk")
    resident.save(update_fields=["district"])

    response = client_for(resident).get(ME)

    assert response.status_code == 200
    body = response.json()
    assert {key: body[key] for key in ("id", "email", "display_name", "district", "roles")} == {
        "id": resident.pk,
        "email": resident.email,
        "display_name": "Айгерим",
        "district": "bostandyk",
        "roles": ["resident"],
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("granted", "expected"),
    [
        ([], ["resident"]),
        (["resident"], ["resident"]),
        (["moderator"], ["resident", "moderator"]),
        (["analyst"], ["resident", "analyst"]),
        (["admin"], ["resident", "admin"]),
        (["analyst", "moderator"], ["resident", "moderator", "analyst"]),
        (["admin", "moderator", "analyst"], ["resident", "moderator", "analyst", "admin"]),
    ],
    ids=lambda value: "+".join(value) or "none",
)
def test_me_lists_resident_plus_granted_roles(db, granted, expected):
    user = UserFactory()
    for role in granted:
        role_grant(user=user, role=role)

    response = client_for(user).get(ME)

    assert response.status_code == 200
    assert response.json()["roles"] == expected


@pytest.mark.django_db
def test_superuser_holds_every_role():
    user = User.objects.create_superuser("root@example.org", STRONG)

    response = client_for(user).get(ME)

    assert response.json()["roles"] == ["resident", "moderator", "analyst", "responder", "admin"]


# --- grant_role / revoke_role ------------------------------------------------------------------


def _fresh(user: User) -> User:
    # A new instance: has_perm caches permissions on the object it was asked on.
    return User.objects.get(pk=user.pk)


def _moderate(user: User, proposal: Proposal):
    return client_for(_fresh(user)).post(
        f"/api/v1/proposals/{proposal.pk}/moderation/", {"decision": "approve"}, format="json"
    )


@pytest.mark.django_db
def test_grant_role_makes_a_moderator(strategy, other_resident):
    user = UserFactory(email="moder@example.org")
    proposal = ProposalFactory(strategy=strategy, author=other_resident, status="pending")
    assert _moderate(user, proposal).status_code == 403
    out = StringIO()

    call_command("grant_role", "MODER@example.org", "moderator", stdout=out)

    assert "moderator" in out.getvalue()
    assert _fresh(user).has_perm(roles.MODERATE)
    assert client_for(_fresh(user)).get(ME).json()["roles"] == ["resident", "moderator"]
    response = _moderate(user, proposal)
    assert response.status_code == 200
    proposal.refresh_from_db()
    assert proposal.status == "published"


@pytest.mark.django_db
def test_grant_role_is_idempotent():
    user = UserFactory()

    call_command("grant_role", user.email, "analyst", stdout=StringIO())
    call_command("grant_role", user.email, "analyst", stdout=StringIO())

    assert list(_fresh(user).groups.values_list("name", flat=True)) == ["analyst"]
    assert _fresh(user).has_perm(roles.ORDER_REPORT)
    assert not _fresh(user).has_perm(roles.MODERATE)


@pytest.mark.django_db
def test_grant_admin_opens_the_django_admin_and_revoke_closes_it():
    user = UserFactory()

    call_command("grant_role", user.email, "admin", stdout=StringIO())
    assert _fresh(user).is_staff is True
    assert client_for(_fresh(user)).get(ME).json()["roles"] == ["resident", "admin"]

    call_command("revoke_role", user.email, "admin", stdout=StringIO())
    assert _fresh(user).is_staff is False
    assert client_for(_fresh(user)).get(ME).json()["roles"] == ["resident"]


@pytest.mark.django_db
def test_grant_resident_changes_nothing():
    user = UserFactory()

    call_command("grant_role", user.email, "resident", stdout=StringIO())

    assert not _fresh(user).groups.exists()
    assert client_for(_fresh(user)).get(ME).json()["roles"] == ["resident"]


@pytest.mark.django_db
def test_revoke_role_takes_moderation_away(strategy, other_resident):
    user = UserFactory()
    role_grant(user=user, role="moderator")
    role_grant(user=user, role="analyst")
    proposal = ProposalFactory(strategy=strategy, author=other_resident, status="pending")
    out = StringIO()

    call_command("revoke_role", user.email, "moderator", stdout=out)

    assert "moderator" in out.getvalue()
    assert client_for(_fresh(user)).get(ME).json()["roles"] == ["resident", "analyst"]
    assert _moderate(user, proposal).status_code == 403
    proposal.refresh_from_db()
    assert proposal.status == "pending"


@pytest.mark.django_db
def test_revoke_does_not_demote_a_superuser_from_the_admin_site():
    user = User.objects.create_superuser("root@example.org", STRONG)
    role_grant(user=user, role="admin")

    call_command("revoke_role", user.email, "admin", stdout=StringIO())

    assert _fresh(user).is_staff is True


@pytest.mark.django_db
@pytest.mark.parametrize("command", ["grant_role", "revoke_role"])
def test_role_commands_with_unknown_email(command):
    UserFactory(email="known@example.org")

    with pytest.raises(CommandError, match="nobody@example.org"):
        call_command(command, "nobody@example.org", "moderator", stdout=StringIO())

    assert not User.objects.filter(groups__isnull=False).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("command", "role"),
    [("grant_role", "superhero"), ("revoke_role", "superhero"), ("revoke_role", "resident")],
)
def test_role_commands_with_unknown_role(command, role):
    user = UserFactory()

    with pytest.raises(CommandError):
        call_command(command, user.email, role, stdout=StringIO())

    assert not _fresh(user).groups.exists()
