"""Comment counts in the tallies (issue 15, "Discussion"): equal to counts made straight
from the rows whatever comments went through, and brought up to date by every change."""

import random
from collections import Counter

import pytest

from civic.errors import InvalidInput, NotAllowed, StateConflict
from proposals.comments.services import (
    comment_create,
    comment_delete,
    comment_edit,
    comment_flag,
    comment_moderate,
)
from proposals.models import Comment, Proposal, Reaction, Tally
from proposals.services import proposal_moderate
from proposals.tallies.services import TOP_PROPOSALS, tally_compute, tally_rebuild
from proposals.tallies.tasks import tally_sweep
from strategy.models import Theme
from tests.conftest import client_for
from tests.factories import ProposalFactory, SectionFactory, StrategyFactory, UserFactory

pytestmark = pytest.mark.django_db

TEXT = "Этот перекрёсток затапливает каждую весну."
# The keys a top_proposals entry had before comments were counted: clients rely on them.
ENTRY_KEYS = {"id", "code", "title", "language", "section_code", "reactions", "reactions_total"}


def _expected(strategy) -> dict:
    """The comment counts made in Python from every row, without the code under test."""
    comments = [
        c
        for c in Comment.objects.select_related("proposal").prefetch_related("proposal__themes")
        if c.proposal.strategy_id == strategy.pk
        and c.proposal.status == Proposal.Status.PUBLISHED
        and c.hidden_by == ""
        and c.deleted_at is None
    ]
    per_proposal = Counter(c.proposal for c in comments)
    ranked = sorted(per_proposal.items(), key=lambda item: (-item[1], item[0].code))
    return {
        "total": len(comments),
        "by_theme": Counter(t.slug for c in comments for t in c.proposal.themes.all()),
        "by_section": Counter(c.proposal.section_id for c in comments),
        "most_discussed": [(p.pk, p.code, n) for p, n in ranked[:TOP_PROPOSALS]],
    }


def _assert_matches_rows(strategy, data: dict) -> None:
    expected = _expected(strategy)
    comments = data["comments"]
    assert comments["total"] == expected["total"]
    assert {row["theme"]: row["count"] for row in comments["by_theme"]} == {
        slug: expected["by_theme"][slug] for slug in Theme.objects.values_list("slug", flat=True)
    }
    by_section = {row["section"]: row["count"] for row in comments["by_section"]}
    assert {k: v for k, v in by_section.items() if v} == dict(expected["by_section"])
    # Lined up with the proposals' by_section, row for row, so a page can put them side by side.
    assert [(r["section"], r["code"]) for r in comments["by_section"]] == [
        (r["section"], r["code"]) for r in data["by_section"]
    ]
    assert [(r["id"], r["code"], r["comments_count"]) for r in data["most_discussed"]] == expected[
        "most_discussed"
    ]
    for entry in data["most_discussed"]:
        assert set(entry) == ENTRY_KEYS | {"comments_count"}
        kinds = Counter(
            Reaction.objects.filter(proposal_id=entry["id"]).values_list("kind", flat=True)
        )
        assert entry["reactions"] == {kind: kinds[kind] for kind in Reaction.Kind.values}
        assert entry["reactions_total"] == sum(kinds.values())


@pytest.fixture
def world(strategy, moderator):
    """Published proposals over sections and themes, one never published, residents."""
    rng = random.Random(15)
    themes = list(Theme.objects.all())
    sections = [SectionFactory(strategy=strategy, code=str(n), position=n) for n in (1, 2, 3)]
    proposals = [
        ProposalFactory(
            strategy=strategy,
            section=rng.choice([*sections, None]),
            themes=rng.sample(themes, rng.randint(0, 3)),
        )
        for _ in range(14)
    ]
    residents = UserFactory.create_batch(8)
    for proposal in proposals[:6]:
        for user in rng.sample(residents, rng.randint(0, 4)):
            Reaction.objects.create(
                proposal=proposal, user=user, kind=rng.choice(Reaction.Kind.values)
            )
    return {
        "proposals": proposals,
        "pending": ProposalFactory(strategy=strategy, status=Proposal.Status.PENDING),
        "residents": residents,
        "moderator": moderator,
        "rng": rng,
    }


