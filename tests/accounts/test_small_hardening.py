"""The smaller findings of the security review: debug off by default, reset emails limited
per address, staff display names reserved for staff and shown with their role."""

import html
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.cache import cache
from django.test import Client

from civic.accounts import services
from civic.accounts.models import User
from civic.accounts.services import role_grant
from civic.errors import InvalidInput
from proposals.answers.services import answer_save
from proposals.services import proposal_moderate
from tests.conftest import page_client_for
from tests.factories import ProposalFactory, UserFactory

ROOT = Path(__file__).resolve().parents[2]
STRONG = "Tulip-Garden-1987!"
REGISTER = "/api/v1/auth/register/"
# Registration asks for consent to the terms (the personal-data part of the issue).
TERMS = {"accept_terms": True}


# --- DJANGO_DEBUG defaults to off --------------------------------------------------------------


def _python(code: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "civic.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_debug_is_off_unless_asked_for():
    show = "from django.conf import settings; print(settings.DEBUG)"
    assert _python(show, DJANGO_SECRET_KEY="k" * 50).stdout.strip() == "False"
    assert _python(show, DJANGO_DEBUG="1").stdout.strip() == "True"


def test_without_debug_and_without_a_secret_key_the_settings_refuse_to_load():
    result = _python("from django.conf import settings; settings.DEBUG")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


@pytest.mark.skipif(not shutil.which("make"), reason="needs make")
def test_the_make_commands_run_with_debug_on_unless_the_environment_says(tmp_path):
    probe = tmp_path / "probe.mk"
    probe.write_text(f"include {ROOT / 'Makefile'}\nprobe:\n\t@echo debug=$$DJANGO_DEBUG\n")
    clean = {k: v for k, v in os.environ.items() if k != "DJANGO_DEBUG"}

    def debug(env: dict[str, str]) -> str:
        run = subprocess.run(
            ["make", "-s", "-f", str(probe), "probe"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return run.stdout.strip()

    assert debug(clean) == "debug=1"
    assert debug({**clean, "DJANGO_DEBUG": "0"}) == "debug=0"


# --- password-reset emails are limited per address ---------------------------------------------


def _cache_keys() -> list[str]:
    if hasattr(cache, "keys"):  # django-redis
        return [str(key) for key in cache.keys("*")]
    return [str(key) for key in getattr(cache, "_cache", {})]


@pytest.mark.django_db
def test_reset_emails_to_one_address_are_limited_and_the_page_says_the_same(
    resident, mailoutbox, settings
):
    answers = []
    for n in range(6):
        # From six different addresses: the per-client sign-in limit plays no part.
        response = Client(REMOTE_ADDR=f"10.1.0.{n}").post(
            "/ru/password-reset/", {"email": resident.email.upper()}
        )
        answers.append((response.status_code, response.url))
    assert answers == [(302, "/ru/password-reset/sent/")] * 6
    assert len(mailoutbox) == 3  # CIVIC_THROTTLE_RESET_EMAIL: 3 an hour by default
    # Another address has its own budget; an unknown one looks the same from outside.
    other = UserFactory()
    Client().post("/ru/password-reset/", {"email": other.email})
    assert len(mailoutbox) == 4
    unknown = Client().post("/ru/password-reset/", {"email": "nobody@example.kz"})
    assert (unknown.status_code, unknown.url) == (302, "/ru/password-reset/sent/")
    # The counters are keyed by a keyed hash of the address, never by the address.
    keys = " ".join(_cache_keys()).lower()
    assert resident.email.lower() not in keys
    assert resident.email.split("@")[0].lower() not in keys


# --- staff display names -----------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "taken", ["Модератор", "  модератор ", "МОДЕРАТОР", "Асель\u00a0 Нурлановна"]
)
def test_a_resident_cannot_register_with_a_staff_members_name(api, moderator, taken):
    staff = UserFactory(display_name="Асель Нурлановна")
    role_grant(user=staff, role="responder")
    response = api.post(
        REGISTER,
        {"email": "impostor@example.kz", "password": STRONG, "display_name": taken, **TERMS},
        format="json",
    )
    assert response.status_code == 400
    assert "display_name" in response.json()
    assert not User.objects.filter(email="impostor@example.kz").exists()


@pytest.mark.django_db
def test_a_superusers_name_is_reserved_too(api):
    User.objects.create_superuser("root@example.kz", STRONG, display_name="Мэрия")
    response = api.post(
        REGISTER,
        {"email": "impostor@example.kz", "password": STRONG, "display_name": "мэрия", **TERMS},
        format="json",
    )
    assert response.status_code == 400
    assert "display_name" in response.json()


@pytest.mark.django_db
def test_residents_names_stay_free_for_other_residents(api, resident):
    response = api.post(
        REGISTER,
        {
            "email": "namesake@example.kz",
            "password": STRONG,
            "display_name": resident.display_name,
            **TERMS,
        },
        format="json",
    )
    assert response.status_code == 201


@pytest.mark.django_db
def test_the_signup_page_refuses_a_staff_name_on_the_field(client, moderator, settings):
    settings.CIVIC_FORM_MIN_SECONDS = 0  # no minimum fill time (frontend/bots.py)
    response = client.post(
        "/en/signup/",
        {
            "email": "impostor@example.kz",
            "password": STRONG,
            "display_name": "модератор",
            "accept_terms": "on",
        },
    )
    assert response.status_code == 400
    assert "used by a member of staff" in response.content.decode()
    assert not User.objects.filter(email="impostor@example.kz").exists()


@pytest.mark.django_db
def test_a_later_change_of_name_is_checked_the_same_way(resident, moderator):
    with pytest.raises(InvalidInput) as refused:
        services.display_name_validate(display_name=" МОДЕРАТОР ", user=resident)
    assert refused.value.field == "display_name"
    # Staff keep their own name.
    services.display_name_validate(display_name="Модератор", user=moderator)


# --- role badges beside staff actions ----------------------------------------------------------


def _text(response) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


@pytest.mark.django_db
def test_the_decision_history_shows_the_moderators_role(strategy, moderator, analyst):
    proposal = ProposalFactory(strategy=strategy, status="pending")
    proposal_moderate(proposal=proposal, moderator=moderator, decision="approve")
    page = page_client_for(analyst).get("/en/moderation/history/")
    assert page.status_code == 200
    assert "Модератор · moderator" in _text(page)


@pytest.mark.django_db
def test_answer_versions_show_the_responders_role(strategy, admin_user):
    responder = UserFactory(display_name="Ответственный")
    role_grant(user=responder, role="responder")
    proposal = ProposalFactory(strategy=strategy)
    answer_save(proposal=proposal, responder=responder, outcome="accepted")
    answer_save(proposal=proposal, responder=admin_user, outcome="not_accepted", text="Нет.")
    page = page_client_for(responder).get(f"/en/answers/{proposal.pk}/")
    assert page.status_code == 200
    text = _text(page)
    assert "Ответственный · responder" in text
    assert "Админ · administrator" in text
