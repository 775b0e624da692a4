"""The discussion under a proposal (issue 15), walked in real headless Chromium on a live
server, on a 360 × 740 phone and a 1280 × 900 desktop: a resident comments under the city's
answer with a link (and a script that must stay text), edits within the window, a second
resident replies and reports the comment, a moderator hides it with a reason, and the public
sees the stub with the reply still under it while the author sees their own words and why.
The author also deletes a spare comment through its confirmation page.

Every page visited is in its language, scrolls only up and down, and its forms can be used:
each field, button and action link shows whole on the screen, uncovered. The discussion with
the hidden comment and its reply is saved to artifacts/screenshots/ as
`discussion-<360|desktop>-<language>.png` (the public's view) and
`discussion-author-<360|desktop>-<language>.png` (its author's).
"""

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.db.models import F
from django.utils import translation

from civic.accounts.services import role_grant
from frontend import labels
from proposals.answers.services import answer_save
from proposals.models import Comment, CommentFlag
from tests.browser.conftest import SCREENSHOTS
from tests.factories import StrategyFactory, UserFactory
from tests.frontend.helpers import _published

# serialized_rollback: the flush after each test would take the themes, districts and
# role groups that migrations create with it.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

SIZES = {"360": (360, 740), "desktop": (1280, 900)}
LANGUAGES = ("ru", "kk", "en")
PASSWORD = "correct horse battery"
ANSWER = "Велодорожки включены в план на 2026 год, освещение рассмотрим отдельно."
EDITED = "Дополнение: и про освещение у остановки тоже."
REPLY = "Согласна, без света там страшно ходить вечером."
SPARE = "Лишний комментарий, который я сейчас удалю."
SCRIPT = "<script>document.body.dataset.pwned = 'yes'</script>"

# What sticks out past the right edge (tables scroll in their own region), to name the culprit.
WIDE = """(width) => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > width + 1)
  .filter(e => !e.closest('.table-scroll'))
  .slice(0, 5).map(e => e.tagName + '.' + e.className)"""

# Each control the selector names, scrolled to the middle of the screen: whole on it, at
# least 24 px high (a finger's minimum target), and the thing a tap at its centre reaches
# (a radio's own label counts as the radio). Returns how many there were and what is wrong.
USABLE = """(selector) => {
  const found = [...document.querySelectorAll(selector)];
  const problems = found.flatMap(e => {
    e.scrollIntoView({block: 'center', inline: 'nearest'});
    const r = e.getBoundingClientRect();
    const name = e.tagName + (e.name ? '[' + e.name + ']' : '') + ' "'
      + (e.textContent || e.value || '').trim().slice(0, 30) + '"';
    if (r.width < 1 || r.height < 1 || getComputedStyle(e).visibility === 'hidden') {
      return [name + ': not visible'];
    }
    const wrong = [];
    if (r.left < 0 || r.right > document.documentElement.clientWidth + 1) {
      wrong.push(name + ': past the edge of the screen ' + JSON.stringify([r.left, r.right]));
    }
    if (e.type !== 'radio' && e.type !== 'checkbox' && r.height < 24) {
      wrong.push(name + ': ' + r.height + ' px high');
    }
    const top = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    const label = top && top.closest('label');
    if (top !== e && !e.contains(top) && !(label && label.control === e)) {
      wrong.push(name + ': covered by ' + (top ? top.tagName + '.' + top.className : 'nothing'));
    }
    return wrong;
  });
  return {count: found.length, problems: problems};
}"""

PROPOSAL_FORMS = ".comment-form textarea, .comment-form button[type=submit], .comment-actions a"
WRITE_FORM = "main form.comment-form textarea, main form.comment-form .actions > *"
FLAG_FORM = "main form input[name=reason], main form .actions > *"
DELETE_FORM = "main form .actions > *"
DECISION_FORM = "#decision-form input[name=action], #decision-form select, #decision-form button"


def _tr(language: str, message: str) -> str:
    with translation.override(language):
        return translation.gettext(message)


def _count(language: str, n: int) -> str:
    with translation.override(language):
        return translation.ngettext("%(n)s comment", "%(n)s comments", n) % {"n": n}


def _reason(language: str, code: str) -> str:
    with translation.override(language):
        return str(labels.REASON[code])


def _sign_in(visitor, language: str, email: str) -> None:
    visitor.go(f"/{language}/login/")
    visitor.page.fill("#id_username", email)
    visitor.page.fill("#id_password", PASSWORD)
    visitor.page.click("main form button[type=submit]")
    visitor.page.wait_for_load_state()


