"""Reads of following and notifications: what one follows, one's notifications, the unread
count the header shows."""

from django.db.models import Q, QuerySet

from civic.accounts.models import User
from proposals.models import Follow, Notification, Proposal
from proposals.rules import visible_filter
from strategy.models import Section, Strategy


def follow_list(*, user: User) -> QuerySet[Follow]:
    return (
        Follow.objects.filter(user=user, active=True)
        .select_related("proposal", "section", "strategy")
        .order_by("-created_at", "-id")
    )


def follows_proposal(*, user: User, proposal: Proposal) -> bool:
    if not user.is_authenticated:
        return False
    return Follow.objects.filter(user=user, proposal=proposal, active=True).exists()


def follows_strategy(*, user: User, strategy: Strategy) -> bool:
    if not user.is_authenticated:
        return False
    return Follow.objects.filter(user=user, strategy=strategy, active=True).exists()


def sections_followed(*, user: User, strategy: Strategy) -> set[int]:
    """The ids of the strategy's sections this person follows, for the strategy page's
    buttons in one query."""
    if not user.is_authenticated:
        return set()
    return set(
        Follow.objects.filter(user=user, active=True, section__strategy=strategy).values_list(
            "section_id", flat=True
        )
    )


def follows_section(*, user: User, section: Section) -> bool:
    if not user.is_authenticated:
        return False
    return Follow.objects.filter(user=user, section=section, active=True).exists()


def notification_list(*, user: User, unread: bool = False) -> QuerySet[Notification]:
    """Newest first. Notifications about a proposal this person may no longer open (taken
    down since), or about a strategy back in draft, leave the list rather than name it."""
    rows = Notification.objects.filter(user=user).exclude(strategy__status=Strategy.Status.DRAFT)
    rows = rows.exclude(section__strategy__status=Strategy.Status.DRAFT)
    if visible_filter(user) is not None:
        # proposals.read_proposal on the row's own proposal, through the join the list
        # makes anyway: a subquery of every visible proposal would read them all.
        rows = rows.filter(
            Q(proposal__isnull=True)
            | Q(proposal__status=Proposal.Status.PUBLISHED)
            | Q(proposal__status=Proposal.Status.REJECTED, proposal__rejection_public=True)
            | Q(proposal__author=user)
        )
    if unread:
        rows = rows.filter(read_at__isnull=True)
    return rows.select_related("proposal", "section__strategy", "strategy").order_by(
        "-created_at", "-id"
    )


def unread_count(*, user: User) -> int:
    """For the header, on every page: one query on the partial index of unread rows, and
    none on the proposals (the home page and the tallies never read that table). It agrees
    with the list because a proposal taken down marks what others were told of it read
    (following/services.py, notify_status)."""
    return Notification.objects.filter(user=user, read_at__isnull=True).count()
