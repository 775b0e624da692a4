"""The moderators' reads of comments (proposals/comments/queue.py) and the API list of
flagged comments built on them (`GET /api/v1/comments/flagged/`)."""

import pytest
from django.core.paginator import Paginator
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.dateparse import parse_datetime

from civic.accounts.models import User
from proposals.comments.queue import (
    comment_flags,
    comment_for_review,
    comment_history,
    flag_counts,
    flagged_comments,
    flagged_comments_count,
)
from proposals.comments.services import (
    comment_create,
    comment_delete,
    comment_edit,
    comment_flag,
    comment_moderate,
)
from proposals.models import Comment, CommentFlag, Proposal
from tests.conftest import client_for
from tests.factories import ProposalFactory, UserFactory

pytestmark = pytest.mark.django_db

TEXT = "Этот перекрёсток затапливает каждую весну."
URL = "/api/v1/comments/flagged/"


@pytest.fixture(autouse=True)
def _three_flags_hide(settings):
    settings.CIVIC_COMMENT_HIDE_AFTER_FLAGS = 3


@pytest.fixture
def proposal(strategy) -> Proposal:
    return ProposalFactory(strategy=strategy, title="Ливнёвки на Абая")


def _comment(proposal: Proposal, author: User | None = None, body: str = TEXT) -> Comment:
    return comment_create(proposal=proposal, author=author or UserFactory(), body=body)


def _flag(comment: Comment, *reasons: str) -> None:
    for reason in reasons:
        comment_flag(comment=comment, user=UserFactory(), reason=reason)


def _queue() -> list[Comment]:
    return list(flagged_comments())


# --- what the queue holds, and in which order -------------------------------------------------


def test_the_queue_holds_open_flags_and_hides_by_flags_and_nothing_else(proposal, moderator):
    quiet = _comment(proposal)
    flagged = _comment(proposal)
    _flag(flagged, "spam")
    auto_hidden = _comment(proposal)
    _flag(auto_hidden, "spam", "offensive", "spam")
    hidden_by_moderator = _comment(proposal)
    _flag(hidden_by_moderator, "spam")
    comment_moderate(comment=hidden_by_moderator, moderator=moderator, action="hide")
    _flag(hidden_by_moderator, "offensive")  # a flag on a decided, hidden comment
    restored = _comment(proposal)
    _flag(restored, "spam", "spam", "spam")
    comment_moderate(comment=restored, moderator=moderator, action="restore")
    author = UserFactory()
    deleted = _comment(proposal, author=author)
    _flag(deleted, "off_topic")
    comment_delete(comment=deleted, actor=author)

    queue = _queue()
    assert [c.pk for c in queue] == [flagged.pk, auto_hidden.pk]
    assert quiet.pk not in {c.pk for c in queue}
    assert flagged_comments_count() == 2
    row = {c.pk: c for c in queue}
    assert row[auto_hidden.pk].hidden_by == Comment.HiddenBy.FLAGS
    assert row[flagged.pk].hidden_by == Comment.HiddenBy.NOBODY
    assert flag_counts(row[auto_hidden.pk]) == {
        "spam": 2,
        "offensive": 1,
        "personal_data": 0,
        "off_topic": 0,
    }
    assert row[auto_hidden.pk].open_flags == 3
    assert row[auto_hidden.pk].proposal.code == proposal.code
    assert row[auto_hidden.pk].proposal.title == "Ливнёвки на Абая"


def test_the_comment_flagged_first_comes_first_whenever_it_was_written(proposal):
    older = _comment(proposal)
    newer = _comment(proposal)
    _flag(newer, "spam")
    _flag(older, "offensive")
    _flag(newer, "spam")  # a second flag later does not move it back
    queue = _queue()
    assert [c.pk for c in queue] == [newer.pk, older.pk]
    first_newer = CommentFlag.objects.filter(comment=newer).order_by("created_at")[0]
    assert queue[0].first_flagged_at == first_newer.created_at


def test_after_a_decision_only_new_flags_count(proposal, moderator):
    comment = _comment(proposal)
    _flag(comment, "spam", "spam", "spam")
    comment_moderate(comment=comment, moderator=moderator, action="restore")
    assert _queue() == []
    _flag(comment, "personal_data")
    (row,) = _queue()
    assert flag_counts(row) == {"spam": 0, "offensive": 0, "personal_data": 1, "off_topic": 0}
    latest = CommentFlag.objects.filter(comment=comment).latest("created_at")
    assert row.first_flagged_at == latest.created_at


def test_a_page_of_50_reads_the_same_queries_for_5_and_60_comments(proposal):
    def measure() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as captured:
            page = Paginator(flagged_comments(), 50).get_page(1)
            rows = [(c.proposal.code, c.author.display_name, flag_counts(c)) for c in page]
        return len(captured.captured_queries), len(rows)

    flagger = UserFactory()

    def add(count: int) -> None:
        for n in range(count):
            comment = _comment(proposal, body=f"{TEXT} {n}")
            CommentFlag.objects.create(comment=comment, user=flagger, reason="spam")

    add(5)
    small, shown = measure()
    assert shown == 5
    add(55)
    large, shown = measure()
    assert shown == 50
    assert small == large == 2  # the count and the page


# --- one comment and its history --------------------------------------------------------------


