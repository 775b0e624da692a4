"""Cross-cutting parts of the HTTP contract: schema, body limits, rate limits, locale."""

import pytest
from rest_framework.throttling import ScopedRateThrottle

from tests.conftest import client_for

pytestmark = pytest.mark.django_db

CONTRACT_PATHS = [
    "/api/v1/auth/register/",
    "/api/v1/auth/verify-email/",
    "/api/v1/auth/token/",
    "/api/v1/auth/me/",
    "/api/v1/themes/",
    "/api/v1/districts/",
    "/api/v1/strategies/",
    "/api/v1/strategies/{slug}/",
    "/api/v1/strategies/{slug}/tallies/",
    "/api/v1/proposals/",
    "/api/v1/proposals/{proposal_id}/",
    "/api/v1/proposals/{proposal_id}/withdraw/",
    "/api/v1/proposals/{proposal_id}/moderation/",
    "/api/v1/proposals/{proposal_id}/history/",
    "/api/v1/proposals/{proposal_id}/reaction/",
    "/api/v1/me/proposals/",
]


def test_openapi_schema_describes_every_contract_path(api):
    response = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert set(CONTRACT_PATHS) <= set(schema["paths"])
    submit = schema["paths"]["/api/v1/proposals/"]["post"]
    assert "201" in submit["responses"]
    list_params = {p["name"] for p in schema["paths"]["/api/v1/proposals/"]["get"]["parameters"]}
    assert {
        "strategy",
        "section",
        "theme",
        "district",
        "language",
        "status",
        "created_after",
        "created_before",
        "q",
        "ordering",
        "page",
        "page_size",
    } <= list_params


def test_api_docs_page_is_served(api):
    response = api.get("/api/docs/")
    assert response.status_code == 200
    assert b"swagger" in response.content.lower()


def test_rate_limited_submissions_get_429_with_retry_after(strategy, resident, monkeypatch):
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"submit": "2/minute"})
    client = client_for(resident)
    body = {
        "strategy": strategy.slug,
        "title": "Арыки вдоль Жандосова",
        "body": "Арыки забиты мусором, деревья сохнут, нужна регулярная чистка.",
    }
    assert [client.post("/api/v1/proposals/", body).status_code for _ in range(2)] == [201, 201]
    response = client.post("/api/v1/proposals/", body)
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert response.json()["code"] == "throttled"


@pytest.mark.parametrize(
    ("header", "name"),
    [("ru", "Экология"), ("kk", "Экология"), ("en", "Ecology"), ("", "Экология")],
)
def test_localised_names_follow_accept_language(api, header, name):
    themes = api.get("/api/v1/themes/", HTTP_ACCEPT_LANGUAGE=header).json()
    assert {t["slug"]: t["name"] for t in themes}["ecology"] == name


def test_reference_data_exists_after_migrate(api):
    themes = {t["slug"] for t in api.get("/api/v1/themes/").json()}
    assert {
        "ecology",
        "transport",
        "safety",
        "urban_planning",
        "housing_utilities",
        "economy_jobs",
        "education",
        "health",
        "culture",
        "social",
        "digital",
        "governance",
    } <= themes
    districts = {d["slug"] for d in api.get("/api/v1/districts/").json()}
    assert districts == {
        "alatau",
        "almaly",
        "auezov",
        "bostandyk",
        "zhetysu",
        "medeu",
        "nauryzbay",
        "turksib",
    }


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"]
)
def test_a_body_that_is_not_json_is_a_400_whatever_it_claims(strategy, resident, content_type):
    from proposals.models import Proposal

    response = client_for(resident).generic(
        "POST", "/api/v1/proposals/", "title=Hello&body=world", content_type=content_type
    )
    assert response.status_code == 400
    assert response.json()["code"] == "not_json"
    assert not Proposal.objects.exists()


HUGE = "9" * 30


@pytest.mark.parametrize(
    "url",
    [
        f"/api/v1/proposals/?section={HUGE}",
        f"/api/v1/proposals/{HUGE}/",
        f"/api/v1/proposals/{HUGE}/history/",
        f"/api/v1/proposals/?page={HUGE}",
        "/api/v1/proposals/?section=-1",
    ],
)
def test_numbers_out_of_any_column_range_are_4xx(moderator, url):
    client = client_for(moderator)
    client.raise_request_exception = False
    assert 400 <= client.get(url).status_code < 500


def test_a_huge_page_size_is_capped(api):
    response = api.get(f"/api/v1/proposals/?page_size={HUGE}")
    assert response.status_code == 200


def test_ids_out_of_range_in_bodies_are_400(strategy, resident, moderator):
    from tests.factories import ProposalFactory

    response = client_for(resident).post(
        "/api/v1/proposals/",
        {"strategy": strategy.slug, "title": "Освещение", "body": "x" * 30, "section": 10**30},
    )
    assert response.status_code == 400
    assert "section" in response.json()
    pending = ProposalFactory(strategy=strategy, status="pending")
    response = client_for(moderator).post(
        f"/api/v1/proposals/{pending.pk}/moderation/",
        {"decision": "reject", "reason": "duplicate", "duplicate_of": -(10**30)},
    )
    assert response.status_code == 400
    assert "duplicate_of" in response.json()
