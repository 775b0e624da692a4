"""Residents' personal data: the terms and privacy notice, consent at signup and again when
the terms change, the profile page and the change of address with re-verification."""

import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.utils import timezone, translation
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

import civic.accounts
from civic.accounts.models import FORMER_RESIDENT, User
from proposals.models import Reaction
from tests.conftest import page_client_for
from tests.factories import ProposalFactory, UserFactory

pytestmark = pytest.mark.django_db

REGISTER = "/api/v1/auth/register/"
ME = "/api/v1/auth/me/"
CONSENT = "/api/v1/auth/me/consent/"
STRONG = "Tulip-Garden-1987!"
PASSWORD = "correct horse battery"  # the factories' password
LANGUAGES = ("ru", "kk", "en")
LINK = re.compile(r"https?://\S+")
TERMS_DIR = Path(civic.accounts.__file__).parent / "terms"


def _payload(**fields):
    payload = {
        "email": "aigerim@example.kz",
        "password": STRONG,
        "display_name": "Айгерим",
        "accept_terms": True,
    }
    payload.update(fields)
    return {key: value for key, value in payload.items() if value is not ...}


def _token_client(user) -> APIClient:
    # A real token, not force_authenticate: the consent check sees what a client sends.
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


# --- the texts -----------------------------------------------------------------------------------


def test_the_current_terms_exist_in_every_language():
    version = django_settings.CIVIC_TERMS_VERSION
    assert version == "2026-11"
    for language in LANGUAGES:
        text = (TERMS_DIR / version / f"{language}.md").read_text(encoding="utf-8")
        assert len(text) > 1000, language


@pytest.mark.parametrize("page", ["terms", "privacy"])
@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("ru", ["персональных данных", "адрес электронной почты", "удалить"]),
        ("kk", ["дербес деректер", "электрондық пошта", "жою"]),
        ("en", ["personal data", "email address", "delete"]),
    ],
)
def test_terms_and_privacy_pages_in_each_language(client, page, language, words):
    response = client.get(f"/{language}/{page}/")
    assert response.status_code == 200
    text = response.content.decode()
    for word in words:
        assert word in text.lower(), word
    assert django_settings.CIVIC_TERMS_VERSION in text
    assert "<script>" not in text


def test_the_footer_links_to_the_terms(client):
    assert 'href="/en/terms/"' in client.get("/en/").content.decode()


# --- consent at signup ---------------------------------------------------------------------------


@pytest.mark.parametrize("accept", [..., False, None, "no"], ids=["missing", "false", "null", "no"])
def test_register_without_accepting_the_terms_is_a_400_naming_it(api, mailoutbox, accept):
    response = api.post(REGISTER, _payload(accept_terms=accept), format="json")
    assert response.status_code == 400, response.content
    assert "accept_terms" in response.json()
    assert not User.objects.exists()
    assert mailoutbox == []


def test_register_records_the_version_and_time_of_consent(api):
    before = timezone.now()
    response = api.post(REGISTER, _payload(), format="json")
    assert response.status_code == 201, response.content
    user = User.objects.get()
    assert user.consented_terms_version == "2026-11"
    assert before <= user.consented_at <= timezone.now()
    me = _token_client(user).get(ME).json()
    assert me["consented_terms_version"] == "2026-11"


def test_me_reports_the_accepted_version(resident):
    assert _token_client(resident).get(ME).json()["consented_terms_version"] == "2026-11"


def test_signup_page_asks_for_consent(client, django_capture_on_commit_callbacks):
    page = client.get("/ru/signup/")
    assert 'name="accept_terms"' in page.content.decode()
    assert 'href="/ru/terms/"' in page.content.decode()
    data = {"display_name": "Новый житель", "email": "new@example.kz", "password": STRONG}
    refused = client.post("/ru/signup/", data)
    assert refused.status_code == 400
    assert not User.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        accepted = client.post("/ru/signup/", {**data, "accept_terms": "on"})
    assert accepted.status_code == 302
    user = User.objects.get()
    assert user.consented_terms_version == "2026-11"
    assert user.consented_at is not None


# --- asked again when the version changes ----------------------------------------------------------


@pytest.fixture
def new_terms(settings, tmp_path):
    """A new version of the terms, in every language."""
    for language in LANGUAGES:
        folder = tmp_path / "2027-01"
        folder.mkdir(exist_ok=True)
        (folder / f"{language}.md").write_text(f"# Terms 2027 ({language})\n\nNew text.\n")
    settings.CIVIC_TERMS_DIR = tmp_path
    settings.CIVIC_TERMS_VERSION = "2027-01"
    return "2027-01"


