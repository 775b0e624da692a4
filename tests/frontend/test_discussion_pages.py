"""The discussion on a proposal's page (issue 15): comments and replies as the page shows
them, the forms that post, reply, edit, delete and flag, who may use them, the shared rate
limits, and a query count that does not grow with the discussion."""

import html
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.safestring import mark_safe

from civic.clients import ScopedRateThrottle
from frontend.templatetags.plaintext import plain_text
from frontend.throttling import PageThrottle
from proposals.answers.services import answer_save
from proposals.comments.services import (
    comment_create,
    comment_delete,
    comment_flag,
    comment_moderate,
)
from proposals.models import Comment, CommentFlag
from tests.conftest import client_for, page_client_for
from tests.factories import UserFactory
from tests.frontend.helpers import LANGUAGES, _decide, _page, _published, _submit, _tr

pytestmark = pytest.mark.django_db

TEXT = "Этот перекрёсток затапливает каждую весну."
REPLY = "Согласен, там нужен ливнёвый сток."


def _comment(proposal, author, body=TEXT, parent=None) -> Comment:
    return comment_create(proposal=proposal, author=author, body=body, parent=parent)


def _url(proposal, language="ru") -> str:
    return f"/{language}/proposals/{proposal.pk}/"


def _discussion(response) -> str:
    """The discussion section of a proposal page, unescaped ('' when there is none)."""
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


def _rates(monkeypatch, comment: str = "100/hour", address: str = "100/hour") -> None:
    rates = {"comment": comment, "comment_address": address}
    monkeypatch.setattr(PageThrottle, "THROTTLE_RATES", rates)
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", rates)


# --- the plain-text filter ------------------------------------------------------------


def test_plain_text_escapes_everything_and_keeps_line_breaks():
    html = str(plain_text('<script>alert("x")</script> & <b>bold</b>\nnext line\n\nnew one'))
    assert "<script>" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in html
    assert html == (
        "<p>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;"
        "<br>\nnext line</p>\n<p>new one</p>"
    )


def test_plain_text_links_http_and_https_addresses_only():
    html = str(plain_text("См. https://almaty.gov.kz/ru/plan?a=1&b=2 и http://example.kz"))
    assert (
        '<a href="https://almaty.gov.kz/ru/plan?a=1&amp;b=2" rel="nofollow ugc noopener">'
        "https://almaty.gov.kz/ru/plan?a=1&amp;b=2</a>"
    ) in html
    assert '<a href="http://example.kz" rel="nofollow ugc noopener">' in html
    for hostile in (
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "data:text/html;base64,PHNjcmlwdD4=",
        "vbscript:msgbox(1)",
        "ftp://example.kz/file",
        "//example.kz/path",
    ):
        assert "<a " not in str(plain_text(hostile)), hostile


def test_a_quote_in_an_address_cannot_leave_the_attribute():
    html = str(plain_text('http://x.kz/"onmouseover="alert(1)" и https://x.kz/a\'b'))
    assert '<a href="http://x.kz/" rel="nofollow ugc noopener">http://x.kz/</a>' in html
    assert "&quot;onmouseover=&quot;alert(1)&quot;" in html
    assert '<a href="https://x.kz/a&#x27;b" rel="nofollow ugc noopener">' in html
    # No tag but our own anchors, and every anchor has exactly the attributes we give.
    assert re.findall(r"<(\w+)", html) == ["p", "a", "a"]
    for tag in re.findall(r"<a [^>]*>", html):
        assert re.fullmatch(r'<a href="[^"<>]*" rel="nofollow ugc noopener">', tag), tag


def test_an_address_inside_a_javascript_url_links_only_the_web_address():
    html = str(plain_text("javascript:alert('http://x.kz')"))
    assert 'href="javascript' not in html
    assert '<a href="http://x.kz" rel="nofollow ugc noopener">http://x.kz</a>&#x27;)' in html


@pytest.mark.parametrize(
    ("text", "linked", "after"),
    [
        ("Смотрите https://example.kz/plan.", "https://example.kz/plan", "."),
        ("Это https://example.kz/plan, и всё", "https://example.kz/plan", ", и всё"),
        ("Правда? https://example.kz/a?!", "https://example.kz/a", "?!"),
        ("(см. https://example.kz/plan)", "https://example.kz/plan", ")"),
        ("«https://example.kz/путь»", "https://example.kz/путь", "»"),
        (
            "https://ru.wikipedia.org/wiki/Алматы_(город).",
            "https://ru.wikipedia.org/wiki/Алматы_(город)",
            ".",
        ),
        ("[https://example.kz/x]", "https://example.kz/x", "]"),
    ],
)
def test_trailing_punctuation_stays_out_of_the_link(text, linked, after):
    html = str(plain_text(text))
    assert f'<a href="{linked}" rel="nofollow ugc noopener">{linked}</a>{after}' in html


