"""Every input rule of docs/api.md: a 400 naming the field, and nothing saved.

Also the proposal state machine driven through the API: the allowed transitions, the
forbidden ones (409, nothing changed), the audit trail they leave and the author's email.
"""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from proposals.models import Proposal, ProposalEvent, Reaction
from strategy.models import Strategy
from tests.conftest import client_for
from tests.factories import (
    ProposalFactory,
    SectionFactory,
    StrategyFactory,
    UserFactory,
    reaction_add,
)

S = Proposal.Status
URL = "/api/v1/proposals/"
BODY = "Посадить деревья вдоль арыков на улице Абая."


def _counts() -> tuple[int, int, int]:
    return Proposal.objects.count(), Reaction.objects.count(), ProposalEvent.objects.count()


def _state(proposal: Proposal) -> dict:
    proposal.refresh_from_db()
    return {
        "status": proposal.status,
        "title": proposal.title,
        "body": proposal.body,
        "section": proposal.section_id,
        "district": proposal.district_id,
        "themes": sorted(proposal.themes.values_list("slug", flat=True)),
        "published_at": proposal.published_at,
        "updated_at": proposal.updated_at,
        "latest_decision": proposal.latest_decision_id,
        "duplicate_of": proposal.duplicate_of_id,
        "events": list(proposal.events.values_list("id", flat=True)),
    }


@pytest.fixture
def author_client(resident):
    return client_for(resident)


@pytest.fixture
def valid(strategy) -> dict:
    return {"strategy": strategy.slug, "title": "Больше деревьев", "body": BODY}


@pytest.fixture
def other_strategy(db):
    return StrategyFactory(slug="other-plan", code_prefix="OTH")


def _assert_refused(response, field: str, before: tuple[int, int, int], status: int = 400):
    assert response.status_code == status, response.content
    assert field in response.json(), response.json()
    messages = response.json()[field]
    assert isinstance(messages, list)
    assert messages
    assert all(isinstance(message, str) and message for message in messages)
    assert _counts() == before


# --- submitting: text rules ---------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("title", "abcd"),
        ("title", "   abcd   "),
        ("title", "\n\t abcd \t\n"),
        ("title", "     "),
        ("title", ""),
        ("title", "я" * 201),
        ("title", "  " + "я" * 201 + "  "),
        ("title", "x" * 5000),
        ("body", "a" * 19),
        ("body", "   " + "a" * 19 + "   "),
        ("body", ""),
        ("body", "б" * 10_001),
        ("body", "б" * 200_000),
        ("title", "Нулевой\x00символ"),
        ("title", "Звонок\x07в заголовке"),
        ("title", "Escape\x1b[31m red"),
        ("title", "Возврат\x08каретки"),
        ("title", "Удаление\x7fсимвола"),
        ("title", "Next line\x85inside"),
        ("title", "Vertical\x0btab inside"),
        ("body", BODY + "\x00" + BODY),
        ("body", BODY + "\x01" + BODY),
        ("body", BODY + "\x0c" + BODY),
        ("body", BODY + "\x1f" + BODY),
        ("body", BODY + "\x9b" + BODY),
    ],
    ids=lambda value: repr(value)[:30],
)
def test_submit_text_rules(author_client, valid, field, value):
    before = _counts()

    response = author_client.post(URL, {**valid, field: value}, format="json")

    _assert_refused(response, field, before)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("title", "body", "saved_title", "saved_body"),
    [
        ("abcde", "a" * 20, "abcde", "a" * 20),
        ("   abcde   ", "  " + "a" * 20 + "\n\n", "abcde", "a" * 20),
        ("я" * 200, "б" * 10_000, "я" * 200, "б" * 10_000),
        (" " + "я" * 200 + " ", "\n" + "б" * 10_000 + "\n", "я" * 200, "б" * 10_000),
        ("Деревья\tи тень", "Первая строка\nвторая\tс табом", "Деревья\tи тень", None),
        ("Строки CRLF", "Первая строка\r\nвторая строка", "Строки CRLF", None),
        ("<b>Не HTML</b>", "<script>alert(1)</script> & остальное", "<b>Не HTML</b>", None),
    ],
    ids=["min", "min-after-trim", "max", "max-after-trim", "tab-newline", "crlf", "html"],
)
def test_submit_accepts_text_inside_the_rules(
    author_client, valid, title, body, saved_title, saved_body
):
    response = author_client.post(URL, {**valid, "title": title, "body": body}, format="json")

    assert response.status_code == 201, response.content
    proposal = Proposal.objects.get(pk=response.json()["id"])
    assert proposal.title == saved_title
    assert response.json()["title"] == saved_title
    expected_body = saved_body if saved_body is not None else body.replace("\r\n", "\n")
    assert proposal.body == expected_body
    # Returned exactly as written, never escaped or rendered.
    assert response.json()["body"] == expected_body
    assert proposal.status == S.PENDING


# --- submitting: references -----------------------------------------------------------------


@pytest.mark.django_db
def test_submit_section_of_another_strategy(author_client, valid, other_strategy):
    foreign = SectionFactory(strategy=other_strategy, code="1")
    before = _counts()

    response = author_client.post(URL, {**valid, "section": foreign.pk}, format="json")

    _assert_refused(response, "section", before)


