""" "Delete my account": sign-in data, email, tokens and sessions go; proposals stay, shown as
by a former resident; reactions go, and tallies and reports stay equal to the rows."""

import csv
import io
from pathlib import Path

import pytest
from django.contrib.sessions.models import Session
from django.core import mail
from django.test import Client
from django.utils import translation
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from civic.accounts.models import FORMER_RESIDENT, DataExport, User
from civic.accounts.services import user_delete
from civic.errors import NotAllowed
from proposals import services
from proposals.models import Proposal, Reaction, Report, Tally
from proposals.tallies.services import tally_compute, tally_rebuild
from tests.conftest import client_for, page_client_for
from tests.factories import StrategyFactory, UserFactory

pytestmark = pytest.mark.django_db

ME = "/api/v1/auth/me/"
PASSWORD = "correct horse battery"  # the factories' password
BODY = "Посадить деревья вдоль арыков и починить освещение во дворах."
SECRET_EMAIL = "leaving.resident.k4z@private-mail.example"
SECRET_NAME = "Ержан Уходящий"


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def leaving(db):
    return UserFactory(email=SECRET_EMAIL, display_name=SECRET_NAME)


@pytest.fixture
def world(strategy, leaving, other_resident, moderator):
    """The leaving resident's proposals (one published with reactions, one pending) and
    reactions on two strategies."""
    second = StrategyFactory(slug="second-city", code_prefix="SEC")
    mine = services.proposal_moderate(
        proposal=services.proposal_submit(
            author=leaving, strategy=strategy, title="Фонари на Абая", body=BODY
        ),
        moderator=moderator,
        decision="approve",
    )
    pending = services.proposal_submit(
        author=leaving, strategy=strategy, title="Питьевые фонтанчики", body=BODY
    )
    theirs = services.proposal_moderate(
        proposal=services.proposal_submit(
            author=other_resident, strategy=strategy, title="Велодорожки у реки", body=BODY
        ),
        moderator=moderator,
        decision="approve",
    )
    elsewhere = services.proposal_moderate(
        proposal=services.proposal_submit(
            author=other_resident, strategy=second, title="Парк у вокзала", body=BODY
        ),
        moderator=moderator,
        decision="approve",
    )
    services.reaction_set(proposal=theirs, user=leaving, kind="like")
    services.reaction_set(proposal=elsewhere, user=leaving, kind="outrage")
    services.reaction_set(proposal=mine, user=leaving, kind="like")
    services.reaction_set(proposal=mine, user=other_resident, kind="funny")
    return {
        "mine": mine,
        "pending": pending,
        "theirs": theirs,
        "elsewhere": elsewhere,
        "second": second,
    }


def _token(user) -> str:
    return Token.objects.create(user=user).key


def _delete(client, password=PASSWORD, capture=None):
    data = {} if password is None else {"password": password}
    if capture is None:
        return client.delete(ME, data, format="json")
    with capture(execute=True):
        return client.delete(ME, data, format="json")


def _tally_reactions(strategy) -> dict[str, int]:
    return Tally.objects.get(strategy=strategy).data["reactions"]


def _row_reactions(strategy) -> dict[str, int]:
    counts = dict.fromkeys(Reaction.Kind.values, 0)
    for kind in Reaction.objects.filter(
        proposal__strategy=strategy, proposal__status="published"
    ).values_list("kind", flat=True):
        counts[kind] += 1
    return counts


# --- refusals -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "status"), [(None, 400), ("", 400), ("wrong password", 403), (123, 400)]
)
def test_a_missing_or_wrong_password_deletes_nothing(leaving, password, status):
    response = _delete(client_for(leaving), password)
    assert response.status_code == status, response.content
    if status == 400:
        assert "password" in response.json()
    user = User.objects.get(pk=leaving.pk)
    assert (user.email, user.is_active, user.deleted_at) == (SECRET_EMAIL, True, None)


def test_visitors_cannot_delete_anything(api):
    assert _delete(api).status_code in (401, 403)


def test_staff_accounts_are_closed_by_an_administrator_not_here(moderator):
    response = _delete(client_for(moderator))
    assert response.status_code == 403
    assert response.json()["code"] == "staff_account"
    assert User.objects.get(pk=moderator.pk).is_active


