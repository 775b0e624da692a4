"""Scripts on the sign-up and submit forms are refused quietly (issue 11, finding 7).

Two checks a person never notices: a honeypot field that is hidden from people and
filled by scripts, and a minimum time between the page and the post, read from a signed
stamp the page carries (so no script can claim to have waited). A refusal answers as a
success does: the same redirect and the same kind of message, with nothing created.

The rest of the suite runs with CIVIC_FORM_MIN_SECONDS = 0 (tests/conftest.py), which
turns the time check off; here it is the production default, 3 seconds.
"""

import html
import re
import time

import pytest
from django.core import mail, signing
from django.utils import translation
from django.utils.translation import gettext

from civic.accounts.models import User
from frontend import bots
from proposals.models import Proposal
from proposals.services import proposal_moderate
from tests.conftest import page_client_for

pytestmark = pytest.mark.django_db

STRONG = "Tulip-Garden-1987!"
TITLE = "Больше деревьев во дворах"
BODY = "Посадить деревья вдоль арыков и починить освещение во дворах."
HIDDEN_WRAPPER = re.compile(r'<div class="visually-hidden" aria-hidden="true">(.*?)</div>', re.S)


@pytest.fixture(autouse=True)
def _production_fill_time(settings):
    settings.CIVIC_FORM_MIN_SECONDS = 3


def _page(response) -> str:
    return html.unescape(response.content.decode())


def _without_csrf(page: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", page)


def _stamp(page: str) -> str:
    return re.search(rf'name="{bots.STAMP}" value="([^"]+)"', page).group(1)


def _aged(form: str, seconds: float = 10) -> str:
    """The stamp of a page opened `seconds` ago, as a person's browser would send it."""
    return bots.stamp_make(form=form, at=time.time() - seconds)


def _signup(**more) -> dict:
    return {
        "display_name": "Новый житель",
        "email": "new@example.kz",
        "password": STRONG,
        "district": "",
        "accept_terms": "on",
        **more,
    }


def _submission(strategy, **more) -> dict:
    return {
        "strategy": strategy.slug,
        "section": "",
        "title": TITLE,
        "body": BODY,
        "district": "",
        "themes": [],
        **more,
    }


# --- what the pages carry ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "path", "form"),
    [(None, "/en/signup/", "signup"), ("resident", "/en/proposals/new/", "submit")],
)
def test_the_form_carries_a_hidden_honeypot_and_a_signed_stamp(request, strategy, who, path, form):
    user = request.getfixturevalue(who) if who else None
    before = time.time()
    page = _page(page_client_for(user).get(path))
    [wrapper] = HIDDEN_WRAPPER.findall(page)
    # People never see it or reach it with Tab; a screen reader skips it; if styles are
    # off, its label says what to do.
    assert f'name="{bots.HONEYPOT}"' in wrapper
    assert 'autocomplete="off"' in wrapper and 'tabindex="-1"' in wrapper
    assert "Leave this empty" in wrapper
    assert "required" not in wrapper
    assert page.count(f'name="{bots.HONEYPOT}"') == 1
    assert f'type="hidden" name="{bots.STAMP}"' in page
    started = signing.loads(_stamp(page), salt=f"frontend.bots.{form}")
    assert before - 1 <= started <= time.time()


def test_the_stamp_cannot_be_forged_or_moved_to_the_other_form():
    real = _aged("signup")
    assert bots.stamp_age(real, form="signup") == pytest.approx(10, abs=1)
    assert bots.stamp_age(real, form="submit") is None  # salted per form
    assert bots.stamp_age(real[:-2] + "xx", form="signup") is None
    assert bots.stamp_age(signing.dumps(time.time() - 60), form="signup") is None  # unsalted
    assert bots.stamp_age(signing.dumps("soon", salt="frontend.bots.signup"), form="signup") is None
    for junk in ("", None, "1700000000", "a" * 5000):
        assert bots.stamp_age(junk, form="signup") is None


# --- sign-up -------------------------------------------------------------------------------------


