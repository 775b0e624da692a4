"""The public proposal list is kept per database snapshot (civic/snapshots.py): a repeat
is served without building the page, and no write, by any path, leaves a reader a stale one.

The rows must be committed for a snapshot to mean anything, so these tests commit
(transaction=True) and run on PostgreSQL; on SQLite nothing is kept, which the last test pins.
"""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from civic import snapshots
from civic.accounts.services import role_grant
from proposals import services
from proposals.answers.services import answer_save
from proposals.comments.services import comment_create
from proposals.models import Answer, Proposal
from tests.conftest import client_for
from tests.factories import ProposalFactory, StrategyFactory, UserFactory

URL = "/api/v1/proposals/"
committed = pytest.mark.django_db(transaction=True, serialized_rollback=True)
needs_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="pages are kept under PostgreSQL's snapshot, which SQLite has not: set DATABASE_URL",
)


def _read(client, url: str = URL, **headers) -> tuple[dict, int]:
    """The page, and how many queries answering it took."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **headers)
    assert response.status_code == 200, response.content
    return response.json(), len(queries)


@pytest.fixture
def published(db) -> list[Proposal]:
    strategy = StrategyFactory(slug="kept", answer_deadline_days=60)
    return ProposalFactory.create_batch(3, strategy=strategy, status=Proposal.Status.PUBLISHED)


@needs_postgres
@committed
def test_a_repeat_is_served_from_the_kept_page_with_the_same_bytes(api, published):
    first = api.get(URL)
    with CaptureQueriesContext(connection) as queries:
        again = api.get(URL)
    assert again.content == first.content
    assert again["Content-Type"] == first["Content-Type"] == "application/json"
    # Only the snapshot is read: the rows, the count and the themes are not.
    assert [q["sql"] for q in queries] == [
        "SELECT pg_current_snapshot()::text, pg_current_xact_id_if_assigned()"
    ]


@needs_postgres
@committed
def test_every_kind_of_write_shows_on_the_next_read(api, published):
    """A reaction, an approval, a rejection, a comment and an answer each change what the page
    says; none of them touches the kept page, and none of them is missed."""
    first, _, third = published
    resident = UserFactory()
    moderator = UserFactory()
    role_grant(user=moderator, role="moderator")
    responder = UserFactory()
    role_grant(user=responder, role="responder")

    def row(page: dict, proposal: Proposal) -> dict:
        return next(r for r in page["results"] if r["id"] == proposal.pk)

    page, _ = _read(api)
    assert row(page, first)["reactions"]["like"] == 0
    _read(api)  # kept now

    services.reaction_set(proposal=first, user=resident, kind="like")
    page, built = _read(api)
    assert row(page, first)["reactions"]["like"] == 1
    assert built > 1

    pending = ProposalFactory(
        strategy=first.strategy, title="Только что одобрено", status=Proposal.Status.PENDING
    )
    services.proposal_moderate(proposal=pending, moderator=moderator, decision="approve")
    page, _ = _read(api)
    assert row(page, pending)["title"] == "Только что одобрено"

    services.proposal_moderate(
        proposal=third, moderator=moderator, decision="reject", reason="spam"
    )
    page, _ = _read(api)
    assert third.pk not in {r["id"] for r in page["results"]}
    assert page["count"] == 3

    comment_create(proposal=first, author=resident, body="Та же развязка топит каждую весну")
    page, _ = _read(api)
    assert row(page, first)["comments_count"] == 1

    answer_save(
        proposal=first,
        responder=responder,
        outcome=Answer.Outcome.ACCEPTED,
        text="Сделаем",
        publish=True,
    )
    page, _ = _read(api)
    assert row(page, first)["answer"]["outcome"] == Answer.Outcome.ACCEPTED


@needs_postgres
@committed
def test_a_write_outside_the_services_is_seen_too(api, published):
    """Nothing has to invalidate anything: even a raw UPDATE moves the snapshot on."""
    _read(api)
    _read(api)
    Proposal.objects.filter(pk=published[0].pk).update(title="Поправлено в консоли")
    page, _ = _read(api)
    assert "Поправлено в консоли" in {r["title"] for r in page["results"]}


@needs_postgres
@committed
def test_signed_in_readers_language_and_address_each_get_their_own_page(api, published):
    resident = UserFactory()
    signed_in = client_for(resident)
    _read(api)
    _, again = _read(api)
    assert again == 1
    # A resident is never served an anonymous reader's page (nor keeps one).
    _, theirs = _read(signed_in)
    _, theirs_again = _read(signed_in)
    assert theirs > 1 and theirs_again > 1
    # Another language or host is another page (labels, `next` links).
    _, other_language = _read(api, HTTP_ACCEPT_LANGUAGE="kk")
    assert other_language > 1
    page, other_host = _read(api, URL + "?page_size=1", HTTP_HOST="127.0.0.1")
    assert other_host > 1
    assert page["next"].startswith("http://127.0.0.1/")


@needs_postgres
@committed
def test_bad_input_and_the_clock_are_never_kept(api, published):
    for _ in range(2):
        assert api.get(URL + "?ordering=nonsense").status_code == 400
    _, first = _read(api, URL + "?answer=overdue")
    _, again = _read(api, URL + "?answer=overdue")
    assert again == first > 1


@needs_postgres
@committed
def test_the_setting_at_zero_builds_every_page(api, published, settings):
    settings.CIVIC_SNAPSHOT_CACHE_SECONDS = 0
    _read(api)
    _, again = _read(api)
    assert again > 1


@needs_postgres
@pytest.mark.django_db
def test_a_transaction_that_has_written_has_no_snapshot_to_share(published):
    # The test's own transaction wrote the proposals: what it sees, no one else does.
    assert snapshots.database_snapshot() is None
    with transaction.atomic():
        pass
    assert snapshots.snapshot_key("x", "y") is None


@pytest.mark.skipif(connection.vendor == "postgresql", reason="pins the SQLite behaviour")
@pytest.mark.django_db
def test_sqlite_keeps_nothing(api, published):
    assert snapshots.database_snapshot() is None
    _read(api)
    _, again = _read(api)
    assert again > 1
