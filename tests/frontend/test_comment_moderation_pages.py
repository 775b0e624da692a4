"""The moderators' comment pages (frontend/views/comment_moderation.py): who may open them,
the queue of flagged comments, one comment reviewed in its context, and hiding and
restoring it from the page."""

import re
from urllib.parse import quote

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from django.utils.translation import ngettext

from proposals.comments.services import (
    comment_create,
    comment_delete,
    comment_edit,
    comment_flag,
    comment_moderate,
)
from proposals.models import Comment, CommentEvent, CommentFlag
from tests.conftest import client_for, page_client_for
from tests.factories import ProposalFactory, UserFactory
from tests.frontend.helpers import LANGUAGES, _messages, _page, _tr

pytestmark = pytest.mark.django_db

TEXT = "Этот перекрёсток затапливает каждую весну."
QUEUE = "/{lang}/moderation/comments/"
REVIEW = "/{lang}/moderation/comments/{id}/"


@pytest.fixture(autouse=True)
def _three_flags_hide(settings):
    settings.CIVIC_COMMENT_HIDE_AFTER_FLAGS = 3


@pytest.fixture
def proposal(strategy):
    return ProposalFactory(strategy=strategy, title="Ливнёвки на Абая")


def _comment(proposal, author=None, body: str = TEXT, parent=None) -> Comment:
    return comment_create(
        proposal=proposal, author=author or UserFactory(), body=body, parent=parent
    )


def _flag(comment: Comment, *reasons: str) -> None:
    for reason in reasons:
        comment_flag(comment=comment, user=UserFactory(), reason=reason)


@pytest.fixture
def flagged(proposal, resident) -> Comment:
    """The resident's comment, hidden by three residents' flags."""
    comment = _comment(proposal, author=resident)
    _flag(comment, "offensive", "offensive", "spam")
    comment.refresh_from_db()
    assert comment.hidden_by == Comment.HiddenBy.FLAGS
    return comment


def _decide(user, comment: Comment, lang: str = "ru", **data):
    return page_client_for(user).post(REVIEW.format(lang=lang, id=comment.pk), data)


def _authors_view(author, comment: Comment) -> dict:
    """The comment as its author reads it through the API."""
    response = client_for(author).get(f"/api/v1/proposals/{comment.proposal_id}/comments/")
    return next(c for c in response.json()["results"] if c["id"] == comment.pk)


# --- who may open them ------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("path", [QUEUE, REVIEW])
def test_anonymous_visitors_are_sent_to_sign_in(client, flagged, lang, path):
    path = path.format(lang=lang, id=flagged.pk)
    response = client.get(path)
    assert response.status_code == 302
    assert response.url == f"/{lang}/login/?next={quote(path, safe='/')}"
    response = client.post(path, {"action": "restore"})
    assert response.status_code == 302 and "/login/" in response.url


@pytest.mark.parametrize(
    ("who", "status"),
    [("resident", 403), ("analyst", 403), ("moderator", 200), ("admin", 200)],
)
def test_only_moderators_and_admins_open_the_pages(people_by_role, flagged, who, status):
    client = page_client_for(people_by_role[who])
    for path in (QUEUE, REVIEW):
        response = client.get(path.format(lang="ru", id=flagged.pk))
        assert response.status_code == status, path
        assert (TEXT in _page(response)) == (status == 200)


@pytest.mark.parametrize("who", ["resident", "analyst"])
def test_others_cannot_decide_by_posting(people_by_role, flagged, who):
    response = _decide(people_by_role[who], flagged, action="restore")
    assert response.status_code == 403
    flagged.refresh_from_db()
    assert flagged.hidden_by == Comment.HiddenBy.FLAGS
    assert not CommentEvent.objects.filter(action="restore").exists()


def test_a_missing_comment_is_404(moderator):
    assert page_client_for(moderator).get(REVIEW.format(lang="ru", id=999_999)).status_code == 404


# --- the queue ------------------------------------------------------------------------------------


def _queue_ids(response) -> list[int]:
    return [int(pk) for pk in re.findall(r'<tr id="comment-(\d+)"', response.content.decode())]


