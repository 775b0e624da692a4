"""Who may do what: every endpoint of docs/api.md (reports aside) tried by every kind of caller.

Callers: anonymous, the author (a resident), another resident, a moderator, an analyst and an
admin. The tables below are the contract; a refused request must leave the database as it was.
"""

import pytest
from django.core.cache import cache

from civic.accounts.services import role_grant, role_revoke
from proposals.models import Proposal, ProposalEvent, Reaction
from tests.conftest import client_for
from tests.factories import ProposalFactory, SectionFactory, StrategyFactory, UserFactory

S = Proposal.Status
ACTORS = ("anonymous", "author", "other", "moderator", "analyst", "admin")
VALID_BODY = "Посадить деревья вдоль арыков и починить освещение во дворах."


@pytest.fixture
def world(db, strategy, resident, other_resident, moderator, analyst, admin_user):
    """One proposal of the author's in every status, plus the callers."""
    section = SectionFactory(strategy=strategy, code="1", position=0)
    proposals = {
        status: ProposalFactory(
            strategy=strategy,
            author=resident,
            status=status,
            section=section,
            title=f"Предложение в статусе {status}",
        )
        for status in S.values
    }
    clients = {
        "anonymous": client_for(None),
        "author": client_for(resident),
        "other": client_for(other_resident),
        "moderator": client_for(moderator),
        "analyst": client_for(analyst),
        "admin": client_for(admin_user),
    }
    return {"strategy": strategy, "section": section, "proposals": proposals, "clients": clients}


def _snapshot() -> dict:
    return {
        "proposals": sorted(Proposal.objects.values_list("id", "status", "title", "updated_at")),
        "events": ProposalEvent.objects.count(),
        "reactions": sorted(Reaction.objects.values_list("proposal_id", "user_id", "kind")),
    }


def _matrix(cases: list[tuple]) -> list:
    """Flatten (case id, method, target, payload, {actor: status}) into one param per actor."""
    params = []
    for case_id, method, target, payload, expected in cases:
        assert set(expected) == set(ACTORS), case_id
        for actor in ACTORS:
            params.append(
                pytest.param(
                    method, target, payload, actor, expected[actor], id=f"{case_id}-{actor}"
                )
            )
    return params


def _row(anonymous, author, other, moderator, analyst, admin) -> dict[str, int]:
    return dict(zip(ACTORS, (anonymous, author, other, moderator, analyst, admin), strict=True))


