"""The discussion of a strategy's section (issue 15): the link and follow button on the
strategy page, the section's discussion page and its forms (post, reply, edit, delete,
flag), who may use them, a closed strategy, and the moderators' pages for such comments."""

import re
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from proposals.comments.services import comment_create, comment_delete, comment_moderate
from proposals.following.services import follow_set
from proposals.models import Comment, CommentFlag, Follow
from strategy.models import Strategy
from strategy.services import strategy_schedule
from tests.conftest import page_client_for
from tests.factories import SectionFactory, StrategyFactory, UserFactory
from tests.frontend.helpers import LANGUAGES, _messages, _page, _tr

pytestmark = pytest.mark.django_db

TEXT = "В разделе нет ни слова про арыки."
REPLY = "Согласна, арыки надо вписать в раздел."


@pytest.fixture
def water(strategy):
    return SectionFactory(
        strategy=strategy, code="1.2", position=1, title_ru="Вода", title_en="Water"
    )


def _comment(section, author, body=TEXT, parent=None) -> Comment:
    return comment_create(section=section, author=author, body=body, parent=parent)


def _url(section, language="ru") -> str:
    return f"/{language}/strategies/{section.strategy.slug}/sections/{section.code}/discussion/"


def _new_url(section, language="ru") -> str:
    return f"/{language}/strategies/{section.strategy.slug}/sections/{section.code}/comments/"


def _discussion(response) -> str:
    match = re.search(r'<section class="discussion".*?</section>', response.content.decode(), re.S)
    return match.group(0) if match else ""


def _article(response, comment: Comment) -> str:
    match = re.search(
        rf'<article class="comment[^"]*" id="comment-{comment.pk}">.*?</article>',
        response.content.decode(),
        re.S,
    )
    assert match, f"comment {comment.pk} is not on the page"
    return match.group(0)


def _section_block(response, section) -> str:
    """The section's own part of the strategy page, without its sub-sections."""
    html = response.content.decode()
    start = html.index(f'id="section-{section.code}"')
    end = html.find('<section class="doc-section', start)
    return html[start : end if end != -1 else len(html)]


def _page_of(fragment: str) -> str:
    """A fragment of a page as read, as _page reads a whole response."""
    return unescape(fragment)


def _close(strategy, status="closed") -> None:
    strategy_schedule(
        strategy=strategy, status=status, opens_at=strategy.opens_at, closes_at=strategy.closes_at
    )


# --- the strategy page -------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_section_links_to_its_discussion_with_the_visible_count(
    client, strategy, water, resident, other_resident, moderator, language
):
    other = SectionFactory(strategy=strategy, code="2", position=2, title_ru="Транспорт")
    shown = _comment(water, resident)
    _comment(water, other_resident, REPLY, parent=shown)
    hidden = _comment(water, other_resident, "Скрытый комментарий.")
    comment_moderate(comment=hidden, moderator=moderator, action="hide", reason="spam")
    gone = _comment(water, other_resident, "Удалённый комментарий.")
    comment_delete(comment=gone, actor=other_resident)
    page = client.get(f"/{language}/strategies/{strategy.slug}/")
    assert page.status_code == 200
    block = _section_block(page, water)
    assert f'href="{_url(water, language)}"' in block
    assert _tr(language, "Discussion (%(n)s)", n=2) in block
    assert _tr(language, "Discussion (%(n)s)", n=0) in _section_block(page, other)


def test_the_strategy_page_runs_the_same_queries_for_few_and_many_sections_and_comments(
    strategy, resident, other_resident
):
    def queries(client) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(f"/ru/strategies/{strategy.slug}/").status_code == 200
        return len(captured.captured_queries)

    first = SectionFactory(strategy=strategy, code="1", position=0)
    _comment(first, resident)
    follow_set(user=resident, following=True, section=first)
    clients = [page_client_for(None), page_client_for(resident)]
    for client in clients:
        client.get(f"/ru/strategies/{strategy.slug}/")  # the session settles first
    few = [queries(client) for client in clients]
    for n in range(2, 12):
        section = SectionFactory(strategy=strategy, code=str(n), position=n)
        _comment(section, other_resident)
        _comment(section, resident, REPLY)
        follow_set(user=resident, following=True, section=section)
    assert [queries(client) for client in clients] == few