@pytest.mark.django_db
def test_submit_section_of_the_strategy_is_accepted(author_client, valid, strategy):
    section = SectionFactory(strategy=strategy, code="1")

    response = author_client.post(URL, {**valid, "section": section.pk}, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["section"] == section.pk
    assert Proposal.objects.get(pk=response.json()["id"]).section == section


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("section", 999_999),
        ("themes", ["ecology", "no-such-theme"]),
        ("themes", ["no-such-theme"]),
        ("district", "no-such-district"),
        ("strategy", "no-such-strategy"),
        ("strategy", None),
    ],
)
def test_submit_unknown_references(author_client, valid, field, value):
    before = _counts()

    response = author_client.post(URL, {**valid, field: value}, format="json")

    _assert_refused(response, field, before)


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["strategy", "title", "body"])
def test_submit_missing_required_field(author_client, valid, field):
    before = _counts()
    payload = {key: value for key, value in valid.items() if key != field}

    response = author_client.post(URL, payload, format="json")

    _assert_refused(response, field, before)


@pytest.mark.django_db
def test_submit_with_every_optional_field(author_client, valid, strategy):
    section = SectionFactory(strategy=strategy, code="1")

    response = author_client.post(
        URL,
        {
            **valid,
            "section": section.pk,
            "district": "medeu",
            "themes": ["transport", "ecology"],
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["district"] == "medeu"
    assert body["themes"] == ["ecology", "transport"]
    assert body["status"] == "pending"
    assert body["code"] == f"ALT-{body['id']:06d}"
    proposal = Proposal.objects.get(pk=body["id"])
    assert proposal.district.slug == "medeu"
    assert sorted(proposal.themes.values_list("slug", flat=True)) == ["ecology", "transport"]


@pytest.mark.django_db
def test_submit_to_a_draft_strategy_names_the_strategy(author_client, valid):
    StrategyFactory(slug="draft-plan", code_prefix="DRF", status=Strategy.Status.DRAFT)
    before = _counts()

    response = author_client.post(URL, {**valid, "strategy": "draft-plan"}, format="json")

    _assert_refused(response, "strategy", before)


def _today():
    return timezone.localdate()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("status", "opens", "closes"),
    [
        (Strategy.Status.CLOSED, -30, 30),
        (Strategy.Status.ARCHIVED, -30, 30),
        (Strategy.Status.OPEN, -30, -1),
        (Strategy.Status.OPEN, 1, 30),
        (Strategy.Status.OPEN, 1, None),
        (Strategy.Status.OPEN, None, -1),
    ],
    ids=["closed", "archived", "dates-past", "dates-future", "opens-tomorrow", "closed-yesterday"],
)
def test_submit_to_a_closed_strategy(author_client, valid, status, opens, closes):
    StrategyFactory(
        slug="closed-plan",
        code_prefix="CLS",
        status=status,
        opens_at=None if opens is None else _today() + timedelta(days=opens),
        closes_at=None if closes is None else _today() + timedelta(days=closes),
    )
    before = _counts()

    response = author_client.post(URL, {**valid, "strategy": "closed-plan"}, format="json")

    _assert_refused(response, "strategy", before)
    assert response.json()["code"] == "strategy_closed"


@pytest.mark.django_db
@pytest.mark.parametrize(("opens", "closes"), [(0, 0), (0, None), (None, 0), (None, None)], ids=str)
def test_submit_on_the_opening_and_closing_day_is_accepted(author_client, valid, opens, closes):
    StrategyFactory(
        slug="edge-plan",
        code_prefix="EDG",
        opens_at=None if opens is None else _today() + timedelta(days=opens),
        closes_at=None if closes is None else _today() + timedelta(days=closes),
    )

    response = author_client.post(URL, {**valid, "strategy": "edge-plan"}, format="json")

    assert response.status_code == 201, response.content


# --- submitting: types and bodies ---------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("title", 12345),
        ("title", 12345.5),
        ("title", True),
        ("title", None),
        ("title", ["Больше деревьев"]),
        ("title", {"ru": "Больше деревьев"}),
        ("body", [BODY]),
        ("body", 10**30),
        ("themes", "ecology"),
        ("themes", 5),
        ("section", "first"),
        ("section", True),
        ("section", [1]),
        ("section", {"id": 1}),
        ("district", ["medeu"]),
        ("strategy", {"slug": "almaty-test"}),
    ],
    ids=lambda value: repr(value)[:20],
)
def test_submit_wrong_json_types(author_client, valid, field, value):
    before = _counts()

    response = author_client.post(URL, {**valid, field: value}, format="json")

    _assert_refused(response, field, before)