# --- what goes and what stays ------------------------------------------------------------------


def test_deleting_removes_sign_in_data_email_tokens_and_sessions(
    leaving, world, django_capture_on_commit_callbacks
):
    token = _token(leaving)
    browser = Client()
    assert browser.login(email=SECRET_EMAIL, password=PASSWORD)
    assert browser.get("/ru/me/proposals/").status_code == 200
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")

    response = _delete(api, capture=django_capture_on_commit_callbacks)

    assert response.status_code == 204
    user = User.objects.get(pk=leaving.pk)
    assert user.email == f"deleted-{user.pk}@invalid"
    assert not user.has_usable_password()
    assert user.is_active is False
    assert user.display_name == FORMER_RESIDENT
    assert user.district is None
    assert user.notify_answers is False
    assert (user.notify_email, user.follow_automatically) == ("off", False)
    assert (user.consented_terms_version, user.consented_at) == ("", None)
    assert user.pending_email == ""
    assert user.deleted_at is not None
    assert not Token.objects.filter(user=user).exists()
    assert api.get(ME).status_code == 401
    for session in Session.objects.all():
        assert str(session.get_decoded().get("_auth_user_id")) != str(user.pk)
    assert browser.get("/ru/me/proposals/").status_code == 302
    # Signing in again is impossible, and the address is free for a new account.
    assert not Client().login(email=SECRET_EMAIL, password=PASSWORD)
    signin = APIClient().post(
        "/api/v1/auth/token/", {"email": SECRET_EMAIL, "password": PASSWORD}, format="json"
    )
    assert signin.status_code in (400, 401)
    again = APIClient().post(
        "/api/v1/auth/register/",
        {
            "email": SECRET_EMAIL,
            "password": "Tulip-Garden-1987!",
            "display_name": "Ержан",
            "accept_terms": True,
        },
        format="json",
    )
    assert again.status_code == 201, again.content


def test_proposals_stay_by_a_former_resident_and_reactions_go(
    leaving, world, django_capture_on_commit_callbacks
):
    _delete(client_for(leaving), capture=django_capture_on_commit_callbacks)

    assert set(Proposal.objects.filter(author=leaving).values_list("pk", flat=True)) == {
        world["mine"].pk,
        world["pending"].pk,
    }
    assert not Reaction.objects.filter(user=leaving).exists()
    # The other resident's reaction on the deleted author's proposal stays.
    assert Reaction.objects.filter(proposal=world["mine"]).count() == 1

    api = APIClient().get(f"/api/v1/proposals/{world['mine'].pk}/").json()
    assert api["author_name"] == "a former resident"
    for language in ("ru", "kk", "en"):
        page = Client().get(f"/{language}/proposals/{world['mine'].pk}/").content.decode()
        assert SECRET_NAME not in page
        assert SECRET_EMAIL not in page
        with translation.override(language):
            assert translation.gettext(FORMER_RESIDENT) in page
    listing = Client().get("/ru/proposals/").content.decode()
    assert SECRET_NAME not in listing


def test_tallies_equal_the_rows_after_the_deletion(
    leaving, world, strategy, django_capture_on_commit_callbacks
):
    for each in (strategy, world["second"]):
        tally_rebuild(strategy_id=each.pk)
    assert _tally_reactions(strategy)["like"] == 2
    assert _tally_reactions(world["second"])["outrage"] == 1

    _delete(client_for(leaving), capture=django_capture_on_commit_callbacks)

    for each in (strategy, world["second"]):
        tally = Tally.objects.get(strategy=each)
        assert not tally.is_dirty
        assert tally.data["reactions"] == _row_reactions(each)
        assert tally.data == {
            **tally_compute(strategy=each),
            "top_proposals": tally.data["top_proposals"],
        }
    assert _tally_reactions(strategy)["like"] == 0
    assert _tally_reactions(world["second"])["outrage"] == 0
    public = APIClient().get(f"/api/v1/strategies/{strategy.slug}/tallies/").json()
    assert public["reactions"] == _row_reactions(strategy)


