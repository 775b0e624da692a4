"""Following and notifications (issue 15): the API, automatic follows, and the fan-out of
comments, answers, status changes and new versions to the people who follow them."""

from datetime import timedelta

import pytest
from django.utils import timezone

from civic.accounts import personal_data
from civic.accounts.services import role_grant
from proposals.answers.notify import answer_recipients
from proposals.answers.services import answer_save
from proposals.comments.services import comment_create, comment_moderate
from proposals.following.services import fan_out, follow_set
from proposals.following.tasks import notification_sweep
from proposals.models import FanOut, Follow, Notification, Proposal, Reaction
from proposals.services import proposal_moderate, proposal_withdraw, reaction_set
from strategy.models import Strategy, StrategyVersion
from strategy.services import strategy_import_files
from tests.conftest import client_for
from tests.factories import ProposalFactory, SectionFactory, UserFactory
from tests.strategy.test_versions import copy_almaty, edit, first_section_with_body

pytestmark = pytest.mark.django_db

TEXT = "Этот перекрёсток затапливает каждую весну."


@pytest.fixture
def proposal(strategy) -> Proposal:
    proposal = ProposalFactory(strategy=strategy)
    # As proposal_submit would have made it (the factory writes the row directly).
    Follow.objects.create(user=proposal.author, proposal=proposal, automatic=True)
    return proposal


def _kinds(user) -> list[tuple[str, int | None]]:
    return sorted(
        Notification.objects.filter(user=user).values_list("kind", "proposal_id"),
        key=str,
    )


def _following(user, proposal) -> bool:
    return Follow.objects.filter(user=user, proposal=proposal, active=True).exists()


def _comment(proposal, author, parent=None):
    return comment_create(proposal=proposal, author=author, body=TEXT, parent=parent)


# --- the API ------------------------------------------------------------------------------


def test_follow_and_unfollow_a_proposal_section_and_strategy(resident, strategy, proposal):
    section = SectionFactory(strategy=strategy)
    api = client_for(resident)
    for body, expected in (
        ({"proposal": proposal.pk}, {"proposal": proposal.pk}),
        ({"section": section.pk}, {"section": section.pk}),
        ({"strategy": strategy.slug}, {"strategy": strategy.slug}),
    ):
        response = api.put("/api/v1/follows/", body, format="json")
        assert response.status_code == 200, response.content
        for key, value in expected.items():
            assert response.json()[key] == value
        assert response.json()["following"] is True
    listed = api.get("/api/v1/follows/").json()
    assert len(listed) == 3
    for body in ({"proposal": proposal.pk}, {"section": section.pk}, {"strategy": strategy.slug}):
        assert api.delete("/api/v1/follows/", body, format="json").status_code == 204
    assert api.get("/api/v1/follows/").json() == []
    # Following again is the same row, on again: PUT is idempotent.
    api.put("/api/v1/follows/", {"proposal": proposal.pk}, format="json")
    api.put("/api/v1/follows/", {"proposal": proposal.pk}, format="json")
    assert Follow.objects.filter(user=resident, proposal=proposal).count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "non_field_errors"),
        ({"proposal": "1"}, "proposal"),
        ({"proposal": 999999}, "proposal"),
        ({"section": True}, "section"),
        ({"strategy": "no-such-strategy"}, "strategy"),
        ({"strategy": 5}, "strategy"),
        ({"topic": "roads"}, "topic"),
    ],
)
def test_bad_follow_requests_are_400s_that_name_the_problem(resident, body, field):
    response = client_for(resident).put("/api/v1/follows/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Follow.objects.filter(user=resident).exists()


def test_two_things_at_once_are_one_400(resident, strategy, proposal):
    body = {"proposal": proposal.pk, "strategy": strategy.slug}
    response = client_for(resident).put("/api/v1/follows/", body, format="json")
    assert response.status_code == 400
    assert "non_field_errors" in response.json()


def test_a_proposal_one_cannot_open_cannot_be_followed(resident, strategy):
    pending = ProposalFactory(strategy=strategy, status=Proposal.Status.PENDING)
    response = client_for(resident).put("/api/v1/follows/", {"proposal": pending.pk}, format="json")
    assert response.status_code == 400
    assert "proposal" in response.json()


def test_a_draft_strategy_cannot_be_followed(resident, strategy):
    strategy.status = "draft"
    strategy.save()
    response = client_for(resident).put(
        "/api/v1/follows/", {"strategy": strategy.slug}, format="json"
    )
    assert response.status_code == 400


def test_following_and_notifications_need_an_account(api, proposal):
    assert api.put("/api/v1/follows/", {"proposal": proposal.pk}, format="json").status_code == 401
    assert api.get("/api/v1/notifications/").status_code == 401
    assert api.post("/api/v1/notifications/read/", {"all": True}, format="json").status_code == 401


def test_notifications_list_is_ones_own_newest_first_and_marks_read(
    resident, other_resident, proposal
):
    mine = [
        Notification.objects.create(
            user=resident, kind="comment", source=f"comment:{n}", proposal=proposal
        )
        for n in range(3)
    ]
    theirs = Notification.objects.create(
        user=other_resident, kind="comment", source="comment:9", proposal=proposal
    )
    api = client_for(resident)
    body = api.get("/api/v1/notifications/").json()
    assert [row["id"] for row in body["results"]] == [n.pk for n in reversed(mine)]
    assert body["unread"] == 3
    row = body["results"][0]
    assert set(row) >= {"id", "kind", "proposal", "created_at", "read"}
    assert row["proposal"] == proposal.pk and row["read"] is False
    assert row["proposal_code"] == proposal.code

    response = api.post(
        "/api/v1/notifications/read/", {"ids": [mine[0].pk, theirs.pk]}, format="json"
    )
    assert response.status_code == 200
    assert response.json() == {"marked": 1, "unread": 2}
    theirs.refresh_from_db()
    assert theirs.read_at is None  # someone else's id changes nothing
    unread = api.get("/api/v1/notifications/?unread=1").json()["results"]
    assert {row["id"] for row in unread} == {mine[1].pk, mine[2].pk}
    assert (
        api.post("/api/v1/notifications/read/", {"all": True}, format="json").json()["unread"] == 0
    )


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"ids": "1"},
        {"ids": ["x"]},
        {"ids": [True]},
        {"ids": [2**64]},
        {"ids": [1], "all": True},
        {"all": False},
    ],
)
def test_bad_read_requests_are_400s(resident, body):
    note = Notification.objects.create(user=resident, kind="version", source="version:1")
    response = client_for(resident).post("/api/v1/notifications/read/", body, format="json")
    assert response.status_code == 400
    note.refresh_from_db()
    assert note.read_at is None


