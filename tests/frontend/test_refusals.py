"""What the pages refuse and how they say it: in the visitor's language, with statuses by
name, within the API's rate limits, never with a 500."""

import html
import re

import pytest
from django.core import mail
from django.utils import translation

from frontend.throttling import PageThrottle
from proposals.labels import STATUS
from proposals.models import Proposal
from proposals.services import proposal_moderate, proposal_submit
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

BODY = "Посадить деревья вдоль арыков и починить освещение во дворах."


def _text(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def pending(strategy, resident):
    return proposal_submit(author=resident, strategy=strategy, title="Больше деревьев", body=BODY)


@pytest.fixture
def published(pending, moderator):
    return proposal_moderate(proposal=pending, moderator=moderator, decision="approve")


@pytest.fixture
def rates(monkeypatch):
    def set_rate(scope: str, rate: str) -> None:
        monkeypatch.setattr(PageThrottle, "THROTTLE_RATES", {scope: rate})

    return set_rate


def test_a_duplicate_search_with_a_nul_byte_is_a_400_not_a_500(client, moderator, pending):
    client.force_login(moderator)
    response = client.get(f"/ru/moderation/{pending.pk}/", {"dup_q": "парк\x00"})
    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()


@pytest.mark.parametrize(
    ("language", "limits"),
    [("kk", "Таңба саны"), ("ru", "символов"), ("en", "characters")],
)
def test_the_length_limits_are_written_in_the_pages_language(
    client, resident, strategy, language, limits
):
    client.force_login(resident)
    page = _text(client.get(f"/{language}/proposals/new/"))
    assert limits in page
    assert "от 5 до 200" not in page or language == "ru"


def test_a_refusal_names_the_status_not_its_code(client, resident, published):
    client.force_login(resident)
    response = client.post(f"/kk/proposals/{published.pk}/withdraw/", follow=True)
    page = _text(response)
    with translation.override("kk"):
        label = str(STATUS["published"])
    assert label in page
    assert "«published»" not in page


def test_a_published_proposal_can_only_be_taken_down(client, moderator, published):
    client.force_login(moderator)
    page = client.get(f"/ru/moderation/{published.pk}/").content.decode()
    offered = set(re.findall(r'name="decision" value="([a-z_]+)"', page))
    assert offered == {"reject"}


def test_the_bulk_decision_is_a_labelled_select_without_duplicate(client, moderator, pending):
    client.force_login(moderator)
    page = client.get("/ru/moderation/").content.decode()
    assert re.search(r'<label for="id_decision">', page)
    assert re.search(r'<select name="decision"[^>]*id="id_decision"', page)
    reasons = re.search(r'<select name="reason".*?</select>', page, re.S).group(0)
    assert 'value="duplicate"' not in reasons


def test_kazakh_pages_write_dates_year_first_on_a_24_hour_clock(client, moderator, pending):
    client.force_login(moderator)
    page = _text(client.get(f"/kk/moderation/{pending.pk}/"))
    assert re.search(r"\d{4} ж\. \d{1,2} \w+, \d{2}:\d{2}", page)
    assert "a.m." not in page and "p.m." not in page


def test_sign_ups_from_one_address_are_limited_like_the_apis(
    client, rates, django_capture_on_commit_callbacks
):
    rates("register", "2/hour")
    statuses = []
    for n in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                "/ru/signup/",
                {
                    "display_name": f"Житель {n}",
                    "email": f"p{n}@example.kz",
                    "password": "Tulip-1987!",
                    "accept_terms": "on",
                },
            )
        statuses.append(response.status_code)
    assert statuses == [302, 302, 429]
    assert response["Retry-After"]
    assert len(mail.outbox) == 2


def test_submissions_are_limited_like_the_apis(client, resident, strategy, rates):
    rates("submit", "1/hour")
    client.force_login(resident)
    data = {"strategy": strategy.slug, "title": "Новый сквер", "body": BODY}
    assert client.post("/ru/proposals/new/", data).status_code == 302
    assert client.post("/ru/proposals/new/", data).status_code == 429
    assert Proposal.objects.count() == 1


def test_reactions_are_limited_like_the_apis(client, published, rates):
    rates("react", "1/minute")
    client.force_login(UserFactory())
    assert (
        client.post(f"/ru/proposals/{published.pk}/reaction/", {"kind": "like"}).status_code == 302
    )
    assert (
        client.post(f"/ru/proposals/{published.pk}/reaction/", {"kind": "funny"}).status_code == 429
    )
    assert list(published.reactions.values_list("kind", flat=True)) == ["like"]


def test_resending_the_verification_link_is_limited(
    client, rates, django_capture_on_commit_callbacks
):
    rates("register", "1/hour")
    user = UserFactory(email_verified=False)
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post("/ru/verify-email/resend/").status_code == 302
        assert client.post("/ru/verify-email/resend/").status_code == 429
    assert len(mail.outbox) == 1


def test_the_api_limits_resending_too(monkeypatch):
    from rest_framework.throttling import ScopedRateThrottle

    from tests.conftest import client_for

    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"register": "1/hour"})
    api = client_for(UserFactory(email_verified=False))
    assert api.post("/api/v1/auth/verify-email/resend/").status_code == 202
    response = api.post("/api/v1/auth/verify-email/resend/")
    assert response.status_code == 429
    assert response["Retry-After"]


def test_reports_ordered_from_the_page_are_limited_like_the_apis(client, analyst, strategy, rates):
    rates("report", "1/hour")
    client.force_login(analyst)
    data = {"strategy": strategy.slug, "format": "html"}
    assert client.post("/ru/analysis/reports/order/", data).status_code == 302
    assert client.post("/ru/analysis/reports/order/", data).status_code == 429
    assert analyst.reports.count() == 1