def test_a_signed_in_visitor_follows_and_unfollows_a_section_from_the_strategy_page(
    client, strategy, water, resident
):
    page_url = f"/ru/strategies/{strategy.slug}/"
    assert 'name="section"' not in client.get(page_url).content.decode()  # anonymous: none
    client.force_login(resident)
    block = _section_block(client.get(page_url), water)
    assert 'action="/ru/follow/"' in block
    assert f'name="section" value="{water.pk}"' in block
    assert 'name="following" value="1"' in block
    assert f'name="next" value="{page_url}#section-1.2"' in block
    assert _tr("ru", "Follow this section") in _page_of(block)

    response = client.post(
        "/ru/follow/", {"section": water.pk, "following": "1", "next": f"{page_url}#section-1.2"}
    )
    assert response.status_code == 302 and response["Location"] == f"{page_url}#section-1.2"
    assert Follow.objects.get(user=resident, section=water).active
    block = _section_block(client.get(page_url), water)
    assert 'name="following" value="0"' in block
    assert _tr("ru", "Stop following") in _page_of(block)

    client.post("/ru/follow/", {"section": water.pk, "following": "0", "next": page_url})
    assert not Follow.objects.get(user=resident, section=water).active


# --- the section's discussion page ---------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_discussion_page_shows_the_section_and_its_comments_oldest_first(
    client, water, resident, other_resident, language
):
    first = _comment(water, resident)
    reply = _comment(water, other_resident, REPLY, parent=first)
    later = _comment(water, other_resident, "Ещё одно замечание к разделу.")
    page = client.get(_url(water, language))
    assert page.status_code == 200
    text = _page(page)
    assert "1.2." in text
    assert _tr(language, "Discussion") in text
    html = page.content.decode()
    assert html.index(f'id="comment-{first.pk}"') < html.index(f'id="comment-{reply.pk}"')
    assert html.index(f'id="comment-{reply.pk}"') < html.index(f'id="comment-{later.pk}"')
    assert 'class="comment reply"' in _article(page, reply)
    # The timestamp links to the comment on this page, not to a proposal.
    assert f'href="{_url(water, language)}#comment-{first.pk}"' in _article(page, first)
    assert f'href="/{language}/strategies/{water.strategy.slug}/#section-1.2"' in html


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_anonymous_visitor_reads_and_is_asked_to_sign_in(client, water, language):
    discussion = _discussion(client.get(_url(water, language)))
    assert _tr(language, "Sign in to comment") in _page_of(discussion)
    assert "<textarea" not in discussion
    response = client.post(_new_url(water, language), {"body": TEXT})
    assert response.status_code == 302 and response["Location"].startswith(f"/{language}/login/")
    assert not Comment.objects.exists()


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_unverified_resident_is_told_why_and_cannot_post(client, water, language):
    client.force_login(UserFactory(email_verified=False))
    discussion = _discussion(client.get(_url(water, language)))
    assert _tr(language, "Verify your email address to comment") in _page_of(discussion)
    assert "<textarea" not in discussion
    response = client.post(_new_url(water, language), {"body": TEXT})
    assert response.status_code == 403
    assert _tr(language, "Verify your email address before you do this.") in _page(response)
    assert not Comment.objects.exists()


@pytest.mark.parametrize("language", LANGUAGES)
def test_posting_a_comment_on_a_section(client, water, other_resident, language):
    client.force_login(other_resident)
    discussion = _discussion(client.get(_url(water, language)))
    assert f'action="{_new_url(water, language)}"' in discussion
    response = client.post(_new_url(water, language), {"body": f"  {TEXT}\r\n"})
    comment = Comment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{_url(water, language)}#comment-{comment.pk}"
    assert comment.section == water and comment.proposal is None and comment.body == TEXT
    page = client.get(response["Location"])
    assert TEXT in _article(page, comment)
    assert _tr(language, "Your comment is published.") in _messages(page)


def test_a_too_short_comment_comes_back_with_the_error(client, water, resident):
    client.force_login(resident)
    response = client.post(_new_url(water), {"body": " x "})
    assert response.status_code == 400
    assert "<textarea" in response.content.decode()
    assert not Comment.objects.exists()