def _wrong_type_target(kind, client, strategy, resident, valid):
    """(send, field): a request to one write endpoint with a value of the wrong JSON type.

    The rows it needs are created first, so the caller counts rows between the two.
    """
    section = SectionFactory(strategy=strategy, code="1")
    if kind == "submit-section":
        return lambda: client.post(URL, {**valid, "section": str(section.pk)}, format="json"), (
            "section"
        )
    if kind == "submit-section-float":
        # 1.5 is truncated to the id 1.
        payload = {**valid, "section": section.pk + 0.5}
        return lambda: client.post(URL, payload, format="json"), "section"
    if kind == "edit-section":
        proposal = _proposal(strategy, resident, S.CHANGES_REQUESTED)
        return lambda: client.patch(
            f"{URL}{proposal.pk}/", {"section": str(section.pk)}, format="json"
        ), "section"
    if kind == "duplicate_of":
        original = ProposalFactory(strategy=strategy, author=resident)
        proposal = _proposal(strategy, resident, S.PENDING)
        payload = {"decision": "reject", "reason": "duplicate", "duplicate_of": str(original.pk)}
        return lambda: _moderate(client, proposal, payload), "duplicate_of"
    if kind == "submit-themes":
        return lambda: client.post(URL, {**valid, "themes": {"ecology": True}}, format="json"), (
            "themes"
        )
    if kind == "edit-themes":
        proposal = _proposal(strategy, resident, S.CHANGES_REQUESTED)
        return lambda: client.patch(
            f"{URL}{proposal.pk}/", {"themes": {"ecology": 1}}, format="json"
        ), "themes"
    assert kind == "moderation-themes"
    proposal = _proposal(strategy, resident, S.PENDING)
    return lambda: _moderate(client, proposal, {"decision": "approve", "themes": {"ecology": 1}}), (
        "themes"
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "kind", ["submit-section", "submit-section-float", "edit-section", "duplicate_of"]
)
def test_id_as_numeric_string_is_a_type_error(strategy, resident, moderator, valid, kind):
    client = client_for(moderator if kind == "duplicate_of" else resident)
    send, field = _wrong_type_target(kind, client, strategy, resident, valid)
    before = _counts()

    _assert_refused(send(), field, before)


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["submit-themes", "edit-themes", "moderation-themes"])
def test_themes_as_object_is_a_type_error(strategy, resident, moderator, valid, kind):
    client = client_for(moderator if kind == "moderation-themes" else resident)
    send, field = _wrong_type_target(kind, client, strategy, resident, valid)
    before = _counts()

    _assert_refused(send(), field, before)


def _deep(depth: int = 5000) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "url", "raw"),
    [
        ("post", URL, _deep()),
        ("post", URL, '{"strategy": "almaty-test", "title": ' + _deep() + "}"),
        ("patch", "{changes_requested}", _deep()),
        ("post", "{pending}moderation/", _deep()),
        ("put", "{published}reaction/", _deep()),
        ("post", "/api/v1/auth/register/", _deep()),
        ("post", "/api/v1/auth/token/", _deep()),
        ("post", "/api/v1/auth/verify-email/", _deep()),
    ],
    ids=["submit", "submit-field", "edit", "moderation", "reaction", "register", "token", "verify"],
)
def test_deeply_nested_json_is_400_not_500(strategy, resident, moderator, method, url, raw):
    proposals = {
        status: f"{URL}{_proposal(strategy, resident, status).pk}/"
        for status in (S.PENDING, S.PUBLISHED, S.CHANGES_REQUESTED)
    }
    client = client_for(moderator if "moderation" in url else resident)
    client.raise_request_exception = False
    before = _counts()

    response = client.generic(
        method.upper(), url.format(**proposals), raw, content_type="application/json"
    )

    assert response.status_code == 400
    assert _counts() == before


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["submit", "edit", "moderation"])
def test_id_overflowing_to_infinity_is_400_not_500(strategy, resident, moderator, kind):
    proposal = _proposal(strategy, resident, S.CHANGES_REQUESTED if kind == "edit" else S.PENDING)
    before = _counts()
    if kind == "submit":
        method, url, field = "POST", URL, "section"
        raw = '{"strategy": "almaty-test", "title": "Hello world", "body": "%s", "section": 1e400}'
        raw %= "a" * 30
    elif kind == "edit":
        method, url, field = "PATCH", f"{URL}{proposal.pk}/", "section"
        raw = '{"section": -1e400}'
    else:
        method, url, field = "POST", f"{URL}{proposal.pk}/moderation/", "duplicate_of"
        raw = '{"decision": "reject", "reason": "duplicate", "duplicate_of": 1e400}'
    client = client_for(moderator if kind == "moderation" else resident)
    client.raise_request_exception = False

    response = client.generic(method, url, raw, content_type="application/json")

    _assert_refused(response, field, before)


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["title", "body"])
def test_lone_surrogate_in_text_is_refused(author_client, valid, field):
    before = _counts()
    # json.dumps writes the surrogate as an escape, so the body itself is valid JSON.
    raw = json.dumps({**valid, field: valid[field] + "\ud800tail"})
    assert raw.isascii()

    response = author_client.generic("POST", URL, raw, content_type="application/json")

    _assert_refused(response, field, before)


@pytest.mark.django_db
@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_non_standard_json_constants_are_refused(author_client, valid, constant):
    before = _counts()
    raw = json.dumps(valid)[:-1] + f', "section": {constant}}}'

    response = author_client.generic("POST", URL, raw, content_type="application/json")

    assert response.status_code == 400, response.content
    assert _counts() == before


@pytest.mark.django_db
@pytest.mark.parametrize("payload", [[], [{"title": "x"}], "a string", 42, None])
def test_submit_whole_body_not_an_object(author_client, payload):
    before = _counts()

    response = author_client.post(URL, json.dumps(payload), content_type="application/json")

    assert response.status_code == 400, response.content
    assert list(response.json()) == ["non_field_errors"]
    assert _counts() == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    "raw",
    [b"{not json", b'{"title": "abc",}', b"\xff\xfe\x00garbage", b"{'single': 'quotes'}", b""],
    ids=["broken", "trailing-comma", "not-utf8", "single-quotes", "empty"],
)
def test_submit_body_that_is_not_json(author_client, raw):
    before = _counts()

    response = author_client.generic("POST", URL, raw, content_type="application/json")

    assert response.status_code == 400, response.content
    if raw:
        assert list(response.json()) == ["detail"]
    else:
        # An empty body is an empty object: every required field is named.
        assert set(response.json()) == {"strategy", "title", "body"}
    assert _counts() == before