def test_comment_tallies_equal_the_rows_after_a_random_mix_of_changes(
    strategy, world, settings, django_capture_on_commit_callbacks
):
    """Posts, replies, hides, restores, deletes, flags (some hiding a comment), and a
    proposal taken down: after every step the stored snapshot, refreshed by the services'
    own marks alone, equals the rows."""
    settings.CIVIC_COMMENT_HIDE_AFTER_FLAGS = 2
    rng, residents, moderator = world["rng"], world["residents"], world["moderator"]
    proposals = world["proposals"]
    # Another strategy's discussion must not leak into this one's counts.
    elsewhere = ProposalFactory(strategy=StrategyFactory(slug="elsewhere"))
    for user in residents[:3]:
        comment_create(proposal=elsewhere, author=user, body=TEXT)
    tally_rebuild(strategy_id=strategy.pk)

    done = Counter()
    seen: set[str] = set()
    for step in range(160):
        comments = list(Comment.objects.filter(proposal__strategy=strategy))
        live = [c for c in comments if c.deleted_at is None]
        action = (
            "take_down"
            if step in (60, 120)
            else rng.choice(
                ["post", "post", "post", "reply", "hide", "restore", "delete", "flag", "flag"]
            )
        )
        try:
            with django_capture_on_commit_callbacks(execute=True):
                if action == "post" or not live:
                    comment_create(
                        proposal=rng.choice(proposals[:10]), author=rng.choice(residents), body=TEXT
                    )
                    action = "post"
                elif action == "reply":
                    parent = rng.choice([c for c in live if c.parent_id is None] or live)
                    comment_create(
                        proposal=parent.proposal,
                        author=rng.choice(residents),
                        body=TEXT,
                        parent=parent,
                    )
                elif action == "hide":
                    comment_moderate(
                        comment=rng.choice(live),
                        moderator=moderator,
                        action="hide",
                        reason=rng.choice(["spam", "offensive", ""]),
                    )
                elif action == "restore":
                    hidden = [c for c in live if c.hidden_by] or live
                    comment_moderate(
                        comment=rng.choice(hidden), moderator=moderator, action="restore"
                    )
                elif action == "delete":
                    comment = rng.choice(live)
                    comment_delete(comment=comment, actor=comment.author)
                elif action == "flag":
                    comment_flag(
                        comment=rng.choice(live), user=rng.choice(residents), reason="spam"
                    )
                else:
                    taken = rng.choice(
                        [p for p in proposals if p.status == Proposal.Status.PUBLISHED]
                    )
                    proposal_moderate(
                        proposal=taken, moderator=moderator, decision="reject", reason="off_topic"
                    )
                    taken.refresh_from_db()
        except (StateConflict, InvalidInput, NotAllowed):
            # Refused by the services (a parent is a reply, a comment flagged twice...):
            # nothing changed, and the tallies must still hold.
            action = f"{action} refused"
        done[action] += 1
        tally = Tally.objects.get(strategy=strategy)
        assert not tally.is_dirty, (step, action)
        _assert_matches_rows(strategy, tally.data)
        rows = Comment.objects.filter(proposal__strategy=strategy)
        seen |= set(rows.exclude(hidden_by="").values_list("hidden_by", flat=True))
        seen |= {"deleted"} if rows.filter(deleted_at__isnull=False).exists() else set()
        unpublished = rows.filter(hidden_by="", deleted_at=None).exclude(
            proposal__status=Proposal.Status.PUBLISHED
        )
        seen |= {"unpublished"} if unpublished.exists() else set()

    # Every kind of change happened, and each state that must not count was there to
    # leave out at some step: not a vacuous run.
    assert {"post", "reply", "hide", "restore", "delete", "flag", "take_down"} <= set(done), done
    assert seen >= {"flags", "moderator", "deleted", "unpublished"}, seen
    assert Tally.objects.get(strategy=strategy).data["comments"]["total"] > 0
    # The rest of the snapshot is what a fresh count gives: nothing else was disturbed.
    assert Tally.objects.get(strategy=strategy).data == tally_compute(strategy=strategy)


