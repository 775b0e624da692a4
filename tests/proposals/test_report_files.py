"""A finished report whose file is gone from MEDIA_ROOT (issue 18).

The row says the file was built, but the folder lost it: a media volume lost or restored
without it, or web processes that do not share MEDIA_ROOT with the workers. The download
answers 410, as for a file removed after its retention period, never a 500: from the API
as JSON, from the page as a page in the visitor's language; and the log says which file.
"""

import logging
from pathlib import Path

import pytest

from civic.accounts.services import role_grant
from proposals.models import Report
from proposals.reports.services import report_expire, report_order
from tests.conftest import client_for, page_client_for
from tests.factories import ProposalFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def report(strategy, analyst, django_capture_on_commit_callbacks) -> Report:
    ProposalFactory(strategy=strategy)
    with django_capture_on_commit_callbacks(execute=True):
        ordered = report_order(user=analyst, strategy_slug=strategy.slug, format="csv", filters={})
    ordered.refresh_from_db()
    assert ordered.status == Report.Status.DONE and ordered.file
    return ordered


def _lose_the_file(report: Report) -> None:
    Path(report.file.path).unlink()


def _api(report: Report) -> str:
    return f"/api/v1/reports/{report.pk}/download/"


def _page(report: Report, language: str = "en") -> str:
    return f"/{language}/analysis/reports/{report.pk}/download/"


def test_the_api_answers_410_for_a_file_gone_from_media_root(report, analyst, caplog):
    api = client_for(analyst)
    assert api.get(_api(report)).status_code == 200
    _lose_the_file(report)

    with caplog.at_level(logging.WARNING, logger="proposals.apis"):
        response = api.get(_api(report))
    assert response.status_code == 410
    body = response.json()
    # The code clients already handle for a removed file: order the report again.
    assert body["code"] == "expired"
    assert "order the report again" in body["detail"]
    # The operator learns which file and where it was looked for.
    assert report.file.name in caplog.text
    assert "MEDIA_ROOT" in caplog.text


def test_the_page_answers_410_with_a_page_that_says_so(report, analyst):
    client = page_client_for(analyst)
    download = client.get(_page(report))
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment")
    assert b"".join(download.streaming_content).startswith(b"\xef\xbb\xbf")
    _lose_the_file(report)

    response = client.get(_page(report))
    assert response.status_code == 410
    page = response.content.decode()
    assert "The report file is no longer available" in page
    assert "The file is no longer on the server." in page
    assert f"№{report.pk}" in page
    assert 'href="/en/analysis/"' in page  # where to order it again


def test_the_page_answers_410_for_a_file_removed_after_retention(report, analyst, media):
    Report.objects.filter(pk=report.pk).update(finished_at=report.finished_at.replace(year=2000))
    assert report_expire() == 1
    response = page_client_for(analyst).get(_page(report, "ru"))
    assert response.status_code == 410
    assert "Удалён по истечении срока хранения" in response.content.decode()


def test_the_page_keeps_a_report_private_and_sends_a_waiting_one_to_the_list(
    report, strategy, analyst
):
    other_analyst = UserFactory()
    role_grant(user=other_analyst, role="analyst")
    assert page_client_for(other_analyst).get(_page(report)).status_code == 404
    assert page_client_for(None).get(_page(report)).status_code == 302  # sign in first

    Report.objects.filter(pk=report.pk).update(status=Report.Status.QUEUED, file="")
    response = page_client_for(analyst).get(_page(report))
    assert response.status_code == 302
    assert response["Location"] == "/en/analysis/reports/"
