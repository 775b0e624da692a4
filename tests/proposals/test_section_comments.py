"""Comments on the sections of a strategy (issue 15, "Discussion"): the API, its rules and
services, the moderators' queue, the notifications to a section's followers and the
counts in the tallies."""

import random
from collections import Counter
from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from civic.accounts import personal_data
from civic.errors import InvalidInput, NotAllowed, StateConflict
from proposals.comments.services import (
    comment_create,
    comment_delete,
    comment_flag,
    comment_moderate,
)
from proposals.following.describe import Item, describe
from proposals.following.selectors import notification_list, sections_followed
from proposals.following.services import fan_out, follow_set
from proposals.models import Comment, CommentEvent, FanOut, Follow, Notification
from proposals.tallies.services import tally_compute, tally_rebuild
from strategy.models import Strategy
from strategy.services import strategy_schedule
from tests.conftest import client_for
from tests.factories import ProposalFactory, SectionFactory, StrategyFactory, UserFactory

pytestmark = pytest.mark.django_db

TEXT = "Этот раздел забывает про арыки и ливнёвки."


@pytest.fixture
def section(strategy):
    return SectionFactory(strategy=strategy, code="1.2", position=1, title_ru="Вода")


def _url(section) -> str:
    return f"/api/v1/strategies/{section.strategy.slug}/sections/{section.code}/comments/"


def _post(user, section, **body):
    return client_for(user).post(_url(section), {"body": TEXT, **body})


def _comment(section, author=None, body: str = TEXT, parent=None) -> Comment:
    return comment_create(section=section, author=author or UserFactory(), body=body, parent=parent)


def _listed(user, section) -> list[dict]:
    response = client_for(user).get(_url(section))
    assert response.status_code == 200
    return response.json()["results"]


def _close(strategy, status: str = "closed") -> None:
    strategy_schedule(
        strategy=strategy, status=status, opens_at=strategy.opens_at, closes_at=strategy.closes_at
    )


# --- who may comment, and on what ---------------------------------------------------------


def test_a_verified_resident_comments_on_a_section_and_everyone_reads_it(resident, section):
    response = _post(resident, section, body=f"  {TEXT}\r\n")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["body"] == TEXT
    assert data["author_name"] == "Айгерим"
    assert data["author_role"] == "resident"
    assert data["parent"] is None and data["deleted"] is False
    comment = Comment.objects.get(pk=data["id"])
    assert comment.section == section and comment.proposal is None
    assert [c["id"] for c in _listed(None, section)] == [data["id"]]
    # The same shapes as a proposal's discussion.
    proposal_comment = comment_create(
        proposal=ProposalFactory(strategy=section.strategy), author=resident, body=TEXT
    )
    proposal_listed = client_for(None).get(
        f"/api/v1/proposals/{proposal_comment.proposal_id}/comments/"
    )
    assert set(proposal_listed.json()["results"][0]) == set(_listed(None, section)[0])


def test_anonymous_is_401_unverified_403_and_both_read(section):
    assert client_for(None).post(_url(section), {"body": TEXT}).status_code == 401
    response = _post(UserFactory(email_verified=False), section)
    assert response.status_code == 403
    assert response.json()["code"] == "email_not_verified"
    assert not Comment.objects.exists()
    _comment(section)
    assert len(_listed(None, section)) == 1
    assert len(_listed(UserFactory(email_verified=False), section)) == 1


@pytest.mark.parametrize("status", ["closed", "archived"])
def test_a_closed_strategy_keeps_its_discussions_readable_and_takes_no_comment(
    resident, other_resident, section, status
):
    first = _comment(section, author=other_resident)
    _close(section.strategy, status)
    response = _post(resident, section)
    assert response.status_code == 409
    assert response.json()["code"] == "strategy_closed"
    reply = _post(resident, section, parent=first.pk)
    assert reply.status_code == 409 and reply.json()["code"] == "strategy_closed"
    assert [c["id"] for c in _listed(None, section)] == [first.pk]
    # What was written stays in its author's and the moderators' hands.
    flag = client_for(resident).post(f"/api/v1/comments/{first.pk}/flags/", {"reason": "spam"})
    assert flag.status_code == 201


def test_an_open_strategy_outside_its_dates_takes_no_comment(resident, strategy, section):
    strategy_schedule(
        strategy=strategy,
        status="open",
        opens_at=timezone.localdate() + timedelta(days=1),
        closes_at=timezone.localdate() + timedelta(days=10),
    )
    response = _post(resident, section)
    assert response.status_code == 409 and response.json()["code"] == "strategy_closed"