@pytest.mark.django_db
def test_submit_body_over_one_mib_is_413(author_client, valid):
    before = _counts()
    payload = json.dumps({**valid, "body": "б" * (600 * 1024)}).encode()
    assert len(payload) > 1024 * 1024

    response = author_client.generic("POST", URL, payload, content_type="application/json")

    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"
    assert _counts() == before


@pytest.mark.django_db
def test_submit_body_just_under_one_mib_is_read_and_judged(author_client, valid):
    before = _counts()
    payload = json.dumps({**valid, "body": "b" * (1024 * 1024 - 200)}).encode()
    assert len(payload) <= 1024 * 1024

    response = author_client.generic("POST", URL, payload, content_type="application/json")

    _assert_refused(response, "body", before)


# --- submitting: who ------------------------------------------------------------------------


@pytest.mark.django_db
def test_unverified_resident_may_not_submit(strategy, valid):
    unverified = UserFactory(email_verified=False)
    before = _counts()

    response = client_for(unverified).post(URL, valid, format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "email_not_verified"
    assert _counts() == before


@pytest.mark.django_db
def test_unverified_resident_may_submit_when_verification_is_off(strategy, valid, settings):
    settings.CIVIC_EMAIL_VERIFICATION = False
    unverified = UserFactory(email_verified=False)

    response = client_for(unverified).post(URL, valid, format="json")

    assert response.status_code == 201, response.content
    assert Proposal.objects.get(pk=response.json()["id"]).author == unverified


@pytest.mark.django_db
def test_unverified_resident_may_not_react(strategy, resident):
    proposal = ProposalFactory(strategy=strategy, author=resident)
    unverified = UserFactory(email_verified=False)
    before = _counts()

    response = client_for(unverified).put(
        f"{URL}{proposal.pk}/reaction/", {"kind": "like"}, format="json"
    )

    assert response.status_code == 403
    assert response.json()["code"] == "email_not_verified"
    assert _counts() == before


# --- moderation input -----------------------------------------------------------------------


@pytest.fixture
def pending(strategy, resident):
    return ProposalFactory(strategy=strategy, author=resident, status=S.PENDING)


@pytest.fixture
def moderator_client(moderator):
    return client_for(moderator)


def _moderate(client, proposal, payload):
    return client.post(f"{URL}{proposal.pk}/moderation/", payload, format="json")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"decision": "reject"}, "reason"),
        ({"decision": "reject", "reason": ""}, "reason"),
        ({"decision": "reject", "reason": "rude"}, "reason"),
        ({"decision": "reject", "reason": 1}, "reason"),
        ({"decision": "reject", "reason": "duplicate"}, "duplicate_of"),
        ({"decision": "reject", "reason": "duplicate", "duplicate_of": None}, "duplicate_of"),
        ({"decision": "reject", "reason": "duplicate", "duplicate_of": 999_999}, "duplicate_of"),
        ({"decision": "reject", "reason": "duplicate", "duplicate_of": "x"}, "duplicate_of"),
        ({"decision": "request_changes"}, "note"),
        ({"decision": "request_changes", "note": ""}, "note"),
        ({"decision": "request_changes", "note": "   \n "}, "note"),
        ({"decision": "request_changes", "note": 7}, "note"),
        ({"decision": "publish"}, "decision"),
        ({"decision": ""}, "decision"),
        ({"decision": ["approve"]}, "decision"),
        ({}, "decision"),
        ({"decision": "approve", "themes": ["no-such-theme"]}, "themes"),
        ({"decision": "approve", "themes": "ecology"}, "themes"),
        ({"decision": "approve", "expected_status": "limbo"}, "expected_status"),
    ],
    ids=lambda value: (
        json.dumps(value, ensure_ascii=False)[:60] if isinstance(value, dict) else value
    ),
)
def test_moderation_input_rules(moderator_client, pending, payload, field):
    before, state = _counts(), _state(pending)

    response = _moderate(moderator_client, pending, payload)

    _assert_refused(response, field, before)
    assert _state(pending) == state


@pytest.mark.django_db
def test_duplicate_of_another_strategy(moderator_client, pending, other_strategy, resident):
    elsewhere = ProposalFactory(strategy=other_strategy, author=resident)
    before, state = _counts(), _state(pending)

    response = _moderate(
        moderator_client,
        pending,
        {"decision": "reject", "reason": "duplicate", "duplicate_of": elsewhere.pk},
    )

    _assert_refused(response, "duplicate_of", before)
    assert _state(pending) == state


@pytest.mark.django_db
def test_duplicate_of_itself(moderator_client, pending):
    before, state = _counts(), _state(pending)

    response = _moderate(
        moderator_client,
        pending,
        {"decision": "reject", "reason": "duplicate", "duplicate_of": pending.pk},
    )

    _assert_refused(response, "duplicate_of", before)
    assert _state(pending) == state


@pytest.mark.django_db
def test_duplicate_of_a_proposal_of_the_same_strategy(moderator_client, pending, strategy):
    original = ProposalFactory(strategy=strategy)

    response = _moderate(
        moderator_client,
        pending,
        {"decision": "reject", "reason": "duplicate", "duplicate_of": original.pk},
    )

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "rejected"
    assert response.json()["moderation"]["reason"] == "duplicate"
    pending.refresh_from_db()
    assert pending.duplicate_of == original
    assert pending.status == S.REJECTED


