"""The staff pages (frontend/views/moderation.py): who may open the queue, a decision,
the history and the analysis page, and what deciding one proposal or many does and
refuses."""

import html
import re
from urllib.parse import quote

import pytest

from proposals.models import Proposal, ProposalEvent
from strategy.models import Theme
from tests.factories import StrategyFactory
from tests.frontend.helpers import (
    S,
    _checked,
    _decide,
    _input_tags,
    _messages,
    _page,
    _published,
    _snapshot,
    _submit,
    _themes,
    _tr,
)

pytestmark = pytest.mark.django_db


# --- role pages --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/ru/moderation/",
        "/ru/moderation/history/",
        "/ru/moderation/{id}/",
        "/ru/analysis/",
        "/ru/me/proposals/",
        "/ru/proposals/new/",
        "/ru/proposals/{id}/edit/",
        "/kk/moderation/",
    ],
)
def test_anonymous_visitors_of_role_pages_are_sent_to_sign_in(client, pending, path):
    path = path.format(id=pending.pk)
    response = client.get(path)
    assert response.status_code == 302
    language = path.split("/")[1]
    assert response.url == f"/{language}/login/?next={quote(path, safe='/')}"


@pytest.mark.parametrize(
    "path",
    ["/ru/moderation/", "/ru/moderation/{id}/", "/ru/moderation/history/", "/ru/analysis/"],
)
def test_a_resident_may_not_open_staff_pages(client, resident, pending, path):
    client.force_login(resident)
    response = client.get(path.format(id=pending.pk))
    assert response.status_code == 403
    assert pending.title not in _page(response)


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/ru/analysis/", 200),
        ("/ru/moderation/history/", 200),
        ("/ru/moderation/", 403),
        ("/ru/moderation/{id}/", 403),
    ],
)
def test_an_analyst_reads_but_does_not_moderate(client, analyst, pending, path, status):
    client.force_login(analyst)
    assert client.get(path.format(id=pending.pk)).status_code == status


@pytest.mark.parametrize("who", ["resident", "analyst"])
def test_only_moderators_may_post_decisions(client, request, pending, who):
    client.force_login(request.getfixturevalue(who))
    before = _snapshot()
    response = client.post(
        f"/ru/moderation/{pending.pk}/",
        {"decision": "approve", "expected_status": "pending"},
    )
    assert response.status_code == 403
    response = client.post(
        "/ru/moderation/bulk/", {"proposals": [pending.pk], "decision": "approve"}
    )
    assert response.status_code == 403
    assert _snapshot() == before


@pytest.mark.parametrize(
    "path", ["/ru/moderation/", "/ru/moderation/{id}/", "/ru/moderation/history/", "/ru/analysis/"]
)
def test_a_moderator_opens_the_staff_pages(client, moderator, pending, path):
    client.force_login(moderator)
    response = client.get(path.format(id=pending.pk))
    assert response.status_code == 200


def test_the_moderation_queue_lists_pending_proposals_only(client, moderator, pending, published):
    client.force_login(moderator)
    page = _page(client.get("/ru/moderation/"))
    assert pending.title in page
    assert published.title not in page


# --- moderation --------------------------------------------------------------------------------


def _decision(**fields) -> dict:
    data = {
        "decision": "approve",
        "reason": "",
        "note": "",
        "themes": [],
        "duplicate_of": "",
        "expected_status": "pending",
    }
    data.update(fields)
    return data


def test_approving_publishes_with_the_moderators_themes(client, moderator, strategy, resident):
    proposal = _submit(resident, strategy, themes=_themes("ecology"))
    client.force_login(moderator)
    response = client.post(
        f"/ru/moderation/{proposal.pk}/", _decision(themes=["transport", "safety"])
    )
    assert response.status_code == 302
    assert response.url == "/ru/moderation/"
    proposal.refresh_from_db()
    assert proposal.status == S.PUBLISHED
    assert proposal.published_at is not None
    assert sorted(proposal.themes.values_list("slug", flat=True)) == ["safety", "transport"]
    event = proposal.events.get(action="approve")
    assert event.actor == moderator
    assert proposal.code in _messages(client.get(response.url))


def test_a_rejection_needs_a_reason(client, moderator, pending):
    client.force_login(moderator)
    before = _snapshot()
    response = client.post(f"/ru/moderation/{pending.pk}/", _decision(decision="reject"))
    assert response.status_code == 400
    assert _snapshot() == before
    assert _tr("ru", "A rejection needs a reason.") in _page(response)


