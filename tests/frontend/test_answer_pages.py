"""The responders' pages and what the public pages show of answers and rejections."""

from datetime import timedelta

import pytest
from django.utils import timezone

from proposals.answers.services import answer_save
from proposals.models import Answer, ProposalEvent
from proposals.services import proposal_moderate
from tests.conftest import page_client_for
from tests.factories import ProposalFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("language", ["ru", "kk", "en"])
def test_responder_answers_from_the_workspace(responder, strategy, language):
    proposal = ProposalFactory(strategy=strategy, title="Велодорожка на Абая")
    client = page_client_for(responder)
    queue = client.get(f"/{language}/answers/")
    assert queue.status_code == 200
    assert "Велодорожка на Абая" in queue.content.decode()
    page = client.get(f"/{language}/answers/{proposal.pk}/")
    assert page.status_code == 200
    response = client.post(
        f"/{language}/answers/{proposal.pk}/",
        {
            "outcome": "accepted_in_part",
            "text": "Учтено в разделе 2.",
            "publish": "on",
            "expected_outcome": "",
        },
    )
    assert response.status_code == 302
    answer = Answer.objects.get(proposal=proposal)
    assert answer.published and answer.outcome == "accepted_in_part"
    public = page_client_for(None).get(f"/{language}/proposals/{proposal.pk}/").content.decode()
    assert "Учтено в разделе 2." in public
    assert responder.email not in public


def test_missing_text_is_a_400_naming_the_field(responder, strategy):
    proposal = ProposalFactory(strategy=strategy)
    response = page_client_for(responder).post(
        f"/en/answers/{proposal.pk}/",
        {"outcome": "not_accepted", "text": "", "expected_outcome": ""},
    )
    assert response.status_code == 400
    assert "a text is required" in response.content.decode()
    assert not Answer.objects.exists()


def test_a_stale_answer_form_says_so_and_changes_nothing(responder, admin_user, strategy):
    proposal = ProposalFactory(strategy=strategy)
    answer_save(proposal=proposal, responder=admin_user, outcome="accepted")
    response = page_client_for(responder).post(
        f"/en/answers/{proposal.pk}/",
        {"outcome": "not_accepted", "text": "No.", "expected_outcome": ""},
        follow=True,
    )
    assert "Someone changed the answer" in response.content.decode()
    assert Answer.objects.get(proposal=proposal).outcome == "accepted"


@pytest.mark.parametrize("role, status", [("resident", 403), ("moderator", 403), ("analyst", 403)])
def test_others_cannot_open_the_workspace(people_by_role, role, status):
    assert page_client_for(people_by_role[role]).get("/en/answers/").status_code == status


def test_one_answer_for_a_group(responder, strategy, submit, moderator):
    text = "Нужно установить светофор на перекрёстке улиц Абая и Манаса, там опасно переходить."
    originals = [submit(strategy, "Светофор на Абая–Манаса", text) for _ in range(3)]
    for proposal in originals:
        proposal_moderate(proposal=proposal, moderator=moderator, decision="approve")
    client = page_client_for(responder)
    page = client.get(f"/en/answers/{originals[0].pk}/").content.decode()
    assert originals[1].code in page
    response = client.post(
        f"/en/answers/{originals[0].pk}/",
        {
            "outcome": "already_planned",
            "text": "Светофор в плане на 2027 год.",
            "publish": "on",
            "expected_outcome": "",
            "group": [str(originals[1].pk), str(originals[2].pk)],
        },
    )
    assert response.status_code == 302
    for proposal in originals:
        assert Answer.objects.get(proposal=proposal).outcome == "already_planned"
        assert ProposalEvent.objects.filter(proposal=proposal, action="answer").count() == 1


def test_awaiting_days_and_the_promise_are_shown(strategy):
    strategy.answer_deadline_days = 30
    strategy.save()
    proposal = ProposalFactory(strategy=strategy, published_at=timezone.now() - timedelta(days=12))
    page = page_client_for(None).get(f"/en/proposals/{proposal.pk}/").content.decode()
    assert "Awaiting the city's answer: 12 days" in page
    assert "within 30 days" in page


def test_a_public_duplicate_rejection_links_to_the_original(moderator, strategy):
    original = ProposalFactory(strategy=strategy)
    copy = ProposalFactory(strategy=strategy, status="pending", published_at=None)
    proposal_moderate(
        proposal=copy,
        moderator=moderator,
        decision="reject",
        reason="duplicate",
        duplicate_of=original,
        note="Секретная заметка",
    )
    page = page_client_for(None).get(f"/ru/proposals/{copy.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert original.code in html and f"/ru/proposals/{original.pk}/" in html
    assert "Секретная заметка" not in html


def test_spam_stays_hidden_on_the_pages(moderator, strategy):
    proposal = ProposalFactory(strategy=strategy, status="pending", published_at=None)
    proposal_moderate(proposal=proposal, moderator=moderator, decision="reject", reason="spam")
    assert page_client_for(None).get(f"/en/proposals/{proposal.pk}/").status_code == 404
    listed = page_client_for(None).get("/en/proposals/?status=rejected").content.decode()
    assert proposal.title not in listed


def test_list_filters_and_facets_by_outcome(responder, strategy):
    accepted = ProposalFactory(strategy=strategy, title="Принятое предложение")
    waiting = ProposalFactory(strategy=strategy, title="Ждущее предложение")
    answer_save(proposal=accepted, responder=responder, outcome="accepted")
    page = page_client_for(None).get("/en/proposals/?answer=accepted").content.decode()
    assert accepted.title in page and waiting.title not in page
    assert "Accepted" in page
    bad = page_client_for(None).get("/en/proposals/?answer=perhaps")
    assert bad.status_code == 400


def test_moderator_makes_an_other_rejection_public_with_its_note(moderator, strategy):
    proposal = ProposalFactory(strategy=strategy, status="pending", published_at=None)
    response = page_client_for(moderator).post(
        f"/en/moderation/{proposal.pk}/",
        {
            "decision": "reject",
            "reason": "other",
            "note": "Уже сделано в 2024 году.",
            "public": "on",
            "note_public": "on",
            "expected_status": "pending",
        },
    )
    assert response.status_code == 302
    html = page_client_for(None).get(f"/en/proposals/{proposal.pk}/").content.decode()
    assert "Уже сделано в 2024 году." in html


def test_the_tallies_page_shows_the_answers(
    responder, strategy, django_capture_on_commit_callbacks
):
    strategy.answer_deadline_days = 20
    strategy.save()
    first, second = ProposalFactory(strategy=strategy), ProposalFactory(strategy=strategy)
    with django_capture_on_commit_callbacks(execute=True):
        answer_save(proposal=first, responder=responder, outcome="not_accepted", text="Нет.")
    for language in ("ru", "kk", "en"):
        page = page_client_for(None).get(f"/{language}/strategies/{strategy.slug}/tallies/")
        assert page.status_code == 200
        assert 'id="answers-title"' in page.content.decode()
    html = page_client_for(None).get(f"/en/strategies/{strategy.slug}/tallies/").content.decode()
    assert "Not accepted" in html and "50%" in html
    assert second.code  # the other one waits


def test_outcome_facets_ignore_their_own_filter(responder, strategy):
    accepted = ProposalFactory(strategy=strategy)
    ProposalFactory(strategy=strategy)
    answer_save(proposal=accepted, responder=responder, outcome="accepted")
    response = page_client_for(None).get("/en/proposals/?answer=unanswered")
    assert response.context["outcomes"]["accepted"] == 1
    assert response.context["outcomes"]["unanswered"] == 1