def test_hidden_deleted_and_unpublished_comments_do_not_count(strategy, moderator, settings):
    settings.CIVIC_COMMENT_HIDE_AFTER_FLAGS = 2
    transport = Theme.objects.get(slug="transport")
    section = SectionFactory(strategy=strategy, code="1", position=1)
    counted = ProposalFactory(strategy=strategy, section=section, themes=[transport])
    taken_down = ProposalFactory(strategy=strategy, section=section, themes=[transport])
    alice, bob, carol = UserFactory.create_batch(3)

    comment_create(proposal=counted, author=alice, body=TEXT)
    hidden = comment_create(proposal=counted, author=alice, body=TEXT)
    comment_moderate(comment=hidden, moderator=moderator, action="hide", reason="spam")
    by_flags = comment_create(proposal=counted, author=alice, body=TEXT)
    comment_flag(comment=by_flags, user=bob, reason="spam")
    comment_flag(comment=by_flags, user=carol, reason="offensive")
    deleted = comment_create(proposal=counted, author=alice, body=TEXT)
    comment_delete(comment=deleted, actor=alice)
    for user in (alice, bob, carol):
        comment_create(proposal=taken_down, author=user, body=TEXT)
    proposal_moderate(
        proposal=taken_down, moderator=moderator, decision="reject", reason="off_topic"
    )

    data = tally_compute(strategy=strategy)
    assert data["comments"]["total"] == 1
    assert {r["theme"]: r["count"] for r in data["comments"]["by_theme"]}["transport"] == 1
    assert data["comments"]["by_section"] == [{"section": section.pk, "code": "1", "count": 1}]
    assert [(r["id"], r["comments_count"]) for r in data["most_discussed"]] == [(counted.pk, 1)]
    _assert_matches_rows(strategy, data)

    # Restored, the hidden ones count again; the taken-down proposal's discussion still not.
    comment_moderate(comment=hidden, moderator=moderator, action="restore")
    comment_moderate(comment=by_flags, moderator=moderator, action="restore")
    data = tally_compute(strategy=strategy)
    assert data["comments"]["total"] == 3
    assert [(r["id"], r["comments_count"]) for r in data["most_discussed"]] == [(counted.pk, 3)]


def test_most_discussed_ranks_by_comments_then_code_and_stops_at_the_limit(strategy):
    users = UserFactory.create_batch(3)
    proposals = [ProposalFactory(strategy=strategy, code=f"ALT-{n:06d}") for n in range(13, 0, -1)]
    # Two comments on the last three made (the lowest codes), one on every other.
    for proposal in proposals:
        for user in users[: 2 if proposal.code <= "ALT-000003" else 1]:
            comment_create(proposal=proposal, author=user, body=TEXT)
    Reaction.objects.create(proposal=proposals[-1], user=users[0], kind="like")

    ranked = tally_compute(strategy=strategy)["most_discussed"]
    assert [r["code"] for r in ranked] == [f"ALT-{n:06d}" for n in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10)]
    assert [r["comments_count"] for r in ranked] == [2, 2, 2] + [1] * 7
    assert ranked[0]["reactions"]["like"] == 1 and ranked[0]["reactions_total"] == 1
    assert ranked[1]["reactions_total"] == 0