def test_a_report_of_the_deleted_authors_proposals_matches_the_rows_and_names_nobody(
    leaving, world, strategy, analyst, django_capture_on_commit_callbacks
):
    _delete(client_for(leaving), capture=django_capture_on_commit_callbacks)
    for fmt in ("csv", "html"):
        with django_capture_on_commit_callbacks(execute=True):
            response = client_for(analyst).post(
                "/api/v1/reports/", {"strategy": strategy.slug, "format": fmt}, format="json"
            )
        assert response.status_code == 202, response.content
        report = Report.objects.get(pk=response.json()["id"])
        assert report.status == "done", report.error
        raw = Path(report.file.path).read_bytes()
        for secret in (
            SECRET_EMAIL,
            SECRET_EMAIL.split("@")[0],
            "private-mail",
            SECRET_NAME,
            f"deleted-{leaving.pk}@invalid",
        ):
            assert secret.encode() not in raw, (fmt, secret)
        if fmt == "csv":
            # Every row of the deleted author's proposals is there, counted from the rows.
            assert world["mine"].code.encode() in raw
            assert world["pending"].code.encode() in raw
            rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
            row = next(r for r in rows if r["code"] == world["mine"].code)
            assert (row["reactions_like"], row["reactions_funny"]) == ("0", "1")
            theirs = next(r for r in rows if r["code"] == world["theirs"].code)
            assert theirs["reactions_like"] == "0"


def test_the_summary_table_names_nobody(
    leaving, world, strategy, django_capture_on_commit_callbacks
):
    _delete(client_for(leaving), capture=django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        first = APIClient().get(f"/api/v1/strategies/{strategy.slug}/summary/", {"format": "csv"})
    assert first.status_code in (200, 202)
    response = APIClient().get(f"/api/v1/strategies/{strategy.slug}/summary/", {"format": "csv"})
    raw = b"".join(response.streaming_content)
    assert world["mine"].code.encode() in raw
    for secret in (SECRET_EMAIL, SECRET_NAME, "deleted-"):
        assert secret.encode() not in raw


def test_the_data_export_goes_too(leaving, media, django_capture_on_commit_callbacks):
    client = client_for(leaving)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/api/v1/auth/me/export/")
    path = Path(DataExport.objects.get().file.path)
    assert path.is_file()

    _delete(client, capture=django_capture_on_commit_callbacks)

    assert not DataExport.objects.exists()
    assert not path.exists()


def test_no_email_goes_to_a_deleted_account(
    leaving, world, moderator, django_capture_on_commit_callbacks
):
    _delete(client_for(leaving), capture=django_capture_on_commit_callbacks)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.proposal_moderate(
            proposal=Proposal.objects.get(pk=world["pending"].pk),
            moderator=moderator,
            decision="approve",
        )
    assert mail.outbox == []


def test_the_service_refuses_a_wrong_password_and_is_keyword_only(leaving):
    with pytest.raises(NotAllowed):
        user_delete(user=leaving, password="wrong password")
    with pytest.raises(TypeError):
        user_delete(leaving, PASSWORD)  # type: ignore[misc]


# --- the page -------------------------------------------------------------------------------------


def test_the_delete_page_asks_for_the_password(leaving, world, django_capture_on_commit_callbacks):
    client = page_client_for(leaving)
    page = client.get("/ru/me/delete/")
    assert page.status_code == 200
    assert 'type="password"' in page.content.decode()

    wrong = client.post("/ru/me/delete/", {"password": "wrong password"})
    assert wrong.status_code == 400
    assert User.objects.get(pk=leaving.pk).is_active

    with django_capture_on_commit_callbacks(execute=True):
        done = client.post("/ru/me/delete/", {"password": PASSWORD})
    assert done.status_code == 200
    assert User.objects.get(pk=leaving.pk).deleted_at is not None
    assert "_auth_user_id" not in client.session
    assert client.get("/ru/me/proposals/").status_code == 302


def test_the_profile_links_to_the_delete_page(leaving):
    assert (
        'href="/ru/me/delete/"' in page_client_for(leaving).get("/ru/me/profile/").content.decode()
    )
