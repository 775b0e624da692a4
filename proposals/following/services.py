"""Writes of following and notifications: follow and unfollow, the automatic follows, the
fan-out of one event to the people who follow what it is about, marking read.

The fan-out runs in a task (proposals/following/tasks.py) after the event committed. Each
notification is unique per person and event (`Notification.source`), so a task that runs
again after a worker died writes nobody twice; the emails have their own once-only
bookkeeping (proposals/following/emails.py).
"""

from collections.abc import Iterable, Iterator

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_noop

from civic.accounts.models import User
from civic.accounts.rules import allows
from civic.celery import enqueue_on_commit
from civic.errors import InvalidInput, NotAllowed
from proposals.models import Comment, FanOut, Follow, Notification, Proposal, ProposalEvent
from strategy.models import Section, Strategy, StrategyVersion

Kind = Notification.Kind
Status = Proposal.Status
# Rows per INSERT: a strategy with a hundred thousand followers is written in pieces.
BATCH = 2000


def _target(
    *, proposal: Proposal | None, section: Section | None, strategy: Strategy | None
) -> dict[str, object]:
    given = {
        name: value
        for name, value in (("proposal", proposal), ("section", section), ("strategy", strategy))
        if value is not None
    }
    if len(given) != 1:
        raise InvalidInput(
            gettext_noop("Give exactly one of proposal, section and strategy."), field="target"
        )
    return given


@transaction.atomic
def follow_set(
    *,
    user: User,
    following: bool,
    proposal: Proposal | None = None,
    section: Section | None = None,
    strategy: Strategy | None = None,
) -> Follow:
    """Follow, or stop following, one proposal, section or strategy. Stopping keeps the
    row (inactive), so commenting or reacting later does not follow it again."""
    if not allows(user, "proposals.follow"):
        raise NotAllowed(gettext_noop("Sign in to follow."))
    target = _target(proposal=proposal, section=section, strategy=strategy)
    follow, created = Follow.objects.select_for_update().get_or_create(
        user=user, **target, defaults={"active": following}
    )
    if not created and follow.active != following:
        follow.active = following
        follow.save(update_fields=["active"])
    return follow


def follow_automatically(*, user: User, proposal: Proposal) -> None:
    """Follow a proposal one wrote, commented on or reacted to, unless one turned automatic
    follows off or once stopped following this proposal (an inactive row stays put)."""
    if not user.follow_automatically:
        return
    Follow.objects.bulk_create(
        [Follow(user=user, proposal=proposal, automatic=True)], ignore_conflicts=True
    )


def notifications_mark_read(*, user: User, ids: Iterable[int] | None = None) -> int:
    """Mark this person's notifications read: those with `ids` (others' ids are ignored,
    as if they did not exist), or all of them. Returns how many were unread."""
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=list(ids))
    return unread.update(read_at=timezone.now())


def notifications_settle_unemailed(*, user: User) -> int:
    """Mark what is not yet emailed as done: for someone who just asked for an email at
    once, so the sweep does not send the last two days' news one email each."""
    return Notification.objects.filter(user=user, emailed_at__isnull=True).update(
        emailed_at=timezone.now()
    )


# --- fan-out ------------------------------------------------------------------------------
def fan_out_later(*, event: str, object_id: int) -> None:
    """Called in the transaction that made the event: saved with it, run after it commits."""
    FanOut.objects.get_or_create(event=event, object_id=object_id)
    enqueue_on_commit("proposals.fan_out", event, object_id)


def fan_out_on_new_version(*, version_id: int, **kwargs: object) -> None:
    """Receiver of strategy_version_recorded: the strategy app cannot import this one."""
    fan_out_later(event=FanOut.Event.VERSION, object_id=version_id)


def fan_out(*, event: str, object_id: int) -> int:
    """Write the notifications of one saved event and forget it; safe to run twice, and
    after a run that died half-way. Returns the rows tried (existing ones are skipped)."""
    writers = {
        FanOut.Event.COMMENT: lambda: notify_comment(comment_id=object_id),
        FanOut.Event.ANSWER: lambda: notify_answer(proposal_id=object_id),
        FanOut.Event.STATUS: lambda: notify_status(event_id=object_id),
        FanOut.Event.VERSION: lambda: notify_version(version_id=object_id),
    }
    written = writers[event]()
    if event == FanOut.Event.COMMENT:
        _settle_unreadable(
            Comment.objects.filter(pk=object_id).values_list("proposal_id", flat=True).first()
        )
    elif event == FanOut.Event.ANSWER:
        _settle_unreadable(object_id)
    FanOut.objects.filter(event=event, object_id=object_id).delete()
    return written


# --- who hears of what -------------------------------------------------------------
def _followers(**target: object) -> Iterator[int]:
    return (
        Follow.objects.filter(active=True, user__is_active=True, **target)
        .order_by("user_id")
        .values_list("user_id", flat=True)
        .iterator(chunk_size=BATCH)
    )


def _write(rows: Iterable[Notification]) -> int:
    """Insert in batches, skipping people this event already reached. Returns rows tried."""
    written = 0
    batch: list[Notification] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            Notification.objects.bulk_create(batch, ignore_conflicts=True)
            written += len(batch)
            batch = []
    if batch:
        Notification.objects.bulk_create(batch, ignore_conflicts=True)
        written += len(batch)
    return written


def _public(status: str, rejection_public: bool) -> bool:
    """Whether the public may open a proposal in this state (proposals.read_proposal)."""
    return status == Status.PUBLISHED or (status == Status.REJECTED and rejection_public)