def _look(visitor, where: str, language: str) -> None:
    """The checks every page passes: in its language, no sideways scrolling."""
    page = visitor.page
    assert page.get_attribute("html", "lang") == language, where
    scroll = page.evaluate("document.documentElement.scrollWidth")
    inner = page.evaluate("window.innerWidth")
    assert scroll <= inner, (where, scroll, inner, page.evaluate(WIDE, inner))


def _usable(visitor, selector: str, where: str, at_least: int = 2) -> None:
    found = visitor.page.evaluate(USABLE, selector)
    assert found["count"] >= at_least, (where, selector, found)
    assert found["problems"] == [], (where, found["problems"])


def _shoot(visitor, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    visitor.page.evaluate("window.scrollTo(0, 0)")
    visitor.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def _article(page, comment: Comment):
    return page.locator(f"article#comment-{comment.pk}")


def _back_at(page, language: str, proposal) -> None:
    page.wait_for_url(
        re.compile(rf"/{language}/proposals/{proposal.pk}/#(comment-\d+|discussion)$")
    )


def _below_and_indented(page, parent: Comment, reply: Comment, where: str) -> None:
    """The reply sits under its comment, in the comment's own list item, moved right."""
    nested = page.locator(f"li:has(> article#comment-{parent.pk}) > ol.replies #comment-{reply.pk}")
    assert nested.count() == 1, where
    above = _article(page, parent).bounding_box()
    below = _article(page, reply).bounding_box()
    assert below["y"] >= above["y"] + above["height"] - 1, (where, above, below)
    assert below["x"] >= above["x"] + 16, (where, above, below)
    assert below["x"] + below["width"] <= above["x"] + above["width"] + 1, (where, above, below)


@pytest.fixture
def scene(live_server):
    """A published proposal with the city's answer, two verified residents, a moderator."""
    strategy = StrategyFactory(slug="almaty-2050", code_prefix="ALM")
    moderator = UserFactory(email="moderator@example.org", display_name="Модератор Асель")
    role_grant(user=moderator, role="moderator")
    responder = UserFactory(email="responder@example.org", display_name="Ответственный Ерлан")
    role_grant(user=responder, role="responder")
    author = UserFactory(email="author@example.org", display_name="Автор Предложения")
    proposal = _published(
        author,
        strategy,
        moderator,
        title="Велодорожка и свет на улице Абая",
        body="Сделать велодорожку вдоль улицы Абая и поставить фонари у остановок.",
    )
    answer_save(
        proposal=proposal,
        responder=responder,
        outcome="accepted_in_part",
        text=ANSWER,
        publish=True,
    )
    return {
        "proposal": proposal,
        "aigerim": UserFactory(email="aigerim@example.org", display_name="Айгерим С."),
        "dmitry": UserFactory(email="dmitry@example.org", display_name="Дмитрий П."),
    }


@pytest.mark.parametrize("size", list(SIZES))
def test_a_discussion_with_a_reply_a_report_and_a_hidden_comment(visitor, live_server, scene, size):
    width, height = SIZES[size]
    proposal = scene["proposal"]
    url = f"/proposals/{proposal.pk}/"
    link = f"{live_server.url}/ru/proposals/"
    text = f"Подробности в плане: {link} — там всё расписано.\n{SCRIPT}"

    # --- a verified resident comments, in Russian, under the city's answer ---------------
    aigerim = visitor(width=width, height=height)
    page = aigerim.page
    _sign_in(aigerim, "ru", "aigerim@example.org")
    aigerim.go(f"/ru{url}")
    answer = page.locator("section.answer")
    discussion = page.locator("section.discussion")
    assert ANSWER in answer.locator(".answer-text").inner_text()
    answer_box = answer.bounding_box()
    assert answer_box["y"] + answer_box["height"] <= discussion.bounding_box()["y"]
    assert _tr("ru", "No comments yet.") in discussion.inner_text()
    _usable(aigerim, PROPOSAL_FORMS, f"{size} ru proposal")
    page.fill(".comment-form textarea[name=body]", text)
    page.click(".comment-form button[type=submit]")
    _back_at(page, "ru", proposal)
    first = Comment.objects.get(author=scene["aigerim"])
    article = _article(page, first)
    assert _tr("ru", "Your comment is published.") in page.locator(".messages").inner_text()
    # The script is shown as the characters typed, and never ran.
    assert SCRIPT in article.locator(".comment-text").inner_text()
    assert article.locator("script").count() == 0
    assert page.evaluate("document.body.dataset.pwned") is None
    # The address is a link residents' links are: not endorsed, user content, no opener.
    anchor = article.locator(".comment-text a")
    assert anchor.count() == 1
    assert anchor.get_attribute("href") == link
    assert anchor.inner_text() == link
    assert {"nofollow", "ugc", "noopener"} <= set(anchor.get_attribute("rel").split())
    anchor.click()
    page.wait_for_url(link)
    aigerim.go(f"/ru{url}")

    # --- she edits it within the window: the "edited" mark ---------------------------------
    assert article.locator(".edited").count() == 0
    article.locator(f"a[href='/ru/comments/{first.pk}/edit/']").click()
    page.wait_for_url(f"**/ru/comments/{first.pk}/edit/")
    _look(aigerim, f"{size} ru edit", "ru")
    _usable(aigerim, WRITE_FORM, f"{size} ru edit")
    assert page.input_value("#id_body") == text
    page.fill("#id_body", f"{text}\n\n{EDITED}")
    page.click("main form.comment-form button[type=submit]")
    _back_at(page, "ru", proposal)
    first.refresh_from_db()
    assert first.edited_at is not None
    assert article.locator(".edited").inner_text().strip() == _tr("ru", "edited")
    assert EDITED in article.locator(".comment-text").inner_text()

    # ...and writes a second comment, to take back later.
    page.fill(".comment-form textarea[name=body]", SPARE)
    page.click(".comment-form button[type=submit]")
    _back_at(page, "ru", proposal)
    spare = Comment.objects.get(author=scene["aigerim"], body=SPARE)

    # --- a second resident replies, in Kazakh: indented under the comment -----------------
    dmitry = visitor(width=width, height=height)
    other = dmitry.page
    _sign_in(dmitry, "kk", "dmitry@example.org")
    dmitry.go(f"/kk{url}")
    _article(other, first).locator(f"a[href='/kk/comments/{first.pk}/reply/']").click()
    other.wait_for_url(f"**/kk/comments/{first.pk}/reply/")
    _look(dmitry, f"{size} kk reply", "kk")
    _usable(dmitry, WRITE_FORM, f"{size} kk reply")
    # The comment replied to shows above the form.
    assert EDITED in other.locator(f"main #comment-{first.pk} .comment-text").inner_text()
    other.fill("#id_body", REPLY)
    other.click("main form.comment-form button[type=submit]")
    _back_at(other, "kk", proposal)
    reply = Comment.objects.get(author=scene["dmitry"])
    assert reply.parent_id == first.pk
    assert REPLY in _article(other, reply).inner_text()
    _below_and_indented(other, first, reply, f"{size} kk")
    # Replies go one level deep: nothing to reply to under a reply.
    assert _article(other, reply).locator("a[href$='/reply/']").count() == 0

    # ...and reports the first comment.
    _article(other, first).locator(f"a[href='/kk/comments/{first.pk}/flag/']").click()
    other.wait_for_url(f"**/kk/comments/{first.pk}/flag/")
    _look(dmitry, f"{size} kk flag", "kk")
    _usable(dmitry, FLAG_FORM, f"{size} kk flag", at_least=5)
    other.check("input[name=reason][value=off_topic]")
    other.click("main form button[type=submit]")
    _back_at(other, "kk", proposal)
    assert CommentFlag.objects.filter(comment=first, user=scene["dmitry"]).count() == 1
    flagged = _article(other, first)
    assert flagged.locator("a[href$='/flag/']").count() == 0
    assert _tr("kk", "You have reported this comment.") in flagged.inner_text()

    # --- every form of the discussion, in every language, at this width --------------------
    for language in LANGUAGES:
        aigerim.go(f"/{language}{url}")
        _look(aigerim, f"{size} {language} proposal", language)
        _usable(aigerim, PROPOSAL_FORMS, f"{size} {language} proposal", at_least=6)
        for kind, comment, selector in (
            ("reply", first, WRITE_FORM),
            ("edit", first, WRITE_FORM),
            ("flag", reply, FLAG_FORM),
            ("delete", spare, DELETE_FORM),
        ):
            aigerim.go(f"/{language}/comments/{comment.pk}/{kind}/")
            where = f"{size} {language} {kind}"
            _look(aigerim, where, language)
            _usable(aigerim, selector, where)

    # --- she deletes the spare comment, after its confirmation page ------------------------
    aigerim.go(f"/ru{url}")
    _article(page, spare).locator(f"a[href='/ru/comments/{spare.pk}/delete/']").click()
    page.wait_for_url(f"**/ru/comments/{spare.pk}/delete/")
    assert page.locator("h1").inner_text().strip() == _tr("ru", "Delete your comment")
    assert SPARE in page.locator(f"main #comment-{spare.pk}").inner_text()
    spare.refresh_from_db()
    assert spare.deleted_at is None  # asking is not deleting
    page.locator("main form .actions a").click()  # cancel
    _back_at(page, "ru", proposal)
    assert SPARE in _article(page, spare).inner_text()
    _article(page, spare).locator("a[href$='/delete/']").click()
    page.wait_for_url(f"**/ru/comments/{spare.pk}/delete/")
    page.click("main form button[type=submit]")
    _back_at(page, "ru", proposal)
    assert _tr("ru", "Your comment is deleted.") in page.locator(".messages").inner_text()
    spare.refresh_from_db()
    assert spare.deleted_at is not None and spare.body == ""
    # Nobody replied to it, so it leaves the discussion without a stub.
    assert _article(page, spare).count() == 0
    assert SPARE not in page.content()

    # Past the edit window (the whole discussion moved back, so it keeps its order) his
    # reply offers no edit any more.
    assert _article(other, reply).locator("a[href$='/edit/']").count() == 1
    back = timedelta(minutes=settings.CIVIC_COMMENT_EDIT_MINUTES + 1)
    Comment.objects.filter(proposal=proposal).update(created_at=F("created_at") - back)
    dmitry.go(f"/kk{url}")
    assert _article(other, reply).locator("a[href$='/edit/']").count() == 0
    assert _article(other, reply).locator(f"a[href='/kk/comments/{reply.pk}/delete/']").count() == 1

    # --- a moderator, in English, hides the first comment from its review page -------------
    moderator = visitor(width=width, height=height)
    desk = moderator.page
    _sign_in(moderator, "en", "moderator@example.org")
    moderator.go("/en/moderation/")
    desk.click("#comments-to-review")
    desk.wait_for_url("**/en/moderation/comments/")
    _look(moderator, f"{size} en comment queue", "en")
    desk.locator(f"tr#comment-{first.pk} a.button").click()
    desk.wait_for_url(f"**/en/moderation/comments/{first.pk}/")
    _look(moderator, f"{size} en comment review", "en")
    assert EDITED in desk.locator("#comment-body").inner_text()
    assert _reason("en", "off_topic") in desk.locator("table").inner_text()
    desk.check("input[name=action][value=hide]")
    _usable(moderator, DECISION_FORM, f"{size} en comment review", at_least=3)
    desk.select_option("#id_reason", "offensive")
    desk.click("#decision-form button[type=submit]")
    desk.wait_for_url("**/en/moderation/comments/")
    assert proposal.code in desk.locator(".messages").inner_text()
    first.refresh_from_db()
    assert (first.hidden_by, first.hidden_reason) == ("moderator", "offensive")

    for language in LANGUAGES:
        # --- the public: the stub, no words and no reason, the reply still under it ------
        public = visitor(width=width, height=height)
        seen = public.page
        public.go(f"/{language}{url}")
        where = f"{size} {language} public"
        _look(public, where, language)
        hidden = _article(seen, first)
        assert "hidden" in hidden.get_attribute("class").split()
        assert hidden.locator(".comment-stub").inner_text().strip() == _tr(
            language, "Hidden by a moderator"
        )
        assert hidden.locator(".comment-text").count() == 0
        assert EDITED not in seen.content() and link not in seen.content()
        assert _reason(language, "offensive") not in hidden.inner_text()
        assert REPLY in _article(seen, reply).locator(".comment-text").inner_text()
        _below_and_indented(seen, first, reply, where)
        # Only the reply is counted: the hidden comment is not the public's to read.
        assert _count(language, 1) in seen.locator("section.discussion").inner_text()
        assert seen.locator("section.discussion a[href*='/login/']").count() == 1
        _shoot(public, f"discussion-{size}-{language}")
        public.context.close()

        # --- its author: her own words, and the moderator's reason ------------------------
        aigerim.go(f"/{language}{url}")
        where = f"{size} {language} author"
        _look(aigerim, where, language)
        own = _article(page, first)
        stub = own.locator(".comment-stub").inner_text().strip()
        hidden_by = _tr(language, "Hidden by a moderator")
        assert stub == f"{hidden_by}: {_reason(language, 'offensive')}", (where, stub)
        assert _tr(language, "Only you and the moderators see its text.") in own.inner_text()
        assert EDITED in own.locator(".comment-text").inner_text()
        # A hidden comment cannot be edited; she may still delete it.
        assert own.locator("a[href$='/edit/']").count() == 0
        assert own.locator("a[href$='/delete/']").count() == 1
        _below_and_indented(page, first, reply, where)
        _usable(aigerim, PROPOSAL_FORMS, where, at_least=4)
        _shoot(aigerim, f"discussion-author-{size}-{language}")
