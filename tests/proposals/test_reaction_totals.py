"""The reaction totals kept on each proposal stay equal to its reaction rows: through
set, replace and clear, account erasure and deletion, a repair by `rebuild_tallies`, and
many people reacting at once."""

import random
import threading
import time
from collections import Counter

import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import F

from civic.accounts.services import user_delete
from civic.errors import StateConflict
from proposals import services
from proposals.models import Proposal, Reaction, Tally
from proposals.selectors import reaction_counts_for
from tests.concurrency import in_threads, needs_postgres
from tests.conftest import client_for
from tests.factories import ProposalFactory, StrategyFactory, UserFactory, reaction_add

pytestmark = pytest.mark.django_db

KINDS = Reaction.Kind.values
PASSWORD = "correct horse battery"  # the factories' password


def _kept(proposal: Proposal) -> dict[str, int]:
    row = Proposal.objects.values(*services.REACTION_TOTALS).get(pk=proposal.pk)
    return {field.removeprefix("reactions_"): n for field, n in row.items()}


def _counted(proposal: Proposal) -> dict[str, int]:
    kinds = Counter(Reaction.objects.filter(proposal=proposal).values_list("kind", flat=True))
    return {**{kind: kinds[kind] for kind in KINDS}, "total": sum(kinds.values())}


def _assert_equal_to_rows(*proposals: Proposal) -> None:
    for proposal in proposals:
        assert _kept(proposal) == _counted(proposal), proposal.pk


def test_set_replace_and_clear_keep_the_totals(strategy):
    proposal, other = ProposalFactory.create_batch(2, strategy=strategy)
    anna, boris, vera = UserFactory.create_batch(3)

    services.reaction_set(proposal=proposal, user=anna, kind="like")
    services.reaction_set(proposal=proposal, user=boris, kind="like")
    services.reaction_set(proposal=other, user=vera, kind="funny")
    assert _kept(proposal) == {**dict.fromkeys(KINDS, 0), "like": 2, "total": 2}
    _assert_equal_to_rows(proposal, other)

    services.reaction_set(proposal=proposal, user=anna, kind="outrage")  # replaces her like
    assert _kept(proposal) == {**dict.fromkeys(KINDS, 0), "like": 1, "outrage": 1, "total": 2}

    services.reaction_clear(proposal=proposal, user=boris)
    services.reaction_clear(proposal=proposal, user=boris)  # nothing left to clear
    assert _kept(proposal) == {**dict.fromkeys(KINDS, 0), "outrage": 1, "total": 1}
    services.reaction_clear(proposal=proposal, user=anna)
    assert _kept(proposal) == {**dict.fromkeys(KINDS, 0), "total": 0}
    assert _kept(other) == {**dict.fromkeys(KINDS, 0), "funny": 1, "total": 1}


def test_the_callers_instance_and_the_api_answer_show_the_new_totals(strategy, resident):
    proposal = ProposalFactory(strategy=strategy)
    reaction_add(proposal=proposal, user=UserFactory(), kind="like")
    services.reaction_set(proposal=proposal, user=resident, kind="funny")
    assert (proposal.reactions_like, proposal.reactions_funny, proposal.reactions_total) == (
        1,
        1,
        2,
    )
    services.reaction_clear(proposal=proposal, user=resident)
    assert (proposal.reactions_funny, proposal.reactions_total) == (0, 1)

    answer = client_for(resident).put(
        f"/api/v1/proposals/{proposal.pk}/reaction/", {"kind": "sympathy"}, format="json"
    )
    assert answer.status_code == 200, answer.content
    assert answer.json()["reactions"] == {**dict.fromkeys(KINDS, 0), "like": 1, "sympathy": 1}


def test_a_refused_reaction_changes_no_total(strategy, resident):
    proposal = ProposalFactory(strategy=strategy, status="pending")
    with pytest.raises(StateConflict):
        services.reaction_set(proposal=proposal, user=resident, kind="like")
    assert _kept(proposal)["total"] == 0


def test_recounting_many_proposals_takes_one_query_per_chunk(
    strategy, django_assert_num_queries, monkeypatch
):
    proposals = ProposalFactory.create_batch(7, strategy=strategy)
    users = UserFactory.create_batch(3)
    for n, proposal in enumerate(proposals):
        for user in users[: n % 4]:
            Reaction.objects.create(proposal=proposal, user=user, kind=KINDS[n % len(KINDS)])
    with django_assert_num_queries(1):
        services.reaction_totals_recount(proposal_ids=[p.pk for p in proposals])
    _assert_equal_to_rows(*proposals)

    Proposal.objects.update(reactions_total=99)
    monkeypatch.setattr(services, "_RECOUNT_CHUNK", 3)
    with django_assert_num_queries(3):
        services.reaction_totals_recount(proposal_ids=[p.pk for p in proposals])
    _assert_equal_to_rows(*proposals)


