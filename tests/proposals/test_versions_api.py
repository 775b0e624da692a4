"""The versions API: list, compare, and responders linking accepted proposals to sections."""

import shutil
from pathlib import Path

import pytest
from django.utils import timezone

from proposals.models import Answer, AnswerSectionLink, Proposal, ProposalEvent
from proposals.versions.services import DEMO_DIR, DEMO_REVISED_SECTIONS, demo_revise
from strategy.models import Section, Strategy, StrategyVersion, Theme
from strategy.services import strategy_import_files
from tests.conftest import client_for
from tests.factories import ProposalFactory

DATA = Path(__file__).parent.parent / "strategy" / "documents"
ALMATY = [DATA / f"almaty-2050.{language}.md" for language in ("ru", "kk", "en")]
BASE = "/api/v1/strategies/almaty-2050/versions/"
pytestmark = pytest.mark.django_db


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


@pytest.fixture
def revised(tmp_path) -> Strategy:
    """The test document imported (version 1), then revised (version 2): section 1.1
    reworded in ru and en, a new section 2.2 added in every language."""
    files = [Path(shutil.copy(path, tmp_path / path.name)) for path in ALMATY]
    strategy = strategy_import_files(files).strategy
    _edit(
        files[0],
        "Общественный транспорт связывает окраины с центром.",
        "Общественный транспорт с выделенными полосами связывает окраины с центром.",
    )
    _edit(
        files[2],
        "Public transport links the outskirts",
        "Public transport on bus lanes links the outskirts",
    )
    for path, (title, body) in zip(
        files,
        [
            ("Деревья", "Город высаживает пятьдесят тысяч деревьев в год."),
            ("Ағаштар", "Қала жылына елу мың ағаш отырғызады."),
            ("Trees", "The city plants fifty thousand trees a year."),
        ],
        strict=True,
    ):
        text = path.read_text(encoding="utf-8")
        path.write_text(text.rstrip("\n") + f"\n\n### 2.2. {title}\n\n{body}\n", encoding="utf-8")
    strategy_import_files(files)
    assert StrategyVersion.objects.filter(strategy=strategy).count() == 2
    return strategy


def _answered(strategy: Strategy, code: str, outcome: str = "accepted", published: bool = True):
    proposal = ProposalFactory(
        strategy=strategy, section=Section.objects.get(strategy=strategy, code=code)
    )
    Answer.objects.create(
        proposal=proposal,
        outcome=outcome,
        text="" if outcome == "accepted" else "Обоснование решения.",
        published=published,
        answered_at=timezone.now() if published else None,
    )
    return proposal


# --- reading ----------------------------------------------------------------------------------


def test_list_gives_every_version_oldest_first(api, revised):
    response = api.get(BASE)
    assert response.status_code == 200
    data = response.json()
    assert [v["number"] for v in data] == [1, 2]
    assert set(data[0]) == {"number", "imported_at", "changed_sections"}
    assert data[1]["changed_sections"] == ["1.1", "2.2"]
    assert data[0]["changed_sections"][0] == "1"


@pytest.mark.parametrize("extra", [0, 20])
def test_list_costs_the_same_queries_whatever_the_versions(
    api, revised, django_assert_num_queries, extra
):
    for number in range(3, 3 + extra):
        StrategyVersion.objects.create(strategy=revised, number=number, changed_sections=["1"])
    # The strategy, the versions (without their texts).
    with django_assert_num_queries(2):
        response = api.get(BASE)
    assert len(response.json()) == 2 + extra


def test_drafts_and_unknown_strategies_are_404(api, revised):
    Strategy.objects.filter(pk=revised.pk).update(status=Strategy.Status.DRAFT)
    assert api.get(BASE).status_code == 404
    assert api.get(f"{BASE}1/compare/2/").status_code == 404
    assert api.get("/api/v1/strategies/nowhere/versions/").status_code == 404


