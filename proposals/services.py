"""Every write to proposals, moderation decisions and reactions goes through here.

Each service validates, changes rows, writes its audit row and marks the
strategy's tally dirty in one transaction, and leaves follow-up work (tally
refresh, emails) to tasks enqueued after the commit.
"""

from collections.abc import Iterable
from typing import Any

from django.core.mail import send_mail
from django.db import connection, transaction
from django.db.models import Count, IntegerField, Max, Min, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_noop

from civic.accounts.models import User
from civic.accounts.rules import allows
from civic.celery import enqueue_on_commit
from civic.errors import InvalidInput, NotAllowed, StateConflict
from civic.text import clean_text
from proposals.emails import decision_email
from proposals.following.services import fan_out_later, follow_automatically
from proposals.language import detect_language
from proposals.models import (
    BODY_MAX,
    BODY_MIN,
    TITLE_MAX,
    TITLE_MIN,
    Proposal,
    ProposalEvent,
    Reaction,
)
from proposals.search.services import search_index_update
from proposals.summary.services import summary_mark_dirty
from proposals.tallies.services import tally_mark_dirty
from strategy.models import District, Section, Strategy, Theme

Status = Proposal.Status
Action = ProposalEvent.Action

# decision -> (statuses it may start from, status it leads to)
DECISIONS: dict[str, tuple[tuple[str, ...], str]] = {
    Action.APPROVE: ((Status.PENDING,), Status.PUBLISHED),
    Action.REJECT: ((Status.PENDING, Status.PUBLISHED), Status.REJECTED),
    Action.REQUEST_CHANGES: ((Status.PENDING,), Status.CHANGES_REQUESTED),
}
WITHDRAWABLE = (Status.PENDING, Status.CHANGES_REQUESTED)
Reason = ProposalEvent.Reason
# Rejections that harm no one when shown, and those that must stay hidden from the public
# (showing them would repeat the spam, the insult or the personal data); for `other` the
# moderator chooses.
PUBLIC_REASONS = (Reason.DUPLICATE, Reason.OFF_TOPIC, Reason.NOT_A_PROPOSAL)
HIDDEN_REASONS = (Reason.SPAM, Reason.OFFENSIVE, Reason.PERSONAL_DATA)
EDITABLE = (Status.CHANGES_REQUESTED,)


def decisions_allowed(status: str) -> list[str]:
    """The decisions a moderator may take on a proposal in this status."""
    return [decision for decision, (starts, _) in DECISIONS.items() if status in starts]


def may_withdraw(proposal: Proposal) -> bool:
    return proposal.status in WITHDRAWABLE


def may_edit(proposal: Proposal) -> bool:
    return proposal.status in EDITABLE


_UNSET: Any = object()


def _check_may_submit(user: User) -> None:
    if not allows(user, "proposals.submit_proposal"):
        raise NotAllowed(
            gettext_noop("Verify your email address before you do this."), code="email_not_verified"
        )


def _check_section(section: Section | None, strategy: Strategy) -> None:
    if section is not None and section.strategy_id != strategy.pk:
        raise InvalidInput(
            gettext_noop("This section does not belong to the strategy."), field="section"
        )


def proposal_text_clean(*, title: str, body: str) -> tuple[str, str]:
    """Title and body as a proposal stores them; InvalidInput naming the field otherwise."""
    return (
        clean_text(title, field="title", min_length=TITLE_MIN, max_length=TITLE_MAX),
        clean_text(body, field="body", min_length=BODY_MIN, max_length=BODY_MAX),
    )


def _set_text(proposal: Proposal, *, title: str, body: str) -> None:
    proposal.title, proposal.body = proposal_text_clean(title=title, body=body)
    proposal.search_text = f"{proposal.title}\n{proposal.body}".casefold()
    proposal.language = detect_language(f"{proposal.title}\n{proposal.body}")


