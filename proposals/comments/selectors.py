"""Reads of comments: a proposal's or a section's discussion, counts per proposal and per
section, one comment to act on."""

from collections.abc import Iterable

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from civic.accounts import roles
from civic.accounts.models import User
from civic.accounts.selectors import staff_groups_prefetch
from proposals.models import Comment, CommentFlag, Proposal
from proposals.selectors import proposal_visible_to
from strategy.models import Section, Strategy
from strategy.selectors import strategy_list_public

# What the public counts: comments neither hidden nor deleted.
VISIBLE = Q(hidden_by=Comment.HiddenBy.NOBODY, deleted_at__isnull=True)


def _on(proposal: Proposal | None, section: Section | None) -> Q:
    """The comments of one proposal or of one section: exactly one is given."""
    if (proposal is None) == (section is None):
        raise TypeError("give exactly one of proposal and section")  # noqa: EM101 - a bug
    return Q(proposal=proposal) if proposal is not None else Q(section=section)


def comment_list(
    *, proposal: Proposal | None = None, section: Section | None = None
) -> QuerySet[Comment]:
    """The discussion of a proposal or of a section, oldest first, with what each entry
    shows.

    A deleted comment stays as a stub only while a reply still stands under it; hidden
    comments stay as stubs (the serializer blanks their text for those who may not read it).
    """
    live_replies = Comment.objects.filter(parent=OuterRef("pk"), deleted_at__isnull=True)
    return (
        Comment.objects.filter(_on(proposal, section))
        .filter(Q(deleted_at__isnull=True) | Exists(live_replies))
        .select_related("author")
        .only(
            "id",
            "proposal_id",
            "section_id",
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


def section_comment_counts(*, strategy: Strategy) -> dict[int, int]:
    """Visible comments per section of the strategy (sections without any left out), for
    the strategy page in one query."""
    return dict(
        Comment.objects.filter(VISIBLE, section__strategy=strategy)
        .order_by()
        .values("section_id")
        .annotate(n=Count("id"))
        .values_list("section_id", "n")
    )


def comment_ids_flagged_by(
    *, user: User, proposal: Proposal | None = None, section: Section | None = None
) -> set[int]:
    """The comments of the proposal (or section) this person has flagged, in one query: a
    page offers no second flag (the service would refuse it as `already_flagged`)."""
    if not getattr(user, "is_authenticated", False):
        return set()
    comments = Comment.objects.filter(_on(proposal, section)).values("pk")
    return set(
        CommentFlag.objects.filter(user=user, comment__in=comments).values_list(
            "comment_id", flat=True
        )
    )


def visible_comments(user: User) -> Q:
    """The comments this user may open: on a proposal they may open, or on a section of a
    strategy the public sees (a draft's sections are nobody's to discuss yet)."""
    return Q(proposal__in=proposal_visible_to(user).values("pk")) | Q(
        section__strategy__in=strategy_list_public().values("pk")
    )


def comment_find(*, user: User, comment_id: int) -> Comment | None:
    """A comment not deleted, on a proposal this user may open or on a section of a public
    strategy; None otherwise (a 404)."""
    return (
        Comment.objects.filter(visible_comments(user), pk=comment_id, deleted_at__isnull=True)
        .select_related("proposal", "section", "section__strategy")
        .first()
    )


def section_find_public(*, slug: str, code: str) -> Section | None:
    """The section `code` of the public strategy `slug`, with its strategy; None (a 404)
    for a draft strategy, as for every other page of one."""
    return (
        Section.objects.filter(strategy__in=strategy_list_public(), strategy__slug=slug, code=code)
        .select_related("strategy")
        .first()
    )


def author_role(*, author: User, proposal: Proposal | None = None) -> str:
    """How a comment's author is marked: "author" of the proposal, their staff role (the
    highest, admin first), else "resident". A section has no author to mark. Reads the
    prefetched `staff_groups`."""
    if proposal is not None and author.pk == proposal.author_id:
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
