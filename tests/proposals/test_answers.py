"""The city's answers: who may answer, what is stored, what the public sees, and the
tallies of answers kept equal to the rows."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from civic.accounts.services import role_grant
from proposals.answers.services import answer_save, answer_save_many
from proposals.models import Answer, Proposal, ProposalEvent, Reaction
from proposals.services import proposal_moderate, reaction_set
from proposals.tallies.services import tally_compute
from tests.conftest import client_for
from tests.factories import ProposalFactory, SectionFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=False)


@pytest.fixture
def published(strategy):
    return ProposalFactory(strategy=strategy)


def url(proposal) -> str:
    return f"/api/v1/proposals/{proposal.pk}/answer/"


# --- who may answer -------------------------------------------------------------------


@pytest.mark.parametrize(
    "role, expected",
    [
        ("anonymous", 401),
        ("resident", 403),
        ("moderator", 403),
        ("analyst", 403),
        ("admin", 200),
    ],
)
def test_only_responders_and_admins_answer(people_by_role, published, role, expected):
    response = client_for(people_by_role[role]).put(
        url(published), {"outcome": "not_accepted", "text": "Нет бюджета."}, format="json"
    )
    assert response.status_code == expected, response.content
    assert Answer.objects.filter(proposal=published).exists() == (expected == 200)


def test_responder_answers_and_the_response_has_the_contract_fields(responder, published):
    response = client_for(responder).put(
        url(published), {"outcome": "accepted_in_part", "text": "Учтём в разделе 2."}, format="json"
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"outcome", "text", "published", "answered_at", "updated_at"}
    assert body["outcome"] == "accepted_in_part"
    assert body["published"] is True  # the strategy publishes answers immediately
    assert body["answered_at"] is not None


def test_responder_cannot_moderate(responder, strategy):
    pending = ProposalFactory(strategy=strategy, status=Proposal.Status.PENDING)
    response = client_for(responder).post(
        f"/api/v1/proposals/{pending.pk}/moderation/", {"decision": "approve"}, format="json"
    )
    assert response.status_code == 403
    pending.refresh_from_db()
    assert pending.status == Proposal.Status.PENDING


# --- bad input ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"outcome": "maybe", "text": "x"}, "outcome"),
        ({"outcome": "not_accepted"}, "text"),
        ({"outcome": "out_of_scope", "text": "   "}, "text"),
        ({"outcome": "not_accepted", "text": "a\x00b"}, "text"),
        ({"outcome": "accepted", "publish": "sometimes"}, "publish"),
        ({"outcome": "accepted", "expected_outcome": "perhaps"}, "expected_outcome"),
        ({"text": "no outcome"}, "outcome"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_changes_nothing(
    responder, published, payload, field
):
    response = client_for(responder).put(url(published), payload, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not Answer.objects.exists()
    assert not ProposalEvent.objects.filter(action="answer").exists()


def test_accepted_needs_no_text(responder, published):
    response = client_for(responder).put(url(published), {"outcome": "accepted"}, format="json")
    assert response.status_code == 200
    assert response.json()["text"] == ""


@pytest.mark.parametrize("status", ["pending", "rejected", "changes_requested", "withdrawn"])
def test_only_published_proposals_are_answered(responder, strategy, status):
    proposal = ProposalFactory(strategy=strategy, status=status, published_at=None)
    response = client_for(responder).put(
        url(proposal), {"outcome": "not_accepted", "text": "Нет."}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["code"] == "not_published"
    assert not Answer.objects.exists()


def test_unknown_proposal_is_a_404(responder):
    assert (
        client_for(responder)
        .put("/api/v1/proposals/999999/answer/", {"outcome": "accepted"}, format="json")
        .status_code
        == 404
    )


def test_a_stale_expected_outcome_is_a_409_and_changes_nothing(responder, admin_user, published):
    first = client_for(responder).put(
        url(published), {"outcome": "accepted", "expected_outcome": ""}, format="json"
    )
    assert first.status_code == 200
    # The admin still sees the proposal unanswered and tries to answer it.
    second = client_for(admin_user).put(
        url(published),
        {"outcome": "not_accepted", "text": "Нет.", "expected_outcome": ""},
        format="json",
    )
    assert second.status_code == 409
    assert second.json()["code"] == "answer_changed"
    answer = Answer.objects.get(proposal=published)
    assert answer.outcome == "accepted"
    assert ProposalEvent.objects.filter(action="answer").count() == 1


def test_a_published_answer_cannot_go_back_to_draft(responder, published):
    answer_save(proposal=published, responder=responder, outcome="accepted")
    response = client_for(responder).put(
        url(published), {"outcome": "accepted", "publish": False}, format="json"
    )
    assert response.status_code == 400
    assert "publish" in response.json()
    assert Answer.objects.get(proposal=published).published


# --- history --------------------------------------------------------------------------


def test_every_version_is_in_the_history_with_before_and_after(responder, admin_user, published):
    answer_save(
        proposal=published,
        responder=responder,
        outcome="already_planned",
        text="В плане.",
        publish=False,
    )
    answer_save(proposal=published, responder=admin_user, outcome="accepted", text="")
    events = list(ProposalEvent.objects.filter(proposal=published, action="answer"))
    assert [e.actor for e in events] == [responder, admin_user]
    assert events[0].changes == {
        "before": None,
        "after": {"outcome": "already_planned", "text": "В плане.", "published": False},
    }
    assert events[1].changes["before"]["outcome"] == "already_planned"
    assert events[1].changes["after"] == {"outcome": "accepted", "text": "", "published": True}
    history = client_for(admin_user).get(f"/api/v1/proposals/{published.pk}/history/").json()
    assert [row["action"] for row in history][-2:] == ["answer", "answer"]
    assert [row["note"] for row in history][-2:] == ["В плане.", ""]
    assert [row["actor"] for row in history][-2:] == ["Ответственный", admin_user.display_name]
    # Saving the same answer again writes nothing.
    answer_save(proposal=published, responder=admin_user, outcome="accepted", text="")
    assert ProposalEvent.objects.filter(proposal=published, action="answer").count() == 2


# --- what the public sees -------------------------------------------------------------


def test_drafts_are_staff_only_and_published_answers_are_public(
    responder, published, resident, analyst
):
    answer_save(
        proposal=published,
        responder=responder,
        outcome="not_accepted",
        text="Черновик.",
        publish=False,
    )
    anonymous = client_for(None).get(f"/api/v1/proposals/{published.pk}/").json()
    assert anonymous["answer"] is None
    assert client_for(resident).get(f"/api/v1/proposals/{published.pk}/").json()["answer"] is None
    staff = client_for(analyst).get(f"/api/v1/proposals/{published.pk}/").json()["answer"]
    assert staff == {
        "outcome": "not_accepted",
        "text": "Черновик.",
        "answered_at": None,
        "published": False,
    }
    answer_save(
        proposal=published, responder=responder, outcome="not_accepted", text="Итог.", publish=True
    )
    public = client_for(None).get(f"/api/v1/proposals/{published.pk}/").json()["answer"]
    assert set(public) == {"outcome", "text", "answered_at"}
    assert public["text"] == "Итог."
    body = client_for(None).get(f"/api/v1/proposals/{published.pk}/").content.decode()
    assert responder.email not in body


def test_strategy_setting_decides_whether_answers_publish_at_once(responder, published, strategy):
    strategy.publish_answers = False
    strategy.save()
    answer = answer_save(proposal=published, responder=responder, outcome="accepted")
    assert not answer.published and answer.answered_at is None
    answer = answer_save(proposal=published, responder=responder, outcome="accepted", publish=True)
    assert answer.published and answer.answered_at is not None


def test_list_filter_by_answer(responder, strategy):
    accepted, refused, waiting, draft = (ProposalFactory(strategy=strategy) for _ in range(4))
    answer_save(proposal=accepted, responder=responder, outcome="accepted")
    answer_save(proposal=refused, responder=responder, outcome="not_accepted", text="Нет.")
    answer_save(proposal=draft, responder=responder, outcome="accepted", publish=False)

    def codes(value: str) -> set[int]:
        response = client_for(None).get("/api/v1/proposals/", {"answer": value})
        assert response.status_code == 200
        return {row["id"] for row in response.json()["results"]}

    assert codes("accepted") == {accepted.pk}
    assert codes("not_accepted") == {refused.pk}
    assert codes("unanswered") == {waiting.pk, draft.pk}
    assert codes("overdue") == set()  # no deadline promised
    strategy.answer_deadline_days = 10
    strategy.save()
    Proposal.objects.filter(pk=waiting.pk).update(published_at=timezone.now() - timedelta(days=11))
    assert codes("overdue") == {waiting.pk}
    bad = client_for(None).get("/api/v1/proposals/", {"answer": "maybe"})
    assert bad.status_code == 400 and "answer" in bad.json()


# --- public rejections ----------------------------------------------------------------


def _reject(moderator, proposal, reason, **extra):
    return proposal_moderate(
        proposal=proposal, moderator=moderator, decision="reject", reason=reason, **extra
    )


@pytest.mark.parametrize(
    "reason, public, visible",
    [
        ("duplicate", None, True),
        ("off_topic", None, True),
        ("not_a_proposal", None, True),
        ("spam", None, False),
        ("offensive", None, False),
        ("personal_data", None, False),
        ("other", None, False),
        ("other", True, True),
    ],
)
def test_which_rejections_the_public_sees(moderator, strategy, resident, reason, public, visible):
    original = ProposalFactory(strategy=strategy)
    proposal = ProposalFactory(strategy=strategy, status="pending", published_at=None)
    extra = {"duplicate_of": original} if reason == "duplicate" else {}
    _reject(moderator, proposal, reason, note="Внутренняя заметка", public=public, **extra)
    response = client_for(resident).get(f"/api/v1/proposals/{proposal.pk}/")
    assert response.status_code == (200 if visible else 404)
    listed = client_for(None).get("/api/v1/proposals/", {"status": "rejected"}).json()
    assert [row["id"] for row in listed["results"]] == ([proposal.pk] if visible else [])
    if visible:
        rejection = response.json()["rejection"]
        assert rejection["reason"] == reason
        assert rejection["note"] is None  # the moderator did not make the note public
        assert rejection["duplicate_of"] == (original.code if reason == "duplicate" else None)
        assert "moderation" not in response.json()
    # The default public list stays the published ones.
    default = client_for(None).get("/api/v1/proposals/").json()["results"]
    assert proposal.pk not in [row["id"] for row in default]


def test_a_public_note_reaches_the_public(moderator, strategy):
    proposal = ProposalFactory(strategy=strategy, status="pending", published_at=None)
    _reject(moderator, proposal, "off_topic", note="Это про другой документ.", note_public=True)
    rejection = client_for(None).get(f"/api/v1/proposals/{proposal.pk}/").json()["rejection"]
    assert rejection["note"] == "Это про другой документ."


@pytest.mark.parametrize(
    "reason, extra, field",
    [
        ("spam", {"public": True}, "public"),
        ("duplicate", {"public": False}, "public"),
        ("personal_data", {"note_public": True}, "note_public"),
    ],
)
def test_contradictory_visibility_is_a_400(moderator, strategy, reason, extra, field):
    original = ProposalFactory(strategy=strategy)
    proposal = ProposalFactory(strategy=strategy, status="pending", published_at=None)
    body = {"decision": "reject", "reason": reason, "note": "заметка", **extra}
    if reason == "duplicate":
        body["duplicate_of"] = original.pk
    response = client_for(moderator).post(
        f"/api/v1/proposals/{proposal.pk}/moderation/", body, format="json"
    )
    assert response.status_code == 400 and field in response.json()
    proposal.refresh_from_db()
    assert proposal.status == "pending"


def test_hidden_rejection_stays_visible_to_its_author(moderator, strategy, resident):
    proposal = ProposalFactory(
        strategy=strategy, status="pending", published_at=None, author=resident
    )
    _reject(moderator, proposal, "personal_data")
    body = client_for(resident).get(f"/api/v1/proposals/{proposal.pk}/").json()
    assert body["rejection"]["reason"] == "personal_data"
    assert client_for(None).get(f"/api/v1/proposals/{proposal.pk}/").status_code == 404


# --- bulk answers for a group -----------------------------------------------------------


def test_one_answer_for_a_group_gives_each_member_its_own_row(responder, strategy):
    members = [ProposalFactory(strategy=strategy) for _ in range(3)]
    gone = ProposalFactory(strategy=strategy, status="rejected", published_at=None)
    result = answer_save_many(
        proposals=[*members, gone],
        responder=responder,
        outcome="already_planned",
        text="Уже в плане на 2027 год.",
    )
    assert result.answered == members
    assert [p for p, _ in result.skipped] == [gone]
    for member in members:
        assert member.answer.outcome == "already_planned"
        assert ProposalEvent.objects.filter(proposal=member, action="answer").count() == 1


def test_bulk_refuses_bad_input_before_anything(responder, strategy):
    members = [ProposalFactory(strategy=strategy) for _ in range(2)]
    with pytest.raises(Exception, match="text"):
        answer_save_many(proposals=members, responder=responder, outcome="not_accepted", text="")
    assert not Answer.objects.exists()


# --- tallies --------------------------------------------------------------------------


def _rows_truth(strategy):
    published = Proposal.objects.filter(strategy=strategy, status="published")
    answered = published.filter(answer__published=True)
    return {
        "answered": answered.count(),
        "unanswered": published.count() - answered.count(),
        "by_outcome": {
            o: answered.filter(answer__outcome=o).count() for o in Answer.Outcome.values
        },
    }


def test_answer_tallies_equal_the_rows_after_answers_change(responder, strategy, moderator):
    strategy.answer_deadline_days = 30
    strategy.save()
    section = SectionFactory(strategy=strategy)
    proposals = [ProposalFactory(strategy=strategy, section=section) for _ in range(6)]
    old = ProposalFactory(strategy=strategy, published_at=timezone.now() - timedelta(days=40))
    Proposal.objects.filter(pk=proposals[0].pk).update(
        published_at=timezone.now() - timedelta(days=4)
    )
    answer_save(proposal=proposals[0], responder=responder, outcome="accepted")
    answer_save(proposal=proposals[1], responder=responder, outcome="not_accepted", text="Нет.")
    answer_save(proposal=proposals[2], responder=responder, outcome="accepted", publish=False)
    data = tally_compute(strategy=strategy)["answers"]
    truth = _rows_truth(strategy)
    assert data["answered"] == truth["answered"] == 2
    assert data["unanswered"] == truth["unanswered"] == 5
    assert data["by_outcome"] == truth["by_outcome"]
    assert data["overdue"] == 1  # `old`, published 40 days ago with a 30-day promise
    assert 0 <= data["median_days_to_answer"] <= 4
    section_row = next(row for row in data["by_section"] if row["section"] == section.pk)
    assert section_row["answered"] == 2 and section_row["unanswered"] == 4
    # The answers change: the counts follow.
    answer_save(
        proposal=proposals[1], responder=responder, outcome="accepted_in_part", text="Частично."
    )
    answer_save(proposal=old, responder=responder, outcome="out_of_scope", text="Не наше.")
    data = tally_compute(strategy=strategy)["answers"]
    truth = _rows_truth(strategy)
    assert data["by_outcome"] == truth["by_outcome"]
    assert data["overdue"] == 0
    # A proposal taken down leaves the answered count.
    proposal_moderate(proposal=proposals[0], moderator=moderator, decision="reject", reason="other")
    data = tally_compute(strategy=strategy)["answers"]
    assert data == {**data, **_rows_truth(strategy)}


def test_the_public_tally_carries_the_answers(
    responder, strategy, published, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        answer_save(proposal=published, responder=responder, outcome="accepted")
    body = client_for(None).get(f"/api/v1/strategies/{strategy.slug}/tallies/").json()
    assert body["answers"]["answered"] == 1
    assert body["answers"]["by_outcome"]["accepted"] == 1


# --- two responders at once ---------------------------------------------------------------


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_responders_saving_at_once_one_gets_a_409(strategy, published):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises writers, so there is no race to test")
    responders = []
    for name in ("a", "b"):
        user = UserFactory(email=f"{name}@akimat.kz")
        role_grant(user=user, role="responder")
        responders.append(user)
    barrier = threading.Barrier(2)
    codes: list[int] = []

    def answer(user, outcome):
        client = client_for(user)
        barrier.wait()
        response = client.put(
            url(published),
            {"outcome": outcome, "text": "Текст.", "expected_outcome": ""},
            format="json",
        )
        codes.append(response.status_code)
        connection.close()

    threads = [
        threading.Thread(target=answer, args=(responders[0], "not_accepted")),
        threading.Thread(target=answer, args=(responders[1], "out_of_scope")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(codes) == [200, 409]
    assert ProposalEvent.objects.filter(proposal=published, action="answer").count() == 1


def test_reactions_count_as_support_in_the_queue(responder, strategy):
    from proposals.answers.selectors import answer_queue

    strategy.support_threshold = 2
    strategy.save()
    old = ProposalFactory(strategy=strategy, published_at=timezone.now() - timedelta(days=9))
    supported = ProposalFactory(strategy=strategy)
    for kind in ("like", "outrage"):
        reaction_set(proposal=supported, user=UserFactory(), kind=kind)
    funny = ProposalFactory(strategy=strategy, published_at=timezone.now() - timedelta(days=5))
    for _ in range(3):
        Reaction.objects.create(proposal=funny, user=UserFactory(), kind="funny")
    queue = list(answer_queue(user=responder))
    assert queue[0] == supported  # above the threshold: first, however new
    assert queue[1:] == [old, funny]  # then oldest first; funny reactions are not support


def test_the_openapi_schema_describes_answers(api):
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    put = schema["paths"]["/api/v1/proposals/{proposal_id}/answer/"]["put"]
    assert {"200", "400", "403", "404", "409"} <= set(put["responses"])
    request = schema["components"]["schemas"]["AnswerRequestRequest"]["properties"]
    assert {"outcome", "text", "publish", "expected_outcome"} <= set(request)
    proposal = schema["components"]["schemas"]["Proposal"]["properties"]
    assert {"answer", "rejection"} <= set(proposal)
    list_parameters = {
        p["name"] for p in schema["paths"]["/api/v1/proposals/"]["get"]["parameters"]
    }
    assert "answer" in list_parameters


@pytest.mark.parametrize("seed", range(5))
def test_median_from_a_histogram_is_the_median_of_the_days(seed):
    import random
    import statistics

    from proposals.tallies.services import _median_days

    rng = random.Random(seed)
    days = [rng.randint(0, 60) for _ in range(rng.randint(1, 40))]
    histogram: dict[int, int] = {}
    for day in days:
        histogram[day] = histogram.get(day, 0) + 1
    assert _median_days(histogram) == round(statistics.median(days), 1)
    assert _median_days({}) is None


def test_days_to_answer_are_calendar_days_from_publication(responder, strategy):
    now = timezone.now()
    for days in (2, 4, 9):
        proposal = ProposalFactory(strategy=strategy, published_at=now - timedelta(days=days))
        answer_save(proposal=proposal, responder=responder, outcome="accepted")
    assert tally_compute(strategy=strategy)["answers"]["median_days_to_answer"] == 4
