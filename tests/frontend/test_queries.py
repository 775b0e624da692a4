"""Each list page runs a fixed number of queries whatever the number of rows, and the
pages built from the tally snapshot never read the proposals table."""

import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from proposals.models import Proposal, ProposalEvent
from proposals.search.services import search_index_update
from proposals.services import proposal_moderate, proposal_submit, reaction_set
from strategy.models import District, Theme
from tests.factories import ProposalFactory, SectionFactory, UserFactory, reaction_add

pytestmark = pytest.mark.django_db

S = Proposal.Status
BODY = "Посадить деревья вдоль арыков и починить освещение во дворах."


class Rows:
    """Adds proposals that a list page shows, each with everything a card resolves:
    a section, a district, themes, reactions and the latest decision."""

    def __init__(self, strategy, *, author=None, moderator=None) -> None:
        self.strategy = strategy
        self.author = author
        self.moderator = moderator or UserFactory()
        self.themes = list(Theme.objects.all()[:4])
        self.districts = list(District.objects.all()[:3])
        self.sections = [
            SectionFactory(strategy=strategy, code=code, position=n)
            for n, code in enumerate(("1", "1.1", "2"))
        ]
        self.reactors = UserFactory.create_batch(2)
        self.made = 0

    def add(self, count: int, *, status: str) -> None:
        for _ in range(count):
            n = self.made
            self.made += 1
            proposal = ProposalFactory(
                strategy=self.strategy,
                section=self.sections[n % 3],
                district=self.districts[n % 3] if n % 4 else None,
                themes=self.themes[: 1 + n % 3],
                status=status,
                **({"author": self.author} if self.author else {}),
            )
            if status == S.PUBLISHED:
                for user in self.reactors[: 1 + n % 2]:
                    reaction_add(proposal=proposal, user=user, kind="like")
            if status != S.PENDING:
                event = ProposalEvent.objects.create(
                    proposal=proposal,
                    actor=self.moderator,
                    action="approve" if status == S.PUBLISHED else "request_changes",
                    from_status=S.PENDING,
                    to_status=status,
                    note="" if status == S.PUBLISHED else "Уточните адрес.",
                )
                Proposal.objects.filter(pk=proposal.pk).update(latest_decision=event)


