"""Comments on proposals (issue 15, the comments half): the API, its rules and services."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from civic.clients import ScopedRateThrottle
from civic.errors import NotAllowed
from proposals.comments.services import (
    comment_create,
    comment_delete,
    comment_edit,
    comment_flag,
    comment_moderate,
)
from proposals.models import Comment, CommentEvent, Proposal
from tests.conftest import client_for
from tests.factories import ProposalFactory, UserFactory

pytestmark = pytest.mark.django_db

TEXT = "Этот перекрёсток затапливает каждую весну."


def _url(proposal: Proposal) -> str:
    return f"/api/v1/proposals/{proposal.pk}/comments/"


@pytest.fixture
def proposal(strategy) -> Proposal:
    return ProposalFactory(strategy=strategy)


def _post(user, proposal: Proposal, **body):
    return client_for(user).post(_url(proposal), {"body": TEXT, **body})


def _comment(proposal: Proposal, author=None, body: str = TEXT, parent=None) -> Comment:
    return comment_create(
        proposal=proposal, author=author or UserFactory(), body=body, parent=parent
    )


def _listed(user, proposal: Proposal) -> list[dict]:
    response = client_for(user).get(_url(proposal))
    assert response.status_code == 200
    return response.json()["results"]


# --- who may comment, and on what ---------------------------------------------------------


def test_a_verified_resident_comments_and_everyone_reads_it(resident, proposal):
    response = _post(resident, proposal, body=f"  {TEXT}\r\n")
    assert response.status_code == 201
    data = response.json()
    assert data["body"] == TEXT  # cleaned as proposals are: trimmed, line ends normalised
    assert data["author_name"] == "Айгерим"
    assert data["author_role"] == "resident"
    assert data["parent"] is None
    assert data["hidden"] is False and data["hidden_reason"] is None
    assert data["edited_at"] is None
    listed = _listed(None, proposal)
    assert [c["id"] for c in listed] == [data["id"]]
    assert set(listed[0]) >= {
        "id",
        "parent",
        "author_name",
        "author_role",
        "body",
        "created_at",
        "edited_at",
        "hidden",
        "hidden_reason",
    }


def test_anonymous_is_401_and_unverified_is_403(proposal):
    assert client_for(None).post(_url(proposal), {"body": TEXT}).status_code == 401
    unverified = UserFactory(email_verified=False)
    response = _post(unverified, proposal)
    assert response.status_code == 403
    assert response.json()["code"] == "email_not_verified"
    assert not Comment.objects.exists()


def test_html_is_kept_as_plain_text_and_bad_text_is_refused(resident, proposal):
    html = "<b>жирный</b> <script>alert(1)</script>"
    assert _post(resident, proposal, body=html).json()["body"] == html  # stored, never rendered
    assert _post(resident, proposal, body=" ").status_code == 400
    assert _post(resident, proposal, body="x" * 5001).status_code == 400
    response = _post(resident, proposal, body="abc\u202edef")
    assert response.status_code == 400 and "body" in response.json()


@pytest.mark.parametrize("status", ["pending", "changes_requested", "withdrawn"])
def test_unpublished_proposals_are_404_to_others_and_409_to_their_author(strategy, status):
    author = UserFactory()
    proposal = ProposalFactory(strategy=strategy, author=author, status=status)
    assert _post(UserFactory(), proposal).status_code == 404
    assert client_for(None).get(_url(proposal)).status_code == 404
    response = _post(author, proposal)  # like a reaction: visible to them, but not now
    assert response.status_code == 409
    assert response.json()["code"] == "not_published"


def test_a_publicly_rejected_proposal_is_readable_but_takes_no_comments(strategy, resident):
    proposal = ProposalFactory(strategy=strategy, status="rejected", rejection_public=True)
    assert _listed(None, proposal) == []
    assert _post(resident, proposal).status_code == 409


# --- replies --------------------------------------------------------------------------------


def test_replies_go_one_level_deep(resident, other_resident, proposal):
    first = _post(resident, proposal).json()
    reply = _post(other_resident, proposal, parent=first["id"])
    assert reply.status_code == 201 and reply.json()["parent"] == first["id"]
    deeper = _post(resident, proposal, parent=reply.json()["id"])
    assert deeper.status_code == 400
    assert "parent" in deeper.json()


def test_a_reply_must_be_to_a_comment_of_the_same_proposal(resident, strategy, proposal):
    elsewhere = _comment(ProposalFactory(strategy=strategy))
    response = _post(resident, proposal, parent=elsewhere.pk)
    assert response.status_code == 400 and "parent" in response.json()
    assert _post(resident, proposal, parent=999_999).status_code == 400


# --- who is marked as what -------------------------------------------------------------------


def test_authors_and_staff_are_marked_and_no_email_is_shown(
    resident, moderator, analyst, admin_user, proposal
):
    for user in (proposal.author, resident, moderator, analyst, admin_user):
        _comment(proposal, author=user)
    response = client_for(moderator).get(_url(proposal))
    roles = [c["author_role"] for c in response.json()["results"]]
    assert roles == ["author", "resident", "moderator", "analyst", "admin"]
    emails = [u.email for u in (proposal.author, resident, moderator, analyst, admin_user)]
    for user in (None, resident, moderator):
        text = client_for(user).get(_url(proposal)).content.decode()
        assert "@" not in text
        assert not any(email in text for email in emails)


def test_the_list_is_oldest_first_and_paginated(proposal):
    for _ in range(25):
        _comment(proposal)
    page = client_for(None).get(_url(proposal)).json()
    assert page["count"] == 25 and len(page["results"]) == 20
    ids = [c["id"] for c in page["results"]]
    assert ids == sorted(ids)
    assert len(client_for(None).get(_url(proposal), {"page": 2}).json()["results"]) == 5


def test_the_list_reads_a_fixed_number_of_queries(proposal, django_assert_max_num_queries):
    for _ in range(3):
        _comment(proposal)
    with django_assert_max_num_queries(6):
        client_for(None).get(_url(proposal))
    for _ in range(15):
        _comment(proposal)
    with django_assert_max_num_queries(6):
        client_for(None).get(_url(proposal))


@pytest.mark.parametrize("reader", ["resident", "moderator"])
def test_signed_in_readers_of_hidden_comments_cost_no_query_per_comment(
    proposal, request, reader, moderator
):
    user = request.getfixturevalue(reader)
    api = client_for(user)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert api.get(_url(proposal)).status_code == 200
        return len(captured)

    def add(count: int) -> None:
        for _ in range(count):
            comment = _comment(proposal)
            comment_moderate(comment=comment, moderator=moderator, action="hide", reason="spam")
        _comment(proposal, author=user)  # and one of the reader's own

    add(3)
    queries()  # the first request also loads what is cached for the next ones
    few = queries()
    add(27)
    assert queries() == few


def test_a_moderator_keeps_a_flagged_comment_and_settles_its_flags(proposal, moderator):
    comment = _comment(proposal)
    for _ in range(2):
        comment_flag(comment=comment, user=UserFactory(), reason="off_topic")
    url = f"/api/v1/comments/{comment.pk}/moderation/"
    response = client_for(moderator).post(url, {"action": "restore"})
    assert response.status_code == 200
    assert response.json()["hidden"] is False
    assert not comment.flags.filter(resolved_at__isnull=True).exists()
    # Nothing left to settle: a second one is the conflict it always was.
    response = client_for(moderator).post(url, {"action": "restore"})
    assert response.status_code == 409
    assert response.json()["code"] == "not_hidden"


def test_a_deleted_comment_leaves_no_text_in_its_edit_history(proposal, resident):
    comment = _comment(proposal, author=resident)
    comment_edit(comment=comment, actor=resident, body="Второй вариант, с телефоном соседа.")
    comment_delete(comment=comment, actor=resident)
    events = list(CommentEvent.objects.filter(comment=comment).values_list("action", "changes"))
    assert events == [("edit", {}), ("delete", {})]


# --- editing -----------------------------------------------------------------------------------


def test_the_author_edits_within_the_window_and_the_edit_is_audited(resident, proposal):
    comment = _comment(proposal, author=resident)
    response = client_for(resident).patch(
        f"/api/v1/comments/{comment.pk}/", {"body": "Исправленный текст комментария."}
    )
    assert response.status_code == 200
    assert response.json()["body"] == "Исправленный текст комментария."
    assert response.json()["edited_at"] is not None
    event = CommentEvent.objects.get(comment=comment)
    assert event.action == "edit" and event.actor == resident
    assert event.changes == {"body": {"from": TEXT, "to": "Исправленный текст комментария."}}


def test_someone_else_cannot_edit_or_delete(resident, other_resident, moderator, proposal):
    comment = _comment(proposal, author=resident)
    for user in (other_resident, moderator):
        client = client_for(user)
        assert (
            client.patch(f"/api/v1/comments/{comment.pk}/", {"body": "Чужой текст"}).status_code
            == 403
        )
        assert client.delete(f"/api/v1/comments/{comment.pk}/").status_code == 403
    assert client_for(None).delete(f"/api/v1/comments/{comment.pk}/").status_code == 401
    comment.refresh_from_db()
    assert comment.body == TEXT and comment.deleted_at is None


def test_after_the_window_an_edit_is_409_edit_window_closed(resident, proposal, settings):
    settings.CIVIC_COMMENT_EDIT_MINUTES = 5
    comment = _comment(proposal, author=resident)
    Comment.objects.filter(pk=comment.pk).update(created_at=timezone.now() - timedelta(minutes=6))
    response = client_for(resident).patch(
        f"/api/v1/comments/{comment.pk}/", {"body": "Поздняя правка текста."}
    )
    assert response.status_code == 409
    assert response.json()["code"] == "edit_window_closed"
    assert not CommentEvent.objects.exists()


# --- deleting ------------------------------------------------------------------------------------


def test_a_deleted_comment_leaves_the_list_unless_replies_stand_under_it(
    resident, other_resident, proposal
):
    alone = _comment(proposal, author=resident)
    answered = _comment(proposal, author=resident)
    reply = _comment(proposal, author=other_resident, parent=answered)
    client = client_for(resident)
    for comment in (alone, answered):
        assert client.delete(f"/api/v1/comments/{comment.pk}/").status_code == 204
    listed = _listed(None, proposal)
    assert [c["id"] for c in listed] == [answered.pk, reply.pk]
    stub = listed[0]
    assert stub["deleted"] is True and stub["body"] is None and stub["author_name"] is None
    assert Comment.objects.get(pk=answered.pk).body == ""  # the text is gone, not hidden
    assert CommentEvent.objects.filter(action="delete").count() == 2
    # Gone for its author too: no edit, no second delete.
    assert client.delete(f"/api/v1/comments/{alone.pk}/").status_code == 404
    # When the last reply goes, so does the stub.
    client_for(other_resident).delete(f"/api/v1/comments/{reply.pk}/")
    assert _listed(None, proposal) == []


# --- flags and hiding ----------------------------------------------------------------------------


def _flag(user, comment: Comment, reason: str = "spam"):
    return client_for(user).post(f"/api/v1/comments/{comment.pk}/flags/", {"reason": reason})


def test_a_person_flags_a_comment_once(resident, other_resident, proposal):
    comment = _comment(proposal, author=resident)
    assert _flag(other_resident, comment).status_code == 201
    second = _flag(other_resident, comment, "offensive")
    assert second.status_code == 409 and second.json()["code"] == "already_flagged"
    assert _flag(other_resident, comment, "rude").status_code == 400
    assert _flag(resident, comment).status_code == 403  # one's own comment
    assert _flag(None, comment).status_code == 401
    assert _flag(UserFactory(email_verified=False), comment).status_code == 403


def test_flags_from_enough_residents_hide_it_until_a_moderator_restores_it(
    resident, moderator, proposal, settings
):
    settings.CIVIC_COMMENT_HIDE_AFTER_FLAGS = 3
    comment = _comment(proposal, author=resident)
    for _ in range(2):
        assert _flag(UserFactory(), comment).status_code == 201
    assert _listed(None, proposal)[0]["hidden"] is False
    assert _flag(UserFactory(), comment).status_code == 201
    public = _listed(None, proposal)[0]
    assert public["hidden"] is True and public["body"] is None
    assert public["hidden_reason"] is None
    own = _listed(resident, proposal)[0]
    assert own["hidden_reason"] == "flagged"
    assert CommentEvent.objects.get(comment=comment).action == "auto_hide"

    response = client_for(moderator).post(
        f"/api/v1/comments/{comment.pk}/moderation/", {"action": "restore"}
    )
    assert response.status_code == 200
    assert response.json()["hidden"] is False and response.json()["body"] == TEXT
    # The flags before the decision are settled: two new ones do not hide it again.
    for _ in range(2):
        _flag(UserFactory(), comment)
    assert _listed(None, proposal)[0]["hidden"] is False
    _flag(UserFactory(), comment)
    assert _listed(None, proposal)[0]["hidden"] is True


def test_a_moderator_hides_with_a_reason_the_author_and_staff_see(
    resident, other_resident, moderator, analyst, proposal
):
    comment = _comment(proposal, author=resident)
    _comment(proposal, parent=comment)
    url = f"/api/v1/comments/{comment.pk}/moderation/"
    assert client_for(other_resident).post(url, {"action": "hide"}).status_code == 403
    assert client_for(analyst).post(url, {"action": "hide"}).status_code == 403
    assert client_for(None).post(url, {"action": "hide"}).status_code == 401
    response = client_for(moderator).post(url, {"action": "hide", "reason": "offensive"})
    assert response.status_code == 200
    assert response.json()["hidden"] is True
    assert response.json()["body"] == TEXT  # moderators read what they decide on

    public = _listed(other_resident, proposal)
    assert len(public) == 2  # the stub keeps its place; the reply still makes sense
    assert public[0] | {"created_at": None} == {
        "id": comment.pk,
        "parent": None,
        "author_name": "Айгерим",
        "author_role": "resident",
        "body": None,
        "created_at": None,
        "edited_at": None,
        "hidden": True,
        "hidden_reason": None,
        "deleted": False,
    }
    own = _listed(resident, proposal)[0]
    assert own["hidden_reason"] == "offensive" and own["body"] == TEXT
    staff = _listed(analyst, proposal)[0]
    assert staff["hidden_reason"] == "offensive" and staff["body"] is None

    again = client_for(moderator).post(url, {"action": "hide"})
    assert again.status_code == 409
    assert client_for(moderator).post(url, {"action": "restore"}).status_code == 200
    assert client_for(moderator).post(url, {"action": "restore"}).status_code == 409
    history = list(CommentEvent.objects.filter(comment=comment).values_list("action", "reason"))
    assert history == [("hide", "offensive"), ("restore", "")]
    assert all(e.actor == moderator for e in CommentEvent.objects.filter(comment=comment))


def test_a_hidden_comment_cannot_be_edited(resident, moderator, proposal):
    comment = _comment(proposal, author=resident)
    comment_moderate(comment=comment, moderator=moderator, action="hide", reason="spam")
    response = client_for(resident).patch(
        f"/api/v1/comments/{comment.pk}/", {"body": "Новый текст после скрытия."}
    )
    assert response.status_code == 409 and response.json()["code"] == "comment_hidden"


def test_services_refuse_whom_the_rules_refuse(resident, proposal):
    comment = _comment(proposal, author=resident)
    with pytest.raises(NotAllowed):
        comment_moderate(comment=comment, moderator=resident, action="hide")
    with pytest.raises(NotAllowed):
        comment_flag(comment=comment, user=resident, reason="spam")


# --- counts and limits ---------------------------------------------------------------------------


def test_proposals_count_their_visible_comments(resident, moderator, strategy, proposal):
    other = ProposalFactory(strategy=strategy)
    kept = _comment(proposal)
    hidden = _comment(proposal)
    deleted = _comment(proposal, author=resident)
    _comment(proposal, parent=kept)
    comment_moderate(comment=hidden, moderator=moderator, action="hide")
    client_for(resident).delete(f"/api/v1/comments/{deleted.pk}/")
    detail = client_for(None).get(f"/api/v1/proposals/{proposal.pk}/").json()
    assert detail["comments_count"] == 2
    listed = client_for(None).get("/api/v1/proposals/", {"strategy": strategy.slug}).json()
    counts = {p["id"]: p["comments_count"] for p in listed["results"]}
    assert counts == {proposal.pk: 2, other.pk: 0}


def test_comment_writes_are_rate_limited_per_account(resident, proposal, monkeypatch):
    monkeypatch.setattr(
        ScopedRateThrottle, "THROTTLE_RATES", {"comment": "2/minute", "comment_address": "9/minute"}
    )
    assert [_post(resident, proposal).status_code for _ in range(2)] == [201, 201]
    response = _post(resident, proposal)
    assert response.status_code == 429
    assert response.json()["code"] == "throttled"
    assert _post(UserFactory(), proposal).status_code == 201  # another account, same address


def test_comment_writes_are_rate_limited_per_address(proposal, monkeypatch):
    monkeypatch.setattr(
        ScopedRateThrottle, "THROTTLE_RATES", {"comment": "9/minute", "comment_address": "2/minute"}
    )
    codes = [_post(UserFactory(), proposal).status_code for _ in range(3)]
    assert codes == [201, 201, 429]
    # Reading is never limited.
    assert client_for(None).get(_url(proposal)).status_code == 200


# --- the person's data ------------------------------------------------------------------------


def test_download_my_data_has_my_comments_and_flags_and_deleting_keeps_the_discussion(
    proposal, resident, other_resident
):
    from civic.accounts import personal_data
    from proposals.models import CommentFlag

    mine = _comment(proposal, author=resident)
    theirs = _comment(proposal, author=other_resident, body="Спасибо, поддерживаю полностью.")
    comment_flag(comment=theirs, user=resident, reason="off_topic")
    data = personal_data.export_all(resident)
    assert [(c["id"], c["body"]) for c in data["comments"]] == [(mine.pk, TEXT)]
    assert [(f["comment"], f["reason"]) for f in data["comment_flags"]] == [
        (theirs.pk, "off_topic")
    ]

    personal_data.erase_all(resident)
    assert not CommentFlag.objects.filter(user=resident).exists()
    assert Comment.objects.filter(pk=mine.pk).exists()  # the discussion keeps its place
