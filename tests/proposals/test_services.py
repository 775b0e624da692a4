"""Services: the state machine, the audit trail, reactions, and races between people."""

from collections import Counter

import pytest

from civic.errors import InvalidInput, NotAllowed, StateConflict
from proposals import services
from proposals.language import detect_language
from proposals.models import Proposal, ProposalEvent, Reaction, Tally
from proposals.tallies.services import tally_rebuild
from strategy.models import Theme
from tests.concurrency import in_threads, needs_postgres
from tests.factories import ProposalFactory, SectionFactory, StrategyFactory, UserFactory

pytestmark = pytest.mark.django_db

TITLE = "Освещение во дворах"
BODY = "Прошу установить фонари во дворе дома 5 по улице Абая, там очень темно."


def _submit(author, strategy, **kwargs) -> Proposal:
    return services.proposal_submit(
        author=author,
        strategy=strategy,
        title=kwargs.pop("title", TITLE),
        body=kwargs.pop("body", BODY),
        **kwargs,
    )


class TestSubmit:
    def test_writes_row_code_themes_event_and_dirty_tally(self, strategy, resident):
        theme = Theme.objects.get(slug="safety")
        proposal = _submit(resident, strategy, themes=[theme])
        assert proposal.status == "pending"
        assert proposal.code == f"ALT-{proposal.pk:06d}"
        assert list(proposal.themes.values_list("slug", flat=True)) == ["safety"]
        assert proposal.language == "ru"
        event = proposal.events.get()
        assert (event.action, event.from_status, event.to_status, event.actor) == (
            "submit",
            "",
            "pending",
            resident,
        )
        assert Tally.objects.get(strategy=strategy).is_dirty

    def test_text_is_trimmed_and_line_ends_normalised(self, strategy, resident):
        proposal = _submit(
            resident,
            strategy,
            title="  Фонари  ",
            body="\r\n Первая строка\r\nвторая строка\tс табуляцией \n",
        )
        assert proposal.title == "Фонари"
        assert proposal.body == "Первая строка\nвторая строка\tс табуляцией"

    @pytest.mark.parametrize("status", ["draft", "closed", "archived"])
    def test_only_an_open_strategy_takes_proposals(self, resident, status):
        strategy = StrategyFactory(status=status)
        with pytest.raises(InvalidInput) as error:
            _submit(resident, strategy)
        assert error.value.code == "strategy_closed"
        assert not Proposal.objects.exists()

    def test_section_of_another_strategy_is_refused(self, strategy, resident):
        other = SectionFactory(strategy=StrategyFactory())
        with pytest.raises(InvalidInput) as error:
            _submit(resident, strategy, section=other)
        assert error.value.field == "section"

    def test_unverified_resident_may_not_submit(self, strategy, settings):
        unverified = UserFactory(email_verified=False)
        with pytest.raises(NotAllowed) as error:
            _submit(unverified, strategy)
        assert error.value.code == "email_not_verified"
        settings.CIVIC_EMAIL_VERIFICATION = False
        assert _submit(unverified, strategy).status == "pending"


ALLOWED = [
    ("pending", "approve", "published"),
    ("pending", "reject", "rejected"),
    ("pending", "request_changes", "changes_requested"),
    ("published", "reject", "rejected"),
]
FORBIDDEN = [
    (status, decision)
    for status in Proposal.Status.values
    for decision in ("approve", "reject", "request_changes")
    if (status, decision) not in {(s, d) for s, d, _ in ALLOWED}
]