@pytest.mark.parametrize("status", ["closed", "archived"])
def test_a_closed_strategy_keeps_the_discussion_readable_without_a_form(
    client, water, resident, other_resident, status
):
    mine = _comment(water, resident)
    theirs = _comment(water, other_resident, REPLY)
    _close(water.strategy, status)
    client.force_login(resident)
    page = client.get(_url(water))
    assert page.status_code == 200
    discussion = _discussion(page)
    assert "<textarea" not in discussion
    assert _tr("ru", "The strategy is closed: its sections take no new comments.") in _page_of(
        discussion
    )
    assert "/reply/" not in discussion
    assert f"/ru/comments/{mine.pk}/delete/" in _article(page, mine)  # one's words stay one's
    assert f"/ru/comments/{theirs.pk}/flag/" in _article(page, theirs)
    response = client.post(_new_url(water), {"body": TEXT})
    assert response.status_code == 409
    assert _tr("ru", "This strategy is not open for comments.") in _page(response)
    form = client.get(_new_url(water))
    assert form.status_code == 409 and "<textarea" not in form.content.decode()
    reply = client.post(f"/ru/comments/{theirs.pk}/reply/", {"body": REPLY})
    assert reply.status_code == 409
    assert Comment.objects.count() == 2


def test_a_draft_strategy_is_404_everywhere(client, resident):
    draft = StrategyFactory(slug="draft-plan", status=Strategy.Status.DRAFT)
    section = SectionFactory(strategy=draft, code="1")
    client.force_login(resident)
    assert client.get(_url(section)).status_code == 404
    assert client.post(_new_url(section), {"body": TEXT}).status_code == 404
    assert client.get("/ru/strategies/almaty-test/sections/9/discussion/").status_code == 404
    assert not Comment.objects.exists()


def test_a_comment_left_on_a_strategy_sent_back_to_draft_is_404(client, water, resident):
    comment = _comment(water, resident)
    _close(water.strategy, "draft")
    client.force_login(resident)
    assert client.get(f"/ru/comments/{comment.pk}/edit/").status_code == 404
    assert client.get(f"/ru/comments/{comment.pk}/delete/").status_code == 404


# --- replying, editing, deleting, flagging ---------------------------------------------


def test_replying_to_a_section_comment(client, water, resident, other_resident):
    parent = _comment(water, resident)
    client.force_login(other_resident)
    form = client.get(f"/ru/comments/{parent.pk}/reply/")
    assert form.status_code == 200
    assert f'href="{_url(water)}#discussion"' in form.content.decode()  # the way back
    assert _tr("ru", "Back to the discussion of the section") in _page(form)
    response = client.post(f"/ru/comments/{parent.pk}/reply/", {"body": REPLY})
    reply = Comment.objects.get(parent=parent)
    assert response["Location"] == f"{_url(water)}#comment-{reply.pk}"
    assert reply.section == water
    deeper = client.post(f"/ru/comments/{reply.pk}/reply/", {"body": "Ответ на ответ."})
    assert deeper.status_code == 400
    assert Comment.objects.count() == 2


def test_editing_and_deleting_ones_section_comment(client, water, resident, other_resident):
    comment = _comment(water, resident)
    client.force_login(other_resident)
    assert client.get(f"/ru/comments/{comment.pk}/edit/").status_code == 403
    assert client.post(f"/ru/comments/{comment.pk}/delete/").status_code == 403
    client.force_login(resident)
    edit = client.get(f"/ru/comments/{comment.pk}/edit/")
    assert f'href="{_url(water)}#comment-{comment.pk}"' in edit.content.decode()  # cancel
    response = client.post(f"/ru/comments/{comment.pk}/edit/", {"body": "Новый текст."})
    assert response["Location"] == f"{_url(water)}#comment-{comment.pk}"
    comment.refresh_from_db()
    assert comment.body == "Новый текст." and comment.edited_at is not None
    confirm = client.get(f"/ru/comments/{comment.pk}/delete/")
    assert confirm.status_code == 200
    response = client.post(f"/ru/comments/{comment.pk}/delete/")
    assert response["Location"] == f"{_url(water)}#discussion"
    comment.refresh_from_db()
    assert comment.deleted_at is not None
    assert f'id="comment-{comment.pk}"' not in client.get(_url(water)).content.decode()