def test_a_bare_scheme_or_a_scheme_inside_a_word_is_not_a_link():
    for text in ("http://", "http://.", "https://?", "xhttps://example.kz", "_http://a.kz"):
        assert "<a " not in str(plain_text(text)), text


def test_plain_text_escapes_text_already_marked_safe():
    assert "<i>" not in str(plain_text(mark_safe("<i>x</i>")))  # noqa: S308


# --- the discussion on the page -------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_discussion_comes_below_the_answer_oldest_first_with_replies_indented(
    client, published, resident, other_resident, moderator, admin_user, language
):
    answer_save(
        proposal=published, responder=admin_user, outcome="accepted", text="Сделаем.", publish=True
    )
    first = _comment(published, other_resident, "Первый комментарий.")
    second = _comment(published, resident, "Второй, от автора предложения.")
    reply = _comment(published, moderator, "Ответ модератора.", parent=first)
    page = client.get(_url(published, language))
    assert page.status_code == 200
    body = page.content.decode()
    assert f'<html lang="{language}">' in body
    assert body.index('id="answer-title"') < body.index('id="discussion-title"')
    section = _discussion(page)
    assert _tr(language, "Discussion") in section
    # Oldest first, the reply right under its comment inside the replies' list.
    positions = [section.index(f'id="comment-{c.pk}"') for c in (first, reply, second)]
    assert positions == sorted(positions)
    replies = re.search(r'<ol class="replies">.*?</ol>', section, re.S).group(0)
    assert f'id="comment-{reply.pk}"' in replies and f'id="comment-{first.pk}"' not in replies
    assert _tr(language, "author of the proposal") in _article(page, second)
    assert _tr(language, "moderator") in _article(page, reply)
    assert 'class="badge role' not in _article(page, first)  # a resident has no mark
    assert "Дмитрий" in _article(page, first)
    assert f'datetime="{timezone.localtime(first.created_at).isoformat()}"' in _article(page, first)


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_edited_comment_says_so(client, published, other_resident, language):
    comment = _comment(published, other_resident)
    page = client.get(_url(published, language))
    assert 'class="edited"' not in _article(page, comment)
    client.force_login(other_resident)
    client.post(f"/{language}/comments/{comment.pk}/edit/", {"body": "Исправленный текст."})
    page = client.get(_url(published, language))
    article = _article(page, comment)
    assert 'class="edited"' in article
    assert _tr(language, "edited") in article
    assert "Исправленный текст." in article


def test_the_page_shows_comment_text_escaped_with_links(client, published, other_resident):
    comment = _comment(
        published,
        other_resident,
        "<script>alert(1)</script>\n<img src=x onerror=alert(2)>\n\n"
        "Смотрите https://almaty.gov.kz/plan. И javascript:alert(3)",
    )
    article = _article(client.get(_url(published)), comment)
    assert "<script>" not in article and "<img" not in article
    assert "&lt;script&gt;alert(1)&lt;/script&gt;<br>" in article
    assert (
        '<a href="https://almaty.gov.kz/plan" rel="nofollow ugc noopener">'
        "https://almaty.gov.kz/plan</a>."
    ) in article
    assert 'href="javascript' not in article


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_comment_hidden_by_a_moderator_is_a_stub_for_the_public(
    published, resident, other_resident, moderator, language
):
    hidden = _comment(published, other_resident, "Текст, который скрыли.")
    reply = _comment(published, resident, "Ответ на скрытый.", parent=hidden)
    comment_moderate(comment=hidden, moderator=moderator, action="hide", reason="offensive")
    stub = _tr(language, "Hidden by a moderator")
    reason = _tr(language, "Offensive")

    public = page_client_for(None).get(_url(published, language))
    article = _article(public, hidden)
    assert stub in _page(public)
    assert "Текст, который скрыли." not in public.content.decode()
    assert reason not in article  # the reason is for its author and staff (proposals/rules.py)
    assert "Ответ на скрытый." in _article(public, reply)  # the reply keeps its place

    own = page_client_for(other_resident).get(_url(published, language))
    article = _page_part(own, hidden)
    assert stub in article and reason in article
    assert "Текст, который скрыли." in article

    staff = page_client_for(moderator).get(_url(published, language))
    assert "Текст, который скрыли." in _page_part(staff, hidden)
    assert reason in _page_part(staff, hidden)