# Targets: "list", "mine", "p:<status>[/suffix]" for the author's proposal in that status.
CASES = [
    ("list", "get", "list", None, _row(200, 200, 200, 200, 200, 200)),
    (
        "submit",
        "post",
        "list",
        {"strategy": "almaty-test", "title": "Новый сквер", "body": VALID_BODY},
        # Every account is a resident; staff may submit too.
        _row(401, 201, 201, 201, 201, 201),
    ),
    ("detail-published", "get", "p:published", None, _row(200, 200, 200, 200, 200, 200)),
    ("detail-pending", "get", "p:pending", None, _row(404, 200, 404, 200, 200, 200)),
    ("detail-rejected", "get", "p:rejected", None, _row(404, 200, 404, 200, 200, 200)),
    ("detail-withdrawn", "get", "p:withdrawn", None, _row(404, 200, 404, 200, 200, 200)),
    (
        "edit-changes-requested",
        "patch",
        "p:changes_requested",
        {"title": "Исправленное предложение"},
        _row(401, 200, 404, 403, 403, 403),
    ),
    (
        "edit-pending",
        "patch",
        "p:pending",
        {"title": "Исправленное предложение"},
        _row(401, 409, 404, 403, 403, 403),
    ),
    (
        "edit-published",
        "patch",
        "p:published",
        {"title": "Исправленное предложение"},
        _row(401, 409, 403, 403, 403, 403),
    ),
    ("withdraw-pending", "post", "p:pending/withdraw", None, _row(401, 200, 404, 403, 403, 403)),
    (
        "withdraw-changes-requested",
        "post",
        "p:changes_requested/withdraw",
        None,
        _row(401, 200, 404, 403, 403, 403),
    ),
    (
        "withdraw-published",
        "post",
        "p:published/withdraw",
        None,
        _row(401, 409, 403, 403, 403, 403),
    ),
    (
        "withdraw-withdrawn",
        "post",
        "p:withdrawn/withdraw",
        None,
        _row(401, 409, 404, 403, 403, 403),
    ),
    (
        "approve-pending",
        "post",
        "p:pending/moderation",
        {"decision": "approve"},
        _row(401, 403, 403, 200, 403, 200),
    ),
    (
        "reject-published",
        "post",
        "p:published/moderation",
        {"decision": "reject", "reason": "offensive"},
        _row(401, 403, 403, 200, 403, 200),
    ),
    (
        "request-changes-pending",
        "post",
        "p:pending/moderation",
        {"decision": "request_changes", "note": "Уточните адрес."},
        _row(401, 403, 403, 200, 403, 200),
    ),
    (
        "approve-withdrawn",
        "post",
        "p:withdrawn/moderation",
        {"decision": "approve"},
        _row(401, 403, 403, 409, 403, 409),
    ),
    ("history-pending", "get", "p:pending/history", None, _row(401, 403, 403, 200, 200, 200)),
    ("history-published", "get", "p:published/history", None, _row(401, 403, 403, 200, 200, 200)),
    (
        "react-published",
        "put",
        "p:published/reaction",
        {"kind": "like"},
        _row(401, 200, 200, 200, 200, 200),
    ),
    (
        "react-pending",
        "put",
        "p:pending/reaction",
        {"kind": "like"},
        _row(401, 409, 404, 409, 409, 409),
    ),
    (
        "unreact-published",
        "delete",
        "p:published/reaction",
        None,
        _row(401, 204, 204, 204, 204, 204),
    ),
    ("unreact-pending", "delete", "p:pending/reaction", None, _row(401, 204, 404, 204, 204, 204)),
    ("my-proposals", "get", "mine", None, _row(401, 200, 200, 200, 200, 200)),
    ("strategies", "get", "/api/v1/strategies/", None, _row(200, 200, 200, 200, 200, 200)),
    (
        "strategy",
        "get",
        "/api/v1/strategies/almaty-test/",
        None,
        _row(200, 200, 200, 200, 200, 200),
    ),
    (
        "tallies",
        "get",
        "/api/v1/strategies/almaty-test/tallies/",
        None,
        _row(200, 200, 200, 200, 200, 200),
    ),
    ("themes", "get", "/api/v1/themes/", None, _row(200, 200, 200, 200, 200, 200)),
    ("districts", "get", "/api/v1/districts/", None, _row(200, 200, 200, 200, 200, 200)),
    ("me", "get", "/api/v1/auth/me/", None, _row(401, 200, 200, 200, 200, 200)),
]


def _url(world: dict, target: str) -> tuple[str, Proposal | None]:
    if target == "list":
        return "/api/v1/proposals/", None
    if target == "mine":
        return "/api/v1/me/proposals/", None
    if target.startswith("p:"):
        status, _, suffix = target[2:].partition("/")
        proposal = world["proposals"][status]
        return f"/api/v1/proposals/{proposal.pk}/" + (f"{suffix}/" if suffix else ""), proposal
    return target, None


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "target", "payload", "actor", "expected"), _matrix(CASES))
def test_permission_matrix(world, method, target, payload, actor, expected):
    url, proposal = _url(world, target)
    before = _snapshot()

    response = getattr(world["clients"][actor], method)(url, payload, format="json")

    assert response.status_code == expected, response.content
    if expected >= 400:
        # A refused request changes nothing.
        assert _snapshot() == before
    if expected == 401:
        assert response.headers["WWW-Authenticate"] == "Token"
        assert response.json()["code"] == "not_authenticated"
    elif expected == 404:
        assert set(response.json()) == {"detail"}
    elif expected == 409:
        assert response.json()["code"] == "invalid_transition"
    elif expected == 403:
        assert "detail" in response.json()
    elif expected in (200, 201) and proposal is not None and method != "get":
        proposal.refresh_from_db()
        body = response.json()
        if target.endswith("/reaction"):
            assert body["kind"] == "like"
            assert body["reactions"]["like"] == 1
            assert Reaction.objects.filter(proposal=proposal, kind="like").count() == 1
        else:
            assert body["id"] == proposal.pk
            assert body["status"] == proposal.status
            assert proposal.status != before_status(before, proposal)


def before_status(snapshot: dict, proposal: Proposal) -> str:
    return next(status for pk, status, *_ in snapshot["proposals"] if pk == proposal.pk)


