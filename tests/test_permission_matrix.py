"""One table of who may do what to a proposal in each state, held against the API and the
pages alike (issue 14).

Every cell is asked twice, through the API (its status code, or the field it returns) and
through the pages (their status code, the section they show, the message they give), and
both answers must be the cell's. The rules behind both are proposals/rules.py.

Verdicts, one letter per role in ROLES order:
  Y  allowed / shown         API 2xx or the field is there; the page acts or shows it
  N  not shown               the proposal is readable, the part of it is not there
  L  sign in first           API 401; the page sends to the sign-in page
  D  refused                 API 403; the page 403
  G  not found               API 404; the page 404
  C  not in this state       API 409; the page says why and changes nothing
  B  cannot be named         API 400; the page 400 (a body field names what one may not see)
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages import get_messages
from django.db import transaction
from django.db.models import Q

from civic.accounts.models import User
from civic.accounts.rules import allows
from civic.accounts.services import role_grant
from proposals.answers.services import answer_save
from proposals.models import Follow, Proposal
from proposals.rules import visible_filter
from proposals.selectors import proposal_get_visible
from proposals.services import proposal_moderate, proposal_submit, proposal_withdraw
from tests.conftest import client_for, page_client_for
from tests.factories import StrategyFactory, UserFactory

pytestmark = pytest.mark.django_db

ROLES = (
    "anonymous",
    "unverified",
    "resident",
    "author",
    "moderator",
    "analyst",
    "responder",
    "admin",
)
STATES = (
    "pending",
    "changes_requested",
    "published",  # with a draft answer, not yet public
    "rejected_public",  # off topic: the public sees it and why
    "rejected_private",  # spam: hidden from the public
    "withdrawn",  # by the author, after being asked for changes
)

# fmt: off
EXPECTED: dict[str, dict[str, str]] = {
    #                             an un re au mo an rs ad
    "view": {
        "pending":               "G  G  G  Y  Y  Y  G  Y",
        "changes_requested":     "G  G  G  Y  Y  Y  G  Y",
        "published":             "Y  Y  Y  Y  Y  Y  Y  Y",
        "rejected_public":       "Y  Y  Y  Y  Y  Y  Y  Y",
        "rejected_private":      "G  G  G  Y  Y  Y  G  Y",
        "withdrawn":             "G  G  G  Y  Y  Y  G  Y",
    },
    # The moderator's latest decision with its note (a pending proposal has none yet).
    "see_decision": {
        "pending":               "G  G  G  N  N  N  G  N",
        "changes_requested":     "G  G  G  Y  Y  Y  G  Y",
        "published":             "N  N  N  Y  Y  Y  N  Y",
        "rejected_public":       "N  N  N  Y  Y  Y  N  Y",
        "rejected_private":      "G  G  G  Y  Y  Y  G  Y",
        "withdrawn":             "G  G  G  Y  Y  Y  G  Y",
    },
    # Why it was rejected.
    "see_rejection": {
        "pending":               "G  G  G  N  N  N  G  N",
        "changes_requested":     "G  G  G  N  N  N  G  N",
        "published":             "N  N  N  N  N  N  N  N",
        "rejected_public":       "Y  Y  Y  Y  Y  Y  Y  Y",
        "rejected_private":      "G  G  G  Y  Y  Y  G  Y",
        "withdrawn":             "G  G  G  N  N  N  G  N",
    },
    # The city's answer while it is a draft (only the published proposal has one).
    "see_draft_answer": {
        "pending":               "G  G  G  N  N  N  G  N",
        "changes_requested":     "G  G  G  N  N  N  G  N",
        "published":             "N  N  N  N  Y  Y  Y  Y",
        "rejected_public":       "N  N  N  N  N  N  N  N",
        "rejected_private":      "G  G  G  N  N  N  G  N",
        "withdrawn":             "G  G  G  N  N  N  G  N",
    },
    "edit": {
        "pending":               "L  G  G  C  D  D  G  D",
        "changes_requested":     "L  G  G  Y  D  D  G  D",
        "published":             "L  D  D  C  D  D  D  D",
        "rejected_public":       "L  D  D  C  D  D  D  D",
        "rejected_private":      "L  G  G  C  D  D  G  D",
        "withdrawn":             "L  G  G  C  D  D  G  D",
    },
    "withdraw": {
        "pending":               "L  G  G  Y  D  D  G  D",
        "changes_requested":     "L  G  G  Y  D  D  G  D",
        "published":             "L  D  D  C  D  D  D  D",
        "rejected_public":       "L  D  D  C  D  D  D  D",
        "rejected_private":      "L  G  G  C  D  D  G  D",
        "withdrawn":             "L  G  G  C  D  D  G  D",
    },
    "react": {
        "pending":               "L  D  G  C  C  C  G  C",
        "changes_requested":     "L  D  G  C  C  C  G  C",
        "published":             "L  D  Y  Y  Y  Y  Y  Y",
        "rejected_public":       "L  D  C  C  C  C  C  C",
        "rejected_private":      "L  D  G  C  C  C  G  C",
        "withdrawn":             "L  D  G  C  C  C  G  C",
    },
    # A rejection: the one decision a pending and a published proposal both take.
    "moderate": {
        "pending":               "L  D  D  D  Y  D  D  Y",
        "changes_requested":     "L  D  D  D  C  D  D  C",
        "published":             "L  D  D  D  Y  D  D  Y",
        "rejected_public":       "L  D  D  D  C  D  D  C",
        "rejected_private":      "L  D  D  D  C  D  D  C",
        "withdrawn":             "L  D  D  D  C  D  D  C",
    },
    # Whoever may answer learns that an unpublished proposal cannot be answered yet.
    "answer": {
        "pending":               "L  D  D  D  D  D  C  C",
        "changes_requested":     "L  D  D  D  D  D  C  C",
        "published":             "L  D  D  D  D  D  Y  Y",
        "rejected_public":       "L  D  D  D  D  D  C  C",
        "rejected_private":      "L  D  D  D  D  D  C  C",
        "withdrawn":             "L  D  D  D  D  D  C  C",
    },
    "see_history": {
        "pending":               "L  D  D  D  Y  Y  G  Y",
        "changes_requested":     "L  D  D  D  Y  Y  G  Y",
        "published":             "L  D  D  D  Y  Y  Y  Y",
        "rejected_public":       "L  D  D  D  Y  Y  Y  Y",
        "rejected_private":      "L  D  D  D  Y  Y  G  Y",
        "withdrawn":             "L  D  D  D  Y  Y  G  Y",
    },
    "see_near_duplicates": dict.fromkeys(STATES, "L  D  D  D  Y  Y  D  Y"),
    # Not about one proposal: one row, whatever its state.
    "order_report": {"pending":  "L  D  D  D  D  Y  D  Y"},
    # The moderators' queue of flagged comments: not about one proposal either.
    "review_comments": {"pending":  "L  D  D  D  Y  D  D  Y"},
    # Follow or stop following: whoever may open the proposal, verified or not. One it
    # may not open is named in the body, so it is a 400 rather than a 404.
    "follow": {
        "pending":               "L  B  B  Y  Y  Y  B  Y",
        "changes_requested":     "L  B  B  Y  Y  Y  B  Y",
        "published":             "L  Y  Y  Y  Y  Y  Y  Y",
        "rejected_public":       "L  Y  Y  Y  Y  Y  Y  Y",
        "rejected_private":      "L  B  B  Y  Y  Y  B  Y",
        "withdrawn":             "L  B  B  Y  Y  Y  B  Y",
    },
    "unfollow": {
        "pending":               "L  B  B  Y  Y  Y  B  Y",
        "changes_requested":     "L  B  B  Y  Y  Y  B  Y",
        "published":             "L  Y  Y  Y  Y  Y  Y  Y",
        "rejected_public":       "L  Y  Y  Y  Y  Y  Y  Y",
        "rejected_private":      "L  B  B  Y  Y  Y  B  Y",
        "withdrawn":             "L  B  B  Y  Y  Y  B  Y",
    },
    # One's own notifications and their settings, and marking them read: every account.
    "see_notifications": {"pending":  "L  Y  Y  Y  Y  Y  Y  Y"},
    "mark_notifications_read": {"pending":  "L  Y  Y  Y  Y  Y  Y  Y"},
}
# fmt: on


class _Undo(Exception):
    pass


@contextmanager
def _undone() -> Iterator[None]:
    """Whatever the API probe changed is rolled back before the page is asked the same."""
    try:
        with transaction.atomic():
            yield
            raise _Undo
    except _Undo:
        pass


@dataclass
class World:
    proposal: Proposal
    user: Any
    role: str


def _make_proposal(state: str, author: Any) -> Proposal:
    moderator = UserFactory()
    role_grant(user=moderator, role="moderator")
    strategy = StrategyFactory(slug="matrix", code_prefix="MTX")
    proposal = proposal_submit(
        author=author,
        strategy=strategy,
        title="Освещение во дворах Ауэзовского района",
        body="Во дворах по улице Жандосова нет фонарей; вечером там опасно ходить детям.",
    )
    decide = {
        "changes_requested": {"decision": "request_changes", "note": "Укажите номер дома."},
        "withdrawn": {"decision": "request_changes", "note": "Укажите номер дома."},
        "published": {"decision": "approve"},
        "rejected_public": {"decision": "reject", "reason": "off_topic", "note": "Не о стратегии."},
        "rejected_private": {"decision": "reject", "reason": "spam", "note": "Реклама."},
    }.get(state)
    if decide:
        proposal = proposal_moderate(proposal=proposal, moderator=moderator, **decide)
    if state == "withdrawn":
        proposal = proposal_withdraw(proposal=proposal, actor=author)
    if state == "published":
        admin = UserFactory()
        role_grant(user=admin, role="admin")
        answer_save(
            proposal=proposal, responder=admin, outcome="not_accepted", text="Нет.", publish=False
        )
    proposal.refresh_from_db()
    assert proposal.status == state.split("_public")[0].split("_private")[0]
    return proposal


def _make_user(role: str, author: Any) -> Any:
    if role == "anonymous":
        return None
    if role == "author":
        return author
    user = UserFactory(email_verified=role != "unverified")
    if role not in ("unverified", "resident"):
        role_grant(user=user, role=role)
    return user


# --- the API ------------------------------------------------------------------------------

_BY_STATUS = {
    200: "Y",
    201: "Y",
    202: "Y",
    204: "Y",
    400: "B",
    401: "L",
    403: "D",
    404: "G",
    409: "C",
}


def _api_detail_part(part: Callable[[dict], bool]) -> Callable[[Any, Proposal], str]:
    def probe(client: Any, proposal: Proposal) -> str:
        response = client.get(f"/api/v1/proposals/{proposal.pk}/")
        if response.status_code != 200:
            return _BY_STATUS[response.status_code]
        return "Y" if part(response.json()) else "N"

    return probe


def _api(method: str, path: str, body: dict | None = None) -> Callable[[Any, Proposal], str]:
    def probe(client: Any, proposal: Proposal) -> str:
        url = "/api/v1/" + path.format(id=proposal.pk)
        data = {
            key: value.format(slug=proposal.strategy.slug) if isinstance(value, str) else value
            for key, value in (body or {}).items()
        }
        response = getattr(client, method)(url, data, format="json")
        return _BY_STATUS.get(response.status_code, str(response.status_code))

    return probe


def _api_follow(method: str) -> Callable[[Any, Proposal], str]:
    def probe(client: Any, proposal: Proposal) -> str:
        response = getattr(client, method)(
            "/api/v1/follows/", {"proposal": proposal.pk}, format="json"
        )
        return _BY_STATUS.get(response.status_code, str(response.status_code))

    return probe


API: dict[str, Callable[[Any, Proposal], str]] = {
    "view": _api("get", "proposals/{id}/"),
    "see_decision": _api_detail_part(lambda data: bool(data.get("moderation"))),
    "see_rejection": _api_detail_part(lambda data: bool(data.get("rejection"))),
    "see_draft_answer": _api_detail_part(
        lambda data: bool(data.get("answer")) and data["answer"].get("published") is False
    ),
    "edit": _api("patch", "proposals/{id}/", {"title": "Освещение во дворах: дом 12"}),
    "withdraw": _api("post", "proposals/{id}/withdraw/"),
    "react": _api("put", "proposals/{id}/reaction/", {"kind": "like"}),
    "moderate": _api(
        "post", "proposals/{id}/moderation/", {"decision": "reject", "reason": "other"}
    ),
    "answer": _api("put", "proposals/{id}/answer/", {"outcome": "accepted"}),
    "see_history": _api("get", "proposals/{id}/history/"),
    "see_near_duplicates": _api("get", "proposals/{id}/near-duplicates/"),
    "order_report": _api("post", "reports/", {"strategy": "{slug}", "format": "csv"}),
    "review_comments": _api("get", "comments/flagged/"),
    "follow": _api_follow("put"),
    "unfollow": _api_follow("delete"),
    "see_notifications": _api("get", "notifications/"),
    "mark_notifications_read": _api("post", "notifications/read/", {"all": True}),
}


# --- the pages ----------------------------------------------------------------------------


def _gate(response: Any) -> str | None:
    """The verdict a page gave before doing anything, if it refused at the door."""
    if response.status_code == 302 and "/login/" in response.url:
        return "L"
    return {403: "D", 404: "G"}.get(response.status_code)


def _errors(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request) if m.level_tag == "error"]


def _detail(client: Any, proposal: Proposal) -> str | None:
    """The proposal's page, or None where it is a 404."""
    response = client.get(f"/en/proposals/{proposal.pk}/")
    return response.content.decode() if response.status_code == 200 else None