@transaction.atomic
def proposal_submit(
    *,
    author: User,
    strategy: Strategy,
    title: str,
    body: str,
    section: Section | None = None,
    district: District | None = None,
    themes: Iterable[Theme] = (),
) -> Proposal:
    _check_may_submit(author)
    if not strategy.accepts_proposals():
        raise InvalidInput(
            gettext_noop("This strategy is not open for proposals."),
            field="strategy",
            code="strategy_closed",
        )
    _check_section(section, strategy)
    proposal = Proposal(strategy=strategy, section=section, author=author, district=district)
    _set_text(proposal, title=title, body=body)
    proposal.save()
    search_index_update(proposal_ids=[proposal.pk])
    # The code carries the row id, so it is unique without a per-strategy counter
    # that every submission would have to lock.
    proposal.code = f"{strategy.code_prefix}-{proposal.pk:06d}"
    proposal.save(update_fields=["code"])
    themes = list(themes)
    proposal.themes.set(themes)
    proposal.author_themes = sorted(theme.slug for theme in themes)
    proposal.save(update_fields=["author_themes"])
    ProposalEvent.objects.create(
        proposal=proposal,
        actor=author,
        action=Action.SUBMIT,
        from_status="",
        to_status=Status.PENDING,
        at=proposal.created_at,
    )
    follow_automatically(user=author, proposal=proposal)
    tally_mark_dirty(strategy_id=strategy.pk)
    _analyse_after_commit(proposal)
    return proposal


def _analyse_after_commit(proposal: Proposal) -> None:
    """A new or edited text gets its theme suggestions and its place among near-duplicates."""
    enqueue_on_commit("proposals.suggest_themes", proposal.pk)
    enqueue_on_commit("proposals.duplicates_refresh", proposal.strategy_id, proposal.pk)


def _lock(proposal: Proposal) -> Proposal:
    """Reload the row under a lock so the status checks below see the committed truth."""
    return Proposal.objects.select_for_update().select_related("strategy").get(pk=proposal.pk)


@transaction.atomic
def proposal_edit(
    *,
    proposal: Proposal,
    actor: User,
    title: str | None = None,
    body: str | None = None,
    section: Section | None = _UNSET,
    district: District | None = _UNSET,
    themes: Iterable[Theme] | None = None,
) -> Proposal:
    proposal = _lock(proposal)
    if not allows(actor, "proposals.edit_proposal", proposal):
        raise NotAllowed(gettext_noop("Only the author may edit a proposal."))
    if not may_edit(proposal):
        raise StateConflict(
            gettext_noop(
                "A proposal can be edited only while changes are requested; it is %(status)s."
            ),
            params={"status": proposal.status},
        )
    before = _snapshot(proposal)
    _set_text(
        proposal,
        title=proposal.title if title is None else title,
        body=proposal.body if body is None else body,
    )
    if section is not _UNSET:
        _check_section(section, proposal.strategy)
        proposal.section = section
    if district is not _UNSET:
        proposal.district = district
    if themes is not None:
        themes = list(themes)
        proposal.themes.set(themes)
        proposal.author_themes = sorted(theme.slug for theme in themes)
    # The text changed: the old suggestions are stale until the task has run again.
    proposal.suggestion_version = ""
    proposal.status = Status.PENDING
    proposal.updated_at = timezone.now()
    proposal.save()
    search_index_update(proposal_ids=[proposal.pk])
    after = _snapshot(proposal)
    ProposalEvent.objects.create(
        proposal=proposal,
        actor=actor,
        action=Action.EDIT,
        from_status=Status.CHANGES_REQUESTED,
        to_status=Status.PENDING,
        changes={
            key: {"from": before[key], "to": after[key]}
            for key in before
            if before[key] != after[key]
        },
    )
    tally_mark_dirty(strategy_id=proposal.strategy_id)
    _analyse_after_commit(proposal)
    return proposal


def _snapshot(proposal: Proposal) -> dict[str, Any]:
    return {
        "title": proposal.title,
        "body": proposal.body,
        "section": proposal.section_id,
        "district": proposal.district_id,
        "themes": sorted(proposal.themes.values_list("slug", flat=True)),
    }