@pytest.mark.django_db
@pytest.mark.parametrize("actor", ACTORS)
def test_submit_creates_a_pending_proposal_of_the_caller(world, actor):
    client = world["clients"][actor]
    response = client.post(
        "/api/v1/proposals/",
        {"strategy": "almaty-test", "title": "Новый сквер", "body": VALID_BODY},
        format="json",
    )
    if actor == "anonymous":
        assert response.status_code == 401
        assert not Proposal.objects.filter(title="Новый сквер").exists()
        return
    assert response.status_code == 201, response.content
    created = Proposal.objects.get(title="Новый сквер")
    assert response.json()["id"] == created.pk
    assert response.json()["status"] == "pending"
    assert created.status == S.PENDING
    assert created.author.display_name == response.json()["author_name"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("actor", "visible"),
    [
        ("anonymous", {"published"}),
        ("author", {"published"}),
        ("other", {"published"}),
        ("moderator", set(S.values)),
        ("analyst", set(S.values)),
        ("admin", set(S.values)),
    ],
)
def test_list_shows_published_to_the_public_and_everything_to_staff(world, actor, visible):
    response = world["clients"][actor].get("/api/v1/proposals/")

    assert response.status_code == 200
    assert {row["status"] for row in response.json()["results"]} == visible
    assert response.json()["count"] == len(visible)


@pytest.mark.django_db
@pytest.mark.parametrize("actor", ACTORS)
def test_status_filter_is_for_staff_only(world, actor):
    response = world["clients"][actor].get("/api/v1/proposals/", {"status": "pending"})

    assert response.status_code == 200
    statuses = [row["status"] for row in response.json()["results"]]
    if actor in ("moderator", "analyst", "admin"):
        assert statuses == ["pending"]
    else:
        # The public filter acts on published proposals only: a pending one never leaks.
        assert statuses == []


@pytest.mark.django_db
@pytest.mark.parametrize("actor", ACTORS)
def test_my_proposals_are_the_callers_own_in_every_status(world, actor):
    response = world["clients"][actor].get("/api/v1/me/proposals/")

    if actor == "anonymous":
        assert response.status_code == 401
        return
    assert response.status_code == 200
    rows = response.json()["results"]
    if actor == "author":
        assert {row["status"] for row in rows} == set(S.values)
        assert all("moderation" in row for row in rows)
    else:
        assert rows == []


@pytest.mark.django_db
@pytest.mark.parametrize("actor", ACTORS)
def test_unknown_proposal_is_404(world, actor):
    missing = Proposal.objects.order_by("-pk").first().pk + 1000
    response = world["clients"][actor].get(f"/api/v1/proposals/{missing}/")

    assert response.status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("suffix", ["", "tallies/"])
def test_draft_strategy_is_hidden_from_everyone(world, actor, suffix):
    StrategyFactory(slug="draft-plan", code_prefix="DRF", status="draft")

    response = world["clients"][actor].get(f"/api/v1/strategies/draft-plan/{suffix}")

    assert response.status_code == 404
    listed = world["clients"][actor].get("/api/v1/strategies/").json()["results"]
    assert "draft-plan" not in [row["slug"] for row in listed]


# --- authentication ---------------------------------------------------------------------


@pytest.mark.django_db
def test_real_token_auth_reads_me_and_submits(api, strategy, resident):
    response = api.post(
        "/api/v1/auth/token/",
        {"email": resident.email, "password": "correct horse battery"},
        format="json",
    )
    assert response.status_code == 200
    token = response.json()["token"]

    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    me = api.get("/api/v1/auth/me/")
    assert me.status_code == 200
    assert me.json()["id"] == resident.pk
    assert me.json()["email"] == resident.email

    submitted = api.post(
        "/api/v1/proposals/",
        {"strategy": strategy.slug, "title": "Велодорожки", "body": VALID_BODY},
        format="json",
    )
    assert submitted.status_code == 201, submitted.content
    assert Proposal.objects.get(pk=submitted.json()["id"]).author == resident


@pytest.mark.django_db
def test_bad_token_is_401(api, strategy):
    api.credentials(HTTP_AUTHORIZATION="Token 0000000000000000000000000000000000000000")

    response = api.get("/api/v1/auth/me/")

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Token"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("post", "/api/v1/proposals/"),
        ("get", "/api/v1/me/proposals/"),
        ("get", "/api/v1/auth/me/"),
        ("post", "/api/v1/proposals/{pending}/withdraw/"),
        ("post", "/api/v1/proposals/{pending}/moderation/"),
        ("get", "/api/v1/proposals/{pending}/history/"),
        ("put", "/api/v1/proposals/{published}/reaction/"),
        ("delete", "/api/v1/proposals/{published}/reaction/"),
        ("patch", "/api/v1/proposals/{pending}/"),
    ],
)
def test_anonymous_gets_401_with_www_authenticate_not_403(world, method, url):
    url = url.format(
        pending=world["proposals"]["pending"].pk, published=world["proposals"]["published"].pk
    )

    response = getattr(world["clients"]["anonymous"], method)(url, {}, format="json")

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Token"
    assert response.json()["code"] == "not_authenticated"