@pytest.mark.django_db
@pytest.mark.parametrize("reason", [r.value for r in ProposalEvent.Reason if r != "duplicate"])
def test_every_listed_reason_rejects(moderator_client, pending, reason):
    response = _moderate(moderator_client, pending, {"decision": "reject", "reason": reason})

    assert response.status_code == 200, response.content
    assert response.json()["moderation"]["reason"] == reason
    pending.refresh_from_db()
    assert pending.status == S.REJECTED
    assert pending.latest_decision.reason == reason


@pytest.mark.django_db
def test_moderation_themes_replace_the_proposals_themes(moderator_client, strategy, resident):
    from strategy.models import Theme

    proposal = ProposalFactory(
        strategy=strategy,
        author=resident,
        status=S.PENDING,
        themes=list(Theme.objects.filter(slug__in=["ecology", "housing_utilities"])),
    )

    response = _moderate(
        moderator_client, proposal, {"decision": "approve", "themes": ["transport", "safety"]}
    )

    assert response.status_code == 200, response.content
    assert response.json()["themes"] == ["safety", "transport"]
    assert sorted(proposal.themes.values_list("slug", flat=True)) == ["safety", "transport"]


# --- reactions input ------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "payload",
    [{"kind": "love"}, {"kind": ""}, {"kind": 1}, {"kind": None}, {"kind": ["like"]}, {}],
    ids=str,
)
def test_reaction_with_an_unknown_kind(strategy, resident, other_resident, payload):
    proposal = ProposalFactory(strategy=strategy, author=resident)
    reaction_add(proposal=proposal, user=other_resident, kind="funny")
    before = _counts()

    response = client_for(other_resident).put(
        f"{URL}{proposal.pk}/reaction/", payload, format="json"
    )

    _assert_refused(response, "kind", before)
    assert Reaction.objects.get(proposal=proposal, user=other_resident).kind == "funny"


@pytest.mark.django_db
def test_second_reaction_replaces_the_first(strategy, resident, other_resident):
    proposal = ProposalFactory(strategy=strategy, author=resident)
    client = client_for(other_resident)

    for kind in ("like", "outrage"):
        response = client.put(f"{URL}{proposal.pk}/reaction/", {"kind": kind}, format="json")
        assert response.status_code == 200

    assert response.json() == {
        "kind": "outrage",
        "reactions": {"like": 0, "indifferent": 0, "funny": 0, "sympathy": 0, "outrage": 1},
    }
    assert list(Reaction.objects.values_list("user_id", "kind")) == [(other_resident.pk, "outrage")]
    assert client.delete(f"{URL}{proposal.pk}/reaction/").status_code == 204
    assert not Reaction.objects.exists()


# --- list filters ---------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"strategy": "no-such-strategy"}, "strategy"),
        ({"strategy": "draft-plan"}, "strategy"),
        ({"section": "999999"}, "section"),
        ({"section": "first"}, "section"),
        ({"theme": "no-such-theme"}, "theme"),
        ({"theme": ["ecology", "no-such-theme"]}, "theme"),
        ({"district": "no-such-district"}, "district"),
        ({"language": "de"}, "language"),
        ({"status": "lost"}, "status"),
        ({"created_after": "2024-13-40"}, "created_after"),
        ({"created_after": "yesterday"}, "created_after"),
        ({"created_before": "2024-02-30"}, "created_before"),
        ({"ordering": "title"}, "ordering"),
        ({"ordering": "reactions"}, "ordering"),
        ({"ordering": "-author__email"}, "ordering"),
    ],
    ids=lambda value: (
        "&".join(f"{k}={v}" for k, v in value.items()) if isinstance(value, dict) else value
    ),
)
@pytest.mark.parametrize("viewer", ["anonymous", "moderator"])
def test_unknown_filter_value_is_400_naming_the_filter(
    strategy, resident, moderator, params, field, viewer
):
    StrategyFactory(slug="draft-plan", code_prefix="DRF", status=Strategy.Status.DRAFT)
    ProposalFactory(strategy=strategy, author=resident)
    client = client_for(moderator if viewer == "moderator" else None)

    response = client.get(URL, params)

    assert response.status_code == 400, response.content
    assert field in response.json()
    assert isinstance(response.json()[field], list)
    assert "results" not in response.json()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "value"), [("ru", "01.02.2024"), ("en", "01/02/2024"), ("ru", "1.2.24")]
)
@pytest.mark.parametrize("name", ["created_after", "created_before"])
def test_filter_dates_must_be_iso(api, strategy, language, value, name):
    response = api.get(URL, {name: value}, HTTP_ACCEPT_LANGUAGE=language)

    assert response.status_code == 400, response.content
    assert name in response.json()


@pytest.mark.django_db
def test_several_bad_filters_are_all_named(api, strategy):
    response = api.get(URL, {"theme": "nope", "language": "de", "ordering": "title"})

    assert response.status_code == 400
    assert {"theme", "language", "ordering"} <= set(response.json())