def _page_part(response, comment) -> str:
    """One comment's text, unescaped: translated texts may hold quotes."""
    return html.unescape(_article(response, comment))


def test_a_comment_hidden_by_flags_awaits_a_moderator(
    settings, published, resident, other_resident
):
    settings.CIVIC_COMMENT_HIDE_AFTER_FLAGS = 1
    comment = _comment(published, other_resident, "Реклама: купите окна.")
    comment_flag(comment=comment, user=resident, reason="spam")
    page = page_client_for(None).get(_url(published))
    article = _page_part(page, comment)
    assert _tr("ru", "Hidden until a moderator reviews it") in article
    assert "купите окна" not in article
    own = _page_part(page_client_for(other_resident).get(_url(published)), comment)
    assert "купите окна" in own
    assert _tr("ru", "Reported by residents") in own


def test_a_deleted_comment_with_replies_is_a_stub_and_without_them_is_gone(
    client, published, resident, other_resident
):
    answered = _comment(published, other_resident, "Удалённый потом текст.")
    _comment(published, resident, REPLY, parent=answered)
    alone = _comment(published, other_resident, "Одинокий комментарий.")
    comment_delete(comment=answered, actor=other_resident)
    comment_delete(comment=alone, actor=other_resident)
    page = client.get(_url(published))
    article = _page_part(page, answered)
    assert _tr("ru", "Comment deleted") in article
    assert "Дмитрий" not in article and "Удалённый потом текст." not in _page(page)
    assert REPLY in _page(page)
    assert f'id="comment-{alone.pk}"' not in page.content.decode()


def test_only_published_proposals_show_the_discussion(
    client, strategy, resident, moderator, published
):
    _comment(published, resident)
    rejected = _submit(resident, strategy, title="Отклонённое предложение")
    _decide(rejected, moderator, "reject", reason="off_topic")
    pending = _submit(resident, strategy, title="Ещё на модерации")
    client.force_login(resident)
    assert _discussion(client.get(_url(published)))
    for proposal in (rejected, pending):
        page = client.get(_url(proposal))
        assert page.status_code == 200
        assert _discussion(page) == ""
        assert "comment-form" not in page.content.decode()


# --- who sees which form ----------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_anonymous_visitor_is_asked_to_sign_in(client, published, language):
    section = _discussion(client.get(_url(published, language)))
    assert f"/{language}/login/?next=" in section
    assert _tr(language, "Sign in to comment") in section
    assert "<textarea" not in section


def test_an_anonymous_post_goes_to_sign_in_and_writes_nothing(client, published):
    response = client.post(f"/ru/proposals/{published.pk}/comments/", {"body": TEXT})
    assert response.status_code == 302
    assert response["Location"].startswith("/ru/login/")
    assert not Comment.objects.exists()


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_unverified_resident_is_told_why_and_cannot_post(client, published, language):
    unverified = UserFactory(email_verified=False)
    client.force_login(unverified)
    section = _discussion(client.get(_url(published, language)))
    assert _tr(language, "Verify your email address to comment") in section
    assert "<textarea" not in section
    response = client.post(f"/{language}/proposals/{published.pk}/comments/", {"body": TEXT})
    assert response.status_code == 403
    assert _tr(language, "Verify your email address before you do this.") in _page(response)
    assert not Comment.objects.exists()
    form_page = client.get(f"/{language}/proposals/{published.pk}/comments/")
    assert form_page.status_code == 403
    assert "<textarea" not in form_page.content.decode()


def test_a_verified_resident_gets_the_form_and_the_actions_that_fit(
    client, published, resident, other_resident
):
    mine = _comment(published, other_resident, "Мой комментарий.")
    theirs = _comment(published, resident, "Чужой комментарий.")
    reply = _comment(published, resident, "Ответ.", parent=mine)
    client.force_login(other_resident)
    page = client.get(_url(published))
    section = _discussion(page)
    assert f'action="/ru/proposals/{published.pk}/comments/"' in section
    assert 'name="csrfmiddlewaretoken"' in section
    own = _article(page, mine)
    assert f"/ru/comments/{mine.pk}/edit/" in own and f"/ru/comments/{mine.pk}/delete/" in own
    assert f"/ru/comments/{mine.pk}/flag/" not in own
    assert f"/ru/comments/{mine.pk}/reply/" in own
    other = _article(page, theirs)
    assert f"/ru/comments/{theirs.pk}/flag/" in other
    assert "/edit/" not in other and "/delete/" not in other
    assert "/reply/" not in _article(page, reply)  # replies go one level deep