# --- what public responses reveal --------------------------------------------------------


@pytest.fixture
def revealed(db, strategy, moderator, other_resident, django_capture_on_commit_callbacks):
    """A published, moderated, reacted-to proposal by an author with a distinctive email."""
    author = UserFactory(email="aigerim.secret-mail@example.kz", display_name="Айгерим Б.")
    proposal = ProposalFactory(strategy=strategy, author=author, status=S.PENDING)
    with django_capture_on_commit_callbacks(execute=True):
        approved = client_for(moderator).post(
            f"/api/v1/proposals/{proposal.pk}/moderation/", {"decision": "approve"}, format="json"
        )
        assert approved.status_code == 200
        reacted = client_for(other_resident).put(
            f"/api/v1/proposals/{proposal.pk}/reaction/", {"kind": "like"}, format="json"
        )
        assert reacted.status_code == 200
    return author, proposal


@pytest.mark.django_db
@pytest.mark.parametrize("viewer", ["anonymous", "other"])
def test_no_public_response_contains_an_authors_email(revealed, strategy, other_resident, viewer):
    author, proposal = revealed
    client = client_for(None if viewer == "anonymous" else other_resident)
    cache.clear()  # tallies must come from the stored snapshot as well as the cache
    urls = [
        "/api/v1/proposals/",
        f"/api/v1/proposals/{proposal.pk}/",
        f"/api/v1/strategies/{strategy.slug}/tallies/",
        f"/api/v1/strategies/{strategy.slug}/tallies/",  # second read: from the cache
        "/api/v1/strategies/",
        f"/api/v1/strategies/{strategy.slug}/",
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert author.email.encode() not in response.content, url
        assert b"secret-mail" not in response.content, url

    # The proposal is really there, under the display name only.
    detail = client.get(f"/api/v1/proposals/{proposal.pk}/").json()
    assert detail["author_name"] == "Айгерим Б."
    tallies = client.get(f"/api/v1/strategies/{strategy.slug}/tallies/").json()
    assert [row["code"] for row in tallies["top_proposals"]] == [proposal.code]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("viewer", "sees_moderation"),
    [
        ("anonymous", False),
        ("other", False),
        ("author", True),
        ("moderator", True),
        ("analyst", True),
        ("admin", True),
    ],
)
def test_moderation_is_shown_only_to_the_author_and_staff(
    revealed, other_resident, moderator, analyst, admin_user, viewer, sees_moderation
):
    author, proposal = revealed
    user = {
        "anonymous": None,
        "other": other_resident,
        "author": author,
        "moderator": moderator,
        "analyst": analyst,
        "admin": admin_user,
    }[viewer]
    client = client_for(user)

    detail = client.get(f"/api/v1/proposals/{proposal.pk}/")
    listed = client.get("/api/v1/proposals/").json()["results"]

    assert detail.status_code == 200
    [row] = [row for row in listed if row["id"] == proposal.pk]
    for body in (detail.json(), row):
        assert ("moderation" in body) is sees_moderation
        if sees_moderation:
            assert body["moderation"]["decision"] == "approve"
            assert body["moderation"]["reason"] == ""
            assert body["moderation"]["decided_at"]


@pytest.mark.django_db
def test_staff_responses_do_not_carry_the_authors_email_either(revealed, moderator):
    author, proposal = revealed
    client = client_for(moderator)

    for url in ("/api/v1/proposals/", f"/api/v1/proposals/{proposal.pk}/"):
        response = client.get(url)
        assert response.status_code == 200
        assert author.email.encode() not in response.content


@pytest.mark.django_db
def test_revoked_moderator_can_no_longer_moderate(strategy, resident):
    user = UserFactory()
    role_grant(user=user, role="moderator")
    role_revoke(user=user, role="moderator")
    user = type(user).objects.get(pk=user.pk)  # drop the cached permissions
    proposal = ProposalFactory(strategy=strategy, author=resident, status=S.PENDING)

    response = client_for(user).post(
        f"/api/v1/proposals/{proposal.pk}/moderation/", {"decision": "approve"}, format="json"
    )

    assert response.status_code == 403
    proposal.refresh_from_db()
    assert proposal.status == S.PENDING
    assert not ProposalEvent.objects.filter(proposal=proposal).exists()