def _control(verdict: str, shown: bool | None) -> str:
    """The verdict, unless the control the page offers for it says otherwise."""
    if shown is None or shown == (verdict == "Y"):
        return verdict
    return f"{verdict}, but the page {'offers' if shown else 'lacks'} the control"


def _page_detail_part(marker: str) -> Callable[[Any, Proposal], str]:
    def probe(client: Any, proposal: Proposal) -> str:
        page = _detail(client, proposal)
        if page is None:
            return "G"
        return "Y" if marker in page else "N"

    return probe


def _page_view(client: Any, proposal: Proposal) -> str:
    return "G" if _detail(client, proposal) is None else "Y"


def _page_edit(client: Any, proposal: Proposal) -> str:
    response = client.get(f"/en/proposals/{proposal.pk}/edit/")
    if verdict := _gate(response):
        return verdict
    if response.status_code == 302 and response.url == "/en/me/proposals/" and _errors(response):
        verdict = "C"
    else:
        verdict = "Y" if response.status_code == 200 else str(response.status_code)
    mine = client.get("/en/me/proposals/").content.decode()
    return _control(verdict, f"/en/proposals/{proposal.pk}/edit/" in mine)


def _page_withdraw(client: Any, proposal: Proposal) -> str:
    # The control first: the post below changes what the list offers.
    mine = client.get("/en/me/proposals/")
    shown = None
    if mine.status_code == 200:
        shown = f"/en/proposals/{proposal.pk}/withdraw/" in mine.content.decode()
    response = client.post(f"/en/proposals/{proposal.pk}/withdraw/")
    if verdict := _gate(response):
        return verdict
    return _control("C" if _errors(response) else "Y", shown)