def test_a_draft_strategy_and_an_unknown_section_are_404(resident, section):
    draft = StrategyFactory(slug="draft-plan", status=Strategy.Status.DRAFT)
    hidden = SectionFactory(strategy=draft, code="1")
    assert client_for(None).get(_url(hidden)).status_code == 404
    assert _post(resident, hidden).status_code == 404
    unknown = f"/api/v1/strategies/{section.strategy.slug}/sections/9.9/comments/"
    assert client_for(None).get(unknown).status_code == 404
    # The service refuses a draft's section too, whoever calls it.
    with pytest.raises(StateConflict):
        comment_create(section=hidden, author=resident, body=TEXT)


def test_a_comment_on_a_section_of_a_draft_is_404_everywhere(resident, moderator, section):
    comment = _comment(section, author=resident)
    _close(section.strategy, "draft")
    assert client_for(None).get(_url(section)).status_code == 404
    assert (
        client_for(resident)
        .patch(f"/api/v1/comments/{comment.pk}/", {"body": "Новый текст комментария."})
        .status_code
        == 404
    )
    url = f"/api/v1/comments/{comment.pk}/moderation/"
    assert client_for(moderator).post(url, {"action": "hide"}).status_code == 404


def test_the_service_takes_exactly_one_target(resident, section):
    proposal = ProposalFactory(strategy=section.strategy)
    with pytest.raises(InvalidInput):
        comment_create(author=resident, body=TEXT)
    with pytest.raises(InvalidInput):
        comment_create(proposal=proposal, section=section, author=resident, body=TEXT)
    with pytest.raises(NotAllowed):
        comment_create(section=section, author=UserFactory(email_verified=False), body=TEXT)


def test_the_database_holds_exactly_one_target(section):
    with pytest.raises(IntegrityError), transaction.atomic():
        Comment.objects.create(author=UserFactory(), body=TEXT)
    with pytest.raises(IntegrityError), transaction.atomic():
        Comment.objects.create(
            proposal=ProposalFactory(strategy=section.strategy),
            section=section,
            author=UserFactory(),
            body=TEXT,
        )


def test_bad_text_is_refused_as_on_proposals(resident, section):
    assert _post(resident, section, body=" ").status_code == 400
    assert _post(resident, section, body="x" * 5001).status_code == 400
    assert _post(resident, section, body="abc\u202edef").status_code == 400


# --- replies --------------------------------------------------------------------------------


def test_replies_go_one_level_deep_within_the_section(resident, other_resident, section):
    first = _post(resident, section).json()
    reply = _post(other_resident, section, parent=first["id"])
    assert reply.status_code == 201 and reply.json()["parent"] == first["id"]
    deeper = _post(resident, section, parent=reply.json()["id"])
    assert deeper.status_code == 400 and "parent" in deeper.json()


def test_a_reply_must_answer_a_comment_of_the_same_section(resident, strategy, section):
    other_section = SectionFactory(strategy=strategy, code="2", position=2)
    elsewhere = _comment(other_section)
    on_a_proposal = comment_create(
        proposal=ProposalFactory(strategy=strategy), author=UserFactory(), body=TEXT
    )
    for parent in (elsewhere, on_a_proposal):
        response = _post(resident, section, parent=parent.pk)
        assert response.status_code == 400 and "parent" in response.json()
    # And a proposal's discussion takes no reply to a section's comment.
    proposal = on_a_proposal.proposal
    response = client_for(resident).post(
        f"/api/v1/proposals/{proposal.pk}/comments/", {"body": TEXT, "parent": elsewhere.pk}
    )
    assert response.status_code == 400


def test_staff_are_marked_and_nobody_is_the_author(moderator, admin_user, section):
    _comment(section, author=moderator)
    _comment(section, author=admin_user)
    assert [c["author_role"] for c in _listed(None, section)] == ["moderator", "admin"]


def test_the_list_reads_a_fixed_number_of_queries(section, django_assert_max_num_queries):
    for _ in range(3):
        _comment(section)
    with django_assert_max_num_queries(6) as few:
        _listed(None, section)
    for _ in range(30):
        _comment(section)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(_listed(None, section)) == 20


# --- edit, delete, flag, moderate -------------------------------------------------------------


def test_the_author_edits_and_deletes_a_section_comment(resident, other_resident, section):
    comment = _comment(section, author=resident)
    url = f"/api/v1/comments/{comment.pk}/"
    assert client_for(other_resident).patch(url, {"body": "Чужая правка."}).status_code == 403
    response = client_for(resident).patch(url, {"body": "Уточнённый текст раздела."})
    assert response.status_code == 200
    assert response.json()["body"] == "Уточнённый текст раздела."
    assert response.json()["edited_at"] is not None
    assert CommentEvent.objects.get(comment=comment).action == "edit"
    assert client_for(resident).delete(url).status_code == 204
    assert _listed(None, section) == []
    assert client_for(resident).delete(url).status_code == 404