def test_rejecting_as_a_duplicate_stores_the_original(client, moderator, strategy, resident):
    original = _submit(resident, strategy, title="Фонтаны в парке")
    copy = _submit(resident, strategy, title="Фонтаны в парке снова")
    client.force_login(moderator)
    response = client.post(
        f"/ru/moderation/{copy.pk}/",
        _decision(decision="reject", reason="duplicate", duplicate_of=original.code.lower()),
    )
    assert response.status_code == 302
    copy.refresh_from_db()
    assert copy.status == S.REJECTED
    assert copy.duplicate_of == original
    assert copy.latest_decision.reason == "duplicate"


@pytest.mark.parametrize("duplicate_of", ["", "NOPE-000001", "self"])
def test_a_duplicate_needs_another_existing_proposal(client, moderator, pending, duplicate_of):
    client.force_login(moderator)
    before = _snapshot()
    response = client.post(
        f"/ru/moderation/{pending.pk}/",
        _decision(
            decision="reject",
            reason="duplicate",
            duplicate_of=pending.code if duplicate_of == "self" else duplicate_of,
        ),
    )
    assert response.status_code == 400
    assert _snapshot() == before
    [field] = _input_tags(response, "duplicate_of")
    assert 'aria-invalid="true"' in field


def test_asking_for_changes_needs_a_note(client, moderator, pending):
    client.force_login(moderator)
    before = _snapshot()
    response = client.post(
        f"/ru/moderation/{pending.pk}/", _decision(decision="request_changes", note="  ")
    )
    assert response.status_code == 400
    assert _snapshot() == before
    response = client.post(
        f"/ru/moderation/{pending.pk}/",
        _decision(decision="request_changes", note="Укажите адрес."),
    )
    assert response.status_code == 302
    pending.refresh_from_db()
    assert pending.status == S.CHANGES_REQUESTED
    assert pending.latest_decision.note == "Укажите адрес."


@pytest.mark.parametrize("decision", ["", "publish"])
def test_an_unknown_decision_is_a_400(client, moderator, pending, decision):
    client.force_login(moderator)
    before = _snapshot()
    response = client.post(f"/ru/moderation/{pending.pk}/", _decision(decision=decision))
    assert response.status_code == 400
    assert _snapshot() == before


@pytest.mark.parametrize(
    "fields",
    [
        {"decision": "reject", "reason": "spam"},
        {"decision": "approve", "themes": ["transport"]},
        {"decision": "request_changes", "note": "Уточните адрес."},
    ],
)
def test_a_decision_that_lost_a_race_changes_nothing_and_says_so(
    client, moderator, other_moderator, pending, fields
):
    client.force_login(moderator)
    form = client.get(f"/ru/moderation/{pending.pk}/")
    [expected] = _input_tags(form, "expected_status")
    assert 'value="pending"' in expected
    # Meanwhile another moderator publishes it.
    _decide(pending, other_moderator, "approve")
    before = _snapshot()
    response = client.post(
        f"/ru/moderation/{pending.pk}/",
        _decision(expected_status="pending", **fields),
        follow=True,
    )
    assert response.redirect_chain == [(f"/ru/moderation/{pending.pk}/", 302)]
    assert response.status_code == 200
    assert _snapshot() == before
    pending.refresh_from_db()
    assert pending.status == S.PUBLISHED
    assert pending.latest_decision.actor == other_moderator
    message = _messages(response)
    assert pending.code in message
    assert _tr("ru", "Published") in message


def test_the_decide_page_prefills_the_authors_themes(client, moderator, strategy, resident):
    proposal = _submit(resident, strategy, themes=_themes("ecology", "health"))
    client.force_login(moderator)
    response = client.get(f"/ru/moderation/{proposal.pk}/")
    assert response.status_code == 200
    assert _checked(response, "themes") == {"ecology", "health"}
    offered = {re.search(r'value="([^"]*)"', t).group(1) for t in _input_tags(response, "themes")}
    assert offered == set(Theme.objects.values_list("slug", flat=True))


