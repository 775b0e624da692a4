"""Tallies equal counts computed independently from the rows, and refresh after commit."""

import random
from collections import Counter
from datetime import timedelta

import pytest
from celery.signals import task_prerun
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from proposals import services
from proposals.models import Proposal, Reaction, Tally
from proposals.tallies.services import tally_compute, tally_rebuild
from strategy.models import District, Theme
from tests.conftest import client_for
from tests.factories import ProposalFactory, SectionFactory, StrategyFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def populated(strategy):
    """A strategy with proposals in every status, themes, districts, days and reactions."""
    rng = random.Random(2050)
    themes = list(Theme.objects.all())
    districts = [*District.objects.all(), None]
    sections = [SectionFactory(strategy=strategy, code=str(n), position=n) for n in (1, 2, 3)]
    sections.append(None)
    users = UserFactory.create_batch(6)
    statuses = Proposal.Status.values
    now = timezone.now()
    for n in range(60):
        status = statuses[n % len(statuses)]
        created = now - timedelta(days=rng.randint(0, 9), hours=rng.randint(0, 23))
        proposal = ProposalFactory(
            strategy=strategy,
            status=status,
            section=rng.choice(sections),
            district=rng.choice(districts),
            language=rng.choice(["ru", "kk", "en"]),
            created_at=created,
            published_at=created + timedelta(hours=5) if status == "published" else None,
            themes=rng.sample(themes, rng.randint(0, 3)),
        )
        for user in rng.sample(users, rng.randint(0, len(users))):
            Reaction.objects.create(
                proposal=proposal, user=user, kind=rng.choice(Reaction.Kind.values)
            )
    # Another strategy's rows must not leak into this one's counts.
    ProposalFactory.create_batch(3, strategy=StrategyFactory(slug="elsewhere"))
    return strategy


def test_tally_matches_counts_computed_from_rows(populated):
    data = tally_compute(strategy=populated)
    rows = list(Proposal.objects.filter(strategy=populated).prefetch_related("themes", "reactions"))
    published = [p for p in rows if p.status == "published"]

    statuses = Counter(p.status for p in rows)
    assert data["totals"] == {"received": len(rows), **{s: statuses[s] for s in Proposal.Status}}

    themes = Counter(t.slug for p in published for t in p.themes.all())
    assert {row["theme"]: row["count"] for row in data["by_theme"]} == {
        slug: themes[slug] for slug in Theme.objects.values_list("slug", flat=True)
    }
    sections = Counter(p.section_id for p in published)
    assert {row["section"]: row["count"] for row in data["by_section"]} == dict(sections)
    districts = Counter(p.district.slug if p.district else None for p in published)
    got = {row["district"]: row["count"] for row in data["by_district"]}
    assert {k: v for k, v in got.items() if v} == dict(districts)
    languages = Counter(p.language for p in published)
    assert {row["language"]: row["count"] for row in data["by_language"]} == {
        code: languages[code] for code in ("ru", "kk", "en")
    }

    received_days = Counter(timezone.localtime(p.created_at).date().isoformat() for p in rows)
    published_days = Counter(
        timezone.localtime(p.published_at).date().isoformat() for p in published
    )
    assert {row["date"]: row["received"] for row in data["by_day"]} == {
        day: received_days[day] for day in set(received_days) | set(published_days)
    }
    assert {row["date"]: row["published"] for row in data["by_day"]} == {
        day: published_days[day] for day in set(received_days) | set(published_days)
    }

    kinds = Counter(r.kind for p in published for r in p.reactions.all())
    assert data["reactions"] == {kind: kinds[kind] for kind in Reaction.Kind.values}

    likes = sorted(
        (-sum(r.kind == "like" for r in p.reactions.all()), -p.reactions.count(), p.pk)
        for p in published
        if p.reactions.exists()
    )[:10]
    assert [row["id"] for row in data["top_proposals"]] == [pk for *_, pk in likes]


def test_tally_endpoint_serves_the_stored_snapshot_not_live_counts(api, populated):
    tally_rebuild(strategy_id=populated.pk)
    before = api.get(f"/api/v1/strategies/{populated.slug}/tallies/").json()
    assert before["generated_at"] is not None
    assert before["totals"]["received"] == Proposal.objects.filter(strategy=populated).count()

    # A row written behind the services' back moves nothing until a rebuild.
    ProposalFactory(strategy=populated, status="published")
    assert api.get(f"/api/v1/strategies/{populated.slug}/tallies/").json() == before
    tally_rebuild(strategy_id=populated.pk)
    after = api.get(f"/api/v1/strategies/{populated.slug}/tallies/").json()
    assert after["totals"]["received"] == before["totals"]["received"] + 1


def test_tally_of_a_draft_strategy_is_not_public(api):
    draft = StrategyFactory(slug="secret", status="draft")
    tally_rebuild(strategy_id=draft.pk)
    assert api.get("/api/v1/strategies/secret/tallies/").status_code == 404
    assert api.get("/api/v1/strategies/nope/tallies/").status_code == 404