@pytest.fixture
def catalogue(strategy, other_strategy, resident, other_resident):
    """Published proposals spread over sections, themes, districts, languages and days."""
    from strategy.models import District, Theme

    theme = {slug: Theme.objects.get(slug=slug) for slug in ("ecology", "transport", "safety")}
    medeu, auezov = District.objects.get(slug="medeu"), District.objects.get(slug="auezov")
    chapter = SectionFactory(strategy=strategy, code="1", position=0)
    goal = SectionFactory(strategy=strategy, code="1.2", position=1, parent=chapter)
    lookalike = SectionFactory(strategy=strategy, code="10", position=2)
    now = timezone.now()
    rows = {
        "old-eco": ProposalFactory(
            strategy=strategy,
            author=resident,
            section=chapter,
            district=medeu,
            themes=[theme["ecology"]],
            created_at=now - timedelta(days=10),
            title="Зелёный пояс",
        ),
        "goal-transport": ProposalFactory(
            strategy=strategy,
            author=other_resident,
            section=goal,
            district=auezov,
            themes=[theme["transport"], theme["ecology"]],
            language="kk",
            created_at=now - timedelta(days=5),
            title="Веложолдар",
        ),
        "ten-safety": ProposalFactory(
            strategy=strategy,
            author=resident,
            section=lookalike,
            themes=[theme["safety"]],
            language="en",
            created_at=now - timedelta(days=1),
            title="Street lights",
        ),
        "elsewhere": ProposalFactory(strategy=other_strategy, author=resident, title="Чужая"),
        "hidden": ProposalFactory(
            strategy=strategy, author=resident, status=S.PENDING, title="Ожидает"
        ),
    }
    reaction_add(proposal=rows["ten-safety"], user=other_resident, kind="like")
    reaction_add(proposal=rows["ten-safety"], user=resident, kind="funny")
    reaction_add(proposal=rows["old-eco"], user=other_resident, kind="like")
    return rows, {"chapter": chapter, "goal": goal, "lookalike": lookalike}


@pytest.mark.django_db
def test_valid_filters_select_the_expected_rows(api, catalogue):
    rows, sections = catalogue
    today = timezone.localdate()

    def titles(params: dict) -> list[str]:
        response = api.get(URL, params)
        assert response.status_code == 200, response.content
        return [row["title"] for row in response.json()["results"]]

    everything = ["Street lights", "Веложолдар", "Зелёный пояс"]
    assert sorted(titles({"strategy": "almaty-test"})) == sorted(everything)
    assert sorted(titles({"section": sections["chapter"].pk})) == ["Веложолдар", "Зелёный пояс"]
    assert titles({"section": sections["goal"].pk}) == ["Веложолдар"]
    assert sorted(titles({"theme": ["ecology", "safety"], "strategy": "almaty-test"})) == sorted(
        everything
    )
    assert titles({"theme": "transport"}) == ["Веложолдар"]
    assert titles({"district": "medeu"}) == ["Зелёный пояс"]
    assert titles({"language": "en"}) == ["Street lights"]
    after = (today - timedelta(days=6)).isoformat()
    assert titles({"created_after": after, "strategy": "almaty-test"}) == [
        "Street lights",
        "Веложолдар",
    ]
    before = (today - timedelta(days=6)).isoformat()
    assert titles({"created_before": before}) == ["Зелёный пояс"]
    assert titles({"q": "ПОЯС"}) == ["Зелёный пояс"]
    assert titles({"ordering": "created_at", "strategy": "almaty-test"}) == [
        "Зелёный пояс",
        "Веложолдар",
        "Street lights",
    ]
    assert titles({"ordering": "-reactions", "strategy": "almaty-test"})[:2] == [
        "Street lights",
        "Зелёный пояс",
    ]


@pytest.mark.django_db
def test_page_size_is_capped_at_100(api, strategy, resident):
    ProposalFactory.create_batch(101, strategy=strategy, author=resident)

    capped = api.get(URL, {"page_size": 500})
    exact = api.get(URL, {"page_size": 100})
    small = api.get(URL, {"page_size": 7})

    assert capped.status_code == 200
    assert capped.json()["count"] == 101
    assert len(capped.json()["results"]) == 100
    assert capped.json()["next"] is not None
    assert len(exact.json()["results"]) == 100
    assert len(small.json()["results"]) == 7
    last = api.get(URL, {"page_size": 500, "page": 2})
    assert len(last.json()["results"]) == 1


# --- the state machine ----------------------------------------------------------------------


def _proposal(strategy, author, status: str) -> Proposal:
    return ProposalFactory(strategy=strategy, author=author, status=status)


ALLOWED_DECISIONS = [
    (S.PENDING, {"decision": "approve"}, S.PUBLISHED),
    (S.PENDING, {"decision": "reject", "reason": "spam"}, S.REJECTED),
    (S.PENDING, {"decision": "request_changes", "note": "Добавьте адрес."}, S.CHANGES_REQUESTED),
    (S.PUBLISHED, {"decision": "reject", "reason": "offensive"}, S.REJECTED),
]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("from_status", "payload", "to_status"),
    ALLOWED_DECISIONS,
    ids=[f"{f}-{p['decision']}" for f, p, _ in ALLOWED_DECISIONS],
)
def test_allowed_decisions(
    moderator_client, moderator, strategy, resident, from_status, payload, to_status
):
    proposal = _proposal(strategy, resident, from_status)
    published_at = proposal.published_at

    response = _moderate(moderator_client, proposal, payload)

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == to_status
    assert body["moderation"]["decision"] == payload["decision"]
    assert body["moderation"]["reason"] == payload.get("reason", "")
    assert body["moderation"]["note"] == payload.get("note", "")
    proposal.refresh_from_db()
    assert proposal.status == to_status
    event = proposal.latest_decision
    assert (event.action, event.from_status, event.to_status, event.actor) == (
        payload["decision"],
        from_status,
        to_status,
        moderator,
    )
    if to_status == S.PUBLISHED:
        assert proposal.published_at is not None
        assert body["published_at"] is not None
    elif from_status == S.PUBLISHED:
        assert proposal.published_at == published_at


