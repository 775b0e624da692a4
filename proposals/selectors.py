import re
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from civic.accounts.models import User
from civic.accounts.permissions import can_view_all
from civic.accounts.selectors import staff_groups_prefetch
from civic.errors import InvalidInput
from proposals.filters import RELEVANCE, ProposalFilter
from proposals.models import Proposal, ProposalEvent, Reaction
from proposals.rules import visible_filter
from strategy.models import Theme


def _with_related(queryset: QuerySet[Proposal]) -> QuerySet[Proposal]:
    """Everything a proposal's representation needs, its kept reaction totals included."""
    # select_related + only: narrow joined columns, and joins that COUNT(*) leaves out
    # (an annotation's join would stay in the count of a million-row page set).
    return (
        queryset.select_related(
            "strategy", "district", "author", "latest_decision", "answer", "duplicate_of"
        )
        .only(*_LIST_COLUMNS)
        .prefetch_related(Prefetch("themes", queryset=Theme.objects.only("id", "slug")))
    )


_LIST_COLUMNS = (
    "id",
    "code",
    "strategy__slug",
    # Pages show the strategy by its title; three short columns on a join already made.
    "strategy__title_ru",
    "strategy__title_kk",
    "strategy__title_en",
    # What a proposal's page says of the city's promise to answer.
    "strategy__answer_deadline_days",
    "strategy__publish_answers",
    "section_id",
    "author__display_name",
    "title",
    "body",
    "language",
    "district__slug",
    "status",
    "created_at",
    "published_at",
    "latest_decision__action",
    "latest_decision__reason",
    "latest_decision__note",
    "latest_decision__at",
    "author_themes",
    "suggested_themes",
    "suggestion_version",
    "rejection_public",
    "latest_decision__note_public",
    "duplicate_of__code",
    "answer__outcome",
    "answer__text",
    "answer__published",
    "answer__answered_at",
    "answer__updated_at",
    "reactions_like",
    "reactions_indifferent",
    "reactions_funny",
    "reactions_sympathy",
    "reactions_outrage",
    "reactions_total",
)


def reaction_counts_for(proposals: Sequence[Proposal]) -> dict[int, dict[str, int]]:
    """{proposal id: {kind: count}} for a page of proposals, from the totals kept on their
    rows (proposals.services keeps them equal to the reactions): those loaded with the
    instances, and one query for the instances that deferred them."""
    columns = {kind: f"reactions_{kind}" for kind in Reaction.Kind.values}
    deferred = {
        proposal.pk
        for proposal in proposals
        if not proposal.get_deferred_fields().isdisjoint(columns.values())
    }
    fetched = (
        {
            row["pk"]: row
            for row in Proposal.objects.filter(pk__in=deferred).values("pk", *columns.values())
        }
        if deferred
        else {}
    )
    zeros = dict.fromkeys(columns.values(), 0)
    return {
        proposal.pk: {
            kind: (
                fetched.get(proposal.pk, zeros)[column]
                if proposal.pk in deferred
                else getattr(proposal, column)
            )
            for kind, column in columns.items()
        }
        for proposal in proposals
    }


PUBLICLY_REJECTED = Q(status=Proposal.Status.REJECTED, rejection_public=True)


def proposal_visible_to(user: User) -> QuerySet[Proposal]:
    """Proposals this user may open (proposals.read_proposal): all for staff; published
    and publicly rejected ones plus their own for others."""
    visible = visible_filter(user)
    return Proposal.objects.all() if visible is None else Proposal.objects.filter(visible)


def proposal_list(*, user: User, filters: Mapping[str, Any] | None = None) -> QuerySet[Proposal]:
    """The proposal list: published ones for everyone, every status for staff.

    The public lists publicly rejected proposals by asking for `status=rejected`; the
    default list stays the published ones. Raises InvalidInput (one message per bad
    filter) rather than returning an empty page for a filter value that names nothing.
    """
    if can_view_all(user):
        queryset = Proposal.objects.all()
    elif (filters or {}).get("status") == Proposal.Status.REJECTED:
        queryset = Proposal.objects.filter(PUBLICLY_REJECTED)
    else:
        queryset = Proposal.objects.filter(status=Proposal.Status.PUBLISHED)
    if not any(name in (filters or {}) for name in ProposalFilter.base_filters):
        # Nothing to filter (a first page, `page_size` alone): building the filter form
        # costs a fifth of a 100-row page.
        return _with_related(queryset)
    filterset = ProposalFilter(filters or {}, queryset=_with_related(queryset))
    if not filterset.is_valid():
        raise InvalidInput(
            "Invalid filter.",
            errors={field: list(messages) for field, messages in filterset.errors.items()},
        )
    cleaned = filterset.form.cleaned_data
    if cleaned.get("ordering") == RELEVANCE and not cleaned.get("q"):
        raise InvalidInput(
            "Invalid filter.", errors={"ordering": ["Ordering by relevance needs q."]}
        )
    return filterset.qs