def _page_react(client: Any, proposal: Proposal) -> str:
    page = _detail(client, proposal)
    shown = None if page is None else 'name="kind" value="like"' in page
    response = client.post(f"/en/proposals/{proposal.pk}/reaction/", {"kind": "like"})
    if verdict := _gate(response):
        return verdict
    return _control("C" if _errors(response) else "Y", shown)


def _page_moderate(client: Any, proposal: Proposal) -> str:
    page = _detail(client, proposal)
    shown = None if page is None else f"/en/moderation/{proposal.pk}/" in page
    response = client.post(
        f"/en/moderation/{proposal.pk}/",
        {"decision": "reject", "reason": "other", "expected_status": proposal.status},
    )
    if verdict := _gate(response):
        return verdict
    # The form offers only the decisions the status allows: any other is refused (400).
    verdict = {302: "Y", 400: "C", 409: "C"}.get(response.status_code, str(response.status_code))
    return _control(verdict, shown)


def _page_answer(client: Any, proposal: Proposal) -> str:
    page = _detail(client, proposal)
    shown = None if page is None else f"/en/answers/{proposal.pk}/" in page
    response = client.get(f"/en/answers/{proposal.pk}/")
    if verdict := _gate(response):
        return verdict
    if response.status_code == 302 and _errors(response):
        verdict = "C"
    else:
        verdict = "Y" if response.status_code == 200 else str(response.status_code)
    return _control(verdict, shown)