# --- posting and replying -----------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_posting_a_comment(client, published, other_resident, language):
    client.force_login(other_resident)
    response = client.post(
        f"/{language}/proposals/{published.pk}/comments/", {"body": f"  {TEXT}\r\n"}
    )
    comment = Comment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/{language}/proposals/{published.pk}/#comment-{comment.pk}"
    assert comment.body == TEXT and comment.author == other_resident
    page = client.get(response["Location"])
    assert TEXT in _article(page, comment)
    assert _tr(language, "Your comment is published.") in _page(page)


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_too_short_comment_comes_back_with_the_error(client, published, other_resident, language):
    client.force_login(other_resident)
    response = client.post(f"/{language}/proposals/{published.pk}/comments/", {"body": " x "})
    assert response.status_code == 400
    page = _page(response)
    assert _tr(language, "Must be at least %(count)d characters.", count=2) in page
    assert 'role="alert"' in page
    assert "> x </textarea>" in page or "\n x </textarea>" in page  # the text is kept
    assert not Comment.objects.exists()


def test_a_comment_with_a_control_character_is_refused_not_a_500(client, published, other_resident):
    client.force_login(other_resident)
    response = client.post(
        f"/ru/proposals/{published.pk}/comments/", {"body": "Текст\u202eс подменой"}
    )
    assert response.status_code == 400
    assert "U+202E" in _page(response)


def test_a_comment_on_a_proposal_not_published_is_a_409(client, strategy, resident):
    pending = _submit(resident, strategy, title="Ещё на модерации")
    client.force_login(resident)
    response = client.post(f"/ru/proposals/{pending.pk}/comments/", {"body": TEXT})
    assert response.status_code == 409
    assert _tr("ru", "Only published proposals take comments.") in _page(response)
    assert client.get(f"/ru/proposals/{pending.pk}/comments/").status_code == 409
    assert not Comment.objects.exists()


def test_a_proposal_the_visitor_cannot_see_is_a_404(client, strategy, resident, other_resident):
    pending = _submit(resident, strategy, title="Ещё на модерации")
    client.force_login(other_resident)
    assert client.post(f"/ru/proposals/{pending.pk}/comments/", {"body": TEXT}).status_code == 404
    assert client.post("/ru/proposals/999999/comments/", {"body": TEXT}).status_code == 404


def test_replying_to_a_comment(client, published, resident, other_resident):
    parent = _comment(published, resident, "Исходный комментарий.")
    client.force_login(other_resident)
    form = client.get(f"/ru/comments/{parent.pk}/reply/")
    assert form.status_code == 200
    assert "Исходный комментарий." in _page(form)
    assert "<textarea" in form.content.decode()
    response = client.post(f"/ru/comments/{parent.pk}/reply/", {"body": REPLY})
    reply = Comment.objects.get(parent=parent)
    assert response.status_code == 302
    assert response["Location"].endswith(f"#comment-{reply.pk}")
    page = client.get(_url(published))
    replies = re.search(r'<ol class="replies">.*?</ol>', page.content.decode(), re.S).group(0)
    assert f'id="comment-{reply.pk}"' in replies


def test_a_reply_to_a_reply_is_refused_with_the_services_reason(
    client, published, resident, other_resident
):
    parent = _comment(published, resident)
    reply = _comment(published, other_resident, REPLY, parent=parent)
    client.force_login(other_resident)
    response = client.post(f"/ru/comments/{reply.pk}/reply/", {"body": "Ответ на ответ."})
    assert response.status_code == 400
    assert _tr("ru", "Replies go one level deep: reply to the first comment instead.") in _page(
        response
    )
    assert Comment.objects.count() == 2


def test_a_reply_to_a_deleted_comment_is_a_404(client, published, resident, other_resident):
    parent = _comment(published, resident)
    comment_delete(comment=parent, actor=resident)
    client.force_login(other_resident)
    assert client.post(f"/ru/comments/{parent.pk}/reply/", {"body": REPLY}).status_code == 404