def test_notifications_about_a_proposal_taken_down_leave_the_list(resident, strategy):
    hidden = ProposalFactory(strategy=strategy, status=Proposal.Status.REJECTED)
    Notification.objects.create(user=resident, kind="status", source="status:1", proposal=hidden)
    assert client_for(resident).get("/api/v1/notifications/").json()["results"] == []


# --- automatic follows --------------------------------------------------------------------


def test_authors_commenters_and_reactors_follow_automatically(submit, strategy, proposal):
    author, commenter, reactor = UserFactory(), UserFactory(), UserFactory()
    submitted = submit(
        strategy, "Освещение во дворах", "Поставить фонари во всех дворах района.", author=author
    )
    assert _following(author, submitted)
    _comment(proposal, commenter)
    reaction_set(proposal=proposal, user=reactor, kind="like")
    assert _following(commenter, proposal) and _following(reactor, proposal)
    assert Follow.objects.get(user=reactor, proposal=proposal).automatic is True


def test_who_stopped_following_is_not_followed_again_by_commenting(proposal):
    person = UserFactory()
    follow_set(user=person, following=False, proposal=proposal)
    _comment(proposal, person)
    reaction_set(proposal=proposal, user=person, kind="like")
    assert not _following(person, proposal)


def test_who_turned_automatic_follows_off_follows_nothing_by_acting(proposal):
    person = UserFactory(follow_automatically=False)
    _comment(proposal, person)
    reaction_set(proposal=proposal, user=person, kind="funny")
    assert not Follow.objects.filter(user=person).exists()


# --- fan-out ------------------------------------------------------------------------------