def test_list_counts_read_the_kept_columns(strategy, django_assert_num_queries):
    proposal = ProposalFactory(strategy=strategy)
    reaction_add(proposal=proposal, user=UserFactory(), kind="like")
    # A total the rows do not hold shows that the page reads the column, not the rows.
    Proposal.objects.filter(pk=proposal.pk).update(reactions_sympathy=5)
    expected = {**dict.fromkeys(KINDS, 0), "like": 1, "sympathy": 5}

    loaded = list(Proposal.objects.filter(pk=proposal.pk))
    with django_assert_num_queries(0):
        assert reaction_counts_for(loaded) == {proposal.pk: expected}
    deferred = list(Proposal.objects.filter(pk=proposal.pk).only("id"))
    with django_assert_num_queries(1):
        assert reaction_counts_for(deferred) == {proposal.pk: expected}
    row = client_for(None).get("/api/v1/proposals/").json()["results"][0]
    assert row["reactions"] == expected


def _world(strategy, leaving):
    """Three proposals the leaving person reacted to, with others' reactions beside."""
    proposals = ProposalFactory.create_batch(3, strategy=strategy)
    others = UserFactory.create_batch(2)
    for n, proposal in enumerate(proposals):
        services.reaction_set(proposal=proposal, user=leaving, kind=KINDS[n])
        for user in others[: n + 1]:
            services.reaction_set(proposal=proposal, user=user, kind="like")
    return proposals


def test_deleting_an_account_recounts_the_proposals_it_reacted_to(
    strategy, resident, django_capture_on_commit_callbacks
):
    proposals = _world(strategy, resident)
    before = [_kept(p)["total"] for p in proposals]
    with django_capture_on_commit_callbacks(execute=True):
        user_delete(user=resident, password=PASSWORD)
    assert not Reaction.objects.filter(user=resident).exists()
    assert [_kept(p)["total"] for p in proposals] == [n - 1 for n in before]
    _assert_equal_to_rows(*proposals)


def test_an_account_removed_outright_takes_its_reactions_out_of_the_totals(strategy, resident):
    proposals = _world(strategy, resident)
    dirty = Tally.objects.get(strategy=strategy).dirty_version
    resident.delete()  # the admin's delete: the reactions go by cascade
    _assert_equal_to_rows(*proposals)
    assert sum(_kept(p)["total"] for p in proposals) == Reaction.objects.count() == 5
    assert Tally.objects.get(strategy=strategy).dirty_version > dirty


def _corrupt() -> None:
    Proposal.objects.update(
        reactions_like=F("reactions_like") + 2, reactions_total=F("reactions_total") + 2
    )


def test_rebuild_tallies_repairs_corrupted_totals(strategy, capsys, monkeypatch):
    elsewhere = StrategyFactory(slug="elsewhere")
    users = UserFactory.create_batch(4)
    proposals = ProposalFactory.create_batch(5, strategy=strategy)
    foreign = ProposalFactory.create_batch(2, strategy=elsewhere)
    rng = random.Random(7)
    for proposal in [*proposals[:4], *foreign]:
        for user in rng.sample(users, rng.randint(1, 4)):
            services.reaction_set(proposal=proposal, user=user, kind=rng.choice(KINDS))
    # proposals[4] has no reactions: its corrupted totals must go back to zero.
    _corrupt()
    Proposal.objects.filter(pk=proposals[1].pk).update(reactions_outrage=0, reactions_funny=9)
    # Batches of two ids: the set-based update runs over several of them.
    monkeypatch.setattr(services, "_REBUILD_BATCH", 2)

    call_command("rebuild_tallies", "--strategy", strategy.slug)
    assert "reaction totals: 5 proposals corrected" in capsys.readouterr().out
    _assert_equal_to_rows(*proposals)
    assert all(_kept(p) != _counted(p) for p in foreign)  # another strategy's are left

    call_command("rebuild_tallies")
    assert "reaction totals: 2 proposals corrected" in capsys.readouterr().out
    _assert_equal_to_rows(*proposals, *foreign)
    assert services.reaction_totals_rebuild() == 0  # nothing left to correct