def proposal_list_of_author(*, user: User) -> QuerySet[Proposal]:
    return _with_related(Proposal.objects.filter(author=user)).order_by("-created_at", "-id")


def proposal_get_visible(*, user: User, proposal_id: int) -> Proposal | None:
    """The proposal with everything its representation needs, if this user may see it."""
    return _with_related(proposal_visible_to(user)).filter(pk=proposal_id).first()


def proposal_find_visible(*, user: User, proposal_id: int) -> Proposal | None:
    """Just the row, for a write that is about to lock and reload it anyway."""
    return proposal_visible_to(user).filter(pk=proposal_id).first()


def reaction_counts(*, proposal: Proposal) -> dict[str, int]:
    return reaction_counts_for([proposal])[proposal.pk]


def proposal_history(*, proposal: Proposal) -> QuerySet[ProposalEvent]:
    return proposal.events.select_related("actor").order_by("at", "id")


def proposal_counts(*, queryset: QuerySet[Proposal]) -> dict[str, dict[Any, int]]:
    """Counts of a filtered set of proposals by status, theme, section and district.

    Four GROUP BY queries over the set as a subquery, whatever its size or order.
    """
    ids = queryset.order_by().values("pk")
    rows = Proposal.objects.filter(pk__in=ids).order_by()
    through = Proposal.themes.through
    return {
        "status": dict(rows.values_list("status").annotate(n=Count("id"))),
        "theme": dict(
            through.objects.filter(proposal_id__in=ids)
            .order_by()
            .values_list("theme__slug")
            .annotate(n=Count("id"))
        ),
        "section": dict(rows.values_list("section_id").annotate(n=Count("id"))),
        "district": dict(rows.values_list("district__slug").annotate(n=Count("id"))),
    }


def moderation_queue(*, user: User, filters: Mapping[str, Any] | None = None) -> QuerySet[Proposal]:
    """Pending proposals, oldest first, with the list's filters (status and order are fixed)."""
    filters = {key: value for key, value in (filters or {}).items() if key != "ordering"}
    filters.update(status=Proposal.Status.PENDING, ordering="created_at")
    return proposal_list(user=user, filters=filters)


def decision_history() -> QuerySet[ProposalEvent]:
    """Every moderation decision, newest first, with who took it and on what."""
    return (
        ProposalEvent.objects.filter(action__in=ProposalEvent.DECISIONS)
        .select_related("actor", "proposal")
        .only(
            "id",
            "at",
            "action",
            "from_status",
            "to_status",
            "reason",
            "note",
            "actor__display_name",
            "actor__is_superuser",
            "proposal__id",
            "proposal__code",
            "proposal__title",
        )
        # The moderator's role is shown beside the name (a resident cannot pass for one).
        .prefetch_related(staff_groups_prefetch("actor"))
        .order_by("-at", "-id")
    )


def originals_by_words(*, user: User, proposal: Proposal, q: str) -> list[Proposal]:
    """Proposals of the same strategy whose title or text has every word of `q`; a query
    that looks like a code (ALA2050-000123) or a bare id finds that proposal first."""
    if not q.strip():
        return []
    if re.fullmatch(r"[A-Za-z0-9]+-\d+|\d+", q.strip()):
        match = proposal_find_by_code(user=user, code=q)
        if (
            match is not None
            and match.pk != proposal.pk
            and match.strategy_id == proposal.strategy_id
        ):
            return [match]
    queryset = proposal_list(
        user=user, filters={"strategy": proposal.strategy.slug, "q": q[:200]}
    ).exclude(pk=proposal.pk)
    return list(queryset[:10])


def proposal_find_by_code(*, user: User, code: str) -> Proposal | None:
    """A proposal this user may see, by its code (ALA2050-000123) or its bare id."""
    code = code.strip()
    visible = proposal_visible_to(user)
    match = visible.filter(code__iexact=code).first()
    if match is None and code.isdigit():
        match = visible.filter(pk=int(code)).first()
    return match


def proposals_by_ids(*, user: User, ids: Sequence[int]) -> list[Proposal]:
    """The proposals of `ids` this user may see, oldest first."""
    return list(proposal_visible_to(user).filter(pk__in=ids).order_by("created_at", "id"))


def reaction_of(*, user: User, proposal: Proposal) -> str | None:
    """The kind of this user's reaction to the proposal, if any."""
    if not user.is_authenticated:
        return None
    return (
        Reaction.objects.filter(proposal=proposal, user=user).values_list("kind", flat=True).first()
    )


def decision_emails_unsent() -> list[int]:
    """Decisions whose email a lost task never sent: old enough that the first task had
    its chance; after two days one that still fails is given up, so it cannot block newer
    ones forever."""
    now = timezone.now()
    return list(
        ProposalEvent.objects.filter(
            action__in=ProposalEvent.DECISIONS,
            notified_at__isnull=True,
            at__lt=now - timedelta(seconds=settings.CIVIC_EMAIL_SWEEP_AFTER_SECONDS),
            at__gt=now - timedelta(days=2),
        )
        .order_by("-at")
        .values_list("id", flat=True)[:500]
    )