def _page_listing(path: str) -> Callable[[Any, Proposal], str]:
    """A staff page about proposals in general: its door, then whether this one is seen."""

    def probe(client: Any, proposal: Proposal) -> str:
        response = client.get(path)
        if verdict := _gate(response):
            return verdict
        return "G" if _detail(client, proposal) is None else "Y"

    return probe


def _page_order_report(client: Any, proposal: Proposal) -> str:
    response = client.post(
        "/en/analysis/reports/order/", {"strategy": proposal.strategy.slug, "format": "csv"}
    )
    if verdict := _gate(response):
        return verdict
    return "C" if _errors(response) else "Y"


def _page_follow(following: bool) -> Callable[[Any, Proposal], str]:
    def probe(client: Any, proposal: Proposal) -> str:
        page = _detail(client, proposal)
        # The button is on published proposals only; following others is for the API.
        shown = None
        if following and page is not None and proposal.status == Proposal.Status.PUBLISHED:
            shown = f'name="proposal" value="{proposal.pk}"' in page
        response = client.post(
            "/en/follow/", {"proposal": proposal.pk, "following": "1" if following else "0"}
        )
        if verdict := _gate(response):
            return verdict
        if response.status_code == 400:
            return "B"
        done = Follow.objects.filter(
            user=response.wsgi_request.user, proposal=proposal, active=following
        ).exists()
        if response.status_code != 302 or _errors(response):
            return str(response.status_code)
        return _control("Y" if done else "Y, but nothing changed", shown)

    return probe