FORBIDDEN_DECISIONS = [
    (status, payload)
    for payload in (
        {"decision": "approve"},
        {"decision": "reject", "reason": "spam"},
        {"decision": "request_changes", "note": "Уточните."},
    )
    for status in S.values
    if not any(
        f == status and p["decision"] == payload["decision"] for f, p, _ in ALLOWED_DECISIONS
    )
]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("from_status", "payload"),
    FORBIDDEN_DECISIONS,
    ids=[f"{s}-{p['decision']}" for s, p in FORBIDDEN_DECISIONS],
)
def test_forbidden_decisions_are_409(moderator_client, strategy, resident, from_status, payload):
    proposal = _proposal(strategy, resident, from_status)
    before, state = _counts(), _state(proposal)

    response = _moderate(moderator_client, proposal, {**payload, "themes": ["ecology"]})

    assert response.status_code == 409, response.content
    assert response.json()["code"] == "invalid_transition"
    assert _counts() == before
    assert _state(proposal) == state


def test_forbidden_decision_table_is_complete():
    # approve: 4 statuses refuse; reject: 3; request_changes: 4.
    assert len(FORBIDDEN_DECISIONS) == 11


@pytest.mark.django_db
@pytest.mark.parametrize("from_status", [S.PENDING, S.CHANGES_REQUESTED])
def test_author_withdraws(author_client, strategy, resident, from_status):
    proposal = _proposal(strategy, resident, from_status)

    response = author_client.post(f"{URL}{proposal.pk}/withdraw/")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "withdrawn"
    proposal.refresh_from_db()
    assert proposal.status == S.WITHDRAWN
    event = proposal.events.get()
    assert (event.action, event.from_status, event.to_status, event.actor) == (
        "withdraw",
        from_status,
        "withdrawn",
        resident,
    )


@pytest.mark.django_db
@pytest.mark.parametrize("from_status", [S.PUBLISHED, S.REJECTED, S.WITHDRAWN])
def test_withdraw_forbidden(author_client, strategy, resident, from_status):
    proposal = _proposal(strategy, resident, from_status)
    before, state = _counts(), _state(proposal)

    response = author_client.post(f"{URL}{proposal.pk}/withdraw/")

    assert response.status_code == 409, response.content
    assert response.json()["code"] == "invalid_transition"
    assert _counts() == before
    assert _state(proposal) == state


@pytest.mark.django_db
def test_author_edit_sends_changes_requested_back_to_pending(author_client, strategy, resident):
    section = SectionFactory(strategy=strategy, code="1")
    proposal = _proposal(strategy, resident, S.CHANGES_REQUESTED)
    untouched_body = proposal.body

    response = author_client.patch(
        f"{URL}{proposal.pk}/",
        {
            "title": "  Уточнённое предложение  ",
            "section": section.pk,
            "district": "turksib",
            "themes": ["safety"],
        },
        format="json",
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "pending"
    assert body["title"] == "Уточнённое предложение"
    assert (body["section"], body["district"], body["themes"]) == (
        section.pk,
        "turksib",
        ["safety"],
    )
    proposal.refresh_from_db()
    assert proposal.status == S.PENDING
    assert proposal.title == "Уточнённое предложение"
    assert proposal.body == untouched_body
    event = proposal.events.get()
    assert (event.action, event.from_status, event.to_status) == (
        "edit",
        "changes_requested",
        "pending",
    )


@pytest.mark.django_db
@pytest.mark.parametrize("from_status", [S.PENDING, S.PUBLISHED, S.REJECTED, S.WITHDRAWN])
def test_edit_forbidden_outside_changes_requested(author_client, strategy, resident, from_status):
    proposal = _proposal(strategy, resident, from_status)
    before, state = _counts(), _state(proposal)

    response = author_client.patch(
        f"{URL}{proposal.pk}/", {"title": "Новый заголовок"}, format="json"
    )

    assert response.status_code == 409, response.content
    assert response.json()["code"] == "invalid_transition"
    assert _counts() == before
    assert _state(proposal) == state


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"title": "abc"}, "title"),
        ({"title": 5}, "title"),
        ({"body": "короткий"}, "body"),
        ({"body": BODY + "\x00"}, "body"),
        ({"title": "Заголовок\x1bс escape"}, "title"),
        ({"section": "__other__"}, "section"),
        ({"section": 999_999}, "section"),
        ({"themes": ["no-such-theme"]}, "themes"),
        ({"district": "no-such-district"}, "district"),
    ],
    ids=lambda value: (
        json.dumps(value, ensure_ascii=False)[:40] if isinstance(value, dict) else value
    ),
)
def test_edit_input_rules(author_client, strategy, other_strategy, resident, payload, field):
    proposal = _proposal(strategy, resident, S.CHANGES_REQUESTED)
    if payload.get("section") == "__other__":
        payload = {"section": SectionFactory(strategy=other_strategy, code="9").pk}
    before, state = _counts(), _state(proposal)

    response = author_client.patch(f"{URL}{proposal.pk}/", payload, format="json")

    _assert_refused(response, field, before)
    assert _state(proposal) == state


@pytest.mark.django_db
def test_expected_status_mismatch_is_status_changed(moderator_client, strategy, resident):
    proposal = _proposal(strategy, resident, S.PUBLISHED)
    before, state = _counts(), _state(proposal)

    response = _moderate(
        moderator_client,
        proposal,
        {"decision": "reject", "reason": "spam", "expected_status": "pending"},
    )

    assert response.status_code == 409, response.content
    assert response.json()["code"] == "status_changed"
    assert _counts() == before
    assert _state(proposal) == state


