"""The city answers, walked in real headless Chromium on a live server, on a 360 px phone and
a 1280 px desktop: the responder's workspace, a public answered proposal, one still awaiting
its answer, the summary table with its file, and two versions of the document compared.

Every page visited is checked for sideways scrolling and saved to artifacts/screenshots/ as
`<page>-<width>-<language>.png`.
"""

import re
from collections import Counter
from pathlib import Path

import pytest
from django.utils import timezone, translation
from django.utils.translation import ngettext

from civic.accounts.models import User
from frontend import labels
from proposals import demo_data
from proposals.answers.selectors import SUPPORT_KINDS
from proposals.demo import DEMO_PASSWORD, DEMO_SLUG, demo_load
from proposals.models import Answer, AnswerSectionLink, Proposal, Reaction, SummaryFile
from proposals.services import reaction_set
from proposals.summary.tasks import summary_build_task
from strategy.models import Strategy
from tests.browser.conftest import SCREENSHOTS

# serialized_rollback: the flush after each test would take the themes, districts and
# role groups that migrations create with it.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

HEIGHTS = {360: 740, 1280: 900}
WIDTHS = pytest.mark.parametrize("width", [360, 1280])
RESPONDER = "responder@demo.civic.kz"
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")

# What sticks out past the right edge (tables scroll in their own region), to name the culprit.
WIDE = """(width) => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > width + 1)
  .filter(e => !e.closest('.table-scroll'))
  .slice(0, 5).map(e => e.tagName + '.' + e.className)"""

# Per language: the outcome the responder settles on, and the justification written.
ANSWERS = {
    "ru": (
        "accepted_in_part",
        "Предложение учтено частично: велодорожки включены в план на 2026 год, "
        "освещение рассмотрим отдельно.",
    ),
    "kk": (
        "already_planned",
        "Бұл жұмыс 2025 жылғы аудандық жоспарға енгізілген, мердігер таңдалды.",
    ),
    "en": (
        "not_accepted",
        "The site is a protected green zone; building there is not allowed by the master plan.",
    ),
}


def _label(mapping: dict, code: str, language: str) -> str:
    with translation.override(language):
        return str(mapping[code])


def _awaiting_text(days: int, language: str) -> str:
    """The line a proposal waiting for its answer shows, as the page's catalogue words it."""
    with translation.override(language):
        return ngettext(
            "Awaiting the city's answer: %(days)s day",
            "Awaiting the city's answer: %(days)s days",
            days,
        ) % {"days": days}


def _sign_in(visitor, language: str, email: str) -> None:
    visitor.go(f"/{language}/login/")
    visitor.page.fill("#id_username", email)
    visitor.page.fill("#id_password", DEMO_PASSWORD)
    visitor.page.click("main form button[type=submit]")
    visitor.page.wait_for_load_state()


def _look(visitor, name: str, width: int, language: str) -> None:
    """The checks every page passes: in its language, no sideways scrolling outside a
    table's own scroll region; then its screenshot."""
    page = visitor.page
    where = f"{name} {width} {language}"
    assert page.get_attribute("html", "lang") == language, where
    scroll = page.evaluate("document.documentElement.scrollWidth")
    inner = page.evaluate("window.innerWidth")
    assert scroll <= inner + 1, (where, scroll, page.evaluate(WIDE, inner))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}-{language}.png"), full_page=True)


def _forget_bad_request(visitor) -> None:
    """A form sent back with errors is a 400, which Chromium logs as a failed resource;
    that one is expected, anything else still fails the test."""
    visitor.problems[:] = [p for p in visitor.problems if "status of 400" not in p]


def _download_link(language: str) -> str:
    return f"main a[href='/{language}/strategies/{DEMO_SLUG}/summary/download/csv/']"


def _awaiting(strategy: Strategy) -> list[Proposal]:
    """Published proposals without a public answer (drafts included), oldest first."""
    return list(
        Proposal.objects.filter(strategy=strategy, status=Proposal.Status.PUBLISHED)
        .exclude(answer__published=True)
        .order_by("published_at", "id")
    )


