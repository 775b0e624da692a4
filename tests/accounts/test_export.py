""" "Download my data": a JSON file of the account, its proposals, reactions and the events
about them, built in the background, private, one per account, removed after a while."""

import ast
import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from civic.accounts import personal_data
from civic.accounts.models import DataExport
from civic.accounts.tasks import data_export_expire, data_export_sweep
from proposals import services
from proposals.answers.services import answer_save
from tests.conftest import client_for, page_client_for
from tests.factories import SectionFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/auth/me/export/"
BODY = "Посадить деревья вдоль арыков и починить освещение во дворах."
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def history(strategy, resident, other_resident, moderator, admin_user):
    """The resident's proposals with decisions and an answer, their reactions, and what
    other people wrote and did (which must not reach the file)."""
    section = SectionFactory(strategy=strategy, code="1", title_ru="Зелёный город")
    trees = services.proposal_submit(
        author=resident,
        strategy=strategy,
        title="Больше деревьев во дворах",
        body=BODY,
        section=section,
    )
    trees = services.proposal_moderate(proposal=trees, moderator=moderator, decision="approve")
    answer_save(
        proposal=trees,
        responder=admin_user,
        outcome="accepted_in_part",
        text="Посадим весной в трёх дворах.",
        publish=True,
    )
    stop = services.proposal_submit(
        author=resident, strategy=strategy, title="Остановка у рынка", body=BODY
    )
    services.proposal_moderate(
        proposal=stop,
        moderator=moderator,
        decision="request_changes",
        note="Уточните адрес остановки.",
    )
    theirs = services.proposal_submit(
        author=other_resident, strategy=strategy, title="Чужое предложение о фонтанах", body=BODY
    )
    theirs = services.proposal_moderate(proposal=theirs, moderator=moderator, decision="approve")
    services.reaction_set(proposal=theirs, user=resident, kind="sympathy")
    services.reaction_set(proposal=trees, user=other_resident, kind="outrage")
    return {"trees": trees, "stop": stop, "theirs": theirs}


def _request(client, capture):
    with capture(execute=True):
        return client.post(URL)


def _data(response) -> dict:
    assert response.status_code == 200, response.content
    return json.loads(b"".join(response.streaming_content))


# --- the flow --------------------------------------------------------------------------------


def test_nothing_requested_is_a_404(resident):
    response = client_for(resident).get(URL)
    assert response.status_code == 404


@pytest.mark.parametrize("method", ["get", "post"])
def test_visitors_are_refused(api, method):
    assert getattr(api, method)(URL).status_code in (401, 403)


def test_a_request_is_202_then_the_file_is_200(
    resident, history, django_capture_on_commit_callbacks
):
    client = client_for(resident)
    response = _request(client, django_capture_on_commit_callbacks)
    assert response.status_code == 202
    assert response.json() == {"status": "queued"}

    download = client.get(URL)
    assert download["Content-Type"].startswith("application/json")
    assert download["Content-Disposition"].startswith("attachment")
    assert download["Cache-Control"] == "private, no-store"
    data = _data(download)
    assert data["account"]["email"] == resident.email
    assert data["account"]["display_name"] == "Айгерим"
    assert data["account"]["consented_terms_version"] == "2026-11"
    assert data["terms_version"] == django_settings.CIVIC_TERMS_VERSION
    assert {p["code"] for p in data["proposals"]} == {history["trees"].code, history["stop"].code}
    trees = next(p for p in data["proposals"] if p["code"] == history["trees"].code)
    assert trees["title"] == "Больше деревьев во дворах"
    assert trees["status"] == "published"
    assert trees["section"] == "1"
    assert trees["answer"]["outcome"] == "accepted_in_part"
    assert trees["answer"]["text"] == "Посадим весной в трёх дворах."
    # Their own reactions, not those of others on their proposals.
    assert data["reactions"] == [
        {
            "proposal": history["theirs"].code,
            "kind": "sympathy",
            "created_at": data["reactions"][0]["created_at"],
            "updated_at": data["reactions"][0]["updated_at"],
        }
    ]
    events = [(e["proposal"], e["action"], e["actor"]) for e in data["events"]]
    assert (history["trees"].code, "submit", "Айгерим") in events
    assert (history["trees"].code, "approve", "Модератор") in events
    assert (history["stop"].code, "request_changes", "Модератор") in events
    note = next(e["note"] for e in data["events"] if e["action"] == "request_changes")
    assert note == "Уточните адрес остановки."
    assert all(e["proposal"] != history["theirs"].code for e in data["events"])


def test_the_file_never_holds_other_peoples_emails(
    resident,
    other_resident,
    moderator,
    admin_user,
    history,
    media,
    django_capture_on_commit_callbacks,
):
    _request(client_for(resident), django_capture_on_commit_callbacks)
    raw = b"".join(client_for(resident).get(URL).streaming_content)
    for person in (other_resident, moderator, admin_user):
        assert person.email.encode() not in raw
    # The other resident's own text and name are not theirs to take either.
    assert "Дмитрий".encode() not in raw
    assert "Чужое предложение".encode() not in raw


def test_while_it_builds_the_answer_is_202_with_the_status(resident):
    DataExport.objects.create(user=resident)
    response = client_for(resident).get(URL)
    assert response.status_code == 202
    assert response.json() == {"status": "queued"}


