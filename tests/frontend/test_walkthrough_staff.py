"""Issue 12, the moderators' decision page: what a walk through it found."""

import re
from pathlib import Path

import pytest

from proposals.models import Proposal
from proposals.services import proposal_moderate, proposal_submit
from strategy.models import Theme
from tests.conftest import page_client_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

STATIC = Path(__file__).resolve().parents[2] / "frontend" / "static" / "frontend"


def _submit(strategy, title: str, body: str) -> Proposal:
    return proposal_submit(author=UserFactory(), strategy=strategy, title=title, body=body)


@pytest.mark.parametrize("by", ["code", "lower", "bare"])
def test_find_the_original_by_its_code(strategy, moderator, by):
    original = _submit(strategy, "Bike lanes on Abay avenue", "Separate bike lanes along Abay.")
    pending = _submit(strategy, "Trees in the yards", "Plant more trees in residential yards.")
    query = {"code": original.code, "lower": original.code.lower(), "bare": str(original.pk)}[by]
    page = (
        page_client_for(moderator)
        .get(f"/en/moderation/{pending.pk}/", {"dup_q": query})
        .content.decode()
    )
    assert f'name="duplicate_of" value="{original.code}"' in page


def test_the_search_for_the_original_comes_before_the_code_and_save(strategy, moderator):
    pending = _submit(strategy, "Trees in the yards", "Plant more trees in residential yards.")
    page = page_client_for(moderator).get(f"/en/moderation/{pending.pk}/").content.decode()
    search = page.index('name="dup_q"')
    assert search < page.index('name="duplicate_of"') < page.index("Save the decision")
    # Still a GET form of its own, which works without a script.
    tag = page[page.rindex("<input", 0, search) : page.index(">", search)]
    assert 'form="dup-search"' in tag
    assert re.search(r'<form method="get"[^>]*id="dup-search"', page)


def _block(page: str, when: str) -> str:
    start = page.index(f'<div class="when" data-when="{when}">')
    return page[start : page.index("<!-- /when -->", start)]


def test_the_fields_of_a_decision_show_only_for_it(strategy, moderator):
    pending = _submit(strategy, "Trees in the yards", "Plant more trees in residential yards.")
    client = page_client_for(moderator)
    page = client.get(f"/en/moderation/{pending.pk}/").content.decode()
    rejection = _block(page, "decision=reject")
    assert 'name="reason"' in rejection and 'name="public"' in rejection
    duplicate = _block(page, "decision=reject reason=duplicate")
    assert 'name="dup_q"' in duplicate and 'name="duplicate_of"' in duplicate
    # The note goes with every decision; without a script every field is there, none hidden.
    assert 'name="note"' not in rejection
    assert " hidden" not in rejection
    assert "[data-when]" in (STATIC / "civic.js").read_text()
    # Searching for the original means rejecting as a duplicate: it comes back chosen.
    page = client.get(f"/en/moderation/{pending.pk}/", {"dup_q": "trees"}).content.decode()
    assert re.search(r'<input[^>]*name="decision" value="reject"[^>]*checked', page)
    assert re.search(r'<option value="duplicate" selected>', page)


def test_only_strong_suggestions_are_ticked_the_rest_are_one_click(strategy, moderator):
    pending = _submit(strategy, "Trees in the yards", "Plant more trees near the school.")
    slugs = [t.slug for t in Theme.objects.exclude(pk__in=pending.themes.all())][:2]
    strong, weak = slugs
    Proposal.objects.filter(pk=pending.pk).update(
        suggested_themes=[
            {"slug": strong, "score": 0.8, "words": ["trees"]},
            {"slug": weak, "score": 0.4, "words": ["school"]},
        ],
        suggestion_version="test",
    )
    page = page_client_for(moderator).get(f"/en/moderation/{pending.pk}/").content.decode()
    boxes = {
        value: tag
        for tag, value in re.findall(r'(<input[^>]*name="themes" value="([^"]+)"[^>]*>)', page)
    }
    assert "checked" in boxes[strong]
    assert "checked" not in boxes[weak]
    # The weak one is offered as a label that ticks its box: one click, with or without a script.
    box_id = re.search(r'id="([^"]+)"', boxes[weak]).group(1)
    adds = page[page.index('class="add-themes"') :]
    assert re.search(rf'<label for="{box_id}"[^>]*>', adds)
    strong_id = re.search(r'id="([^"]+)"', boxes[strong]).group(1)
    assert f'for="{strong_id}"' not in adds.split("</ul>")[0]


def test_bulk_approve_asks_before_publishing_a_copy_of_a_published_one(
    strategy, moderator, django_capture_on_commit_callbacks
):
    text = "Build separate protected bike lanes along the whole of Abay avenue, from end to end."
    with django_capture_on_commit_callbacks(execute=True):
        original = _submit(strategy, "Bike lanes on Abay avenue", text)
        copy = _submit(strategy, "Bike lanes on Abay avenue", text)
        other = _submit(strategy, "Trees in the yards", "Plant more trees in residential yards.")
    proposal_moderate(proposal=original, moderator=moderator, decision="approve")
    client = page_client_for(moderator)
    response = client.post(
        "/en/moderation/bulk/", {"proposals": [copy.pk, other.pk], "decision": "approve"}
    )
    # Nothing published yet: the queue comes back with a warning naming the copy and its original.
    assert response.status_code == 200
    copy.refresh_from_db()
    other.refresh_from_db()
    assert (copy.status, other.status) == (Proposal.Status.PENDING, Proposal.Status.PENDING)
    page = response.content.decode()
    warning = page[page.index('class="copies-warning"') :]
    assert copy.code in warning and original.code in warning
    assert 'name="confirm_copies"' in warning
    for pk in (copy.pk, other.pk):
        assert re.search(rf'<input type="checkbox" name="proposals" value="{pk}"[^>]*checked', page)
    # Confirmed, it is applied.
    response = client.post(
        "/en/moderation/bulk/",
        {"proposals": [copy.pk, other.pk], "decision": "approve", "confirm_copies": "on"},
    )
    assert response.status_code == 302
    copy.refresh_from_db()
    assert copy.status == Proposal.Status.PUBLISHED


def test_bulk_approve_without_copies_asks_nothing(strategy, moderator):
    other = _submit(strategy, "Trees in the yards", "Plant more trees in residential yards.")
    response = page_client_for(moderator).post(
        "/en/moderation/bulk/", {"proposals": [other.pk], "decision": "approve"}
    )
    assert response.status_code == 302
    other.refresh_from_db()
    assert other.status == Proposal.Status.PUBLISHED