def _support(proposals: list[Proposal]) -> Counter:
    return Counter(
        Reaction.objects.filter(proposal__in=proposals, kind__in=SUPPORT_KINDS).values_list(
            "proposal_id", flat=True
        )
    )


def _lift_above_threshold(strategy: Strategy, proposals: list[Proposal]) -> None:
    """Residents' likes, through the service, until each proposal reaches the strategy's
    support threshold: the queue must then put them first."""
    emails = [r["email"] for r in demo_data.DEMO_RESIDENTS]
    residents = list(User.objects.filter(email__in=emails).order_by("id"))
    support = _support(proposals)
    for proposal in proposals:
        reacted = set(proposal.reactions.values_list("user_id", flat=True))
        missing = strategy.support_threshold - support[proposal.pk]
        for user in [u for u in residents if u.pk not in reacted and u.pk != proposal.author_id]:
            if missing <= 0:
                break
            reaction_set(proposal=proposal, user=user, kind=Reaction.Kind.LIKE)
            missing -= 1
        assert missing <= 0, "not enough demo residents to reach the threshold"


@WIDTHS
def test_a_responder_answers_from_the_workspace_and_the_public_reads_it(visitor, width):
    demo_load()
    strategy = Strategy.objects.get(slug=DEMO_SLUG)
    assert strategy.support_threshold
    # The newest proposals waiting for an answer gather enough support to go first.
    never_answered = [p for p in _awaiting(strategy) if not Answer.objects.filter(proposal=p)]
    _lift_above_threshold(strategy, never_answered[-3:])

    responder = visitor(width=width, height=HEIGHTS[width])
    page = responder.page
    _sign_in(responder, "ru", RESPONDER)
    for language, (outcome, text) in ANSWERS.items():
        # The workspace, from the navigation.
        responder.go(f"/{language}/")
        menu = page.locator("header nav .menu-toggle")
        if menu.is_visible():  # folded on a phone
            menu.click()
        page.locator(f"header nav a[href='/{language}/answers/']").click()
        page.wait_for_url(f"**/{language}/answers/")
        _look(responder, "answers-queue", width, language)

        # Above the threshold first, each part oldest first.
        awaiting = _awaiting(strategy)
        support = _support(awaiting)
        above = [p for p in awaiting if support[p.pk] >= strategy.support_threshold]
        expected = above[0]
        cards = page.locator(".answer-card")
        codes = [c.locator(".code").first.inner_text() for c in cards.all()]
        first_flags = [c.locator(".priority").count() == 1 for c in cards.all()]
        assert codes[0] == expected.code, (language, codes[:5], [p.code for p in above[:5]])
        assert codes[: len(above)] == [p.code for p in above][: len(codes)]
        # Flagged "answer first" exactly on those, the rest after them.
        assert first_flags == [i < len(above) for i in range(len(codes))]

        # The proposal's answer page.
        cards.first.locator("a.button").click()
        page.wait_for_url(f"**/{language}/answers/{expected.pk}/")
        assert expected.title in page.locator("h1").inner_text()
        _look(responder, "answers-answer", width, language)

        # "Not accepted" with no justification: the error sits by the field, the list of
        # errors takes the focus, and nothing is saved.
        page.check("input[name=outcome][value=not_accepted]")
        page.fill("#id_text", "")
        with page.expect_response(lambda r: r.request.method == "POST") as sent:
            page.click("#answer-form button[type=submit]")
        page.wait_for_load_state()
        assert sent.value.status == 400
        _forget_bad_request(responder)
        assert page.evaluate("document.activeElement.id") == "form-errors"
        assert page.get_attribute("#form-errors", "role") == "alert"
        assert page.locator("#form-errors a[href='#id_text']").count() == 1
        error = page.locator("label[for=id_text] .error")
        assert error.is_visible() and error.inner_text().strip()
        assert page.get_attribute("#id_text", "aria-invalid") == "true"
        assert page.is_checked("input[name=outcome][value=not_accepted]")
        _look(responder, "answers-answer-error", width, language)
        assert not Answer.objects.filter(proposal=expected, published=True).exists()

        # The outcome and its justification, published.
        page.check(f"input[name=outcome][value={outcome}]")
        page.fill("#id_text", text)
        if page.locator("#id_publish").count():  # a draft's page asks; a new answer is public
            page.check("#id_publish")
        page.click("#answer-form button[type=submit]")
        page.wait_for_url(f"**/{language}/answers/")
        assert expected.code in page.locator(".messages").inner_text()
        answer = Answer.objects.get(proposal=expected)
        assert (answer.outcome, answer.text, answer.published) == (outcome, text, True)
        assert expected.code not in [
            c.locator(".code").first.inner_text() for c in page.locator(".answer-card").all()
        ]

        # Anyone, signed out, reads the answer on the proposal's page; no address on it.
        public = visitor(width=width, height=HEIGHTS[width])
        public.go(f"/{language}/proposals/{expected.pk}/")
        block = public.page.locator("section.answer")
        assert _label(labels.OUTCOME, outcome, language) in block.locator(".outcome").inner_text()
        assert text in block.locator(".answer-text").inner_text()
        assert "awaiting" not in (block.get_attribute("class") or "")
        assert EMAIL.findall(public.page.content()) == []
        assert public.page.locator("a[href*='/answers/']").count() == 0
        _look(public, "answers-proposal", width, language)
        public.context.close()