def test_the_queue_lists_flagged_comments_flagged_first_first_with_counts(
    proposal, flagged, moderator
):
    quiet = _comment(proposal)
    later = _comment(proposal, body="Реклама: лучшие окна недорого.")
    _flag(later, "spam")
    decided = _comment(proposal)
    _flag(decided, "spam")
    comment_moderate(comment=decided, moderator=moderator, action="hide", reason="spam")

    response = page_client_for(moderator).get(QUEUE.format(lang="ru"))
    assert response.status_code == 200
    assert _queue_ids(response) == [flagged.pk, later.pk]
    assert quiet.pk not in _queue_ids(response) and decided.pk not in _queue_ids(response)
    page = _page(response)
    assert proposal.code in page and "Ливнёвки на Абая" in page
    # The reasons in a fixed order, whichever came first.
    assert f"{_tr('ru', 'Spam')}: 1; {_tr('ru', 'Offensive')}: 2" in page
    row = re.search(rf'<tr id="comment-{flagged.pk}".*?</tr>', page, re.S).group()
    assert _tr("ru", "Hidden by residents' flags") in row
    assert f"/ru/moderation/comments/{flagged.pk}/" in row
    with translation.override("ru"):
        count = ngettext("%(n)s comment is waiting", "%(n)s comments are waiting", 2) % {"n": 2}
    assert count in page


def test_the_moderation_queue_links_to_the_comments_with_their_number(proposal, flagged, moderator):
    _flag(_comment(proposal), "spam")
    response = page_client_for(moderator).get("/ru/moderation/")
    link = re.search(r'<a href="([^"]+)" id="comments-to-review">([^<]+)</a>', _page(response))
    assert link.group(1) == "/ru/moderation/comments/"
    assert link.group(2) == _tr("ru", "Comments to review (%(number)s)", number=2)


def test_the_queue_page_runs_the_same_queries_for_3_and_55_comments(proposal, moderator):
    flagger = UserFactory()

    def add(count: int) -> None:
        for n in range(count):
            comment = _comment(proposal, body=f"{TEXT} {n}")
            CommentFlag.objects.create(comment=comment, user=flagger, reason="spam")

    def measure() -> tuple[list[str], object]:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(QUEUE.format(lang="ru"))
        assert response.status_code == 200
        return [q["sql"] for q in captured.captured_queries], response

    client = page_client_for(moderator)
    add(3)
    client.get(QUEUE.format(lang="ru"))  # warm-up
    small, response = measure()
    assert len(response.context["rows"]) == 3
    add(52)
    large, response = measure()
    assert len(response.context["rows"]) == 50
    assert response.context["page"].paginator.count == 55
    assert len(small) == len(large), "\n".join(small + ["--"] + large)
    second = client.get(QUEUE.format(lang="ru") + "?page=2")
    assert len(second.context["rows"]) == 5


# --- one comment, in its context ------------------------------------------------------------------


def test_the_review_page_shows_the_comment_in_context_hidden_text_included(
    proposal, resident, moderator
):
    parent = _comment(proposal, body="Сначала почините ливнёвку у школы.")
    reply = _comment(proposal, author=resident, parent=parent)
    _flag(reply, "offensive", "offensive", "personal_data")
    response = page_client_for(moderator).get(REVIEW.format(lang="ru", id=reply.pk))
    page = _page(response)
    assert response.status_code == 200
    assert proposal.code in page and f"/ru/proposals/{proposal.pk}/" in page
    assert "Сначала почините ливнёвку у школы." in page  # the comment it answers
    assert TEXT in page  # hidden from the public, not from its moderators
    assert _tr("ru", "Hidden by residents' flags") in page
    flags = re.search(r'id="flags-title".*?</section>', page, re.S).group()
    assert flags.count(_tr("ru", "Offensive")) == 2
    assert _tr("ru", "Contains personal data") in flags
    assert flags.count(_tr("ru", "awaiting a decision")) == 3
    # Both decisions are offered for a comment hidden by flags.
    assert 'value="hide"' in page and 'value="restore"' in page


