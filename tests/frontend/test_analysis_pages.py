"""The analyst's page (frontend/views/analysis.py): its filters, counts and pages, and a
bad filter named in a 400."""

import html
import re

import pytest
from django.utils import translation

from frontend.templatetags.civic import filter_label
from tests.frontend.helpers import _page, _published, _submit

pytestmark = pytest.mark.django_db


def test_the_analysis_page_filters_by_status_and_counts(
    client, analyst, moderator, strategy, resident
):
    waiting = [_submit(resident, strategy, title=f"Ожидающее предложение {n}") for n in range(2)]
    shown = _published(resident, strategy, moderator, title="Опубликованное предложение")
    client.force_login(analyst)
    response = client.get("/ru/analysis/", {"status": "pending"})
    assert response.status_code == 200
    page = _page(response)
    for proposal in waiting:
        assert proposal.title in page
    assert shown.title not in page
    assert response.context["total"] == 2
    [status_chart] = [c for c in response.context["counts"] if c.slug == "status"]
    assert {bar.key: bar.value for bar in status_chart.bars}["pending"] == 2
    assert {bar.key: bar.value for bar in status_chart.bars}["published"] == 0

    everything = client.get("/ru/analysis/")
    assert everything.context["total"] == 3
    assert shown.title in _page(everything)


def test_the_analysis_pages_keep_their_filters(client, analyst, strategy, resident):
    for n in range(21):
        _submit(resident, strategy, title=f"Ожидающее предложение {n}")
    client.force_login(analyst)
    first = client.get("/ru/analysis/", {"status": "pending"})
    assert first.context["total"] == 21
    assert 'href="?status=pending&amp;page=2"' in first.content.decode()
    second = client.get("/ru/analysis/", {"status": "pending", "page": "2"})
    assert second.status_code == 200
    assert len(second.context["cards"]) == 1


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("district", "nope"),
        ("created_after", "not-a-date"),
        ("created_before", "01.02.2024"),
        ("status", "nope"),
        ("theme", "nope"),
        ("strategy", "nope"),
        ("section", "abc"),
        ("ordering", "title"),
    ],
)
def test_a_bad_analysis_filter_is_a_400_naming_it(client, analyst, pending, name, value):
    client.force_login(analyst)
    response = client.get("/ru/analysis/", {name: value})
    assert response.status_code == 400
    errors = re.search(r'id="filter-errors".*?</div>', response.content.decode(), re.S)
    assert errors
    with translation.override("ru"):
        label = filter_label(name)
    assert label in html.unescape(errors.group(0))
    assert pending.title not in _page(response)