class TestStateMachine:
    @staticmethod
    def _args(decision: str) -> dict:
        return {
            "reject": {"reason": "off_topic"},
            "request_changes": {"note": "Уточните адрес."},
        }.get(decision, {})

    @pytest.mark.parametrize(("start", "decision", "end"), ALLOWED)
    def test_allowed_decisions(self, strategy, moderator, start, decision, end):
        proposal = ProposalFactory(strategy=strategy, status=start)
        result = services.proposal_moderate(
            proposal=proposal, moderator=moderator, decision=decision, **self._args(decision)
        )
        assert result.status == end
        event = ProposalEvent.objects.get(proposal=proposal)
        assert (event.action, event.from_status, event.to_status, event.actor) == (
            decision,
            start,
            end,
            moderator,
        )
        assert result.latest_decision == event
        if end == "published":
            assert result.published_at is not None

    @pytest.mark.parametrize(("start", "decision"), FORBIDDEN)
    def test_forbidden_decisions_change_nothing(self, strategy, moderator, start, decision):
        proposal = ProposalFactory(strategy=strategy, status=start)
        with pytest.raises(StateConflict):
            services.proposal_moderate(
                proposal=proposal, moderator=moderator, decision=decision, **self._args(decision)
            )
        proposal.refresh_from_db()
        assert proposal.status == start
        assert not ProposalEvent.objects.filter(proposal=proposal).exists()

    def test_edit_after_changes_requested_goes_back_to_pending(self, strategy, resident, moderator):
        proposal = _submit(resident, strategy)
        services.proposal_moderate(
            proposal=proposal,
            moderator=moderator,
            decision="request_changes",
            note="Укажите адрес.",
        )
        edited = services.proposal_edit(
            proposal=proposal, actor=resident, body=BODY + " Адрес: Абая, 5."
        )
        assert edited.status == "pending"
        event = edited.events.order_by("id").last()
        assert (event.action, event.from_status, event.to_status) == (
            "edit",
            "changes_requested",
            "pending",
        )
        assert event.changes["body"]["to"].endswith("Абая, 5.")

    @pytest.mark.parametrize("status", ["pending", "published", "rejected", "withdrawn"])
    def test_edit_only_while_changes_requested(self, strategy, resident, status):
        proposal = ProposalFactory(strategy=strategy, author=resident, status=status)
        with pytest.raises(StateConflict):
            services.proposal_edit(proposal=proposal, actor=resident, title="Новый заголовок")

    def test_only_the_author_edits_and_withdraws(self, strategy, resident, other_resident):
        proposal = ProposalFactory(strategy=strategy, author=resident, status="changes_requested")
        with pytest.raises(NotAllowed):
            services.proposal_edit(proposal=proposal, actor=other_resident, title="Чужая правка")
        with pytest.raises(NotAllowed):
            services.proposal_withdraw(proposal=proposal, actor=other_resident)

    @pytest.mark.parametrize(
        ("status", "allowed"),
        [
            ("pending", True),
            ("changes_requested", True),
            ("published", False),
            ("rejected", False),
            ("withdrawn", False),
        ],
    )
    def test_withdraw(self, strategy, resident, status, allowed):
        proposal = ProposalFactory(strategy=strategy, author=resident, status=status)
        if allowed:
            assert services.proposal_withdraw(proposal=proposal, actor=resident).status == (
                "withdrawn"
            )
        else:
            with pytest.raises(StateConflict):
                services.proposal_withdraw(proposal=proposal, actor=resident)
            proposal.refresh_from_db()
            assert proposal.status == status

    def test_moderator_replaces_themes_and_history_records_it(self, strategy, resident, moderator):
        proposal = _submit(resident, strategy, themes=[Theme.objects.get(slug="ecology")])
        services.proposal_moderate(
            proposal=proposal,
            moderator=moderator,
            decision="approve",
            themes=list(Theme.objects.filter(slug__in=["transport", "ecology"])),
        )
        assert sorted(proposal.themes.values_list("slug", flat=True)) == ["ecology", "transport"]
        event = proposal.events.get(action="approve")
        assert event.changes == {"themes": {"from": ["ecology"], "to": ["ecology", "transport"]}}

    def test_duplicate_needs_another_proposal_of_the_same_strategy(self, strategy, moderator):
        original = ProposalFactory(strategy=strategy)
        copy = ProposalFactory(strategy=strategy, status="pending")
        with pytest.raises(InvalidInput):
            services.proposal_moderate(
                proposal=copy, moderator=moderator, decision="reject", reason="duplicate"
            )
        with pytest.raises(InvalidInput):
            services.proposal_moderate(
                proposal=copy,
                moderator=moderator,
                decision="reject",
                reason="duplicate",
                duplicate_of=copy,
            )
        with pytest.raises(InvalidInput):
            services.proposal_moderate(
                proposal=copy,
                moderator=moderator,
                decision="reject",
                reason="duplicate",
                duplicate_of=ProposalFactory(strategy=StrategyFactory()),
            )
        result = services.proposal_moderate(
            proposal=copy,
            moderator=moderator,
            decision="reject",
            reason="duplicate",
            duplicate_of=original,
        )
        assert result.duplicate_of == original

    def test_expected_status_turns_a_lost_race_into_a_conflict(self, strategy, moderator):
        proposal = ProposalFactory(strategy=strategy, status="pending")
        services.proposal_moderate(
            proposal=proposal, moderator=moderator, decision="approve", expected_status="pending"
        )
        with pytest.raises(StateConflict) as error:
            services.proposal_moderate(
                proposal=proposal,
                moderator=moderator,
                decision="reject",
                reason="spam",
                expected_status="pending",
            )
        assert error.value.code == "status_changed"

    def test_analyst_may_not_moderate(self, strategy, analyst):
        with pytest.raises(NotAllowed):
            services.proposal_moderate(
                proposal=ProposalFactory(strategy=strategy, status="pending"),
                moderator=analyst,
                decision="approve",
            )