@WIDTHS
def test_a_proposal_still_unanswered_says_how_long_it_has_waited(visitor, width):
    demo_load()
    strategy = Strategy.objects.get(slug=DEMO_SLUG)
    public = visitor(width=width, height=HEIGHTS[width])
    page = public.page
    for index, language in enumerate(("ru", "kk", "en")):
        # Anyone lists what still awaits the city's answer, oldest first...
        public.go(f"/{language}/proposals/?answer=unanswered&ordering=created_at")
        _look(public, "proposals-unanswered", width, language)
        card = page.locator("article.card").nth(index)
        code = card.locator(".code").inner_text().strip()
        proposal = Proposal.objects.get(code=code)
        assert proposal.status == Proposal.Status.PUBLISHED
        assert not Answer.objects.filter(proposal=proposal, published=True).exists()
        days = (timezone.now() - proposal.published_at).days
        assert days >= 1  # the demo's proposals have waited for weeks
        assert _awaiting_text(days, language) in card.locator(".answer-line").inner_text()

        # ...and opens one: the days it has waited, and the city's promise.
        card.locator("h2 a").click()
        page.wait_for_url(f"**/{language}/proposals/{proposal.pk}/")
        block = page.locator("section.answer.awaiting")
        assert _awaiting_text(days, language) in block.inner_text(), (language, days)
        assert str(strategy.answer_deadline_days) in block.inner_text()
        assert EMAIL.findall(page.content()) == []
        _look(public, "proposal-awaiting", width, language)