def _page_notifications(client: Any, proposal: Proposal) -> str:
    verdicts = set()
    for path in ("/en/me/notifications/", "/en/me/notifications/settings/"):
        response = client.get(path)
        verdicts.add(_gate(response) or ("Y" if response.status_code == 200 else "?"))
    return verdicts.pop() if len(verdicts) == 1 else str(sorted(verdicts))


def _page_mark_notifications_read(client: Any, proposal: Proposal) -> str:
    response = client.post("/en/me/notifications/read/")
    if verdict := _gate(response):
        return verdict
    return "Y" if response.status_code == 302 else str(response.status_code)


PAGES: dict[str, Callable[[Any, Proposal], str]] = {
    "view": _page_view,
    "see_decision": _page_detail_part('id="decision-title"'),
    "see_rejection": _page_detail_part('id="rejection-title"'),
    "see_draft_answer": _page_detail_part('id="draft-answer-title"'),
    "edit": _page_edit,
    "withdraw": _page_withdraw,
    "react": _page_react,
    "moderate": _page_moderate,
    "answer": _page_answer,
    "see_history": _page_listing("/en/moderation/history/"),
    "see_near_duplicates": _page_listing("/en/analysis/duplicates/"),
    "order_report": _page_order_report,
    "review_comments": _page_listing("/en/moderation/comments/"),
    "follow": _page_follow(following=True),
    "unfollow": _page_follow(following=False),
    "see_notifications": _page_notifications,
    "mark_notifications_read": _page_mark_notifications_read,
}