def _settle_unreadable(proposal_id: int | None) -> None:
    """Taken down (or not yet up), a proposal is for its author's eyes only: what others
    were told of it leaves their unread count, as it leaves their list. Called by the
    takedown's own fan-out, and again after any fan-out about a proposal, which may have
    written while a takedown committed."""
    proposal = Proposal.objects.filter(pk=proposal_id).only("status", "rejection_public").first()
    if proposal is None:
        return
    if not _public(proposal.status, proposal.rejection_public):
        Notification.objects.filter(proposal_id=proposal.pk, read_at__isnull=True).exclude(
            user_id=proposal.author_id
        ).update(read_at=timezone.now())


def notify_comment(*, comment_id: int) -> int:
    """A new comment: a reply for the author of the comment it answers, a comment for the
    other followers of its proposal, or of its section for a comment on a section.
    Nothing for one hidden or deleted before the task ran, nor for one whose proposal is no
    longer published or whose strategy went back to draft."""
    comment = (
        Comment.objects.select_related("parent", "proposal", "section__strategy")
        .filter(pk=comment_id, hidden_by=Comment.HiddenBy.NOBODY, deleted_at__isnull=True)
        .first()
    )
    if comment is None:
        return 0
    if comment.section_id is not None:
        if comment.section.strategy.status == Strategy.Status.DRAFT:
            return 0
        target: dict[str, int] = {"section_id": comment.section_id}
    else:
        if comment.proposal.status != Status.PUBLISHED:
            return 0
        target = {"proposal_id": comment.proposal_id}
    common = {"source": f"comment:{comment.pk}", "comment_id": comment.pk, **target}
    rows: list[Notification] = []
    replied_to = None
    if comment.parent is not None and comment.parent.author_id != comment.author_id:
        replied_to = comment.parent.author_id
        # Who stopped following the proposal (or section) hears no more of its discussion.
        stopped = Follow.objects.filter(user_id=replied_to, active=False, **target).exists()
        if not stopped and User.objects.filter(pk=replied_to, is_active=True).exists():
            rows.append(Notification(user_id=replied_to, kind=Kind.REPLY, **common))
    others = (
        Notification(user_id=user_id, kind=Kind.COMMENT, **common)
        for user_id in _followers(**target)
        if user_id not in (comment.author_id, replied_to)
    )
    return _write(rows) + _write(others)


def notify_answer(*, proposal_id: int) -> int:
    """The city's answer, for the proposal's followers. The answer email tells them already
    (proposals/answers/notify.py), so no other email repeats it."""
    proposal = Proposal.objects.filter(
        pk=proposal_id, answer__published=True, status=Status.PUBLISHED
    ).first()
    if proposal is None:
        return 0
    now = timezone.now()
    return _write(
        Notification(
            user_id=user_id,
            kind=Kind.ANSWER,
            source=f"answer:{proposal.pk}",
            proposal_id=proposal.pk,
            emailed_at=now,
        )
        for user_id in _followers(proposal_id=proposal.pk)
    )


def notify_status(*, event_id: int) -> int:
    """A proposal's status changed: its followers hear of it, but not whoever changed it;
    the author's decision email already tells them of a moderator's decision. A first
    publication is news for the followers of its section too."""
    event = (
        ProposalEvent.objects.select_related("proposal")
        .filter(pk=event_id)
        .exclude(action__in=[ProposalEvent.Action.SUBMIT, ProposalEvent.Action.ANSWER])
        .first()
    )
    if event is None or event.from_status == event.to_status:
        return 0
    proposal = event.proposal
    now = timezone.now()
    decided = event.action in ProposalEvent.DECISIONS
    source = f"status:{event.pk}"
    public = _public(event.to_status, proposal.rejection_public)
    if not public:
        _settle_unreadable(proposal.pk)
    written = _write(
        Notification(
            user_id=user_id,
            kind=Kind.STATUS,
            source=source,
            proposal_id=proposal.pk,
            status=event.to_status,
            emailed_at=now if decided and user_id == proposal.author_id else None,
        )
        for user_id in _followers(proposal_id=proposal.pk)
        if user_id != event.actor_id and (public or user_id == proposal.author_id)
    )
    first_publication = event.to_status == Status.PUBLISHED and event.from_status == Status.PENDING
    if first_publication and proposal.section_id is not None:
        written += _write(
            Notification(
                user_id=user_id,
                kind=Kind.PUBLISHED,
                source=source,
                proposal_id=proposal.pk,
                status=event.to_status,
            )
            for user_id in _followers(section_id=proposal.section_id)
            if user_id != proposal.author_id
        )
    return written


def notify_version(*, version_id: int) -> int:
    """A new version of a strategy's text, for those who follow the strategy."""
    version = (
        StrategyVersion.objects.filter(pk=version_id)
        .exclude(strategy__status=Strategy.Status.DRAFT)  # back in draft: news to nobody
        .first()
    )
    if version is None:
        return 0
    return _write(
        Notification(
            user_id=user_id,
            kind=Kind.VERSION,
            source=f"version:{version.pk}",
            strategy_id=version.strategy_id,
        )
        for user_id in _followers(strategy_id=version.strategy_id)
    )


def unfollowed(*, proposal: Proposal) -> Q:
    """People who stopped following `proposal`: the answer emails leave them out."""
    return Q(follows__proposal=proposal, follows__active=False)