def test_a_person_who_took_their_time_signs_up(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/ru/signup/", _signup(**{bots.STAMP: _aged("signup")}))
    assert response.status_code == 302
    assert response.url == "/ru/signup/done/"
    assert User.objects.filter(email="new@example.kz").exists()
    assert len(mail.outbox) == 1


@pytest.mark.parametrize(
    "case",
    [
        "honeypot",
        "too-fast",
        "no-stamp",
        "forged-stamp",
        "stamp-of-the-other-form",
    ],
)
def test_a_script_gets_the_check_your_email_page_and_no_account(
    client, django_capture_on_commit_callbacks, case
):
    stamps = {
        "honeypot": _aged("signup"),
        "too-fast": bots.stamp_make(form="signup"),
        "no-stamp": None,
        "forged-stamp": _aged("signup")[:-3] + "abc",
        "stamp-of-the-other-form": _aged("submit"),
    }
    data = _signup()
    if stamps[case]:
        data[bots.STAMP] = stamps[case]
    if case == "honeypot":
        data[bots.HONEYPOT] = "http://cheap-windows.example"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/ru/signup/", data, follow=True)
    # What a person sees after signing up: the redirect and the "check your email" page.
    assert response.redirect_chain == [("/ru/signup/done/", 302)]
    assert response.status_code == 200
    with translation.override("ru"):
        assert gettext("Check your email") in _page(response)
    assert not User.objects.filter(email="new@example.kz").exists()
    assert mail.outbox == []


def test_a_script_and_a_person_see_the_same_page(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        person = client.post("/ru/signup/", _signup(**{bots.STAMP: _aged("signup")}), follow=True)
    script = page_client_for(None).post("/ru/signup/", _signup(email="bot@example.kz"), follow=True)
    assert script.redirect_chain == person.redirect_chain
    assert _without_csrf(_page(script)) == _without_csrf(_page(person))
    assert not User.objects.filter(email="bot@example.kz").exists()


def test_a_refused_form_is_still_shown_with_its_errors_and_keeps_its_stamp(client):
    stamp = _aged("signup")
    response = client.post("/ru/signup/", _signup(password="12345678", **{bots.STAMP: stamp}))
    assert response.status_code == 400
    # Fixing the password takes less than the minimum; the time counts from the first view.
    assert _stamp(_page(response)) == stamp


def test_a_form_posted_without_a_stamp_comes_back_with_a_fresh_one(client):
    response = client.post("/ru/signup/", _signup(email="not-an-email"))
    assert response.status_code == 400
    assert bots.stamp_age(_stamp(_page(response)), form="signup") == pytest.approx(0, abs=2)


def test_with_the_time_check_off_the_honeypot_still_holds(client, settings):
    settings.CIVIC_FORM_MIN_SECONDS = 0
    response = client.post("/ru/signup/", _signup(email="fast@example.kz"))
    assert response.status_code == 302
    assert User.objects.filter(email="fast@example.kz").exists()
    response = client.post("/ru/signup/", _signup(email="pot@example.kz", **{bots.HONEYPOT: "x"}))
    assert response.url == "/ru/signup/done/"
    assert not User.objects.filter(email="pot@example.kz").exists()


# --- submitting a proposal -------------------------------------------------------------------


def test_a_person_who_took_their_time_submits(resident, strategy):
    client = page_client_for(resident)
    response = client.post(
        "/ru/proposals/new/", _submission(strategy, **{bots.STAMP: _aged("submit")})
    )
    assert response.status_code == 302
    assert response.url == "/ru/me/proposals/"
    assert Proposal.objects.filter(author=resident, title=TITLE).count() == 1


@pytest.mark.parametrize("case", ["honeypot", "too-fast", "no-stamp", "stamp-of-the-other-form"])
def test_a_script_is_thanked_and_nothing_is_filed(resident, strategy, case):
    data = _submission(strategy)
    stamps = {
        "honeypot": _aged("submit"),
        "too-fast": bots.stamp_make(form="submit"),
        "no-stamp": None,
        "stamp-of-the-other-form": _aged("signup"),
    }
    if stamps[case]:
        data[bots.STAMP] = stamps[case]
    if case == "honeypot":
        data[bots.HONEYPOT] = "https://spam.example"
    response = page_client_for(resident).post("/en/proposals/new/", data, follow=True)
    assert response.redirect_chain == [("/en/me/proposals/", 302)]
    page = _page(response)
    assert "Thank you. Your proposal is waiting for a moderator." in page
    assert not Proposal.objects.exists()


def test_the_similar_proposals_step_does_not_make_a_person_too_fast(
    resident, other_resident, strategy, moderator, submit, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        proposal_moderate(
            proposal=submit(strategy, TITLE, BODY, author=other_resident),
            moderator=moderator,
            decision="approve",
        )
    client = page_client_for(resident)
    stamp = _aged("submit", seconds=4)
    first = client.post("/ru/proposals/new/", _submission(strategy, **{bots.STAMP: stamp}))
    assert first.status_code == 200 and 'name="confirmed_new"' in first.content.decode()
    # The person reads the list and submits anyway, within a second: the page kept the
    # time the form was first opened.
    again = _stamp(_page(first))
    assert again == stamp
    response = client.post(
        "/ru/proposals/new/", _submission(strategy, confirmed_new="1", **{bots.STAMP: again})
    )
    assert response.status_code == 302
    assert Proposal.objects.filter(author=resident).count() == 1