def test_every_existing_field_keeps_its_shape(strategy, resident):
    proposal = ProposalFactory(strategy=strategy)
    Reaction.objects.create(proposal=proposal, user=resident, kind="like")
    comment_create(proposal=proposal, author=resident, body=TEXT)
    tally_rebuild(strategy_id=strategy.pk)
    body = client_for(None).get(f"/api/v1/strategies/{strategy.slug}/tallies/").json()
    assert set(body) == {
        "strategy",
        "generated_at",
        "totals",
        "by_theme",
        "by_section",
        "by_district",
        "by_language",
        "by_day",
        "reactions",
        "top_proposals",
        "answers",
        "comments",
        "most_discussed",
    }
    assert set(body["top_proposals"][0]) == ENTRY_KEYS
    assert body["comments"]["total"] == 1
    assert body["most_discussed"][0] == {**body["top_proposals"][0], "comments_count": 1}


def test_a_strategy_never_counted_answers_empty_comment_counts(strategy):
    body = client_for(None).get(f"/api/v1/strategies/{strategy.slug}/tallies/").json()
    assert body["generated_at"] is None
    assert body["comments"] == {"total": 0, "by_theme": [], "by_section": []}
    assert body["most_discussed"] == []


@pytest.mark.parametrize("change", ["post", "reply", "hide", "restore", "delete", "auto_hide"])
def test_a_comment_change_marks_the_tally_and_refreshes_it_after_commit(
    strategy, moderator, settings, change, django_capture_on_commit_callbacks
):
    settings.CIVIC_COMMENT_HIDE_AFTER_FLAGS = 2
    proposal = ProposalFactory(strategy=strategy)
    alice, bob, carol = UserFactory.create_batch(3)
    comment = comment_create(proposal=proposal, author=alice, body=TEXT)
    if change == "restore":
        comment_moderate(comment=comment, moderator=moderator, action="hide", reason="spam")
    if change == "auto_hide":
        comment_flag(comment=comment, user=bob, reason="spam")
    tally_rebuild(strategy_id=strategy.pk)
    before = Tally.objects.get(strategy=strategy)
    assert not before.is_dirty

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        if change == "post":
            comment_create(proposal=proposal, author=bob, body=TEXT)
        elif change == "reply":
            comment_create(proposal=proposal, author=bob, body=TEXT, parent=comment)
        elif change in ("hide", "restore"):
            comment_moderate(comment=comment, moderator=moderator, action=change)
        elif change == "delete":
            comment_delete(comment=comment, actor=alice)
        else:
            comment_flag(comment=comment, user=carol, reason="spam")
    # The intent is in the database before any message: a lost one leaves it for the sweep.
    assert Tally.objects.get(strategy=strategy).dirty_version > before.dirty_version
    assert callbacks, "nothing scheduled a refresh"
    for callback in callbacks:
        callback()
    tally = Tally.objects.get(strategy=strategy)
    assert not tally.is_dirty
    assert tally.data["comments"]["total"] != before.data["comments"]["total"]
    _assert_matches_rows(strategy, tally.data)


def test_the_sweep_catches_a_comment_whose_refresh_was_lost(
    strategy, resident, django_capture_on_commit_callbacks
):
    proposal = ProposalFactory(strategy=strategy)
    tally_rebuild(strategy_id=strategy.pk)
    # The broker was down: the refresh never ran.
    with django_capture_on_commit_callbacks(execute=False):
        comment_create(proposal=proposal, author=resident, body=TEXT)
    assert Tally.objects.get(strategy=strategy).data["comments"]["total"] == 0

    assert tally_sweep() == [strategy.pk]
    tally = Tally.objects.get(strategy=strategy)
    assert not tally.is_dirty
    assert tally.data["comments"]["total"] == 1
    assert [r["id"] for r in tally.data["most_discussed"]] == [proposal.pk]


def test_editing_a_comment_moves_no_count(strategy, resident, django_capture_on_commit_callbacks):
    proposal = ProposalFactory(strategy=strategy)
    comment = comment_create(proposal=proposal, author=resident, body=TEXT)
    tally_rebuild(strategy_id=strategy.pk)
    version = Tally.objects.get(strategy=strategy).dirty_version
    with django_capture_on_commit_callbacks(execute=True):
        comment_edit(comment=comment, actor=resident, body=TEXT + " Уже второй год.")
    assert Tally.objects.get(strategy=strategy).dirty_version == version