def test_the_decide_page_finds_duplicates_in_the_same_strategy(
    client, moderator, strategy, resident, other_resident
):
    proposal = _submit(resident, strategy, title="Фонтаны в парке Горького")
    same = _published(other_resident, strategy, moderator, title="Починить фонтаны у театра")
    same_pending = _submit(other_resident, strategy, title="Ещё фонтаны на Арбате")
    unrelated = _published(other_resident, strategy, moderator, title="Велодорожки на Абая")
    elsewhere = _published(
        other_resident,
        StrategyFactory(slug="other-plan", code_prefix="OTH"),
        moderator,
        title="Фонтаны в другом городе",
    )
    client.force_login(moderator)
    response = client.get(f"/ru/moderation/{proposal.pk}/", {"dup_q": "ФОНТАНЫ"})
    assert response.status_code == 200
    found = re.search(r'<ul class="candidates">(.*?)</ul>', response.content.decode(), re.S)
    assert found
    codes = set(re.findall(r'<span class="code">([^<]+)</span>', found.group(1)))
    assert codes == {same.code, same_pending.code}
    assert unrelated.code not in codes
    assert elsewhere.code not in codes
    assert proposal.code not in codes


def test_a_duplicate_search_that_finds_nothing_says_so(client, moderator, pending):
    client.force_login(moderator)
    response = client.get(f"/ru/moderation/{pending.pk}/", {"dup_q": "несуществующее"})
    assert response.status_code == 200
    assert 'class="candidates"' not in response.content.decode()
    assert _tr("ru", "Nothing found.") in _page(response)


def test_bulk_approval_publishes_every_ticked_proposal(client, moderator, strategy, resident):
    first = _submit(resident, strategy, title="Первое предложение")
    second = _submit(resident, strategy, title="Второе предложение")
    untouched = _submit(resident, strategy, title="Третье предложение")
    client.force_login(moderator)
    response = client.post(
        "/ru/moderation/bulk/",
        {"proposals": [first.pk, second.pk], "decision": "approve"},
        follow=True,
    )
    assert response.redirect_chain == [("/ru/moderation/", 302)]
    statuses = dict(Proposal.objects.values_list("pk", "status"))
    assert statuses == {first.pk: S.PUBLISHED, second.pk: S.PUBLISHED, untouched.pk: S.PENDING}
    message = _messages(response)
    assert first.code in message
    assert second.code in message


def test_bulk_reports_a_proposal_already_decided_and_leaves_it(
    client, moderator, other_moderator, strategy, resident
):
    fresh = _submit(resident, strategy, title="Свежее предложение")
    decided = _submit(resident, strategy, title="Уже решённое предложение")
    _decide(decided, other_moderator, "request_changes", note="Добавьте подробностей.")
    client.force_login(moderator)
    response = client.post(
        "/ru/moderation/bulk/",
        {"proposals": [fresh.pk, decided.pk], "decision": "approve"},
        follow=True,
    )
    assert response.status_code == 200
    fresh.refresh_from_db()
    decided.refresh_from_db()
    assert fresh.status == S.PUBLISHED
    assert decided.status == S.CHANGES_REQUESTED
    assert decided.latest_decision.actor == other_moderator
    assert decided.events.filter(action__in=ProposalEvent.DECISIONS).count() == 1
    errors = re.findall(r'<p class="message error">(.*?)</p>', response.content.decode(), re.S)
    assert any(decided.code in html.unescape(e) for e in errors)
    assert not any(fresh.code in html.unescape(e) for e in errors)


def test_bulk_without_a_decision_changes_nothing(client, moderator, pending):
    client.force_login(moderator)
    before = _snapshot()
    response = client.post("/ru/moderation/bulk/", {"proposals": [pending.pk]}, follow=True)
    assert response.status_code == 200
    assert _snapshot() == before
    assert _messages(response)


def test_bulk_rejection_needs_a_reason(client, moderator, strategy, resident):
    first = _submit(resident, strategy, title="Первое предложение")
    second = _submit(resident, strategy, title="Второе предложение")
    client.force_login(moderator)
    before = _snapshot()
    response = client.post(
        "/ru/moderation/bulk/",
        {"proposals": [first.pk, second.pk], "decision": "reject"},
        follow=True,
    )
    assert response.status_code == 200
    assert _snapshot() == before
    assert _tr("ru", "A rejection needs a reason.") in _messages(response)


def test_the_history_lists_decisions(client, analyst, moderator, published, changes_requested):
    client.force_login(analyst)
    page = _page(client.get("/ru/moderation/history/"))
    assert published.code in page
    assert changes_requested.code in page
    assert "Уточните адрес." in page