CASES = [
    pytest.param(action, state, role, verdict, id=f"{action}-{state}-{role}")
    for action, rows in EXPECTED.items()
    for state, row in rows.items()
    for role, verdict in zip(ROLES, row.split(), strict=True)
]


def test_the_table_covers_every_action_state_and_role() -> None:
    assert set(EXPECTED) == set(API) == set(PAGES)
    for action, rows in EXPECTED.items():
        assert set(rows) <= set(STATES), action
        assert all(len(row.split()) == len(ROLES) for row in rows.values()), action


@pytest.mark.parametrize("action, state, role, expected", CASES)
def test_the_api_and_the_pages_give_the_tables_verdict(action, state, role, expected):
    author = UserFactory()
    proposal = _make_proposal(state, author)
    user = _make_user(role, author)
    with _undone():
        through_api = API[action](client_for(user), proposal)
    through_pages = PAGES[action](page_client_for(user), proposal)
    assert {"api": through_api, "pages": through_pages} == {"api": expected, "pages": expected}


@pytest.mark.parametrize("state", STATES)
def test_reading_a_proposal_is_one_rule_for_objects_and_for_lists(state):
    """`proposals.read_proposal`, its queryset twin, and what the views load agree."""
    author = UserFactory()
    proposal = _make_proposal(state, author)
    for role in ROLES:
        user = _make_user(role, author)
        user = user or AnonymousUser()
        by_rule = allows(user, "proposals.read_proposal", proposal)
        by_filter = Proposal.objects.filter(visible_filter(user) or Q(), pk=proposal.pk).exists()
        loaded = proposal_get_visible(user=user, proposal_id=proposal.pk) is not None
        assert by_rule == by_filter == loaded, role
        assert by_rule == (EXPECTED["view"][state].split()[ROLES.index(role)] == "Y"), role


@pytest.mark.parametrize("state", STATES)
def test_without_email_verification_an_unverified_account_reacts_as_a_resident(settings, state):
    settings.CIVIC_EMAIL_VERIFICATION = False
    author = UserFactory()
    proposal = _make_proposal(state, author)
    user = _make_user("unverified", author)
    expected = EXPECTED["react"][state].split()[ROLES.index("resident")]
    with _undone():
        through_api = API["react"](client_for(user), proposal)
    through_pages = PAGES["react"](page_client_for(user), proposal)
    assert {"api": through_api, "pages": through_pages} == {"api": expected, "pages": expected}


def test_a_superuser_holds_every_role_but_is_not_the_author():
    """Django says yes to a superuser before it reads a rule; the code asks the rules
    themselves (civic.accounts.rules.allows), so "only the author" stays only the author."""
    author = UserFactory()
    proposal = _make_proposal("changes_requested", author)
    root = User.objects.create_superuser(email="root@example.org", password="x" * 12)
    api, pages = client_for(root), page_client_for(root)
    assert api.get(f"/api/v1/proposals/{proposal.pk}/").json()["moderation"]
    edit = api.patch(f"/api/v1/proposals/{proposal.pk}/", {"title": "Чужой заголовок"})
    assert (edit.status_code, edit.json()["code"]) == (403, "permission_denied")
    assert api.post(f"/api/v1/proposals/{proposal.pk}/withdraw/").status_code == 403
    assert pages.get(f"/en/proposals/{proposal.pk}/edit/").status_code == 403
    assert pages.post(f"/en/proposals/{proposal.pk}/withdraw/").status_code == 403
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.CHANGES_REQUESTED