# --- editing ------------------------------------------------------------------------------


def test_editing_ones_comment_within_the_window(client, published, other_resident):
    comment = _comment(published, other_resident)
    client.force_login(other_resident)
    form = client.get(f"/ru/comments/{comment.pk}/edit/")
    assert form.status_code == 200
    assert TEXT in _page(form)
    response = client.post(f"/ru/comments/{comment.pk}/edit/", {"body": "Новый текст."})
    assert response.status_code == 302
    assert response["Location"].endswith(f"#comment-{comment.pk}")
    comment.refresh_from_db()
    assert comment.body == "Новый текст." and comment.edited_at is not None


def test_an_edit_after_the_window_is_a_409(client, settings, published, other_resident):
    comment = _comment(published, other_resident)
    Comment.objects.filter(pk=comment.pk).update(
        created_at=timezone.now() - timedelta(minutes=settings.CIVIC_COMMENT_EDIT_MINUTES + 1)
    )
    client.force_login(other_resident)
    message = _tr(
        "ru",
        "A comment can be edited only for %(minutes)d minutes after posting.",
        minutes=settings.CIVIC_COMMENT_EDIT_MINUTES,
    )
    form = client.get(f"/ru/comments/{comment.pk}/edit/")
    assert form.status_code == 409 and message in _page(form)
    assert "<textarea" not in form.content.decode()
    response = client.post(f"/ru/comments/{comment.pk}/edit/", {"body": "Поздняя правка."})
    assert response.status_code == 409 and message in _page(response)
    comment.refresh_from_db()
    assert comment.body == TEXT
    assert "/edit/" not in _article(client.get(_url(published)), comment)


def test_an_empty_edit_comes_back_with_the_error(client, published, other_resident):
    comment = _comment(published, other_resident)
    client.force_login(other_resident)
    response = client.post(f"/ru/comments/{comment.pk}/edit/", {"body": ""})
    assert response.status_code == 400
    assert _tr("ru", "Must be at least %(count)d characters.", count=2) in _page(response)
    comment.refresh_from_db()
    assert comment.body == TEXT


def test_a_hidden_comment_cannot_be_edited(client, published, other_resident, moderator):
    comment = _comment(published, other_resident)
    comment_moderate(comment=comment, moderator=moderator, action="hide", reason="spam")
    client.force_login(other_resident)
    assert client.get(f"/ru/comments/{comment.pk}/edit/").status_code == 409
    response = client.post(f"/ru/comments/{comment.pk}/edit/", {"body": "Другой текст."})
    assert response.status_code == 409
    assert _tr("ru", "A hidden comment cannot be edited.") in _page(response)


def test_another_resident_cannot_edit_or_delete(client, published, resident, other_resident):
    comment = _comment(published, other_resident)
    client.force_login(resident)
    assert client.get(f"/ru/comments/{comment.pk}/edit/").status_code == 403
    assert (
        client.post(f"/ru/comments/{comment.pk}/edit/", {"body": "Чужая правка."}).status_code
        == 403
    )
    assert client.get(f"/ru/comments/{comment.pk}/delete/").status_code == 403
    assert client.post(f"/ru/comments/{comment.pk}/delete/").status_code == 403
    comment.refresh_from_db()
    assert comment.body == TEXT and comment.deleted_at is None


def test_a_moderator_cannot_edit_a_residents_comment_either(
    client, published, other_resident, moderator
):
    comment = _comment(published, other_resident)
    client.force_login(moderator)
    assert client.post(f"/ru/comments/{comment.pk}/edit/", {"body": "Правка."}).status_code == 403


# --- deleting -----------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_deleting_asks_first_and_works_without_a_script(
    client, published, other_resident, language
):
    comment = _comment(published, other_resident)
    client.force_login(other_resident)
    confirm = client.get(f"/{language}/comments/{comment.pk}/delete/")
    assert confirm.status_code == 200
    assert _tr(language, "Delete this comment? This cannot be undone.") in _page(confirm)
    form = re.search(r'<form method="post">.*?</form>', confirm.content.decode(), re.S).group(0)
    assert 'name="csrfmiddlewaretoken"' in form and '<button type="submit">' in form
    comment.refresh_from_db()
    assert comment.deleted_at is None  # showing the question deletes nothing
    response = client.post(f"/{language}/comments/{comment.pk}/delete/")
    assert response.status_code == 302
    assert response["Location"] == f"/{language}/proposals/{published.pk}/#discussion"
    comment.refresh_from_db()
    assert comment.deleted_at is not None and comment.body == ""
    assert client.post(f"/{language}/comments/{comment.pk}/delete/").status_code == 404