def test_compare_shape_order_and_ops(api, revised):
    response = api.get(f"{BASE}1/compare/2/")
    assert response.status_code == 200
    items = response.json()
    codes = list(Section.objects.filter(strategy=revised).values_list("code", flat=True))
    assert [item["section_code"] for item in items] == codes
    assert set(items[0]) == {"section_code", "title", "change", "diff", "proposals"}
    by_code = {item["section_code"]: item for item in items}
    assert by_code["1.1"]["change"] == "changed"
    assert {"op": "insert", "text": " с выделенными полосами"} in by_code["1.1"]["diff"]
    assert by_code["2.2"]["change"] == "added"
    assert by_code["2.2"]["title"] == "Деревья"
    assert {run["op"] for run in by_code["2.2"]["diff"]} == {"insert"}
    assert by_code["1"]["change"] == "unchanged"
    assert {run["op"] for run in by_code["1"]["diff"]} == {"equal"}
    for item in items:
        assert item["proposals"] == []
        for run in item["diff"]:
            assert set(run) == {"op", "text"}
            assert run["op"] in {"equal", "insert", "delete"}


def test_compare_backwards_is_the_same_comparison(api, revised):
    assert api.get(f"{BASE}2/compare/1/").json() == api.get(f"{BASE}1/compare/2/").json()
    same = api.get(f"{BASE}2/compare/2/").json()
    assert {item["change"] for item in same} == {"unchanged"}


def test_compare_speaks_the_requested_language(api, revised):
    items = api.get(f"{BASE}1/compare/2/", HTTP_ACCEPT_LANGUAGE="kk").json()
    added = next(item for item in items if item["section_code"] == "2.2")
    assert added["title"] == "Ағаштар"
    assert "Қала жылына елу мың ағаш отырғызады." in "".join(r["text"] for r in added["diff"])
    items = api.get(f"{BASE}1/compare/2/", HTTP_ACCEPT_LANGUAGE="en").json()
    assert next(i for i in items if i["section_code"] == "2.2")["title"] == "Trees"


@pytest.mark.parametrize(
    "path", ["3/compare/1/", "1/compare/3/", "0/compare/1/", "1/compare/99999999999999999999/"]
)
def test_unknown_versions_are_404(api, revised, path):
    assert api.get(f"{BASE}{path}").status_code == 404


def test_compare_lists_the_linked_proposals_of_the_range(api, revised, responder):
    accepted = _answered(revised, "1.1")
    in_part = _answered(revised, "1.1", outcome="accepted_in_part")
    v2 = StrategyVersion.objects.get(strategy=revised, number=2)
    for proposal in (accepted, in_part):
        AnswerSectionLink.objects.create(
            proposal=proposal, version=v2, section_code="1.1", linked_by=responder
        )
    items = {i["section_code"]: i for i in api.get(f"{BASE}1/compare/2/").json()}
    assert items["1.1"]["proposals"] == sorted([accepted.code, in_part.code])
    # Links of version 2 are outside the range (1, 1] and (2, 2].
    assert all(not i["proposals"] for i in api.get(f"{BASE}1/compare/1/").json())
    # A link stops showing when its answer no longer says "accepted" ...
    Answer.objects.filter(proposal=in_part).update(outcome="not_accepted", text="Нет.")
    items = {i["section_code"]: i for i in api.get(f"{BASE}2/compare/1/").json()}
    assert items["1.1"]["proposals"] == [accepted.code]
    # ... or the proposal is taken down.
    Proposal.objects.filter(pk=accepted.pk).update(status=Proposal.Status.REJECTED)
    items = {i["section_code"]: i for i in api.get(f"{BASE}1/compare/2/").json()}
    assert items["1.1"]["proposals"] == []


@pytest.mark.parametrize("links", [1, 30])
def test_compare_costs_the_same_queries_whatever_the_links(
    api, revised, responder, django_assert_num_queries, links
):
    v2 = StrategyVersion.objects.get(strategy=revised, number=2)
    for _ in range(links):
        proposal = _answered(revised, "1.1")
        AnswerSectionLink.objects.create(proposal=proposal, version=v2, section_code="1.1")
    # The strategy, both versions, the links.
    with django_assert_num_queries(3):
        response = api.get(f"{BASE}1/compare/2/")
    assert len(response.json()[1]["proposals"]) == links


