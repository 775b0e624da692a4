"""The version pages: the list, one version's text, a comparison, and responders' link forms."""

import html
import re
import shutil
from pathlib import Path

import pytest
from django.utils import timezone

from proposals.models import Answer, AnswerSectionLink, ProposalEvent
from strategy.models import Section, Strategy, StrategyVersion
from strategy.services import strategy_import_files
from tests.conftest import page_client_for
from tests.factories import ProposalFactory

DATA = Path(__file__).parent.parent / "strategy" / "documents"
ALMATY = [DATA / f"almaty-2050.{language}.md" for language in ("ru", "kk", "en")]
LANGUAGES = ("ru", "kk", "en")
pytestmark = pytest.mark.django_db


def _page(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def revised(tmp_path) -> Strategy:
    """Version 1, then version 2 with section 1.1 reworded (ru, en) and section 2.2 added."""
    files = [Path(shutil.copy(path, tmp_path / path.name)) for path in ALMATY]
    strategy = strategy_import_files(files).strategy
    replacements = [
        (
            "Общественный транспорт связывает",
            "Общественный транспорт с выделенными полосами связывает",
        ),
        None,
        ("Public transport links", "Public transport on bus lanes links"),
    ]
    added = [
        ("Деревья", "Город высаживает пятьдесят тысяч деревьев в год."),
        ("Ағаштар", "Қала жылына елу мың ағаш отырғызады."),
        ("Trees", "The city plants fifty thousand trees a year."),
    ]
    for path, replacement, (title, body) in zip(files, replacements, added, strict=True):
        text = path.read_text(encoding="utf-8")
        if replacement:
            assert replacement[0] in text
            text = text.replace(*replacement)
        path.write_text(text.rstrip("\n") + f"\n\n### 2.2. {title}\n\n{body}\n", encoding="utf-8")
    strategy_import_files(files)
    return strategy


def _accepted(strategy: Strategy, code: str):
    proposal = ProposalFactory(
        strategy=strategy, section=Section.objects.get(strategy=strategy, code=code)
    )
    Answer.objects.create(
        proposal=proposal, outcome="accepted", published=True, answered_at=timezone.now()
    )
    return proposal


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_version_pages_render_in_every_language(client, revised, language):
    base = f"/{language}/strategies/{revised.slug}/versions/"
    listing = client.get(base)
    assert listing.status_code == 200
    text = _page(listing)
    assert f'href="{base}1/"' in text and f'href="{base}2/"' in text
    assert f'href="{base}1/compare/2/"' in text
    assert 'name="a"' in text and 'name="b"' in text

    first = client.get(f"{base}1/")
    assert first.status_code == 200
    old_words = {"ru": "Общественный транспорт связывает", "en": "Public transport links"}
    if language in old_words:
        assert old_words[language] in _page(first)
    assert "2.2." not in _page(first)  # the old text, as it was

    compare = client.get(f"{base}1/compare/2/")
    assert compare.status_code == 200
    page = _page(compare)
    added = {"ru": "с выделенными полосами", "kk": None, "en": "on bus lanes"}[language]
    if added:
        assert re.search(r"<ins>.*?" + re.escape(added) + r".*?</ins>", page, re.S)
    new_title = {"ru": "Деревья", "kk": "Ағаштар", "en": "Trees"}[language]
    assert new_title in page
    assert "<details" in page  # unchanged sections folded away


def test_the_strategy_page_links_to_its_versions(client, revised):
    page = _page(client.get(f"/en/strategies/{revised.slug}/"))
    assert f'href="/en/strategies/{revised.slug}/versions/"' in page


def test_the_compare_form_goes_to_the_comparison(client, revised):
    base = f"/ru/strategies/{revised.slug}/versions/"
    response = client.get(base, {"a": "2", "b": "1"})
    assert response.status_code == 302
    assert response["Location"] == f"{base}1/compare/2/"
    assert client.get(base, {"a": "1", "b": "9"}).status_code == 400
    assert client.get(base, {"a": "x", "b": "1"}).status_code == 400


def test_unknown_versions_and_drafts_are_404(client, revised):
    base = f"/ru/strategies/{revised.slug}/versions/"
    assert client.get(f"{base}3/").status_code == 404
    assert client.get(f"{base}1/compare/3/").status_code == 404
    assert client.get(f"{base}99999999999999999999/").status_code == 404
    Strategy.objects.filter(pk=revised.pk).update(status=Strategy.Status.DRAFT)
    assert client.get(base).status_code == 404
    assert client.get(f"{base}1/").status_code == 404


def test_removed_words_are_struck_and_sections_marked_in_words(client, tmp_path):
    path = tmp_path / "doc.ru.md"
    path.write_text(
        "---\nslug: words\nlanguage: ru\nstatus: open\n---\n# Документ\n\n"
        "## 1. Раздел\n\nВсе дворы должны быть освещены.\n\n## 2. Лишний\n\nУдалить.\n",
        encoding="utf-8",
    )
    strategy_import_files([path])
    path.write_text(
        "---\nslug: words\nlanguage: ru\nstatus: open\n---\n# Документ\n\n"
        "## 1. Раздел\n\nВсе дворы будут освещены.\n",
        encoding="utf-8",
    )
    strategy_import_files([path])
    page = _page(client.get("/en/strategies/words/versions/1/compare/2/"))
    assert re.search(r"<del>.*?должны быть.*?</del>", page, re.S)
    assert re.search(r"<ins>.*?будут.*?</ins>", page, re.S)
    # The kind of change is said in words, not only shown by a colour.
    assert re.search(r'class="badge badge-removed">Removed<', page)
    assert re.search(r'class="badge badge-changed">Changed<', page)
    assert re.search(r"<del>.*?Удалить\..*?</del>", page, re.S)


def test_linked_proposals_show_on_the_comparison_and_the_version(client, revised, responder):
    proposal = _accepted(revised, "1.1")
    v2 = StrategyVersion.objects.get(strategy=revised, number=2)
    AnswerSectionLink.objects.create(proposal=proposal, version=v2, section_code="1.1")
    for url in (
        f"/en/strategies/{revised.slug}/versions/1/compare/2/",
        f"/en/strategies/{revised.slug}/versions/2/",
    ):
        page = _page(client.get(url))
        assert "Changed after proposals" in page
        assert f'href="/en/proposals/{proposal.pk}/"' in page
        assert proposal.code in page


def test_a_responder_links_and_unlinks_through_the_forms(revised, responder):
    proposal = _accepted(revised, "1.1")
    client = page_client_for(responder)
    version_url = f"/en/strategies/{revised.slug}/versions/2/"
    page = _page(client.get(version_url))
    action = f"{version_url}links/"
    assert f'action="{action}"' in page
    assert 'name="proposal"' in page

    response = client.post(
        action, {"action": "add", "proposal": proposal.code, "section_code": "1.1"}
    )
    assert response.status_code == 302
    assert response["Location"] == f"{version_url}#section-1.1"
    link = AnswerSectionLink.objects.get()
    assert (link.proposal, link.section_code, link.linked_by) == (proposal, "1.1", responder)
    page = _page(client.get(version_url))
    assert "Unlink" in page and proposal.code in page

    client.post(action, {"action": "remove", "proposal": proposal.code, "section_code": "1.1"})
    assert not AnswerSectionLink.objects.exists()
    assert ProposalEvent.objects.filter(proposal=proposal).count() == 2


def test_a_refused_link_says_why(revised, responder):
    proposal = ProposalFactory(strategy=revised)  # published, never answered
    client = page_client_for(responder)
    action = f"/en/strategies/{revised.slug}/versions/2/links/"
    response = client.post(
        action, {"action": "add", "proposal": proposal.code, "section_code": "1.1"}, follow=True
    )
    assert "accepted" in _page(response)
    assert not AnswerSectionLink.objects.exists()
    response = client.post(
        action, {"action": "add", "proposal": "NOPE-1", "section_code": "1.1"}, follow=True
    )
    assert "NOPE-1" in _page(response)
    # Nonsense in the form is refused in words, never a 500.
    response = client.post(
        action, {"action": "add", "proposal": "A\x00\nB", "section_code": "1\r\nX: y"}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/en/strategies/{revised.slug}/versions/2/"
    response = client.post(
        action, {"action": "add", "proposal": proposal.code, "section_code": "1\r\nX: y"}
    )
    assert response.status_code == 302
    assert not AnswerSectionLink.objects.exists()


def test_residents_see_no_link_form_and_may_not_post_one(revised, resident):
    proposal = _accepted(revised, "1.1")
    client = page_client_for(resident)
    page = _page(client.get(f"/en/strategies/{revised.slug}/versions/2/"))
    assert "/links/" not in page
    assert 'name="proposal"' not in page
    response = client.post(
        f"/en/strategies/{revised.slug}/versions/2/links/",
        {"action": "add", "proposal": proposal.code, "section_code": "1.1"},
    )
    assert response.status_code == 403
    assert not AnswerSectionLink.objects.exists()
    # Anonymous visitors are sent to sign in.
    anonymous = page_client_for(None).post(
        f"/en/strategies/{revised.slug}/versions/2/links/",
        {"action": "add", "proposal": proposal.code, "section_code": "1.1"},
    )
    assert anonymous.status_code == 302
    assert "/login/" in anonymous["Location"]