def _client(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _render(client: Client, url: str) -> tuple[list[str], object]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return [query["sql"] for query in captured.captured_queries], response


def _same_count(small: list[str], large: list[str]) -> None:
    assert len(small) == len(large), "\n".join(
        ["-- with few rows:", *small, "-- with many rows:", *large]
    )


# (page, who, status of the rows it lists, whose rows)
LISTS = [
    ("/ru/proposals/", None, S.PUBLISHED, None),
    ("/ru/proposals/?ordering=-reactions", None, S.PUBLISHED, None),
    ("/ru/proposals/", "resident", S.PUBLISHED, None),
    ("/ru/moderation/", "moderator", S.PENDING, None),
    ("/ru/analysis/", "analyst", S.PUBLISHED, None),
    ("/ru/analysis/?status=changes_requested", "analyst", S.CHANGES_REQUESTED, None),
    ("/ru/me/proposals/", "resident", S.CHANGES_REQUESTED, "resident"),
]


@pytest.mark.parametrize(("url", "who", "status", "owner"), LISTS)
def test_list_pages_run_the_same_queries_for_3_and_25_rows(
    request, strategy, moderator, url, who, status, owner
):
    user = request.getfixturevalue(who) if who else None
    rows = Rows(
        strategy, author=request.getfixturevalue(owner) if owner else None, moderator=moderator
    )
    client = _client(user)
    rows.add(3, status=status)
    client.get(url)  # warm-up: whatever a first request caches is not the page's doing
    small, response = _render(client, url)
    assert len(response.context["cards"]) == 3

    rows.add(22, status=status)
    large, response = _render(client, url)
    # A full page of 20 out of 25: the page really lists the rows it was measured with.
    assert len(response.context["cards"]) == 20
    assert response.context["page"].paginator.count == 25
    _same_count(small, large)


@pytest.mark.parametrize("count", [25, 55])
def test_the_decision_history_runs_the_same_queries_for_3_and_more_rows(
    client, strategy, moderator, analyst, count
):
    rows = Rows(strategy, moderator=moderator)
    client.force_login(analyst)
    rows.add(3, status=S.PUBLISHED)
    client.get("/ru/moderation/history/")
    small, response = _render(client, "/ru/moderation/history/")
    assert len(response.context["page"].object_list) == 3

    rows.add(count - 3, status=S.CHANGES_REQUESTED)
    large, response = _render(client, "/ru/moderation/history/")
    assert len(response.context["page"].object_list) == min(count, 50)
    _same_count(small, large)


def test_the_decide_page_runs_the_same_queries_whatever_it_finds(
    client, strategy, resident, moderator
):
    proposal = proposal_submit(
        author=resident, strategy=strategy, title="Фонари во дворе", body=BODY
    )
    candidates = [
        ProposalFactory(strategy=strategy, title=f"Ещё про двор {n}", body=f"{BODY} дворе")
        for n in range(12)
    ]
    client.force_login(moderator)
    url = f"/ru/moderation/{proposal.pk}/?dup_q=дворе"
    hidden = [p.pk for p in candidates[2:]]
    Proposal.objects.filter(pk__in=hidden).update(
        title="Фонтаны", body="Починить фонтаны на площади у театра."
    )
    search_index_update(proposal_ids=hidden)
    client.get(url)
    small, response = _render(client, url)
    assert len(response.context["candidates"]) == 2
    for candidate in candidates:
        Proposal.objects.filter(pk=candidate.pk).update(title=candidate.title, body=candidate.body)
    search_index_update(proposal_ids=hidden)
    large, response = _render(client, url)
    assert len(response.context["candidates"]) == 10
    _same_count(small, large)


def _reads_proposals(queries: list[str]) -> list[str]:
    table = re.escape(connection.ops.quote_name(Proposal._meta.db_table))
    return [sql for sql in queries if re.search(table + r"(?![\w])", sql)]


@pytest.fixture
def counted(strategy, resident, other_resident, moderator, django_capture_on_commit_callbacks):
    """Proposals, reactions and a built tally snapshot, as after a day of use."""
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(4):
            proposal = proposal_submit(
                author=resident, strategy=strategy, title=f"Предложение {n}", body=BODY
            )
            if n % 2:
                proposal_moderate(proposal=proposal, moderator=moderator, decision="approve")
                reaction_set(proposal=proposal, user=other_resident, kind="like")
    return strategy


@pytest.mark.parametrize("url", ["/", "/ru/", "/kk/", "/ru/strategies/{slug}/tallies/"])
@pytest.mark.parametrize("who", [None, "resident"])
@pytest.mark.parametrize("cache_state", ["warm", "cold"])
def test_tallies_and_home_never_read_the_proposals_table(request, counted, url, who, cache_state):
    assert Proposal._meta.db_table == "proposals_proposal"
    client = _client(request.getfixturevalue(who) if who else None)
    url = url.format(slug=counted.slug)
    if cache_state == "cold":
        cache.clear()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code in (200, 302)
    queries = [query["sql"] for query in captured.captured_queries]
    assert _reads_proposals(queries) == []
    # The pages do show the counts, from the snapshot: the check above is not vacuous.
    if "tallies" in url:
        assert response.context["tally"]["totals"]["received"] == 4
        assert response.context["tally"]["totals"]["published"] == 2
    elif response.status_code == 200:
        [item] = response.context["items"]
        assert item["tally"]["totals"]["received"] == 4
    else:
        assert response.url == "/ru/"


def test_the_table_check_does_see_a_page_that_reads_proposals(client, counted):
    # The same check on the proposal list, which must read the table: it is not vacuous.
    with CaptureQueriesContext(connection) as captured:
        client.get("/ru/proposals/")
    assert _reads_proposals([q["sql"] for q in captured.captured_queries])
