"""Every write to proposals, moderation decisions and reactions goes through here.

Each service validates, changes rows, writes its audit row and marks the
strategy's tally dirty in one transaction, and leaves follow-up work (tally
refresh, emails) to tasks enqueued after the commit.
"""

from collections.abc import Iterable
from typing import Any

from django.core.mail import send_mail
from django.db import connection, transaction
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
    # FOR SHARE: reactions do not wait for one another, but a moderator taking the
    # proposal down (FOR UPDATE) waits for them, and they for it, so none lands on a
    # proposal that is no longer published. SQLite writers are serialised anyway.
    lock = " FOR SHARE" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT status FROM {Proposal._meta.db_table} WHERE id = %s{lock}",  # noqa: S608
            [proposal.pk],
        )
        row = cursor.fetchone()
    if row is None or row[0] != Status.PUBLISHED:
        raise StateConflict(gettext_noop("Only published proposals take reactions."))


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
    follow_automatically(user=user, proposal=proposal)
    tally_mark_dirty(strategy_id=proposal.strategy_id)
    return Reaction.objects.get(proposal=proposal, user=user)


@transaction.atomic
def reaction_clear(*, proposal: Proposal, user: User) -> None:
    deleted, _ = Reaction.objects.filter(proposal=proposal, user=user).delete()
    if deleted:
        tally_mark_dirty(strategy_id=proposal.strategy_id)


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