@transaction.atomic
def proposal_withdraw(*, proposal: Proposal, actor: User) -> Proposal:
    proposal = _lock(proposal)
    if not allows(actor, "proposals.withdraw_proposal", proposal):
        raise NotAllowed(gettext_noop("Only the author may withdraw a proposal."))
    if not may_withdraw(proposal):
        raise StateConflict(
            gettext_noop("A %(status)s proposal cannot be withdrawn."),
            params={"status": proposal.status},
        )
    from_status = proposal.status
    proposal.status = Status.WITHDRAWN
    proposal.updated_at = timezone.now()
    proposal.save(update_fields=["status", "updated_at"])
    event = ProposalEvent.objects.create(
        proposal=proposal,
        actor=actor,
        action=Action.WITHDRAW,
        from_status=from_status,
        to_status=Status.WITHDRAWN,
    )
    fan_out_later(event="status", object_id=event.pk)
    tally_mark_dirty(strategy_id=proposal.strategy_id)
    return proposal


@transaction.atomic
def proposal_moderate(
    *,
    proposal: Proposal,
    moderator: User,
    decision: str,
    reason: str = "",
    note: str = "",
    themes: Iterable[Theme] | None = None,
    duplicate_of: Proposal | None = None,
    expected_status: str | None = None,
    public: bool | None = None,
    note_public: bool = False,
) -> Proposal:

    if not allows(moderator, "proposals.moderate"):
        raise NotAllowed(gettext_noop("Only moderators decide on proposals."))
    if decision not in DECISIONS:
        raise InvalidInput(
            gettext_noop("Unknown decision %(decision)r."),
            field="decision",
            params={"decision": decision},
        )
    note = note.strip()
    if decision == Action.REJECT:
        if reason not in ProposalEvent.Reason.values:
            raise InvalidInput(gettext_noop("A rejection needs a reason."), field="reason")
        if reason == ProposalEvent.Reason.DUPLICATE and duplicate_of is None:
            raise InvalidInput(
                gettext_noop("Name the proposal this one duplicates."), field="duplicate_of"
            )
    elif reason:
        raise InvalidInput(gettext_noop("Only a rejection takes a reason."), field="reason")
    if decision == Action.REQUEST_CHANGES and not note:
        raise InvalidInput(gettext_noop("Tell the author what to change."), field="note")
    if duplicate_of is not None and reason != ProposalEvent.Reason.DUPLICATE:
        raise InvalidInput(
            gettext_noop("duplicate_of goes with reason 'duplicate'."), field="duplicate_of"
        )
    public = _rejection_public(decision=decision, reason=reason, public=public)
    if note_public and not (public and note):
        raise InvalidInput(
            gettext_noop("Only the note of a public rejection can be made public."),
            field="note_public",
        )

    # The lock makes two moderators deciding at once take turns; the second then
    # sees the first one's status and gets a conflict instead of overwriting it.
    proposal = _lock(proposal)
    if duplicate_of is not None and (
        duplicate_of.pk == proposal.pk or duplicate_of.strategy_id != proposal.strategy_id
    ):
        raise InvalidInput(
            gettext_noop("A proposal can duplicate only another one of the same strategy."),
            field="duplicate_of",
        )
    if expected_status is not None and proposal.status != expected_status:
        raise StateConflict(
            gettext_noop(
                "The proposal is now %(status)s, not %(expected)s: someone decided on it first."
            ),
            code="status_changed",
            params={"status": proposal.status, "expected": expected_status},
        )
    _, to_status = DECISIONS[decision]
    if decision not in decisions_allowed(proposal.status):
        raise StateConflict(
            gettext_noop("A %(status)s proposal cannot take the decision %(decision)s."),
            params={"status": proposal.status, "decision": decision},
        )

    now = timezone.now()
    changes: dict[str, Any] = {}
    if themes is not None:
        before = sorted(proposal.themes.values_list("slug", flat=True))
        themes = list(themes)
        proposal.themes.set(themes)
        after = sorted(theme.slug for theme in themes)
        if before != after:
            changes["themes"] = {"from": before, "to": after}
    from_status = proposal.status
    event = ProposalEvent.objects.create(
        proposal=proposal,
        actor=moderator,
        action=decision,
        from_status=from_status,
        to_status=to_status,
        reason=reason,
        note=note,
        changes=changes,
        at=now,
        public=public,
        note_public=note_public,
    )
    proposal.status = to_status
    proposal.rejection_public = public
    proposal.latest_decision = event
    proposal.updated_at = now
    if to_status == Status.PUBLISHED and proposal.published_at is None:
        proposal.published_at = now
    proposal.duplicate_of = duplicate_of
    proposal.save()
    tally_mark_dirty(strategy_id=proposal.strategy_id)
    # The summary table lists published and publicly rejected proposals.
    summary_mark_dirty(strategy_id=proposal.strategy_id)
    enqueue_on_commit("proposals.send_decision_email", event.pk)
    fan_out_later(event="status", object_id=event.pk)
    if to_status == Status.PUBLISHED:
        # Confirmed themes are what the suggester learns from. The task retrains only once
        # enough are new: this reaches the embedded default, which runs no periodic tasks,
        # and in a worker it is a count beside the six-hourly run.
        enqueue_on_commit("proposals.suggester_retrain")
    return proposal