def test_flags_hide_a_section_comment_and_a_moderator_restores_it(
    resident, moderator, section, settings
):
    settings.CIVIC_COMMENT_HIDE_AFTER_FLAGS = 2
    comment = _comment(section, author=resident)
    flag_url = f"/api/v1/comments/{comment.pk}/flags/"
    assert client_for(resident).post(flag_url, {"reason": "spam"}).status_code == 403
    for _ in range(2):
        assert client_for(UserFactory()).post(flag_url, {"reason": "spam"}).status_code == 201
    public = _listed(None, section)[0]
    assert public["hidden"] is True and public["body"] is None
    assert _listed(resident, section)[0]["hidden_reason"] == "flagged"

    flagged = client_for(moderator).get("/api/v1/comments/flagged/").json()["results"]
    assert flagged == [
        {
            "id": comment.pk,
            "proposal": None,
            "proposal_code": None,
            "section": section.pk,
            "section_code": "1.2",
            "strategy": section.strategy.slug,
            "body": TEXT,
            "hidden": True,
            "hidden_reason": "flagged",
            "flags": {"spam": 2, "offensive": 0, "personal_data": 0, "off_topic": 0},
            "first_flagged_at": flagged[0]["first_flagged_at"],
        }
    ]
    url = f"/api/v1/comments/{comment.pk}/moderation/"
    assert client_for(resident).post(url, {"action": "restore"}).status_code == 403
    response = client_for(moderator).post(url, {"action": "restore"})
    assert response.status_code == 200 and response.json()["hidden"] is False
    response = client_for(moderator).post(url, {"action": "hide", "reason": "off_topic"})
    assert response.status_code == 200 and response.json()["body"] == TEXT
    assert _listed(resident, section)[0]["hidden_reason"] == "off_topic"
    assert client_for(moderator).get("/api/v1/comments/flagged/").json()["count"] == 0


def test_a_proposal_comment_in_the_queue_keeps_its_shape(moderator, strategy):
    comment = comment_create(
        proposal=ProposalFactory(strategy=strategy), author=UserFactory(), body=TEXT
    )
    comment_flag(comment=comment, user=UserFactory(), reason="spam")
    item = client_for(moderator).get("/api/v1/comments/flagged/").json()["results"][0]
    assert "section" not in item and item["proposal"] == comment.proposal_id


# --- notifications ----------------------------------------------------------------------------


def test_a_section_comment_reaches_the_sections_followers_and_a_reply_its_parents_author(
    section, django_capture_on_commit_callbacks
):
    follower, leaver, first, second = (UserFactory() for _ in range(4))
    follow_set(user=follower, following=True, section=section)
    follow_set(user=leaver, following=True, section=section)
    follow_set(user=leaver, following=False, section=section)
    # Following the whole strategy or a proposal in the section is another matter.
    follow_set(user=UserFactory(), following=True, strategy=section.strategy)
    with django_capture_on_commit_callbacks(execute=True):
        parent = _comment(section, first)
    rows = list(Notification.objects.values_list("user_id", "kind", "section_id", "proposal_id"))
    assert rows == [(follower.pk, "comment", section.pk, None)]
    # Commenting does not follow the section: it would bring every new proposal in it too.
    assert not Follow.objects.filter(user=first).exists()
    with django_capture_on_commit_callbacks(execute=True):
        reply = _comment(section, second, parent=parent)
    assert Notification.objects.get(user=first, comment=reply).kind == "reply"
    assert Notification.objects.get(user=follower, comment=reply).kind == "comment"
    assert not Notification.objects.filter(user__in=[second, leaver]).exists()
    assert not FanOut.objects.exists()
    # The following selector and the list both see them.
    assert sections_followed(user=follower, strategy=section.strategy) == {section.pk}
    assert sections_followed(user=leaver, strategy=section.strategy) == set()
    listed = list(notification_list(user=follower))
    assert [n.section.code for n in listed] == ["1.2", "1.2"]


def test_a_reply_to_one_who_stopped_following_the_section_reaches_nobody(
    section, django_capture_on_commit_callbacks
):
    leaver = UserFactory()
    parent = _comment(section, leaver)
    follow_set(user=leaver, following=False, section=section)
    with django_capture_on_commit_callbacks(execute=True):
        _comment(section, UserFactory(), parent=parent)
    assert not Notification.objects.filter(user=leaver).exists()