def test_pages_send_a_resident_with_old_consent_to_the_consent_page(resident, new_terms):
    client = page_client_for(resident)
    response = client.get("/ru/proposals/?page=2")
    assert response.status_code == 302
    assert urlsplit(response.url).path == "/ru/me/consent/"
    assert "next=/ru/proposals/%3Fpage%3D2" in response.url

    consent = client.get(response.url)
    assert consent.status_code == 200
    assert "Terms 2027 (ru)" in consent.content.decode()
    # Reading the terms, signing out and static files need no consent.
    assert client.get("/ru/terms/").status_code == 200
    assert client.get("/static/frontend/civic.css").status_code in (200, 404)
    assert client.post("/ru/logout/").status_code == 302
    assert User.objects.get(pk=resident.pk).consented_terms_version == "2026-11"


def test_accepting_on_the_consent_page_records_it_and_goes_on(resident, new_terms):
    client = page_client_for(resident)
    refused = client.post("/ru/me/consent/?next=/ru/proposals/", {})
    assert refused.status_code == 400
    response = client.post("/ru/me/consent/?next=/ru/proposals/", {"accept_terms": "on"})
    assert response.status_code == 302
    assert response.url == "/ru/proposals/"
    user = User.objects.get(pk=resident.pk)
    assert user.consented_terms_version == new_terms
    assert client.get("/ru/proposals/").status_code == 200


def test_the_consent_page_does_not_redirect_off_the_site(resident, new_terms):
    response = page_client_for(resident).post(
        "/ru/me/consent/?next=https://evil.example/", {"accept_terms": "on"}
    )
    assert response.status_code == 302
    assert response.url == "/ru/"


def test_visitors_and_current_residents_are_not_asked(client, resident):
    assert client.get("/ru/proposals/").status_code == 200
    assert page_client_for(resident).get("/ru/proposals/").status_code == 200
    assert page_client_for(resident).get("/ru/me/proposals/").status_code == 200


def test_superusers_made_from_the_command_line_are_not_asked(new_terms):
    root = User.objects.create_superuser("root@example.org", STRONG)
    assert page_client_for(root).get("/ru/proposals/").status_code == 200


def test_api_writes_by_a_resident_with_old_consent_are_403(strategy, resident, new_terms):
    proposal = ProposalFactory(strategy=strategy)
    client = _token_client(resident)
    url = f"/api/v1/proposals/{proposal.pk}/reaction/"

    refused = client.put(url, {"kind": "like"}, format="json")
    assert refused.status_code == 403
    assert refused.json()["code"] == "terms_not_accepted"
    assert not Reaction.objects.exists()
    # Reading still works, and so does asking who one is.
    assert client.get(f"/api/v1/proposals/{proposal.pk}/").status_code == 200
    assert client.get(ME).json()["consented_terms_version"] == "2026-11"

    assert client.post(CONSENT, {"accept_terms": False}, format="json").status_code == 400
    accepted = client.post(CONSENT, {"accept_terms": True}, format="json")
    assert accepted.status_code == 200
    assert accepted.json()["consented_terms_version"] == new_terms

    assert client.put(url, {"kind": "like"}, format="json").status_code == 200
    assert Reaction.objects.count() == 1