def _rejection_public(*, decision: str, reason: str, public: bool | None) -> bool:
    """Whether the public sees this rejection: decided by the reason, or by the moderator
    for `other`. Only a rejection can be public."""
    if decision != Action.REJECT:
        if public:
            raise InvalidInput(gettext_noop("Only a rejection can be made public."), field="public")
        return False
    if reason in PUBLIC_REASONS:
        if public is False:
            raise InvalidInput(
                gettext_noop("Rejections for this reason are always public."), field="public"
            )
        return True
    if reason in HIDDEN_REASONS:
        if public:
            raise InvalidInput(
                gettext_noop("Rejections for this reason are never public."), field="public"
            )
        return False
    return bool(public)


def _check_reactable(proposal: Proposal, user: User) -> None:
    _check_may_submit(user)
    if connection.vendor == "postgresql":
        # Locks in one order everywhere: the person's row, then the proposal's, then the
        # reaction's. Account deletion holds the person's row FOR UPDATE while it erases
        # their reactions (and locks those proposals); taking the key-share lock the
        # reaction's INSERT needs anyway before the proposal's makes the two queue
        # instead of deadlocking.
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT 1 FROM {User._meta.db_table} WHERE id = %s FOR KEY SHARE",  # noqa: S608
                [user.pk],
            )
    status = _lock_for_reactions(proposal.pk)
    if status != Status.PUBLISHED:
        raise StateConflict(gettext_noop("Only published proposals take reactions."))


def _lock_for_reactions(proposal_id: int) -> str | None:
    """Lock the proposal's row before its reactions change; its status, or None if gone.

    Reactions to one proposal take turns, so each recount sees every reaction committed
    before it and none that lands while it counts: without the lock two people reacting
    at once would each count without the other's row and the later write would lose one.
    NO KEY UPDATE, not UPDATE: an insert elsewhere that merely points at the proposal
    (its foreign key check takes KEY SHARE) is not held up. A moderator taking the
    proposal down (FOR UPDATE) waits, as for the FOR SHARE this lock replaces, so no
    reaction lands on a proposal that is no longer published. SQLite writers are
    serialised anyway.
    """
    return (
        Proposal.objects.select_for_update(no_key=True)
        .filter(pk=proposal_id)
        .values_list("status", flat=True)
        .first()
    )


# Kept on Proposal beside its rows: "reactions_<kind>" for each kind, and the total.
REACTION_TOTALS = (*(f"reactions_{kind}" for kind in Reaction.Kind.values), "reactions_total")
# Ids per UPDATE in a recount: well under SQLite's limit of bound parameters.
_RECOUNT_CHUNK = 500
# Proposal ids per transaction in a full rebuild: those found off stay locked until it
# commits, a moment for 10,000 proposals.
_REBUILD_BATCH = 10_000