def test_a_shown_comment_offers_hiding_or_keeping_and_a_hidden_one_restoring(proposal, moderator):
    comment = _comment(proposal)
    _flag(comment, "spam")
    client = page_client_for(moderator)
    page = _page(client.get(REVIEW.format(lang="en", id=comment.pk)))
    # Shown with a flag not yet settled: hide it, or keep it and settle the flag.
    assert 'value="hide"' in page and 'value="restore"' in page
    assert "Keep the comment and dismiss the flags" in page
    comment_moderate(comment=comment, moderator=moderator, action="hide", reason="spam")
    page = _page(client.get(REVIEW.format(lang="en", id=comment.pk)))
    assert 'value="hide"' not in page and 'value="restore"' in page
    assert "Hidden by a moderator: Spam" in page


def test_a_deleted_comment_shows_no_text_and_no_form(proposal, resident, moderator):
    comment = _comment(proposal, author=resident, body="Первый вариант текста.")
    comment_edit(comment=comment, actor=resident, body="Второй вариант текста.")
    _flag(comment, "spam")
    comment_delete(comment=comment, actor=resident)
    client = page_client_for(moderator)
    response = client.get(REVIEW.format(lang="en", id=comment.pk))
    page = _page(response)
    assert response.status_code == 200
    assert "Its author deleted this comment: there is nothing left to decide." in page
    assert "вариант текста" not in page  # not in the comment, not in its edit history
    assert 'name="action"' not in page
    # A post anyway (a page gone stale) is the service's conflict, on the form.
    response = client.post(REVIEW.format(lang="en", id=comment.pk), {"action": "restore"})
    assert response.status_code == 409
    assert "This comment was deleted." in _page(response)


# --- deciding from the page ---------------------------------------------------------------------


def test_hiding_from_the_page_gives_the_author_the_reason(flagged, resident, moderator):
    response = _decide(moderator, flagged, action="hide", reason="offensive")
    assert response.status_code == 302
    assert response.url == "/ru/moderation/comments/"
    flagged.refresh_from_db()
    assert flagged.hidden_by == Comment.HiddenBy.MODERATOR
    assert flagged.hidden_reason == "offensive"
    assert not CommentFlag.objects.filter(comment=flagged, resolved_at__isnull=True).exists()
    event = CommentEvent.objects.filter(comment=flagged).latest("at")
    assert (event.action, event.actor, event.reason) == ("hide", moderator, "offensive")
    seen = _authors_view(resident, flagged)
    assert seen["hidden"] is True and seen["hidden_reason"] == "offensive"
    # Decided: it leaves the queue.
    queue = page_client_for(moderator).get(QUEUE.format(lang="ru"))
    assert flagged.pk not in _queue_ids(queue)


def test_the_success_message_is_shown_in_the_queue(flagged, moderator):
    client = page_client_for(moderator)
    response = client.post(
        REVIEW.format(lang="ru", id=flagged.pk), {"action": "hide", "reason": "spam"}, follow=True
    )
    assert response.status_code == 200
    expected = _tr("ru", "The comment on %(code)s is hidden.", code=flagged.proposal.code)
    assert expected in _messages(response)


