"""The tallies page with the discussion (issue 15): "Most discussed" beside "Most
supported", and comment counts beside the theme and section counts, in ru, kk and en."""

import re

import pytest
from django.core.cache import cache
from django.utils import translation

from proposals.comments.services import comment_create, comment_moderate
from proposals.models import Reaction, Tally
from proposals.tallies.services import tally_rebuild
from strategy.models import Theme
from tests.factories import ProposalFactory, UserFactory
from tests.frontend.helpers import LANGUAGES, _page, _tr

pytestmark = pytest.mark.django_db

TEXT = "Этот перекрёсток затапливает каждую весну."


@pytest.fixture
def discussed(strategy, section, moderator):
    """Three published proposals: the most liked has no comments, the most discussed has
    three visible ones and one hidden, the third one; one more proposal never published."""
    ecology, transport = Theme.objects.get(slug="ecology"), Theme.objects.get(slug="transport")
    liked = ProposalFactory(strategy=strategy, title="Велодорожки вдоль Есентай", code="ALT-000001")
    talked = ProposalFactory(
        strategy=strategy,
        title="Арыки на Абая",
        code="ALT-000002",
        section=section,
        themes=[ecology],
        language="ru",
    )
    third = ProposalFactory(
        strategy=strategy,
        title="Ауладағы шамдар",
        code="ALT-000003",
        themes=[ecology, transport],
        language="kk",
    )
    pending = ProposalFactory(strategy=strategy, title="Ещё не опубликовано", status="pending")
    users = UserFactory.create_batch(4)
    for user in users:
        Reaction.objects.create(proposal=liked, user=user, kind="like")
    for user in users[:3]:
        comment_create(proposal=talked, author=user, body=TEXT)
    hidden = comment_create(proposal=talked, author=users[3], body=TEXT)
    comment_moderate(comment=hidden, moderator=moderator, action="hide", reason="spam")
    comment_create(proposal=third, author=users[0], body=TEXT)
    tally_rebuild(strategy_id=strategy.pk)
    return {"liked": liked, "talked": talked, "third": third, "pending": pending}


def _section(page: str, heading_id: str) -> str:
    match = re.search(rf'<section aria-labelledby="{heading_id}">(.*?)</section>', page, re.S)
    assert match, heading_id
    return match.group(1)


def _table(page: str, caption: str) -> tuple[list[str], list[list[str]]]:
    """The header cells and the rows (label, then numbers) of the table with this caption."""
    match = re.search(rf"<caption>{re.escape(caption)}</caption>(.*?)</table>", page, re.S)
    assert match, caption
    head, body = match.group(1).split("</thead>")
    cells = r"<t[hd](?:\s[^>]*)?>(.*?)</t[hd]>"
    return re.findall(cells, head), [
        re.findall(cells, row) for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def _plural(language: str, singular: str, plural: str, n: int) -> str:
    with translation.override(language):
        return translation.ngettext(singular, plural, n) % {"n": n}


@pytest.mark.parametrize("language", LANGUAGES)
def test_most_discussed_stands_beside_most_supported(client, strategy, discussed, language):
    page = _page(client.get(f"/{language}/strategies/{strategy.slug}/tallies/"))
    assert f'<html lang="{language}">' in page

    # One wrapper holds both lists, the one the charts use to sit side by side.
    assert re.search(
        r'<div class="charts">\s*<section aria-labelledby="top-title">.*?</section>\s*'
        r'<section aria-labelledby="discussed-title">',
        page,
        re.S,
    )
    supported = _section(page, "top-title")
    assert _tr(language, "Most supported proposals") in supported
    assert discussed["liked"].title in supported

    most = _section(page, "discussed-title")
    assert f'<h2 id="discussed-title">{_tr(language, "Most discussed proposals")}</h2>' in most
    items = re.findall(r"<li>(.*?)</li>", most, re.S)
    assert len(items) == 2  # the liked one has no comment, the pending one is not public
    talked, third = items
    assert discussed["talked"].title in talked and discussed["third"].title in third
    # The hidden comment is not counted.
    assert _plural(language, "%(n)s comment", "%(n)s comments", 3) in talked
    assert _plural(language, "%(n)s comment", "%(n)s comments", 1) in third
    assert 'lang="kk"' in third
    assert discussed["pending"].title not in page

    headline = re.search(r'<dl class="headline">(.*?)</dl>', page, re.S).group(1)
    assert re.search(
        rf"<dt>{re.escape(_tr(language, 'Comments on published proposals'))}</dt><dd>4</dd>",
        headline,
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_theme_and_section_tables_carry_the_comment_counts(
    client, strategy, section, discussed, language
):
    page = _page(client.get(f"/{language}/strategies/{strategy.slug}/tallies/"))

    head, rows = _table(page, _tr(language, "Published proposals by theme"))
    assert head == [_tr(language, "Item"), _tr(language, "Count"), _tr(language, "Comments")]
    with translation.override(language):
        names = {slug: Theme.objects.get(slug=slug).name for slug in ("ecology", "transport")}
    by_label = {label: numbers for label, *numbers in rows}
    assert by_label[names["ecology"]] == ["2", "4"]  # a comment counts in each of its themes
    assert by_label[names["transport"]] == ["1", "1"]
    assert sum(int(numbers[1]) for numbers in by_label.values()) == 5

    head, rows = _table(page, _tr(language, "Published proposals by section"))
    assert head[-1] == _tr(language, "Comments")
    by_label = {label: numbers for label, *numbers in rows}
    with translation.override(language):
        assert by_label[f"1. {section.title}"] == ["1", "3"]
        assert by_label[translation.gettext("The whole document")] == ["2", "1"]

    # Counts the discussion has none for keep their tables as they were.
    head, _ = _table(page, _tr(language, "Published proposals by district"))
    assert _tr(language, "Comments") not in head


def test_a_snapshot_from_before_comment_counts_shows_the_page_without_them(
    client, strategy, discussed
):
    tally = Tally.objects.get(strategy=strategy)
    data = {k: v for k, v in tally.data.items() if k not in ("comments", "most_discussed")}
    Tally.objects.filter(pk=tally.pk).update(data=data)
    cache.clear()
    response = client.get(f"/en/strategies/{strategy.slug}/tallies/")
    assert response.status_code == 200
    page = _page(response)
    assert 'aria-labelledby="discussed-title"' not in page
    assert "Comments on published proposals" not in page
    assert discussed["liked"].title in _section(page, "top-title")