# --- flagging -----------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_flagging_a_comment_with_a_reason(client, published, resident, other_resident, language):
    comment = _comment(published, other_resident)
    client.force_login(resident)
    form = client.get(f"/{language}/comments/{comment.pk}/flag/")
    assert form.status_code == 200
    for reason in ("Spam", "Offensive", "Contains personal data", "Off topic"):
        assert _tr(language, reason) in _page(form)
    assert set(re.findall(r'name="reason" value="(\w+)"', form.content.decode())) == {
        "spam",
        "offensive",
        "personal_data",
        "off_topic",
    }
    response = client.post(f"/{language}/comments/{comment.pk}/flag/", {"reason": "personal_data"})
    assert response.status_code == 302
    flag = CommentFlag.objects.get()
    assert (flag.comment, flag.user, flag.reason) == (comment, resident, "personal_data")
    page = client.get(_url(published, language))
    article = _page_part(page, comment)
    assert "/flag/" not in article
    assert _tr(language, "You have reported this comment.") in article


def test_a_flag_needs_a_reason(client, published, resident, other_resident):
    comment = _comment(published, other_resident)
    client.force_login(resident)
    for data in ({}, {"reason": "boring"}):
        response = client.post(f"/ru/comments/{comment.pk}/flag/", data)
        assert response.status_code == 400
        assert _tr("ru", "Choose a reason.") in _page(response)
    assert not CommentFlag.objects.exists()


def test_a_second_flag_is_a_409(client, published, resident, other_resident):
    comment = _comment(published, other_resident)
    comment_flag(comment=comment, user=resident, reason="spam")
    client.force_login(resident)
    message = _tr("ru", "You have already flagged this comment.")
    form = client.get(f"/ru/comments/{comment.pk}/flag/")
    assert form.status_code == 409 and message in _page(form)
    response = client.post(f"/ru/comments/{comment.pk}/flag/", {"reason": "offensive"})
    assert response.status_code == 409 and message in _page(response)
    assert CommentFlag.objects.count() == 1


def test_flagging_ones_own_comment_is_a_403(client, published, other_resident):
    comment = _comment(published, other_resident)
    client.force_login(other_resident)
    message = _tr("ru", "You cannot flag your own comment.")
    assert message in _page(client.get(f"/ru/comments/{comment.pk}/flag/"))
    response = client.post(f"/ru/comments/{comment.pk}/flag/", {"reason": "spam"})
    assert response.status_code == 403 and message in _page(response)
    assert not CommentFlag.objects.exists()


def test_an_unverified_resident_cannot_flag(client, published, other_resident):
    comment = _comment(published, other_resident)
    client.force_login(UserFactory(email_verified=False))
    assert client.get(f"/ru/comments/{comment.pk}/flag/").status_code == 403
    response = client.post(f"/ru/comments/{comment.pk}/flag/", {"reason": "spam"})
    assert response.status_code == 403
    assert _tr("ru", "Verify your email address before you do this.") in _page(response)
    assert not CommentFlag.objects.exists()


def test_the_forms_pages_send_anonymous_visitors_to_sign_in(client, published, other_resident):
    comment = _comment(published, other_resident)
    for action in ("reply", "edit", "delete", "flag"):
        response = client.post(f"/ru/comments/{comment.pk}/{action}/", {"body": TEXT})
        assert response.status_code == 302, action
        assert response["Location"].startswith("/ru/login/"), action
    assert Comment.objects.count() == 1 and not CommentFlag.objects.exists()


# --- rate limits --------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_comments_are_limited_and_the_text_comes_back(
    client, monkeypatch, published, other_resident, language
):
    _rates(monkeypatch, comment="1/hour")
    client.force_login(other_resident)
    url = f"/{language}/proposals/{published.pk}/comments/"
    assert client.post(url, {"body": TEXT}).status_code == 302
    response = client.post(url, {"body": "Второй комментарий подряд."})
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 3600
    page = _page(response)
    assert "Второй комментарий подряд." in page  # kept in the form, not lost
    assert 'role="alert"' in page
    assert Comment.objects.count() == 1