class TestReactions:
    def test_second_reaction_replaces_the_first(self, strategy, resident):
        proposal = ProposalFactory(strategy=strategy)
        services.reaction_set(proposal=proposal, user=resident, kind="like")
        services.reaction_set(proposal=proposal, user=resident, kind="outrage")
        assert list(Reaction.objects.values_list("kind", flat=True)) == ["outrage"]
        services.reaction_clear(proposal=proposal, user=resident)
        assert not Reaction.objects.exists()

    @pytest.mark.parametrize("status", ["pending", "rejected", "withdrawn", "changes_requested"])
    def test_only_published_proposals_take_reactions(self, strategy, resident, status):
        proposal = ProposalFactory(strategy=strategy, status=status)
        with pytest.raises(StateConflict):
            services.reaction_set(proposal=proposal, user=resident, kind="like")
        assert not Reaction.objects.exists()

    def test_unknown_kind(self, strategy, resident):
        with pytest.raises(InvalidInput):
            services.reaction_set(
                proposal=ProposalFactory(strategy=strategy), user=resident, kind="love"
            )


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Нужно больше автобусов на маршруте 92, люди ждут по сорок минут.", "ru"),
        ("Ауладағы шамдарды жөндеу керек, кешке қараңғы болады.", "kk"),
        ("Алматының экологиясы үшін көмірден газға көшу қажет.", "kk"),
        ("Please add protected bike lanes on Abay avenue.", "en"),
        ("Прошу отремонтировать дорогу у парка Көк-Жайлау, там ямы и лужи после дождя.", "ru"),
        ("12345 !!!", "ru"),
    ],
)
def test_language_detection(text, language):
    assert detect_language(text) == language


# --- Races: need a database that lets several connections write at once -------------


@needs_postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_moderators_at_once_one_wins_one_gets_a_conflict():
    from civic.accounts.services import role_grant

    strategy = StrategyFactory()
    moderators = UserFactory.create_batch(2)
    for moderator in moderators:
        role_grant(user=moderator, role="moderator")
    decisions = [("approve", {}), ("reject", {"reason": "spam"})]
    for _ in range(10):
        proposal = ProposalFactory(strategy=strategy, status="pending")
        results = in_threads(
            2,
            lambda i, p=proposal: services.proposal_moderate(
                proposal=p,
                moderator=moderators[i],
                decision=decisions[i][0],
                expected_status="pending",
                **decisions[i][1],
            ),
        )
        outcomes = sorted(type(result).__name__ for result in results)
        assert outcomes == ["Proposal", "StateConflict"], results
        proposal.refresh_from_db()
        assert ProposalEvent.objects.filter(proposal=proposal).count() == 1
        assert proposal.status == proposal.latest_decision.to_status


@needs_postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_many_residents_reacting_at_once_give_exact_counts():
    strategy = StrategyFactory()
    proposal = ProposalFactory(strategy=strategy)
    residents = UserFactory.create_batch(40)
    kinds = Reaction.Kind.values

    def react(index: int) -> None:
        # Each resident changes their mind a few times; only the last reaction counts.
        for step in range(5):
            services.reaction_set(
                proposal=proposal, user=residents[index], kind=kinds[(index + step) % len(kinds)]
            )

    results = in_threads(len(residents), react)
    assert [r for r in results if r is not None] == []
    expected = Counter(kinds[(i + 4) % len(kinds)] for i in range(len(residents)))
    assert Reaction.objects.count() == len(residents)
    tally = tally_rebuild(strategy_id=strategy.pk)
    assert tally.data["reactions"] == {kind: expected[kind] for kind in kinds}


@needs_postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_no_reaction_lands_after_a_takedown():
    from civic.accounts.services import role_grant

    strategy = StrategyFactory()
    moderator, resident = UserFactory.create_batch(2)
    role_grant(user=moderator, role="moderator")
    for _ in range(10):
        proposal = ProposalFactory(strategy=strategy)

        def act(index: int, proposal=proposal):
            if index == 0:
                return services.proposal_moderate(
                    proposal=proposal, moderator=moderator, decision="reject", reason="offensive"
                )
            return services.reaction_set(proposal=proposal, user=resident, kind="outrage")

        in_threads(2, act)
        takedown = ProposalEvent.objects.get(proposal=proposal, action="reject")
        reaction = Reaction.objects.filter(proposal=proposal).first()
        # Either the reaction came first, or it was refused.
        assert reaction is None or reaction.created_at < takedown.at