def test_session_writes_to_the_api_are_checked_too(strategy, resident, new_terms):
    proposal = ProposalFactory(strategy=strategy)
    client = APIClient()
    client.force_login(resident)
    response = client.put(
        f"/api/v1/proposals/{proposal.pk}/reaction/", {"kind": "like"}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["code"] == "terms_not_accepted"


def test_an_unknown_version_of_the_terms_is_refused_at_start(settings):
    from django.core.checks import run_checks

    settings.CIVIC_TERMS_VERSION = "1999-01"
    errors = [e for e in run_checks() if e.id == "accounts.E001"]
    assert errors and "1999-01" in errors[0].msg


# --- the profile ------------------------------------------------------------------------------------


def test_profile_needs_a_sign_in(client):
    response = client.get("/ru/me/profile/")
    assert response.status_code == 302
    assert urlsplit(response.url).path == "/ru/login/"


def test_profile_shows_and_changes_name_district_and_language(resident):
    client = page_client_for(resident)
    page = client.get("/ru/me/profile/")
    assert page.status_code == 200
    text = page.content.decode()
    assert resident.display_name in text
    assert resident.email in text  # the owner sees their own address
    response = client.post(
        "/ru/me/profile/",
        {"form": "profile", "display_name": "Айгерим С.", "district": "medeu", "language": "kk"},
    )
    assert response.status_code == 302
    user = User.objects.get(pk=resident.pk)
    assert (user.display_name, user.district.slug, user.language) == ("Айгерим С.", "medeu", "kk")


@pytest.mark.parametrize(
    "fields",
    [
        {"display_name": ""},
        {"display_name": "Две\nстроки"},
        {"display_name": FORMER_RESIDENT},
        {"display_name": "A Former Resident"},
        {"district": "atlantis"},
        {"language": "de"},
    ],
    ids=["empty", "two-lines", "former-resident", "former-resident-case", "district", "language"],
)
def test_a_bad_profile_change_is_a_400_and_changes_nothing(resident, fields):
    data = {"form": "profile", "display_name": "Айгерим С.", "district": "", "language": "ru"}
    data.update(fields)
    response = page_client_for(resident).post("/ru/me/profile/", data)
    assert response.status_code == 400
    user = User.objects.get(pk=resident.pk)
    assert (user.display_name, user.district, user.language) == ("Айгерим", None, "ru")


def test_nobody_may_register_as_a_former_resident(api):
    with translation.override("ru"):
        localised = translation.gettext(FORMER_RESIDENT)
    for name in {FORMER_RESIDENT, localised}:
        response = api.post(REGISTER, _payload(display_name=name), format="json")
        assert response.status_code == 400, name
        assert "display_name" in response.json()


def test_the_nav_links_to_the_profile(resident):
    assert 'href="/ru/me/profile/"' in page_client_for(resident).get("/ru/").content.decode()


# --- changing the address ----------------------------------------------------------------------------


def _change_email(client, email, password=PASSWORD, capture=None):
    data = {"form": "email", "new_email": email, "password": password}
    if capture is None:
        return client.post("/ru/me/profile/", data)
    with capture(execute=True):
        return client.post("/ru/me/profile/", data)


def test_changing_the_address_waits_for_the_new_one_to_be_confirmed(
    resident, django_capture_on_commit_callbacks
):
    old = resident.email
    client = page_client_for(resident)

    response = _change_email(
        client, " New.Address@Example.KZ ", capture=django_capture_on_commit_callbacks
    )

    assert response.status_code == 302
    user = User.objects.get(pk=resident.pk)
    assert user.email == old
    assert user.pending_email == "new.address@example.kz"
    to_new = [m for m in mail.outbox if m.to == ["new.address@example.kz"]]
    to_old = [m for m in mail.outbox if m.to == [old]]
    assert len(to_new) == 1 and len(to_old) == 1
    [link] = LINK.findall(to_new[0].body)
    assert link.startswith(f"{django_settings.CIVIC_SITE_URL}/ru/me/email/")
    # The old address is told, and is not sent the link.
    assert "/me/email/" not in to_old[0].body
    assert "n***@example.kz" in to_old[0].body
    # Until the link is opened, the old address still signs in.
    assert client.get("/ru/me/profile/").content.decode().count("new.address@example.kz") >= 1

    confirmed = page_client_for(None).get(urlsplit(link).path)
    assert confirmed.status_code == 200
    user = User.objects.get(pk=resident.pk)
    assert (user.email, user.pending_email, user.email_verified) == (
        "new.address@example.kz",
        "",
        True,
    )
    assert _signs_in("new.address@example.kz")
    assert not _signs_in(old)
    # The link is spent.
    assert page_client_for(None).get(urlsplit(link).path).status_code == 400


def _signs_in(email: str) -> bool:
    response = APIClient().post(
        "/api/v1/auth/token/", {"email": email, "password": PASSWORD}, format="json"
    )
    return response.status_code == 200


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("new@example.kz", "wrong password"),
        ("new@example.kz", ""),
        ("not-an-email", PASSWORD),
        ("taken@example.kz", PASSWORD),
        ("{own}", PASSWORD),
    ],
    ids=["wrong-password", "no-password", "bad-address", "taken", "same"],
)
def test_a_refused_address_change_changes_and_mails_nothing(
    resident, django_capture_on_commit_callbacks, email, password
):
    UserFactory(email="taken@example.kz")
    email = resident.email if email == "{own}" else email
    response = _change_email(
        page_client_for(resident), email, password, capture=django_capture_on_commit_callbacks
    )
    assert response.status_code == 400
    user = User.objects.get(pk=resident.pk)
    assert user.pending_email == ""
    assert mail.outbox == []


def test_a_newer_request_voids_the_older_link(resident, django_capture_on_commit_callbacks):
    client = page_client_for(resident)
    _change_email(client, "first@example.kz", capture=django_capture_on_commit_callbacks)
    _change_email(client, "second@example.kz", capture=django_capture_on_commit_callbacks)
    [first] = [m for m in mail.outbox if m.to == ["first@example.kz"]]
    [link] = LINK.findall(first.body)
    assert page_client_for(None).get(urlsplit(link).path).status_code == 400
    assert User.objects.get(pk=resident.pk).email == resident.email