def test_a_comment_reaches_followers_and_a_reply_its_parents_author(
    proposal, django_capture_on_commit_callbacks
):
    follower, first, second = UserFactory(), UserFactory(), UserFactory()
    follow_set(user=follower, following=True, proposal=proposal)
    with django_capture_on_commit_callbacks(execute=True):
        parent = _comment(proposal, first)
    assert _kinds(follower) == [("comment", proposal.pk)]
    assert _kinds(proposal.author) == [("comment", proposal.pk)]
    assert _kinds(first) == []  # not about one's own comment
    with django_capture_on_commit_callbacks(execute=True):
        reply = _comment(proposal, second, parent=parent)
    assert Notification.objects.get(user=first, comment=reply).kind == "reply"
    assert Notification.objects.get(user=follower, comment=reply).kind == "comment"
    assert not Notification.objects.filter(user=second).exists()
    assert not FanOut.objects.exists()  # each fan-out forgot its event once done


def test_a_fan_out_run_twice_writes_nobody_twice(proposal):
    followers = [UserFactory() for _ in range(5)]
    for person in followers:
        follow_set(user=person, following=True, proposal=proposal)
    comment = _comment(proposal, UserFactory())
    fan_out(event="comment", object_id=comment.pk)
    fan_out(event="comment", object_id=comment.pk)
    assert Notification.objects.filter(comment=comment).count() == 6  # five and the author


def test_a_comment_hidden_before_the_fan_out_reaches_nobody(proposal, moderator):
    follower = UserFactory()
    follow_set(user=follower, following=True, proposal=proposal)
    comment = _comment(proposal, UserFactory())
    comment_moderate(comment=comment, moderator=moderator, action="hide", reason="spam")
    assert fan_out(event="comment", object_id=comment.pk) == 0
    assert not Notification.objects.exists()


def test_whoever_stopped_following_hears_nothing_more(proposal, django_capture_on_commit_callbacks):
    leaver = UserFactory()
    parent = _comment(proposal, leaver)
    follow_set(user=leaver, following=False, proposal=proposal)
    with django_capture_on_commit_callbacks(execute=True):
        _comment(proposal, UserFactory(), parent=parent)
    assert _kinds(leaver) == []


def test_the_answer_reaches_followers_without_a_second_email(
    proposal, django_capture_on_commit_callbacks, mailoutbox
):
    responder = UserFactory()
    role_grant(user=responder, role="responder")
    follower, reactor, leaver = UserFactory(), UserFactory(), UserFactory()
    follow_set(user=follower, following=True, proposal=proposal)
    Reaction.objects.create(proposal=proposal, user=reactor, kind="like")
    Reaction.objects.create(proposal=proposal, user=leaver, kind="like")
    follow_set(user=leaver, following=False, proposal=proposal)
    recipients = {user.pk for user in answer_recipients(proposal=proposal)}
    assert recipients == {proposal.author_id, follower.pk, reactor.pk}
    with django_capture_on_commit_callbacks(execute=True):
        answer_save(
            proposal=proposal, responder=responder, outcome="accepted", text="", publish=True
        )
    answered = Notification.objects.filter(kind="answer")
    assert {n.user_id for n in answered} == {proposal.author_id, follower.pk}
    assert all(n.emailed_at is not None for n in answered)  # the answer email tells them
    assert sorted(m.to[0] for m in mailoutbox) == sorted(
        u.email for u in (proposal.author, follower, reactor)
    )


def test_a_status_change_reaches_followers_and_a_publication_the_sections(
    strategy, moderator, django_capture_on_commit_callbacks
):
    section = SectionFactory(strategy=strategy)
    pending = ProposalFactory(
        strategy=strategy, section=section, status=Proposal.Status.PENDING, published_at=None
    )
    Follow.objects.create(user=pending.author, proposal=pending, automatic=True)
    watcher = UserFactory()
    follow_set(user=watcher, following=True, section=section)
    with django_capture_on_commit_callbacks(execute=True):
        proposal_moderate(proposal=pending, moderator=moderator, decision="approve")
    published = Notification.objects.get(user=watcher)
    assert (published.kind, published.proposal_id, published.status) == (
        "published",
        pending.pk,
        "published",
    )
    told = Notification.objects.get(user=pending.author)
    assert told.kind == "status" and told.emailed_at is not None  # the decision email tells them
    assert not Notification.objects.filter(user=moderator).exists()

    follower = UserFactory()
    follow_set(user=follower, following=True, proposal=pending)
    pending.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        proposal_moderate(
            proposal=pending, moderator=moderator, decision="reject", reason="off_topic", note="x"
        )
    change = Notification.objects.get(user=follower)
    assert (change.kind, change.status, change.emailed_at) == ("status", "rejected", None)