def test_a_comment_for_review_comes_with_its_context_even_when_hidden_or_deleted(
    proposal, moderator, resident
):
    parent = _comment(proposal)
    reply = comment_create(proposal=proposal, author=resident, body=TEXT, parent=parent)
    comment_moderate(comment=reply, moderator=moderator, action="hide", reason="spam")
    found = comment_for_review(user=moderator, comment_id=reply.pk)
    assert found.parent == parent and found.proposal == proposal and found.body == TEXT
    comment_delete(comment=parent, actor=parent.author)
    assert comment_for_review(user=moderator, comment_id=parent.pk).deleted_at is not None
    assert comment_for_review(user=moderator, comment_id=999_999) is None


def test_flags_are_listed_oldest_first_with_whether_they_are_settled(proposal, moderator):
    comment = _comment(proposal)
    _flag(comment, "spam", "offensive")
    comment_moderate(comment=comment, moderator=moderator, action="hide", reason="spam")
    _flag(comment, "off_topic")
    flags = comment_flags(comment=comment)
    assert [f.reason for f in flags] == ["spam", "offensive", "off_topic"]
    assert [f.resolved_at is not None for f in flags] == [True, True, False]


def test_the_history_shows_edits_hides_and_restores_with_who_and_why(
    proposal, moderator, resident, django_assert_max_num_queries
):
    comment = _comment(proposal, author=resident, body="Надо чистить арыки весной.")
    comment_edit(comment=comment, actor=resident, body="Надо чистить арыки весной и осенью.")
    _flag(comment, "spam", "spam", "offensive")
    comment_moderate(comment=comment, moderator=moderator, action="hide", reason="offensive")
    comment_moderate(comment=comment, moderator=moderator, action="restore")

    with django_assert_max_num_queries(2):
        history = comment_history(comment=comment)
        roles = [entry.actor and list(entry.actor.staff_groups) for entry in history]
    assert [(e.action, e.actor_name, e.reason) for e in history] == [
        ("edit", "Айгерим", ""),
        ("auto_hide", None, "flagged"),
        ("hide", "Модератор", "offensive"),
        ("restore", "Модератор", ""),
    ]
    assert roles[2] and roles[2][0].name == "moderator"
    edit = history[0].diff
    assert {"op": "insert", "text": " и осенью"} in edit
    assert "".join(run["text"] for run in edit if run["op"] != "delete") == (
        "Надо чистить арыки весной и осенью."
    )
    assert all(entry.diff == [] for entry in history[1:])


def test_after_its_author_deletes_it_the_history_no_longer_shows_its_texts(proposal, resident):
    comment = _comment(proposal, author=resident, body="Первый вариант текста.")
    comment_edit(comment=comment, actor=resident, body="Второй вариант текста.")
    comment_delete(comment=comment, actor=resident)
    comment.refresh_from_db()
    history = comment_history(comment=comment)
    assert [e.action for e in history] == ["edit", "delete"]
    assert all(entry.diff == [] for entry in history)


# --- the API list ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"),
    [("anonymous", 401), ("resident", 403), ("analyst", 403), ("moderator", 200), ("admin", 200)],
)
def test_only_moderators_and_admins_list_flagged_comments(people_by_role, proposal, who, status):
    _flag(_comment(proposal), "spam")
    response = client_for(people_by_role[who]).get(URL)
    assert response.status_code == status
    if status == 200:
        assert response.json()["count"] == 1


def test_the_api_gives_each_flagged_comment_with_its_flags_by_reason(proposal, moderator):
    shown = _comment(proposal, body="Реклама: лучшие окна недорого.")
    _flag(shown, "spam")
    hidden = _comment(proposal)
    _flag(hidden, "offensive", "offensive", "personal_data")
    _flag(_comment(proposal), "spam")
    comment_moderate(comment=Comment.objects.order_by("-pk")[0], moderator=moderator, action="hide")

    response = client_for(moderator).get(URL)
    assert response.status_code == 200
    data = response.json()
    assert data["count"] == 2
    first, second = data["results"]
    first_flag = CommentFlag.objects.filter(comment=shown).get()
    assert first == {
        "id": shown.pk,
        "proposal": proposal.pk,
        "proposal_code": proposal.code,
        "body": "Реклама: лучшие окна недорого.",
        "hidden": False,
        "hidden_reason": None,
        "flags": {"spam": 1, "offensive": 0, "personal_data": 0, "off_topic": 0},
        "first_flagged_at": first["first_flagged_at"],
    }
    assert parse_datetime(first["first_flagged_at"]) == first_flag.created_at
    assert second["id"] == hidden.pk
    assert second["hidden"] is True and second["hidden_reason"] == "flagged"
    assert second["body"] == TEXT  # a hidden text is what the moderator decides on
    assert second["flags"] == {"spam": 0, "offensive": 2, "personal_data": 1, "off_topic": 0}


def test_the_api_list_reads_the_same_queries_for_5_and_60_comments(proposal, moderator):
    flagger = UserFactory()

    def add(count: int) -> None:
        for n in range(count):
            comment = _comment(proposal, body=f"{TEXT} {n}")
            CommentFlag.objects.create(comment=comment, user=flagger, reason="spam")

    def measure() -> tuple[int, int]:
        client = client_for(moderator)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(URL, {"page_size": 50})
        assert response.status_code == 200
        return len(captured.captured_queries), len(response.json()["results"])

    add(5)
    measure()  # warm-up: the moderator's permissions are read once and kept
    small, shown = measure()
    assert shown == 5
    add(55)
    large, shown = measure()
    assert shown == 50
    assert small == large