def test_restoring_from_the_page_shows_it_again_and_ignores_a_leftover_reason(
    flagged, resident, moderator
):
    # The reason list is only hidden by the script when "restore" is picked: a reason
    # chosen before switching still comes with the post, and means nothing.
    response = _decide(moderator, flagged, action="restore", reason="spam")
    assert response.status_code == 302
    flagged.refresh_from_db()
    assert flagged.hidden_by == "" and flagged.hidden_reason == ""
    seen = _authors_view(resident, flagged)
    assert seen["hidden"] is False and seen["hidden_reason"] is None
    public = _authors_view(None, flagged)
    assert public["body"] == TEXT
    event = CommentEvent.objects.filter(comment=flagged).latest("at")
    assert (event.action, event.reason) == ("restore", "")


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({}, "action"),
        ({"action": "delete"}, "action"),
        ({"action": "hide"}, "reason"),
        ({"action": "hide", "reason": "flagged"}, "reason"),  # the flags' own, not a moderator's
        ({"action": "hide", "reason": "rude"}, "reason"),
    ],
)
def test_bad_input_is_a_400_with_the_forms_error_and_changes_nothing(
    flagged, moderator, data, field
):
    before = CommentEvent.objects.count()
    response = _decide(moderator, flagged, lang="en", **data)
    assert response.status_code == 400
    page = _page(response)
    assert 'id="form-errors"' in page
    assert re.search(rf'<span class="error" id="id_{field}_error">', page)
    flagged.refresh_from_db()
    assert flagged.hidden_by == Comment.HiddenBy.FLAGS
    assert CommentEvent.objects.count() == before


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_decision_the_state_no_longer_allows_is_a_409_with_the_services_reason(
    proposal, moderator, lang
):
    comment = _comment(proposal)
    _flag(comment, "spam")
    # Another moderator kept it meanwhile: this page, gone stale, restores it again.
    comment_moderate(comment=comment, moderator=moderator, action="restore")
    response = _decide(moderator, comment, lang=lang, action="restore")
    assert response.status_code == 409
    assert _tr(lang, "This comment is not hidden.") in _page(response)
    comment_moderate(comment=comment, moderator=moderator, action="hide", reason="spam")
    response = _decide(moderator, comment, lang=lang, action="hide", reason="offensive")
    assert response.status_code == 409
    page = _page(response)
    assert _tr(lang, "A moderator has already hidden this comment.") in page
    # The page shows the comment as it is now, and offers what it allows now.
    assert 'value="restore"' in page and 'value="hide"' not in page
    comment.refresh_from_db()
    assert comment.hidden_reason == "spam"


def test_russian_refusals_read_in_russian(proposal, moderator):
    comment = _comment(proposal)
    _flag(comment, "spam")
    comment_moderate(comment=comment, moderator=moderator, action="restore")
    response = _decide(moderator, comment, lang="ru", action="restore")
    assert "Этот комментарий не скрыт." in _page(response)


# --- the history --------------------------------------------------------------------------------


def test_the_history_shows_edits_hides_and_restores(proposal, resident, moderator):
    comment = _comment(proposal, author=resident, body="Надо чистить арыки весной.")
    comment_edit(comment=comment, actor=resident, body="Надо чистить арыки весной и осенью.")
    _flag(comment, "spam", "spam", "offensive")
    _decide(moderator, comment, lang="en", action="restore")
    _decide(moderator, comment, lang="en", action="hide", reason="personal_data")

    page = _page(page_client_for(moderator).get(REVIEW.format(lang="en", id=comment.pk)))
    history = re.search(r'<ol class="history">(.*?)</ol>', page, re.S).group(1)
    lines = re.findall(r"<li>(.*?)</li>", history, re.S)
    assert len(lines) == 4
    assert "Edited by the author (Айгерим)" in lines[0]
    assert "<ins>" in lines[0] and " и осенью" in lines[0]
    assert "Hidden by residents' flags" in lines[1] and "(" not in lines[1].split("—")[1]
    assert "Restored by a moderator (Модератор · moderator)" in lines[2]
    assert "Hidden by a moderator (Модератор · moderator): Contains personal data" in lines[3]


# --- the three languages ------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_pages_speak_the_visitors_language(flagged, moderator, lang):
    client = page_client_for(moderator)
    for path, title in ((QUEUE, "Comments to review"), (REVIEW, "Your decision")):
        response = client.get(path.format(lang=lang, id=flagged.pk))
        page = _page(response)
        assert f'<html lang="{lang}">' in page
        assert _tr(lang, title) in page
        assert _tr(lang, "Hidden by residents' flags") in page
    queue = _page(client.get(QUEUE.format(lang=lang)))
    assert _tr(lang, "Offensive") in queue
    review = _page(client.get(REVIEW.format(lang=lang, id=flagged.pk)))
    assert _tr(lang, "Hide the comment") in review and _tr(lang, "Restore the comment") in review
    assert _tr(lang, "Reason for hiding") in review