@WIDTHS
def test_the_summary_table_reads_on_a_phone_and_downloads(visitor, width, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    demo_load()
    strategy = Strategy.objects.get(slug=DEMO_SLUG)
    public = visitor(width=width, height=HEIGHTS[width])
    page = public.page
    for language in ("ru", "kk"):
        public.go(f"/{language}/strategies/{DEMO_SLUG}/")
        page.locator(f"main a[href='/{language}/strategies/{DEMO_SLUG}/summary/']").click()
        page.wait_for_url(f"**/{language}/strategies/{DEMO_SLUG}/summary/")
        _look(public, "summary", width, language)

        sections = page.locator("section.summary-section")
        assert sections.count() >= 2
        assert sections.first.locator("h2").inner_text().strip()
        assert sections.first.locator("tbody tr").count() >= 1
        # Each table scrolls in its own labelled region, reachable by keyboard.
        scroller = sections.first.locator(".table-scroll")
        assert scroller.get_attribute("tabindex") == "0"
        assert scroller.get_attribute("role") == "region"

        # An answered row says its outcome in the page's language, with the answer's text.
        answered = page.locator("table.summary tbody tr", has=page.locator("td time"))
        assert answered.count() >= 1
        row = answered.first
        code = row.locator("td.code").inner_text().strip()
        answer = Answer.objects.get(proposal__code=code)
        assert answer.published
        assert row.locator("td.status").inner_text().strip() == _label(
            labels.OUTCOME, answer.outcome, language
        )
        if answer.text:
            assert answer.text.splitlines()[0] in row.inner_text()
        assert EMAIL.findall(page.content()) == []

        # The CSV. In Russian a build is under way when the visitor asks: the "being
        # prepared" page shows, reloads, and the file comes once a worker has built it. In
        # Kazakh nothing is under way: the build runs on the request and the file comes
        # at once.
        if language == "ru":
            waiting = SummaryFile.objects.create(
                strategy=strategy, format="csv", language=language, progress=40
            )
            page.locator(_download_link(language)).click()
            page.wait_for_url(f"**/{language}/strategies/{DEMO_SLUG}/summary/download/csv/")
            status = page.locator("main [role=status]")
            assert status.locator("progress").get_attribute("value") == "40"
            assert page.locator("meta[http-equiv=refresh]").count() == 1
            _look(public, "summary-preparing", width, language)
            with page.expect_download(timeout=30_000) as arrived:
                summary_build_task(waiting.pk)  # what the worker does meanwhile
        else:
            with page.expect_download(timeout=30_000) as arrived:
                page.locator(_download_link(language)).click()
        download = arrived.value
        assert download.suggested_filename == f"{DEMO_SLUG}-summary-{language}.csv"
        saved = Path(tmp_path) / f"summary-{width}-{language}.csv"
        download.save_as(saved)
        content = saved.read_text(encoding="utf-8-sig")
        assert code in content
        shown = Proposal.objects.filter(strategy=strategy, status="published").count()
        assert len(content.splitlines()) > shown
        assert EMAIL.findall(content) == []
        # A download is a navigation Chromium cuts short: not a failure of the page.
        public.problems[:] = [p for p in public.problems if "/summary/download/" not in p]


@WIDTHS
def test_two_versions_compared_show_the_words_and_the_proposals_behind_them(visitor, width):
    demo_load()
    strategy = Strategy.objects.get(slug=DEMO_SLUG)
    assert strategy.versions.count() >= 2
    assert AnswerSectionLink.objects.filter(version__number=2).exists()
    public = visitor(width=width, height=HEIGHTS[width])
    page = public.page
    for language in ("ru", "en"):
        public.go(f"/{language}/strategies/{DEMO_SLUG}/")
        page.locator(f"main a[href='/{language}/strategies/{DEMO_SLUG}/versions/']").click()
        page.wait_for_url(f"**/{language}/strategies/{DEMO_SLUG}/versions/")
        assert page.locator("ol.versions > li").count() == strategy.versions.count()
        _look(public, "versions", width, language)

        # The form compares the latest two by default: version 1 with 2.
        assert page.input_value("#compare-a") == "1"
        assert page.input_value("#compare-b") == "2"
        page.click("form.compare-form button[type=submit]")
        page.wait_for_url(f"**/{language}/strategies/{DEMO_SLUG}/versions/1/compare/2/")
        _look(public, "versions-compare", width, language)

        changed = page.locator("section.change-changed")
        assert changed.count() >= 1
        assert page.locator("section.change .diff ins").count() >= 1
        assert page.locator("section.change .diff del").count() >= 1
        # Words marked for a screen reader too, not by colour alone.
        assert page.locator("section.change ins .visually-hidden").count() >= 1

        linked = page.locator("section.change .linked").first
        with translation.override(language):
            assert translation.gettext("Changed after proposals") in linked.inner_text()
        link = linked.locator("a.code").first
        code = link.inner_text().strip()
        proposal = Proposal.objects.get(code=code)
        assert AnswerSectionLink.objects.filter(proposal=proposal, version__number=2).exists()
        link.click()
        page.wait_for_url(f"**/{language}/proposals/{proposal.pk}/")
        assert page.locator("h1").inner_text().strip() == proposal.title
        assert code in page.locator("p.meta .code").inner_text()
        # The proposal's own page names the sections its acceptance changed.
        assert page.locator("section.answer .changed").count() == 1
        _look(public, "versions-linked-proposal", width, language)