def _counted(**filters: Any) -> Coalesce:
    """The number of the outer proposal's reactions that match `filters`, 0 for none."""
    rows = (
        Reaction.objects.filter(proposal_id=OuterRef("pk"), **filters)
        .order_by()
        .values("proposal_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), Value(0))


def reaction_totals_recount(*, proposal_ids: Iterable[int]) -> None:
    """Set the kept totals of these proposals from their reaction rows, in the caller's
    transaction: one UPDATE per 500 proposals, each column counted on the (proposal,
    kind) index. The caller locks the rows first when others may react meanwhile."""
    ids = sorted(set(proposal_ids))
    totals = {
        **{f"reactions_{kind}": _counted(kind=kind) for kind in Reaction.Kind.values},
        "reactions_total": _counted(),
    }
    for start in range(0, len(ids), _RECOUNT_CHUNK):
        Proposal.objects.filter(pk__in=ids[start : start + _RECOUNT_CHUNK]).update(**totals)


def _totals_reload(proposal: Proposal) -> None:
    """The caller's instance shows what was just written (the reaction API answers with
    its counts)."""
    fresh = Proposal.objects.filter(pk=proposal.pk).values(*REACTION_TOTALS).first()
    for field, value in (fresh or dict.fromkeys(REACTION_TOTALS, 0)).items():
        setattr(proposal, field, value)


@transaction.atomic
def reaction_set(*, proposal: Proposal, user: User, kind: str) -> Reaction:
    if kind not in Reaction.Kind.values:
        raise InvalidInput(
            gettext_noop("Unknown reaction %(kind)r."), field="kind", params={"kind": kind}
        )
    _check_reactable(proposal, user)
    now = timezone.now()
    # One statement, INSERT ... ON CONFLICT DO UPDATE: a second reaction replaces the
    # first even when two requests of the same person race.
    Reaction.objects.bulk_create(
        [Reaction(proposal=proposal, user=user, kind=kind, created_at=now, updated_at=now)],
        update_conflicts=True,
        unique_fields=["user", "proposal"],
        update_fields=["kind", "updated_at"],
    )
    reaction_totals_recount(proposal_ids=[proposal.pk])
    _totals_reload(proposal)
    follow_automatically(user=user, proposal=proposal)
    tally_mark_dirty(strategy_id=proposal.strategy_id)
    return Reaction.objects.get(proposal=proposal, user=user)


@transaction.atomic
def reaction_clear(*, proposal: Proposal, user: User) -> None:
    # The proposal's row first, as in reaction_set; a proposal taken down since keeps
    # its reactions' removal (a person may always take theirs back).
    if _lock_for_reactions(proposal.pk) is None:
        return
    deleted, _ = Reaction.objects.filter(proposal=proposal, user=user).delete()
    if deleted:
        reaction_totals_recount(proposal_ids=[proposal.pk])
        _totals_reload(proposal)
        tally_mark_dirty(strategy_id=proposal.strategy_id)


@transaction.atomic
def reactions_erase(*, user: User) -> None:
    """Remove every reaction of this person, keeping the totals and tallies they counted
    in equal to the rows, in the caller's transaction (account deletion)."""
    # Their row first, as reaction_set takes it: no reaction of theirs lands between
    # reading the proposals below and deleting.
    list(User.objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True))
    reactions = Reaction.objects.filter(user=user)
    proposal_ids = sorted(set(reactions.values_list("proposal_id", flat=True)))
    if not proposal_ids:
        return
    # Then the proposals, in id order as every lock on several of them is taken.
    strategy_ids = set(
        Proposal.objects.filter(pk__in=proposal_ids)
        .order_by("pk")
        .select_for_update(no_key=True)
        .values_list("strategy_id", flat=True)
    )
    reactions.delete()
    reaction_totals_recount(proposal_ids=proposal_ids)
    for strategy_id in sorted(strategy_ids):
        tally_mark_dirty(strategy_id=strategy_id)


def reaction_totals_rebuild(*, strategy_id: int | None = None) -> int:
    """Set every proposal's kept totals (of one strategy, with `strategy_id`) from the
    reaction rows; returns how many proposals were off.

    Set-based, a range of proposal ids per transaction: one GROUP BY over the range's
    reactions finds the rows that are off; only if there are any, one UPDATE sets them
    from a second count and one zeroes those with totals but no reactions. The rows found
    off are locked (in id order, as every other lock on them is taken) before that second
    count, so a reaction committing meanwhile is counted instead of the rebuild writing an
    older count over its newer one. About 2 s to check a million proposals with two
    million reactions on PostgreSQL, 26 s to set them all.
    """
    bounds = Proposal.objects.order_by()
    if strategy_id is not None:
        bounds = bounds.filter(strategy_id=strategy_id)
    span = bounds.aggregate(first=Min("id"), last=Max("id"))
    if span["first"] is None:
        return 0
    corrected = 0
    for low in range(span["first"], span["last"] + 1, _REBUILD_BATCH):
        with transaction.atomic():
            corrected += _rebuild_batch(
                low=low, high=low + _REBUILD_BATCH - 1, strategy_id=strategy_id
            )
    return corrected


def _rebuild_batch(*, low: int, high: int, strategy_id: int | None) -> int:
    """reaction_totals_rebuild for the proposals with ids from low to high."""
    quote = connection.ops.quote_name
    proposal, reaction = quote(Proposal._meta.db_table), quote(Reaction._meta.db_table)
    kinds = Reaction.Kind.values
    # Each kept column beside the name of its count in `counted` below.
    pairs = list(
        zip(
            [quote(field) for field in REACTION_TOTALS],
            [*(f"counted.n{i}" for i in range(len(kinds))), "counted.n_total"],
            strict=True,
        )
    )
    in_batch = f"{proposal}.id BETWEEN %s AND %s"
    params: list[Any] = [low, high]
    if strategy_id is not None:
        in_batch += f" AND {proposal}.strategy_id = %s"
        params.append(strategy_id)
    per_kind = ", ".join(
        f"COUNT(CASE WHEN kind = %s THEN 1 END) AS n{i}" for i in range(len(kinds))
    )
    # Statements built from the models' own names; every value is a parameter.
    counted = (
        f"(SELECT proposal_id, {per_kind}, COUNT(*) AS n_total FROM {reaction} "  # noqa: S608
        "WHERE proposal_id BETWEEN %s AND %s GROUP BY proposal_id) AS counted"
    )
    counted_params = [*kinds, low, high]
    # Only the rows that are off get locked (a healthy table is read, not written), in id
    # order. Reactions write totals and rows in one commit, so a row that matches its
    # counts here still matches them in the UPDATEs' later view and is left alone.
    lock = f" ORDER BY {proposal}.id FOR NO KEY UPDATE OF {proposal}"
    off = (
        f"SELECT COUNT(*) FROM (SELECT 1 FROM {proposal} LEFT JOIN {counted} "  # noqa: S608
        f"ON counted.proposal_id = {proposal}.id WHERE {in_batch} AND ("
        + " OR ".join(f"{proposal}.{column} <> COALESCE({n}, 0)" for column, n in pairs)
        + f"){lock if connection.vendor == 'postgresql' else ''}) AS off"
    )
    differing = (
        f"UPDATE {proposal} SET {', '.join(f'{column} = {n}' for column, n in pairs)} "  # noqa: S608
        f"FROM {counted} WHERE {proposal}.id = counted.proposal_id AND {in_batch} "
        f"AND ({' OR '.join(f'{proposal}.{column} <> {n}' for column, n in pairs)})"
    )
    orphaned = (
        f"UPDATE {proposal} SET {', '.join(f'{column} = 0' for column, _ in pairs)} "  # noqa: S608
        f"WHERE {in_batch} AND ({' OR '.join(f'{column} <> 0' for column, _ in pairs)}) "
        f"AND NOT EXISTS (SELECT 1 FROM {reaction} WHERE {reaction}.proposal_id = {proposal}.id)"
    )
    with connection.cursor() as cursor:
        cursor.execute(off, [*counted_params, *params])
        if not cursor.fetchone()[0]:
            return 0
        # Counted again now that the rows are locked: whatever committed before is seen.
        cursor.execute(differing, [*counted_params, *params])
        corrected = cursor.rowcount
        cursor.execute(orphaned, params)
        return corrected + cursor.rowcount


def decision_mark_notified(*, event_id: int) -> None:
    ProposalEvent.objects.filter(pk=event_id, notified_at__isnull=True).update(
        notified_at=timezone.now()
    )


def decision_email_send(*, event_id: int) -> None:
    """Email the author about a decision, once: an event already notified is skipped."""
    event = (
        ProposalEvent.objects.select_related("proposal", "proposal__author")
        .filter(pk=event_id, notified_at__isnull=True)
        .first()
    )
    if event is None:
        return
    author = event.proposal.author
    if not author.is_active:
        # A deleted (or closed) account: its placeholder address must never be written to.
        decision_mark_notified(event_id=event.pk)
        return
    subject, body = decision_email(event, author.language or event.proposal.language)
    send_mail(subject=subject, message=body, from_email=None, recipient_list=[author.email])
    decision_mark_notified(event_id=event.pk)