def test_an_address_taken_meanwhile_is_refused_at_confirmation(
    resident, django_capture_on_commit_callbacks
):
    _change_email(
        page_client_for(resident), "race@example.kz", capture=django_capture_on_commit_callbacks
    )
    UserFactory(email="race@example.kz")
    [message] = [m for m in mail.outbox if m.to == ["race@example.kz"]]
    [link] = LINK.findall(message.body)
    response = page_client_for(None).get(urlsplit(link).path)
    assert response.status_code == 400
    assert User.objects.get(pk=resident.pk).email == resident.email


@pytest.mark.parametrize("token", ["garbage", "tampered"])
def test_a_bad_confirmation_link_is_a_400(resident, token):
    if token == "tampered":
        from civic.accounts.tokens import email_change_token_make

        token = email_change_token_make(user_id=resident.pk, email="x@example.kz")[:-2] + "xx"
    response = page_client_for(None).get(f"/ru/me/email/{token}/")
    assert response.status_code == 400


# --- client addresses ---------------------------------------------------------------------------

ADDRESS = "203.0.113.77"


def _throttle_keys() -> list[str]:
    """Every rate-limit counter key, wherever the limits count (civic/throttling.py: a
    database table, Redis when configured) and in the default cache for good measure."""
    from django.core.cache import caches
    from django.db import connection

    keys: list[str] = []
    if "civic_throttle_cache" in connection.introspection.table_names():
        with connection.cursor() as cursor:
            cursor.execute("SELECT cache_key FROM civic_throttle_cache")
            keys += [row[0] for row in cursor.fetchall()]
    for alias in ("default", "throttle_redis"):
        if alias not in django_settings.CACHES:
            continue
        cache = caches[alias]
        if hasattr(cache, "keys"):  # django-redis
            keys += [str(key) for key in cache.keys("*throttle*")]
        elif hasattr(cache, "_cache"):  # local memory
            keys += [str(key) for key in cache._cache]
    return [key for key in keys if "throttle" in key]


def _sign_in_attempts(address: str) -> None:
    APIClient(REMOTE_ADDR=address).post(
        "/api/v1/auth/token/", {"email": "x@example.kz", "password": "nope"}, format="json"
    )
    page_client_for(None).post(
        "/ru/login/", {"username": "x@example.kz", "password": "nope"}, REMOTE_ADDR=address
    )


def test_rate_limits_never_keep_a_client_address(settings):
    _sign_in_attempts(ADDRESS)
    keys = _throttle_keys()
    assert keys, "the attempts were counted somewhere"
    for key in keys:
        assert ADDRESS not in key
        assert ADDRESS.replace(".", "") not in key


def test_the_address_hash_is_keyed_and_still_tells_clients_apart(settings, monkeypatch):
    from django.core.cache import caches
    from rest_framework.throttling import SimpleRateThrottle

    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"login": "1/minute"})
    body = {"email": "x@example.kz", "password": "nope"}
    client = APIClient(REMOTE_ADDR=ADDRESS)
    assert client.post("/api/v1/auth/token/", body, format="json").status_code != 429
    assert client.post("/api/v1/auth/token/", body, format="json").status_code == 429
    other = APIClient(REMOTE_ADDR="198.51.100.5")
    assert other.post("/api/v1/auth/token/", body, format="json").status_code != 429
    first = set(_throttle_keys())
    assert len(first) == 2

    for alias in django_settings.CACHES:
        caches[alias].clear()
    settings.SECRET_KEY = "another-key-" + "x" * 50
    client.post("/api/v1/auth/token/", body, format="json")
    # Another site (another key) makes other hashes: a table of every IPv4 address's hash
    # cannot be computed once and used everywhere.
    assert _throttle_keys() and not set(_throttle_keys()) & first


def test_counters_past_their_window_leave_the_database():
    from django.core.cache import caches
    from django.db import connection

    from civic.accounts.tasks import client_counters_expire
    from civic.clients import client_hash

    # The database table the limits count in (alone, or while Redis is away).
    [alias] = [
        name
        for name, config in django_settings.CACHES.items()
        if config["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"
    ]
    keys = [f"throttle_login_{client_hash(a)}" for a in (ADDRESS, "198.51.100.5")]
    for key in keys:
        caches[alias].set(key, [1.0], 60)
    assert client_counters_expire() == 0
    # One visitor's window ends; the database would keep the row until that key is read
    # again or the table overflows.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE civic_throttle_cache SET expires = %s WHERE cache_key LIKE %s",
            [
                connection.ops.adapt_datetimefield_value(timezone.now() - timedelta(hours=1)),
                f"%{keys[0]}",
            ],
        )
    assert client_counters_expire() == 1
    assert caches[alias].get(keys[1]) == [1.0]
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM civic_throttle_cache")
        assert cursor.fetchone()[0] == 1
    schedule = {entry["task"] for entry in django_settings.CELERY_BEAT_SCHEDULE.values()}
    assert "accounts.client_counters_expire" in schedule