def test_refresh_runs_only_after_commit(strategy, resident, django_capture_on_commit_callbacks):
    ran: list[str] = []

    def record(sender=None, **kwargs):
        ran.append(sender.name)

    task_prerun.connect(record)
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            services.proposal_submit(
                author=resident,
                strategy=strategy,
                title="Фонари во дворе",
                body="Во дворе дома 12 совсем темно, нужны фонари.",
            )
            tally = Tally.objects.get(strategy=strategy)
            assert tally.is_dirty
            assert ran == []  # nothing enqueued inside the transaction
        assert ran == []
        for callback in callbacks:
            callback()
    finally:
        task_prerun.disconnect(record)
    assert "proposals.tally_refresh" in ran
    tally = Tally.objects.get(strategy=strategy)
    assert not tally.is_dirty
    assert tally.data["totals"]["pending"] == 1


def test_submit_moderate_react_move_the_tally(
    strategy, resident, other_resident, moderator, django_capture_on_commit_callbacks
):
    client = client_for(resident)
    with django_capture_on_commit_callbacks(execute=True):
        proposal_id = client.post(
            "/api/v1/proposals/",
            {
                "strategy": strategy.slug,
                "title": "Больше автобусов",
                "body": "На маршруте 92 автобусы ходят раз в сорок минут.",
                "themes": ["transport"],
            },
        ).json()["id"]
    totals = Tally.objects.get(strategy=strategy).data["totals"]
    assert (totals["received"], totals["pending"], totals["published"]) == (1, 1, 0)

    with django_capture_on_commit_callbacks(execute=True):
        client_for(moderator).post(
            f"/api/v1/proposals/{proposal_id}/moderation/", {"decision": "approve"}
        )
    data = Tally.objects.get(strategy=strategy).data
    assert (data["totals"]["pending"], data["totals"]["published"]) == (0, 1)
    assert {r["theme"]: r["count"] for r in data["by_theme"]}["transport"] == 1

    with django_capture_on_commit_callbacks(execute=True):
        client_for(other_resident).put(
            f"/api/v1/proposals/{proposal_id}/reaction/", {"kind": "sympathy"}
        )
    data = Tally.objects.get(strategy=strategy).data
    assert data["reactions"]["sympathy"] == 1
    assert data["top_proposals"][0]["id"] == proposal_id


def test_a_rebuild_that_raced_a_change_stays_dirty(strategy, resident):
    tally_rebuild(strategy_id=strategy.pk)
    # A change that commits while a rebuild counts bumps the version past the one
    # the rebuild started from; simulate by bumping after reading.
    start = Tally.objects.get(strategy=strategy).dirty_version
    Tally.objects.filter(strategy=strategy).update(dirty_version=start + 1)
    Tally.objects.filter(strategy=strategy).update(built_version=start)
    assert Tally.objects.get(strategy=strategy).is_dirty
    tally_rebuild(strategy_id=strategy.pk)
    assert not Tally.objects.get(strategy=strategy).is_dirty


def test_rebuild_tallies_command(populated, capsys):
    Tally.objects.filter(strategy=populated).delete()
    call_command("rebuild_tallies", "--strategy", populated.slug)
    assert f"{populated.slug}: 60 proposals counted" in capsys.readouterr().out
    assert Tally.objects.get(strategy=populated).data["totals"]["received"] == 60


def test_rebuild_tallies_unknown_strategy():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("rebuild_tallies", "--strategy", "no-such")


def test_tally_counts_hold_under_atomic_rollback(strategy, resident):
    """A submission that rolls back leaves neither a row nor a count behind."""
    tally_rebuild(strategy_id=strategy.pk)
    with pytest.raises(RuntimeError), transaction.atomic():
        services.proposal_submit(
            author=resident,
            strategy=strategy,
            title="Временное",
            body="Это предложение будет откачено транзакцией.",
        )
        raise RuntimeError
    tally_rebuild(strategy_id=strategy.pk)
    assert Tally.objects.get(strategy=strategy).data["totals"]["received"] == 0


def test_web_process_reuses_a_snapshot_for_a_moment(strategy, settings):
    from django.core.cache import cache

    from proposals.tallies.selectors import tally_json

    settings.CIVIC_TALLY_LOCAL_SECONDS = 60
    tally_rebuild(strategy_id=strategy.pk)
    first = tally_json(slug=strategy.slug)
    assert b'"received": 0' in first

    # Neither the cache nor the row is asked again while the memo is fresh.
    cache.clear()
    Tally.objects.filter(strategy=strategy).update(data={"totals": {"received": 99}})
    assert tally_json(slug=strategy.slug) == first

    # A rebuild in this process forgets the memo at once.
    ProposalFactory(strategy=strategy)
    tally_rebuild(strategy_id=strategy.pk)
    assert b'"received": 1' in tally_json(slug=strategy.slug)

    # Once the memo is stale, the cache is read again.
    settings.CIVIC_TALLY_LOCAL_SECONDS = 0
    cache.clear()
    Tally.objects.filter(strategy=strategy).update(
        data={"totals": {"received": 7}}, generated_at=timezone.now()
    )
    assert b'"received": 7' in tally_json(slug=strategy.slug)