def test_a_section_fan_out_run_twice_writes_nobody_twice_and_skips_a_hidden_one(section, moderator):
    for _ in range(4):
        follow_set(user=UserFactory(), following=True, section=section)
    comment = _comment(section)
    fan_out(event="comment", object_id=comment.pk)
    fan_out(event="comment", object_id=comment.pk)
    assert Notification.objects.filter(comment=comment, section=section).count() == 4
    hidden = _comment(section)
    comment_moderate(comment=hidden, moderator=moderator, action="hide", reason="spam")
    assert fan_out(event="comment", object_id=hidden.pk) == 0


def test_a_section_comment_notification_is_worded_in_each_language():
    item = Item(kind="comment", section_title="1.2. Вода")
    reply = Item(kind="reply", section_title="1.2. Вода")
    with translation.override("en"):
        assert describe(item) == "New comment on the section “1.2. Вода”"
        assert describe(reply) == "A reply to your comment on the section “1.2. Вода”"
    # A proposal's comment keeps its wording.
    with translation.override("en"):
        assert describe(Item(kind="comment", code="ALT-000001", title="Т")) == (
            "New comment on “Т” (ALT-000001)"
        )


# --- tallies ----------------------------------------------------------------------------------


def _on_sections_from_rows(strategy) -> list[tuple[int, str, int]]:
    """The counts made in Python from every row, without the code under test."""
    counted = Counter(
        c.section
        for c in Comment.objects.select_related("section")
        if c.section is not None
        and c.section.strategy_id == strategy.pk
        and c.hidden_by == ""
        and c.deleted_at is None
    )
    return [
        (s.pk, s.code, n) for s, n in sorted(counted.items(), key=lambda item: item[0].position)
    ]


def test_tallies_count_section_comments_equal_to_the_rows(strategy, moderator):
    sections = [
        SectionFactory(strategy=strategy, code=code, position=position)
        for position, code in enumerate(["1", "1.1", "2", "3"])
    ]
    other = SectionFactory(strategy=StrategyFactory(slug="other-plan"), code="1")
    rng = random.Random(15)
    comments = []
    for _ in range(40):
        section = rng.choice(sections[:3])  # "3" gets none and is left out
        parent = rng.choice([None, *[c for c in comments if c.section == section][:1]])
        if parent is not None and parent.parent_id is not None:
            parent = None
        comments.append(_comment(section, parent=parent))
    _comment(other)  # another strategy's
    proposal_comment = comment_create(
        proposal=ProposalFactory(strategy=strategy), author=UserFactory(), body=TEXT
    )
    for comment in rng.sample(comments, 6):
        comment_moderate(comment=comment, moderator=moderator, action="hide", reason="spam")
    for comment in rng.sample(comments, 5):
        comment_delete(comment=comment, actor=comment.author)

    data = tally_compute(strategy=strategy)
    on_sections = [(r["section"], r["code"], r["count"]) for r in data["comments"]["on_sections"]]
    assert on_sections == _on_sections_from_rows(strategy)
    assert [code for _, code, _ in on_sections] == ["1", "1.1", "2"]  # document order
    # The comments on proposals are counted apart, as before.
    assert data["comments"]["total"] == 1
    assert proposal_comment.section_id is None


def test_every_section_comment_change_marks_the_tally_and_the_api_serves_it(
    strategy, moderator, django_capture_on_commit_callbacks
):
    section = SectionFactory(strategy=strategy, code="1")
    tally_rebuild(strategy_id=strategy.pk)

    def served() -> list[dict]:
        return (
            client_for(None)
            .get(f"/api/v1/strategies/{strategy.slug}/tallies/")
            .json()["comments"]["on_sections"]
        )

    with django_capture_on_commit_callbacks(execute=True):
        comment = _comment(section)
    assert served() == [{"section": section.pk, "code": "1", "count": 1}]
    with django_capture_on_commit_callbacks(execute=True):
        comment_moderate(comment=comment, moderator=moderator, action="hide", reason="spam")
    assert served() == []
    with django_capture_on_commit_callbacks(execute=True):
        comment_moderate(comment=comment, moderator=moderator, action="restore")
    assert served() == [{"section": section.pk, "code": "1", "count": 1}]
    with django_capture_on_commit_callbacks(execute=True):
        comment_delete(comment=comment, actor=comment.author)
    assert served() == []


# --- the person's data ------------------------------------------------------------------------


def test_download_my_data_names_the_section_of_my_comments(resident, section):
    mine = _comment(section, author=resident)
    data = personal_data.export_all(resident)
    [exported] = data["comments"]
    assert exported["id"] == mine.pk and exported["proposal"] is None
    assert exported["section"] == {"strategy": section.strategy.slug, "code": "1.2"}
