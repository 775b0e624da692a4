"""Reads of comments: a proposal's discussion, counts per proposal, one comment to act on."""

from collections.abc import Iterable

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from civic.accounts import roles
from civic.accounts.models import User
from civic.accounts.selectors import staff_groups_prefetch
from proposals.models import Comment, CommentFlag, Proposal
from proposals.selectors import proposal_visible_to

# What the public counts: comments neither hidden nor deleted.
VISIBLE = Q(hidden_by=Comment.HiddenBy.NOBODY, deleted_at__isnull=True)


def comment_list(*, proposal: Proposal) -> QuerySet[Comment]:
    """The proposal's discussion, oldest first, with what each entry shows.

    A deleted comment stays as a stub only while a reply still stands under it; hidden
    comments stay as stubs (the serializer blanks their text for those who may not read it).
    """
    live_replies = Comment.objects.filter(parent=OuterRef("pk"), deleted_at__isnull=True)
    return (
        Comment.objects.filter(proposal=proposal)
        .filter(Q(deleted_at__isnull=True) | Exists(live_replies))
        .select_related("author")
        .only(
            "id",
            "proposal_id",
            "parent_id",
            "body",
            "created_at",
            "edited_at",
            "deleted_at",
            "hidden_by",
            "hidden_reason",
            "author__id",
            "author__display_name",
            "author__is_superuser",
        )
        .prefetch_related(staff_groups_prefetch("author"))
        .order_by("created_at", "id")
    )


def comment_counts_for(proposals: Iterable[Proposal]) -> dict[int, int]:
    """Visible comments per proposal, for a page of proposals in one query."""
    ids = [proposal.pk for proposal in proposals]
    counts = dict.fromkeys(ids, 0)
    rows = (
        Comment.objects.filter(VISIBLE, proposal_id__in=ids)
        .values("proposal_id")
        .annotate(n=Count("id"))
        .values_list("proposal_id", "n")
    )
    counts.update(rows)
    return counts


def comment_ids_flagged_by(*, user: User, proposal: Proposal) -> set[int]:
    """The comments of the proposal this person has flagged, in one query: a page offers
    no second flag (the service would refuse it as `already_flagged`)."""
    if not getattr(user, "is_authenticated", False):
        return set()
    return set(
        CommentFlag.objects.filter(user=user, comment__proposal=proposal).values_list(
            "comment_id", flat=True
        )
    )


def comment_find(*, user: User, comment_id: int) -> Comment | None:
    """A comment not deleted, on a proposal this user may open; None otherwise (a 404)."""
    return (
        Comment.objects.filter(
            pk=comment_id,
            deleted_at__isnull=True,
            proposal__in=proposal_visible_to(user).values("pk"),
        )
        .select_related("proposal")
        .first()
    )


def author_role(*, author: User, proposal: Proposal) -> str:
    """How a comment's author is marked: "author" of the proposal, their staff role (the
    highest, admin first), else "resident". Reads the prefetched `staff_groups`."""
    if author.pk == proposal.author_id:
        return "author"
    if author.is_superuser:
        return roles.ADMIN
    groups = getattr(author, "staff_groups", None)
    if groups is None:
        groups = author.groups.filter(name__in=roles.STAFF_ROLES)
    names = {group.name for group in groups}
    for role in (roles.ADMIN, roles.MODERATOR, roles.ANALYST, roles.RESPONDER):
        if role in names:
            return role
    return roles.RESIDENT
