"""The report pages: ordering from the analysis workspace and the list of one's reports."""

import html
import re

import pytest

from civic.accounts.services import role_grant
from proposals.models import Proposal, Report
from proposals.services import proposal_moderate, proposal_submit
from strategy.models import District, Theme
from tests.conftest import page_client_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

BODY = "Посадить деревья вдоль арыков и починить освещение во дворах."
ANALYSIS = "/ru/analysis/"
REPORTS = "/ru/analysis/reports/"
ORDER = "/ru/analysis/reports/order/"
REFRESH = re.compile(r'<meta\s+http-equiv="refresh"', re.I)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def proposals(strategy, resident, moderator) -> dict[str, Proposal]:
    published = proposal_moderate(
        proposal=proposal_submit(
            author=resident,
            strategy=strategy,
            title="Больше деревьев во дворах",
            body=BODY,
            district=District.objects.get(slug="medeu"),
            themes=[Theme.objects.get(slug="ecology"), Theme.objects.get(slug="transport")],
        ),
        moderator=moderator,
        decision="approve",
    )
    pending = proposal_submit(
        author=resident,
        strategy=strategy,
        title="Смог зимой над городом",
        body="Переведите частный сектор с угля на газ, дышать нечем.",
    )
    return {"published": published, "pending": pending}


def _hidden(page: str) -> list[tuple[str, str]]:
    """(name, value) of the hidden inputs of the report order form."""
    form = re.search(
        r'<form[^>]*action="/ru/analysis/reports/order/"[^>]*>(.*?)</form>', page, re.S
    )
    assert form, "no report order form"
    return [
        (html.unescape(name), html.unescape(value))
        for name, value in re.findall(
            r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form.group(1)
        )
    ]


def test_workspace_offers_an_order_form_with_the_current_filters(proposals, analyst):
    query = "?status=published&district=medeu&theme=ecology&theme=transport&q=деревьев"
    response = page_client_for(analyst).get(ANALYSIS + query)
    assert response.status_code == 200
    page = response.content.decode()
    hidden = _hidden(page)
    assert ("status", "published") in hidden
    assert ("district", "medeu") in hidden
    assert ("theme", "ecology") in hidden
    assert ("theme", "transport") in hidden
    assert ("q", "деревьев") in hidden
    assert ("strategy", "almaty-test") in hidden
    assert 'name="format"' in page
    for fmt in ("csv", "xlsx", "html"):
        assert f'<option value="{fmt}">' in page


def test_workspace_of_a_moderator_has_no_order_form(proposals, moderator):
    response = page_client_for(moderator).get(ANALYSIS)
    assert response.status_code == 200
    assert ORDER not in response.content.decode()


def test_ordering_from_the_page_builds_the_report(
    proposals, analyst, django_capture_on_commit_callbacks
):
    client = page_client_for(analyst)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            ORDER,
            {"format": "csv", "strategy": "almaty-test", "status": "published", "q": ""},
        )
    assert response.status_code == 302
    assert response["Location"] == REPORTS
    report = Report.objects.get()
    assert report.ordered_by == analyst
    assert report.format == "csv"
    assert report.filters == {"status": "published"}  # empty fields are no filters
    assert report.language == "ru"
    assert report.status == "done"
    assert report.row_count == 1

    response = client.get(REPORTS)
    assert response.status_code == 200
    page = response.content.decode()
    assert not REFRESH.search(page)  # nothing to wait for
    assert "Статус: Опубликовано" in page  # the filters by their names (issue 12)
    link = f'href="/ru/analysis/reports/{report.pk}/download/"'
    assert link in page
    # The link works for the signed-in analyst, as does the API's with the session.
    download = client.get(f"/ru/analysis/reports/{report.pk}/download/")
    assert download.status_code == 200
    assert client.get(f"/api/v1/reports/{report.pk}/download/").status_code == 200
    assert download["Content-Disposition"].startswith("attachment")
    assert proposals["published"].code.encode() in b"".join(download.streaming_content)