@pytest.mark.parametrize("language", LANGUAGES)
def test_flagging_a_section_comment(client, water, resident, other_resident, language):
    comment = _comment(water, resident)
    client.force_login(other_resident)
    assert client.get(f"/{language}/comments/{comment.pk}/flag/").status_code == 200
    response = client.post(f"/{language}/comments/{comment.pk}/flag/", {"reason": "off_topic"})
    assert response.status_code == 302
    assert response["Location"] == f"{_url(water, language)}#comment-{comment.pk}"
    assert CommentFlag.objects.get(comment=comment).user == other_resident
    page = client.get(_url(water, language))
    assert _tr(language, "You have reported this comment.") in _page_of(_article(page, comment))
    again = client.get(f"/{language}/comments/{comment.pk}/flag/")
    assert again.status_code == 409
    client.force_login(resident)
    assert client.get(f"/{language}/comments/{comment.pk}/flag/").status_code == 403


def test_a_hidden_section_comment_is_a_stub_for_the_public(client, water, resident, moderator):
    comment = _comment(water, resident)
    comment_moderate(comment=comment, moderator=moderator, action="hide", reason="offensive")
    article = _article(client.get(_url(water)), comment)
    assert TEXT not in article
    assert _tr("ru", "Hidden by a moderator") in _page_of(article)
    client.force_login(resident)
    assert TEXT in _page_of(_article(client.get(_url(water)), comment))


def test_the_discussion_page_runs_the_same_queries_for_few_and_many_comments(
    water, resident, other_resident
):
    client = page_client_for(resident)
    client.get(_url(water))

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(_url(water)).status_code == 200
        return len(captured.captured_queries)

    first = _comment(water, other_resident)
    _comment(water, resident, REPLY, parent=first)
    few = queries()
    for n in range(20):
        parent = _comment(water, other_resident if n % 2 else resident, f"{TEXT} {n}")
        _comment(water, resident, REPLY, parent=parent)
    assert queries() == few


# --- the moderators' pages -------------------------------------------------------------


def test_the_queue_and_the_review_link_a_section_comment_to_its_discussion(
    client, water, resident, other_resident, moderator, settings
):
    settings.CIVIC_COMMENT_HIDE_AFTER_FLAGS = 1
    comment = _comment(water, resident)
    client.force_login(other_resident)
    client.post(f"/ru/comments/{comment.pk}/flag/", {"reason": "spam"})
    assert client.get("/ru/moderation/comments/").status_code == 403
    assert client.get(f"/ru/moderation/comments/{comment.pk}/").status_code == 403

    client.force_login(moderator)
    queue = client.get("/ru/moderation/comments/")
    assert queue.status_code == 200
    row = re.search(rf'<tr id="comment-{comment.pk}">.*?</tr>', queue.content.decode(), re.S)
    assert row is not None
    assert f'href="{_url(water)}#comment-{comment.pk}"' in row.group(0)
    assert _tr("ru", "Section %(code)s", code="1.2") in _page_of(row.group(0))

    review = client.get(f"/ru/moderation/comments/{comment.pk}/")
    assert review.status_code == 200
    assert f'href="{_url(water)}#comment-{comment.pk}"' in review.content.decode()
    assert _tr("ru", "Comment on section %(code)s", code="1.2") in _page(review)
    response = client.post(
        f"/ru/moderation/comments/{comment.pk}/", {"action": "hide", "reason": "spam"}, follow=True
    )
    assert _tr("ru", "The comment on section %(code)s is hidden.", code="1.2") in _messages(
        response
    )
    comment.refresh_from_db()
    assert comment.hidden_by == "moderator" and comment.hidden_reason == "spam"


def test_an_analyst_cannot_decide_on_a_section_comment(client, water, resident, analyst):
    comment = _comment(water, resident)
    client.force_login(analyst)
    response = client.post(
        f"/ru/moderation/comments/{comment.pk}/", {"action": "hide", "reason": "spam"}
    )
    assert response.status_code == 403
    comment.refresh_from_db()
    assert not comment.hidden