@pytest.mark.django_db
def test_expected_status_match_lets_the_decision_through(moderator_client, strategy, resident):
    proposal = _proposal(strategy, resident, S.PUBLISHED)

    response = _moderate(
        moderator_client,
        proposal,
        {"decision": "reject", "reason": "spam", "expected_status": "published"},
    )

    assert response.status_code == 200, response.content
    proposal.refresh_from_db()
    assert proposal.status == S.REJECTED


@pytest.mark.django_db
def test_second_moderator_deciding_on_a_stale_view_gets_409(
    strategy, resident, moderator, admin_user
):
    proposal = _proposal(strategy, resident, S.PENDING)
    first = _moderate(
        client_for(moderator), proposal, {"decision": "approve", "expected_status": "pending"}
    )
    assert first.status_code == 200
    state = _state(proposal)

    second = _moderate(
        client_for(admin_user),
        proposal,
        {"decision": "request_changes", "note": "Нет", "expected_status": "pending"},
    )

    assert second.status_code == 409
    assert second.json()["code"] == "status_changed"
    assert _state(proposal) == state


# --- history and email -----------------------------------------------------------------------


@pytest.mark.django_db
def test_full_life_through_the_api_leaves_an_ordered_history(
    strategy,
    resident,
    moderator,
    admin_user,
    analyst,
    author_client,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        created = author_client.post(
            URL, {"strategy": strategy.slug, "title": "Фонтаны", "body": BODY}, format="json"
        )
        assert created.status_code == 201
        pk = created.json()["id"]
        proposal = Proposal.objects.get(pk=pk)
        steps = [
            _moderate(
                client_for(moderator),
                proposal,
                {"decision": "request_changes", "note": "Где именно?"},
            ),
            author_client.patch(
                f"{URL}{pk}/", {"body": BODY + " У театра Ауэзова."}, format="json"
            ),
            _moderate(client_for(moderator), proposal, {"decision": "approve"}),
            _moderate(
                client_for(admin_user), proposal, {"decision": "reject", "reason": "off_topic"}
            ),
        ]
    assert [step.status_code for step in steps] == [200, 200, 200, 200]

    history = client_for(analyst).get(f"{URL}{pk}/history/")

    assert history.status_code == 200
    rows = history.json()
    assert [set(row) for row in rows] == [
        {"at", "actor", "action", "from_status", "to_status", "reason", "note"}
    ] * 5
    assert [
        (
            row["actor"],
            row["action"],
            row["from_status"],
            row["to_status"],
            row["reason"],
            row["note"],
        )
        for row in rows
    ] == [
        ("Айгерим", "submit", "", "pending", "", ""),
        ("Модератор", "request_changes", "pending", "changes_requested", "", "Где именно?"),
        ("Айгерим", "edit", "changes_requested", "pending", "", ""),
        ("Модератор", "approve", "pending", "published", "", ""),
        ("Админ", "reject", "published", "rejected", "off_topic", ""),
    ]
    stamps = [row["at"] for row in rows]
    assert stamps == sorted(stamps)
    # One email per decision, none for the submission or the edit.
    assert [mail.to for mail in mailoutbox] == [[resident.email]] * 3
    decisions = ProposalEvent.objects.filter(proposal_id=pk, action__in=ProposalEvent.DECISIONS)
    assert decisions.count() == 3
    assert not decisions.filter(notified_at__isnull=True).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "subject", "words"),
    [
        ("ru", "Решение по вашему предложению {code}", ["отклонено", "спам"]),
        ("kk", "{code} ұсынысыңыз бойынша шешім", ["қабылданбады", "спам"]),
        ("en", "A decision on your proposal {code}", ["rejected", "spam"]),
    ],
)
def test_decision_email_follows_the_authors_language(
    strategy,
    moderator_client,
    mailoutbox,
    django_capture_on_commit_callbacks,
    language,
    subject,
    words,
):
    author = UserFactory(language=language, email=f"author-{language}@example.org")
    # The proposal is written in Russian: the email's language is the author's, not the text's.
    proposal = _proposal(strategy, author, S.PENDING)

    with django_capture_on_commit_callbacks(execute=True):
        response = _moderate(moderator_client, proposal, {"decision": "reject", "reason": "spam"})

    assert response.status_code == 200
    [mail] = mailoutbox
    assert mail.to == [author.email]
    assert mail.subject == subject.format(code=proposal.code)
    for word in words:
        assert word in mail.body
    assert proposal.title in mail.body
    assert ProposalEvent.objects.get(proposal=proposal, action="reject").notified_at is not None


@pytest.mark.django_db
def test_request_changes_email_carries_the_note(
    strategy, resident, moderator_client, mailoutbox, django_capture_on_commit_callbacks
):
    proposal = _proposal(strategy, resident, S.PENDING)

    with django_capture_on_commit_callbacks(execute=True):
        _moderate(
            moderator_client, proposal, {"decision": "request_changes", "note": "Укажите район."}
        )

    [mail] = mailoutbox
    assert mail.to == [resident.email]
    assert "Укажите район." in mail.body


@pytest.mark.django_db
def test_refused_decision_sends_no_email(
    strategy, resident, moderator_client, mailoutbox, django_capture_on_commit_callbacks
):
    proposal = _proposal(strategy, resident, S.WITHDRAWN)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = _moderate(moderator_client, proposal, {"decision": "approve"})

    assert response.status_code == 409
    assert callbacks == []
    assert mailoutbox == []