# --- linking ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("anonymous", 401),
        ("resident", 403),
        ("moderator", 403),
        ("analyst", 403),
        ("responder", 201),
        ("admin", 201),
    ],
)
def test_who_may_link(revised, people_by_role, responder, who, expected):
    people = {**people_by_role, "responder": responder}
    proposal = _answered(revised, "1.1")
    body = {"proposal": proposal.code, "section_code": "1.1"}
    client = client_for(people[who])
    response = client.post(f"{BASE}2/links/", body, format="json")
    assert response.status_code == expected
    assert AnswerSectionLink.objects.exists() == (expected == 201)
    unlink = client.delete(f"{BASE}2/links/", body, format="json")
    assert unlink.status_code == (204 if expected == 201 else expected)
    assert not AnswerSectionLink.objects.exists()


def test_link_answers_and_writes_history(revised, responder):
    proposal = _answered(revised, "1.1", outcome="accepted_in_part")
    client = client_for(responder)
    body = {"proposal": proposal.code, "section_code": "1.1"}
    response = client.post(f"{BASE}2/links/", body, format="json")
    assert response.status_code == 201
    assert response.json() == {"proposal": proposal.code, "version": 2, "section_code": "1.1"}
    # Linking again is harmless: no second link, no second history row.
    assert client.post(f"{BASE}2/links/", body, format="json").status_code == 201
    assert AnswerSectionLink.objects.filter(proposal=proposal).count() == 1
    link = AnswerSectionLink.objects.get()
    assert (link.version.number, link.linked_by) == (2, responder)
    events = list(ProposalEvent.objects.filter(proposal=proposal))
    assert len(events) == 1
    assert events[0].action == "answer"
    assert events[0].actor == responder
    assert events[0].from_status == events[0].to_status == "published"
    assert events[0].changes == {"linked_section": {"version": 2, "section_code": "1.1"}}

    # By id too, and unlinking writes its own row.
    response = client.delete(
        f"{BASE}2/links/", {"proposal": proposal.pk, "section_code": "1.1"}, format="json"
    )
    assert response.status_code == 204
    assert not AnswerSectionLink.objects.exists()
    last = ProposalEvent.objects.filter(proposal=proposal).order_by("id").last()
    assert last.changes == {"unlinked_section": {"version": 2, "section_code": "1.1"}}
    # Unlinking what is not linked: 204, nothing written.
    assert client.delete(f"{BASE}2/links/", body, format="json").status_code == 204
    assert ProposalEvent.objects.filter(proposal=proposal).count() == 2
    # The query string may carry what the body would.
    client.post(f"{BASE}2/links/", body, format="json")
    response = client.delete(f"{BASE}2/links/?proposal={proposal.code}&section_code=1.1")
    assert response.status_code == 204
    assert not AnswerSectionLink.objects.exists()
    assert client.delete(f"{BASE}2/links/?section_code=1.1").status_code == 400