def test_a_failed_build_says_so(resident):
    DataExport.objects.create(user=resident, status="failed", error="boom")
    response = client_for(resident).get(URL)
    assert response.status_code == 409
    assert response.json()["code"] == "export_failed"
    assert response.json()["status"] == "failed"


def test_each_account_sees_only_its_own(
    resident, other_resident, django_capture_on_commit_callbacks
):
    _request(client_for(resident), django_capture_on_commit_callbacks)
    assert client_for(other_resident).get(URL).status_code == 404


def test_the_file_is_private_under_media_exports(
    client, resident, media, django_capture_on_commit_callbacks
):
    _request(client_for(resident), django_capture_on_commit_callbacks)
    export_row = DataExport.objects.get()
    path = Path(export_row.file.path)
    assert path.parent == media / "exports"
    assert path.is_file()
    assert not str(path).startswith(str(django_settings.STATIC_ROOT))
    # Nothing serves MEDIA_ROOT: the only way to the file is the owner's request.
    for url in (f"/media/{export_row.file.name}", f"/{export_row.file.name}"):
        assert client.get(url).status_code == 404
    assert oct(path.stat().st_mode & 0o777) == oct(0o600)


def test_one_per_account_and_a_new_request_rebuilds_it(
    resident, strategy, media, django_capture_on_commit_callbacks
):
    client = client_for(resident)
    _request(client, django_capture_on_commit_callbacks)
    first = DataExport.objects.get()
    first_path = Path(first.file.path)
    assert _data(client.get(URL))["proposals"] == []

    services.proposal_submit(
        author=resident, strategy=strategy, title="Новое предложение", body=BODY
    )
    response = _request(client, django_capture_on_commit_callbacks)

    assert response.status_code == 202
    assert DataExport.objects.count() == 1
    assert [p["title"] for p in _data(client.get(URL))["proposals"]] == ["Новое предложение"]
    files = list((media / "exports").iterdir())
    assert len(files) == 1
    assert files[0] == Path(DataExport.objects.get().file.path)
    assert first_path not in files or first_path == files[0]


def test_files_expire_after_the_retention_period(
    resident, media, settings, django_capture_on_commit_callbacks
):
    settings.CIVIC_EXPORT_RETENTION_DAYS = 7
    _request(client_for(resident), django_capture_on_commit_callbacks)
    path = Path(DataExport.objects.get().file.path)

    assert data_export_expire() == 0
    assert path.is_file()
    DataExport.objects.update(finished_at=timezone.now() - timedelta(days=8))
    assert data_export_expire() == 1

    assert not path.exists()
    assert not DataExport.objects.exists()
    assert client_for(resident).get(URL).status_code == 404


def test_the_expiry_runs_on_beat():
    schedule = {entry["task"] for entry in django_settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"accounts.data_export_expire", "accounts.data_export_sweep"} <= schedule


def test_the_sweep_rebuilds_an_export_whose_message_was_lost(
    resident, django_capture_on_commit_callbacks
):
    # The intent is in the table; the message never reached a worker.
    DataExport.objects.create(user=resident, requested_at=timezone.now() - timedelta(minutes=10))
    with django_capture_on_commit_callbacks(execute=True):
        assert data_export_sweep() == 1
    export_row = DataExport.objects.get()
    assert export_row.status == "done"
    assert Path(export_row.file.path).is_file()


def test_the_sweep_takes_over_a_build_whose_worker_died(
    resident, django_capture_on_commit_callbacks
):
    DataExport.objects.create(
        user=resident,
        status="running",
        attempt=1,
        requested_at=timezone.now() - timedelta(hours=2),
        started_at=timezone.now() - timedelta(hours=2),
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert data_export_sweep() == 1
    assert DataExport.objects.get().status == "done"


def test_a_build_is_idempotent(resident, django_capture_on_commit_callbacks):
    _request(client_for(resident), django_capture_on_commit_callbacks)
    export_row = DataExport.objects.get()
    # A redelivered message finds it done and leaves it.
    from civic.accounts.tasks import data_export_build

    data_export_build(export_row.pk)
    assert DataExport.objects.get().finished_at == export_row.finished_at


def test_the_owner_downloads_from_the_profile_page(
    resident, history, django_capture_on_commit_callbacks
):
    client = page_client_for(resident)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/ru/me/export/")
    assert response.status_code == 302
    assert response.url == "/ru/me/profile/"
    page = client.get("/ru/me/profile/").content.decode()
    assert 'href="/ru/me/export/"' in page
    download = client.get("/ru/me/export/")
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment")
    data = json.loads(b"".join(download.streaming_content))
    assert data["account"]["email"] == resident.email
    assert page_client_for(None).get("/ru/me/export/").status_code == 302


def test_with_a_token_too(resident, django_capture_on_commit_callbacks):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=resident).key}")
    assert _request(client, django_capture_on_commit_callbacks).status_code == 202
    assert client.get(URL).status_code == 200


# --- the layering: civic does not import proposals --------------------------------------------------


def test_accounts_does_not_import_higher_apps_at_module_level():
    # civic/urls.py is the project's root and may; the accounts app may not.
    for path in (ROOT / "civic" / "accounts").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:  # module level only
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert not name.startswith(("proposals", "frontend")), (path, name)


def test_proposals_contributes_its_sections():
    assert "proposals" in personal_data.registered()