def test_rebuild_of_an_empty_database_corrects_nothing():
    assert services.reaction_totals_rebuild() == 0


# --- Races: need a database that lets several connections write at once -------------


def _react_once(rng: random.Random, proposals, users) -> None:
    proposal, user = rng.choice(proposals), rng.choice(users)
    if rng.random() < 0.3:
        services.reaction_clear(proposal=proposal, user=user)
    else:
        services.reaction_set(proposal=proposal, user=user, kind=rng.choice(KINDS))


@needs_postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_many_people_setting_replacing_and_clearing_at_once_keep_exact_totals():
    strategy = StrategyFactory()
    proposals = ProposalFactory.create_batch(2, strategy=strategy)
    users = UserFactory.create_batch(6)
    threads, operations = 8, 25
    off: list = []

    def compare() -> None:
        # Between rounds every transaction has committed: the totals must match now, not
        # only after the last one (each recount would mend an earlier loss).
        off.extend((p.pk, _kept(p), _counted(p)) for p in proposals if _kept(p) != _counted(p))

    rounds = threading.Barrier(threads, action=compare, timeout=60)

    def work(index: int) -> None:
        rng = random.Random(index)
        try:
            for _ in range(operations):
                _react_once(rng, proposals, users)
                rounds.wait()
        except Exception:
            rounds.abort()  # the others stop waiting for this thread
            raise

    errors = in_threads(threads, work)

    assert errors == [None] * threads
    assert off == []
    assert Reaction.objects.exists()
    _assert_equal_to_rows(*proposals)


@needs_postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_rebuild_running_among_reactions_never_writes_an_older_count(monkeypatch):
    """Corrupt, rebuild, and compare under the rows' lock, again and again while others
    react: a rebuild that counted before a reaction committed and wrote after it would
    leave that reaction out."""
    strategy = StrategyFactory()
    proposals = ProposalFactory.create_batch(2, strategy=strategy)
    users = UserFactory.create_batch(6)
    monkeypatch.setattr(services, "_REBUILD_BATCH", 1)
    reactors = 4
    finished = threading.Semaphore(0)
    off: list = []

    def rebuild_and_compare() -> None:
        _corrupt()
        services.reaction_totals_rebuild()
        with transaction.atomic():
            # Reactions change their rows only under this lock: what it sees is settled.
            list(Proposal.objects.select_for_update().filter(strategy=strategy))
            off.extend((p.pk, _kept(p), _counted(p)) for p in proposals if _kept(p) != _counted(p))

    def work(index: int) -> None:
        if index == reactors:
            while not finished.acquire(blocking=False):
                rebuild_and_compare()
            return
        rng = random.Random(index)
        try:
            for _ in range(50):
                _react_once(rng, proposals, users)
        finally:
            if index == 0:
                finished.release()

    errors = in_threads(reactors + 1, work)

    assert errors == [None] * (reactors + 1)
    assert off == []


@needs_postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_deleting_an_account_while_it_reacts_neither_deadlocks_nor_loses_a_count(monkeypatch):
    """Deletion locks the person, then the proposals they reacted to. A reaction that
    writes a row pointing at the person (here the follow of someone who turned automatic
    follows back on) needs the person's row too, so it takes it before the proposal's:
    the two queue instead of deadlocking."""
    strategy = StrategyFactory()
    proposals = ProposalFactory.create_batch(2, strategy=strategy)
    lock = services._lock_for_reactions

    def slow_lock(proposal_id: int) -> str | None:
        # Holding the proposal's lock a while lets the deletion lock the person meanwhile.
        status = lock(proposal_id)
        time.sleep(0.05)
        return status

    monkeypatch.setattr(services, "_lock_for_reactions", slow_lock)
    for _ in range(3):
        leaving = UserFactory(follow_automatically=False)
        for proposal in proposals:
            services.reaction_set(proposal=proposal, user=leaving, kind="like")
        leaving.follow_automatically = True
        leaving.save(update_fields=["follow_automatically"])

        def act(index: int, leaving=leaving) -> None:
            if index == 0:
                user_delete(user=leaving, password=PASSWORD)
            else:
                services.reaction_set(proposal=proposals[index - 1], user=leaving, kind="funny")

        errors = in_threads(3, act)
        assert errors == [None] * 3
        _assert_equal_to_rows(*proposals)