def test_edits_and_flags_count_in_the_same_limit(
    client, monkeypatch, published, resident, other_resident
):
    _rates(monkeypatch, comment="2/hour")
    mine = _comment(published, other_resident)
    theirs = _comment(published, resident)
    client.force_login(other_resident)
    assert client.post(f"/ru/comments/{mine.pk}/edit/", {"body": "Правка один."}).status_code == 302
    assert client.post(f"/ru/comments/{theirs.pk}/flag/", {"reason": "spam"}).status_code == 302
    response = client.post(f"/ru/comments/{mine.pk}/edit/", {"body": "Правка два."})
    assert response.status_code == 429 and response["Retry-After"]
    mine.refresh_from_db()
    assert mine.body == "Правка один."


def test_the_page_and_the_api_share_the_limit(client, monkeypatch, published, other_resident):
    _rates(monkeypatch, comment="1/hour")
    api = client_for(other_resident)
    assert (
        api.post(f"/api/v1/proposals/{published.pk}/comments/", {"body": TEXT}).status_code == 201
    )
    client.force_login(other_resident)
    response = client.post(f"/ru/proposals/{published.pk}/comments/", {"body": REPLY})
    assert response.status_code == 429
    assert Comment.objects.count() == 1


def test_accounts_behind_one_address_share_the_address_limit(
    monkeypatch, published, resident, other_resident
):
    _rates(monkeypatch, address="1/hour")
    first, second = page_client_for(resident), page_client_for(other_resident)
    url = f"/ru/proposals/{published.pk}/comments/"
    assert first.post(url, {"body": TEXT}).status_code == 302
    assert second.post(url, {"body": REPLY}, REMOTE_ADDR="127.0.0.1").status_code == 429
    # Another address is another count.
    assert second.post(url, {"body": REPLY}, REMOTE_ADDR="10.0.0.7").status_code == 302
    assert Comment.objects.count() == 2


def test_deleting_is_not_limited(client, monkeypatch, published, other_resident):
    _rates(monkeypatch, comment="1/hour")
    client.force_login(other_resident)
    assert client.post(f"/ru/proposals/{published.pk}/comments/", {"body": TEXT}).status_code == 302
    comment = Comment.objects.get()
    assert client.post(f"/ru/comments/{comment.pk}/delete/").status_code == 302


# --- queries ------------------------------------------------------------------------------


def _discussion_of(proposal, size: int, people: list, moderator) -> None:
    """`size` top-level comments by residents and staff, each with a reply; some edited,
    hidden by a moderator, hidden by flags, or deleted under a reply."""
    for n in range(size):
        author = people[n % len(people)]
        top = _comment(proposal, author, f"Комментарий {n}: https://example.kz/{n}")
        _comment(proposal, people[(n + 1) % len(people)], f"Ответ {n}", parent=top)
        if n % 5 == 1:
            comment_moderate(comment=top, moderator=moderator, action="hide", reason="spam")
        elif n % 5 == 2:
            Comment.objects.filter(pk=top.pk).update(
                hidden_by=Comment.HiddenBy.FLAGS, hidden_reason=Comment.HideReason.FLAGGED
            )
        elif n % 5 == 3:
            comment_delete(comment=top, actor=author)
        elif n % 5 == 4:
            comment_flag(comment=top, user=people[(n + 2) % len(people)], reason="spam")


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("viewer", ["anonymous", "resident", "moderator", "unverified"])
def test_the_page_runs_the_same_queries_for_5_and_50_comments(
    strategy, resident, other_resident, moderator, analyst, viewer
):
    people = [resident, other_resident, moderator, analyst, UserFactory()]
    small = _published(resident, strategy, moderator, title="Малое обсуждение")
    large = _published(resident, strategy, moderator, title="Большое обсуждение")
    _discussion_of(small, 5, people, moderator)
    _discussion_of(large, 50, people, moderator)
    who = {
        "anonymous": None,
        "resident": other_resident,
        "moderator": moderator,
        "unverified": UserFactory(email_verified=False),
    }[viewer]
    client = page_client_for(who)
    client.get(_url(small))  # the session and the language settle on the first visit
    counts = (_queries(client, _url(small)), _queries(client, _url(large)))
    assert counts[0] == counts[1], counts
    page = client.get(_url(large)).content.decode()
    # Every comment and reply shows; a deleted one stays as a stub above its reply.
    assert page.count('<article class="comment') == 100
