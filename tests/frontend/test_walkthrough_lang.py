"""Issue 12, language and email items: the switcher when the cookie and the page disagree,
one base for every link in an email, Kazakh where Django's own strings showed Russian."""

import html
import os
import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from django.conf import settings as django_settings

from civic.accounts.tokens import email_change_url, email_verification_url
from proposals.answers.emails import answer_email
from proposals.answers.tokens import unsubscribe_url
from proposals.emails import decision_email
from proposals.models import Proposal
from proposals.services import proposal_moderate, proposal_submit

pytestmark = pytest.mark.django_db


# --- language switch when the cookie and the URL disagree ----------------------------------------


@pytest.mark.parametrize("cookie", ["kk", "en", "ru"])
@pytest.mark.parametrize("target", ["ru", "kk", "en"])
def test_switching_leads_to_the_same_page_in_the_chosen_language_whatever_the_cookie(
    client, cookie, target
):
    # A visitor who chose Қазақ earlier opens a shared /ru/ link, then picks a language.
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = cookie
    response = client.post("/language/", {"language": target, "next": "/ru/proposals/3/"})
    assert response.status_code == 302
    assert response.url == f"/{target}/proposals/3/"
    assert response.cookies[django_settings.LANGUAGE_COOKIE_NAME].value == target


def test_switching_twice_after_a_shared_link_keeps_working(client):
    client.post("/language/", {"language": "kk", "next": "/ru/proposals/"})
    assert (
        client.post("/language/", {"language": "en", "next": "/ru/proposals/"}).url
        == "/en/proposals/"
    )
    assert (
        client.post("/language/", {"language": "ru", "next": "/en/proposals/"}).url
        == "/ru/proposals/"
    )


# --- one base for every link in an email -----------------------------------------------------

SITE = "http://civic.test:8411"
LINK = re.compile(r"https?://\S+")


@pytest.fixture
def site_url(settings):
    settings.CIVIC_SITE_URL = SITE
    return SITE


def test_password_reset_link_starts_with_the_site_url_not_the_requests_host(
    client, resident, mailoutbox, site_url
):
    # The request comes to another host than the configured one: the link follows the setting,
    # as every other email's links do (a worker sending mail sees no request).
    client.post("/ru/password-reset/", {"email": resident.email}, HTTP_HOST="localhost")
    [mail] = mailoutbox
    [link] = LINK.findall(mail.body)
    assert link.startswith(f"{SITE}/ru/password-reset/"), link


def test_every_other_email_link_starts_with_the_site_url(resident, site_url):
    event = SimpleNamespace(
        proposal=SimpleNamespace(code="ALA2050-000001", title="Свет"),
        action="approve",
        reason="",
        note="",
    )
    _, body = decision_email(event, "kk")
    proposal = SimpleNamespace(code="ALA2050-000001", title="Свет", pk=7, author_id=resident.pk)
    answer = SimpleNamespace(outcome="accepted", text="Да")
    _, answer_body = answer_email(
        proposal=proposal, answer=answer, recipient=resident, language="en"
    )
    links = [
        email_verification_url("t", "kk"),
        email_change_url("t", "en"),
        unsubscribe_url(resident, "ru"),
        *LINK.findall(body),
        *LINK.findall(answer_body),
    ]
    assert len(links) >= 5
    assert all(link.startswith(f"{SITE}/") for link in links), links


def test_make_run_gives_the_emails_the_address_it_serves_on(tmp_path):
    # Run `make run PORT=8411` with a stand-in python that prints the address it is given.
    fake = tmp_path / "bin" / "python"
    fake.parent.mkdir()
    fake.write_text('#!/bin/sh\necho "site=$CIVIC_SITE_URL"\n')
    fake.chmod(0o755)
    environment = {k: v for k, v in os.environ.items() if k != "CIVIC_SITE_URL"}

    def run(*arguments: str) -> set[str]:
        result = subprocess.run(
            ["make", "-s", f"VENV={tmp_path}", "run", *arguments],
            cwd=Path(__file__).resolve().parents[2],
            env=environment,
            capture_output=True,
            text=True,
            check=True,
        )
        return {line for line in result.stdout.splitlines() if line.startswith("site=")}

    assert run("PORT=8411") == {"site=http://127.0.0.1:8411"}
    # A deployment that sets the address keeps it.
    environment["CIVIC_SITE_URL"] = "https://civic.example.kz"
    assert run("PORT=8411") == {"site=https://civic.example.kz"}


# --- Kazakh where Django's own strings showed Russian ----------------------------------------
# These two pass once tr12-lang.tsv is merged into the catalogues (make messages, then merge).

RUSSIAN = re.compile(r"[Пп]ароль|Введ|символ|Новый|Подтвержд")


def test_a_kazakh_page_writes_the_month_in_lowercase_mid_date(
    client, resident, strategy, moderator
):
    proposal = proposal_moderate(
        proposal=proposal_submit(
            author=resident,
            strategy=strategy,
            title="Больше деревьев во дворах",
            body="Посадить деревья вдоль арыков и починить освещение во дворах.",
        ),
        moderator=moderator,
        decision="approve",
    )
    Proposal.objects.filter(pk=proposal.pk).update(created_at=datetime(2026, 9, 16, 10, tzinfo=UTC))
    page = html.unescape(client.get(f"/kk/proposals/{proposal.pk}/").content.decode())
    assert "2026 ж. 16 қыркүйек" in page
    assert "Қыркүйек" not in page


def test_the_kazakh_reset_page_gives_the_password_rules_and_errors_in_kazakh(
    client, resident, mailoutbox
):
    client.post("/kk/password-reset/", {"email": resident.email})
    [link] = LINK.findall(mailoutbox[0].body)
    form = client.get(urlsplit(link).path, follow=True)
    page = html.unescape(form.content.decode())
    assert "Құпиясөз жиі қолданылатын құпиясөз болмауы керек." in page
    assert "Құпиясөз тек цифрлардан тұрмауы керек." in page
    assert "Жаңа құпиясөз" in page
    assert not RUSSIAN.search(page), RUSSIAN.search(page)
    assert "құпия сөз" not in page.lower()

    response = client.post(
        form.redirect_chain[-1][0], {"new_password1": "12345678", "new_password2": "12345678"}
    )
    page = html.unescape(response.content.decode())
    assert "Бұл құпиясөз тым жиі қолданылады." in page
    assert "Құпиясөз тек цифрлардан тұрады." in page
    assert not RUSSIAN.search(page), RUSSIAN.search(page)