def test_a_withdrawal_tells_the_followers_but_not_the_author(
    strategy, django_capture_on_commit_callbacks
):
    mine = ProposalFactory(strategy=strategy, status=Proposal.Status.PENDING, published_at=None)
    Follow.objects.create(user=mine.author, proposal=mine, automatic=True)
    with django_capture_on_commit_callbacks(execute=True):
        proposal_withdraw(proposal=mine, actor=mine.author)
    assert not Notification.objects.exists()


def test_a_new_version_reaches_the_strategys_followers(
    django_capture_on_commit_callbacks, tmp_path
):
    files = copy_almaty(tmp_path)
    with django_capture_on_commit_callbacks(execute=True):
        strategy = strategy_import_files(files).strategy  # version 1 is news to nobody
    follower = UserFactory()
    follow_set(user=follower, following=True, strategy=strategy)
    code, sentence = first_section_with_body(files[0])
    edit(files[0], sentence, sentence + " Новое обязательство города.")
    with django_capture_on_commit_callbacks(execute=True):
        strategy_import_files(files)
    version = StrategyVersion.objects.get(strategy=strategy, number=2)
    note = Notification.objects.get(user=follower)
    assert (note.kind, note.strategy_id, note.source) == (
        "version",
        strategy.pk,
        f"version:{version.pk}",
    )
    assert Notification.objects.count() == 1


def test_a_lost_fan_out_message_is_run_by_the_sweep(proposal, settings):
    follower = UserFactory()
    follow_set(user=follower, following=True, proposal=proposal)
    comment = _comment(proposal, UserFactory())  # committed, but its message never ran
    assert FanOut.objects.filter(event="comment", object_id=comment.pk).exists()
    FanOut.objects.update(created_at=timezone.now() - timedelta(hours=1))
    notification_sweep()
    assert Notification.objects.filter(user=follower, comment=comment).exists()
    assert not FanOut.objects.exists()


# --- the person's data ------------------------------------------------------------------


def test_download_my_data_has_what_i_follow_and_deleting_forgets_it(
    resident, strategy, proposal, django_capture_on_commit_callbacks
):
    follow_set(user=resident, following=True, proposal=proposal)
    follow_set(user=resident, following=True, strategy=strategy)
    with django_capture_on_commit_callbacks(execute=True):
        _comment(proposal, UserFactory())
    data = personal_data.export_all(resident)
    assert [(f["proposal"], f["strategy"], f["following"]) for f in data["follows"]] == [
        (proposal.code, None, True),
        (None, strategy.slug, True),
    ]
    assert [(n["kind"], n["proposal"]) for n in data["notifications"]] == [
        ("comment", proposal.code)
    ]
    personal_data.erase_all(resident)
    assert not Follow.objects.filter(user=resident).exists()
    assert not Notification.objects.filter(user=resident).exists()


def test_a_fan_out_that_lands_after_a_takedown_leaves_nothing_unread(proposal, moderator):
    follower = UserFactory()
    follow_set(user=follower, following=True, proposal=proposal)
    comment = _comment(proposal, UserFactory())
    # The takedown commits while the comment's fan-out is still to run.
    Proposal.objects.filter(pk=proposal.pk).update(status=Proposal.Status.REJECTED)
    Notification.objects.create(
        user=follower, kind="comment", source="comment:earlier", proposal=proposal
    )
    fan_out(event="comment", object_id=comment.pk)
    assert not Notification.objects.filter(user=follower, read_at__isnull=True).exists()
    assert client_for(follower).get("/api/v1/notifications/").json()["unread"] == 0


def test_a_strategy_back_in_draft_is_news_to_nobody(strategy):
    follower = UserFactory()
    follow_set(user=follower, following=True, strategy=strategy)
    version = StrategyVersion.objects.create(strategy=strategy, number=2)
    earlier = Notification.objects.create(
        user=follower, kind="version", source="version:0", strategy=strategy
    )
    Strategy.objects.filter(pk=strategy.pk).update(status="draft")
    assert fan_out(event="version", object_id=version.pk) == 0
    assert client_for(follower).get("/api/v1/notifications/").json()["results"] == []
    assert Notification.objects.filter(pk=earlier.pk).exists()