@pytest.mark.parametrize(
    ("outcome", "published"),
    [
        ("not_accepted", True),
        ("already_planned", True),
        ("out_of_scope", True),
        ("accepted", False),
    ],
)
def test_only_accepted_published_answers_may_be_linked(revised, responder, outcome, published):
    proposal = _answered(revised, "1.1", outcome=outcome, published=published)
    response = client_for(responder).post(
        f"{BASE}2/links/", {"proposal": proposal.code, "section_code": "1.1"}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["code"] == "not_accepted"
    assert not AnswerSectionLink.objects.exists()
    assert not ProposalEvent.objects.filter(proposal=proposal).exists()


def test_unanswered_proposal_is_not_accepted(revised, responder):
    proposal = ProposalFactory(strategy=revised)
    response = client_for(responder).post(
        f"{BASE}2/links/", {"proposal": proposal.code, "section_code": "1"}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["code"] == "not_accepted"


def test_a_proposal_taken_down_cannot_be_linked(revised, admin_user):
    proposal = _answered(revised, "1.1")
    Proposal.objects.filter(pk=proposal.pk).update(status=Proposal.Status.REJECTED)
    response = client_for(admin_user).post(
        f"{BASE}2/links/", {"proposal": proposal.code, "section_code": "1.1"}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["code"] == "not_published"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"section_code": "9.9"}, "section_code"),
        ({"section_code": "2.2.1"}, "section_code"),
        ({"section_code": 11}, "section_code"),
        ({"section_code": ""}, "section_code"),
        ({"proposal": "ALA2050-999999"}, "proposal"),
        ({"proposal": True}, "proposal"),
        ({"proposal": "AL\x00A"}, "proposal"),
        ({"proposal": ["x"]}, "proposal"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(revised, responder, body, field):
    proposal = _answered(revised, "1.1")
    data = {"proposal": proposal.code, "section_code": "1.1", **body}
    response = client_for(responder).post(f"{BASE}2/links/", data, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not AnswerSectionLink.objects.exists()


def test_section_must_exist_in_that_version(revised, responder):
    # 2.2 was added in version 2: version 1 has no such section.
    proposal = _answered(revised, "1.1")
    body = {"proposal": proposal.code, "section_code": "2.2"}
    response = client_for(responder).post(f"{BASE}1/links/", body, format="json")
    assert response.status_code == 400
    assert "section_code" in response.json()
    assert client_for(responder).post(f"{BASE}2/links/", body, format="json").status_code == 201


def test_a_proposal_of_another_strategy_cannot_be_linked(revised, responder):
    other = ProposalFactory()  # another strategy
    Answer.objects.create(
        proposal=other, outcome="accepted", published=True, answered_at=timezone.now()
    )
    response = client_for(responder).post(
        f"{BASE}2/links/", {"proposal": other.code, "section_code": "1.1"}, format="json"
    )
    assert response.status_code == 400
    assert "proposal" in response.json()


def test_linking_on_an_unknown_version_is_404(revised, responder):
    proposal = _answered(revised, "1.1")
    body = {"proposal": proposal.code, "section_code": "1.1"}
    assert client_for(responder).post(f"{BASE}7/links/", body, format="json").status_code == 404


def test_schema_describes_the_version_paths(api):
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    paths = schema["paths"]
    assert "get" in paths["/api/v1/strategies/{slug}/versions/"]
    assert "get" in paths["/api/v1/strategies/{slug}/versions/{a}/compare/{b}/"]
    links = paths["/api/v1/strategies/{slug}/versions/{number}/links/"]
    assert {"post", "delete"} <= set(links)
    assert "201" in links["post"]["responses"]
    assert {p["name"] for p in links["delete"]["parameters"]} >= {"proposal", "section_code"}


# --- the demo's revision ----------------------------------------------------------------------


def test_demo_revise_records_the_revision_and_links_once(responder):
    demo = sorted(DEMO_DIR.glob("almaty-2050.*.md"))
    strategy = strategy_import_files(demo).strategy
    on_section = _answered(strategy, "4.3")
    # 1.4 is new in the revision: a transport proposal on its parent goes there.
    on_parent = _answered(strategy, "1")
    on_parent.themes.set([Theme.objects.get(slug="transport")])
    refused = _answered(strategy, "5.2", outcome="not_accepted")
    elsewhere = _answered(strategy, "6.1")

    links = demo_revise(strategy=strategy, responder=responder)
    revision = StrategyVersion.objects.get(strategy=strategy, number=2)
    assert revision.changed_sections == list(DEMO_REVISED_SECTIONS)
    linked = set(AnswerSectionLink.objects.values_list("proposal_id", "section_code"))
    assert linked == {(on_section.pk, "4.3"), (on_parent.pk, "1.4")}
    assert links == 2
    assert not AnswerSectionLink.objects.filter(proposal__in=[refused, elsewhere]).exists()
    # The revised text is there in every language.
    section = Section.objects.get(strategy=strategy, code="1.4")
    assert section.title_ru and section.title_kk and section.title_en

    assert demo_revise(strategy=strategy, responder=responder) == 2
    assert StrategyVersion.objects.filter(strategy=strategy).count() == 2
    assert AnswerSectionLink.objects.count() == 2
    assert ProposalEvent.objects.filter(changes__has_key="linked_section").count() == 2