def test_ordering_with_several_themes_keeps_them_all(
    proposals, analyst, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = page_client_for(analyst).post(
            ORDER, {"format": "xlsx", "strategy": "almaty-test", "theme": ["ecology", "safety"]}
        )
    assert response.status_code == 302
    report = Report.objects.get()
    assert report.filters == {"theme": ["ecology", "safety"]}
    assert report.status == "done"
    assert report.row_count == 1


def test_report_is_built_in_the_pages_language(proposals, analyst):
    response = page_client_for(analyst).post(
        "/en/analysis/reports/order/", {"format": "html", "strategy": "almaty-test"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/en/analysis/reports/"
    assert Report.objects.get().language == "en"


def test_page_reloads_while_a_report_is_waiting(proposals, analyst):
    client = page_client_for(analyst)
    # Without the commit callbacks the build message is never sent: the report waits.
    response = client.post(ORDER, {"format": "html", "strategy": "almaty-test"}, follow=True)
    assert response.status_code == 200
    assert response.redirect_chain == [(REPORTS, 302)]
    report = Report.objects.get()
    assert report.status == "queued"
    page = response.content.decode()
    assert REFRESH.search(page)
    assert f"/reports/{report.pk}/download/" not in page
    assert re.search(rf'class="message[^"]*success[^"]*">[^<]*{report.pk}', page)

    Report.objects.filter(pk=report.pk).update(status="running", progress=40)
    page = client.get(REPORTS).content.decode()
    assert REFRESH.search(page)
    assert re.search(r'<progress[^>]*value="40"', page)


def test_a_failed_report_shows_its_error_and_no_refresh(proposals, analyst, strategy):
    Report.objects.create(
        ordered_by=analyst,
        strategy=strategy,
        format="csv",
        status="failed",
        error="The report could not be built: RuntimeError: disk full",
    )
    page = page_client_for(analyst).get(REPORTS).content.decode()
    assert "disk full" in page
    assert not REFRESH.search(page)


def test_reports_page_lists_only_ones_own(proposals, analyst, strategy):
    other = UserFactory()
    role_grant(user=other, role="analyst")
    mine = Report.objects.create(ordered_by=analyst, strategy=strategy, format="csv")
    theirs = Report.objects.create(
        ordered_by=other, strategy=strategy, format="xlsx", filters={"district": "alatau"}
    )
    page = page_client_for(analyst).get(REPORTS).content.decode()
    assert re.search(rf"<td>{mine.pk}</td>", page)
    assert not re.search(rf"<td>{theirs.pk}</td>", page)
    assert "district=alatau" not in page


@pytest.mark.parametrize("who", ["resident", "moderator"])
def test_reports_pages_refuse_who_cannot_order(who, request, proposals, strategy):
    user = request.getfixturevalue(who)
    client = page_client_for(user)
    assert client.get(REPORTS).status_code == 403
    response = client.post(ORDER, {"format": "csv", "strategy": "almaty-test"})
    assert response.status_code == 403
    assert Report.objects.count() == 0


def test_reports_pages_send_visitors_to_sign_in(strategy):
    client = page_client_for(None)
    response = client.get(REPORTS)
    assert response.status_code == 302
    assert "login" in response["Location"] or "sign" in response["Location"]
    response = client.post(ORDER, {"format": "csv", "strategy": "almaty-test"})
    assert response.status_code == 302
    assert Report.objects.count() == 0


def test_order_page_refuses_get(analyst):
    assert page_client_for(analyst).get(ORDER).status_code == 405


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(
            {"format": "csv", "strategy": "almaty-test", "district": "nope"}, id="district"
        ),
        pytest.param(
            {"format": "csv", "strategy": "almaty-test", "created_after": "not-a-date"}, id="date"
        ),
        pytest.param({"format": "pdf", "strategy": "almaty-test"}, id="format"),
        pytest.param({"format": "csv", "strategy": "no-such-strategy"}, id="strategy"),
    ],
)
def test_bad_order_creates_nothing_and_says_why(
    data, proposals, analyst, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = page_client_for(analyst).post(ORDER, data, follow=True)
    assert response.redirect_chain == [(REPORTS, 302)]
    assert response.status_code == 200
    assert Report.objects.count() == 0
    assert callbacks == []
    page = response.content.decode()
    errors = re.findall(r'<p class="message[^"]*error[^"]*">([^<]+)</p>', page)
    assert errors and all(e.strip() for e in errors), page
