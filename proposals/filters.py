"""The proposal list's filters: allow-listed, and a value that names nothing is a 400."""

from datetime import datetime, timedelta

import django_filters
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from proposals.models import Answer, Proposal
from proposals.search.selectors import search_filter
from strategy.models import District, Section, Strategy, Theme

UNANSWERED, OVERDUE = "unanswered", "overdue"
# The orders of the contract, newest first by default (by relevance with `q`); the API,
# the pages and the schema all take them from here.
RELEVANCE = "relevance"
ORDERINGS = ("-created_at", "created_at", "-reactions", RELEVANCE)
# The columns each order sorts by, the id last so that no two rows tie: the page and
# cursor paginators both read them.
ORDER_COLUMNS = {
    "-created_at": ("-created_at", "-id"),
    "created_at": ("created_at", "id"),
    "-reactions": ("-reactions_total", "-created_at", "-id"),
    RELEVANCE: ("-search_rank", "-created_at", "-id"),
}
WHOLE_DOCUMENT = "none"


def answered_q() -> Q:
    """Proposals whose answer the public can read."""
    return Q(answer__published=True)


def overdue_q(now: datetime | None = None) -> Q:
    """Published proposals still without a public answer past their strategy's deadline.

    One condition per strategy that promises a deadline (there are a handful), so no
    engine-specific date arithmetic on a column is needed.
    """
    now = now or timezone.now()
    late = Q(pk__in=[])
    deadlines = Strategy.objects.filter(answer_deadline_days__isnull=False).values_list(
        "id", "answer_deadline_days"
    )
    for strategy_id, days in deadlines:
        late |= Q(strategy_id=strategy_id, published_at__lt=now - timedelta(days=days))
    return Q(status=Proposal.Status.PUBLISHED) & ~answered_q() & late


class ProposalFilter(django_filters.FilterSet):
    strategy = django_filters.ModelChoiceFilter(
        queryset=Strategy.objects.exclude(status=Strategy.Status.DRAFT), to_field_name="slug"
    )
    # `none`: the proposals about the document as a whole, filed against no section.
    section = django_filters.ModelChoiceFilter(
        queryset=Section.objects.all(),
        method="filter_section",
        null_label="The whole document",
        null_value=WHOLE_DOCUMENT,
    )
    theme = django_filters.ModelMultipleChoiceFilter(
        queryset=Theme.objects.all(), to_field_name="slug", method="filter_theme"
    )
    district = django_filters.ModelChoiceFilter(
        queryset=District.objects.all(), to_field_name="slug"
    )
    language = django_filters.ChoiceFilter(choices=Proposal.Language.choices)
    status = django_filters.ChoiceFilter(choices=Proposal.Status.choices)
    # ISO dates only: Django's localised input formats would read 01.02.2024 one way
    # in Russian and 01/02/2024 another in English.
    created_after = django_filters.DateFilter(
        field_name="created_at", lookup_expr="date__gte", input_formats=["%Y-%m-%d"]
    )
    created_before = django_filters.DateFilter(
        field_name="created_at", lookup_expr="date__lte", input_formats=["%Y-%m-%d"]
    )
    q = django_filters.CharFilter(method="filter_q", max_length=200)
    answer = django_filters.ChoiceFilter(
        choices=[*Answer.Outcome.choices, (UNANSWERED, UNANSWERED), (OVERDUE, OVERDUE)],
        method="filter_answer",
    )
    ordering = django_filters.ChoiceFilter(
        choices=[(ordering, ordering) for ordering in ORDERINGS],
        method="filter_ordering",
    )

    class Meta:
        model = Proposal
        fields: list[str] = []

    def filter_section(
        self, queryset: QuerySet[Proposal], name: str, section: Section | str
    ) -> QuerySet[Proposal]:
        if not isinstance(section, Section):  # WHOLE_DOCUMENT, the filter's null value
            return queryset.filter(section__isnull=True)
        # A section's proposals include those of its sub-sections: codes nest ("1" ⊃ "1.2").
        return queryset.filter(
            Q(section=section)
            | Q(
                section__strategy_id=section.strategy_id,
                section__code__startswith=f"{section.code}.",
            )
        )

    def filter_theme(
        self, queryset: QuerySet[Proposal], name: str, themes: list[Theme]
    ) -> QuerySet[Proposal]:
        if not themes:
            return queryset
        # EXISTS, not a join, so a proposal with two matching themes is listed once.
        through = Proposal.themes.through
        return queryset.filter(
            Exists(through.objects.filter(proposal_id=OuterRef("pk"), theme__in=themes))
        )

    def filter_ordering(
        self, queryset: QuerySet[Proposal], name: str, value: str
    ) -> QuerySet[Proposal]:
        # `relevance` without `q` is refused before filtering (selectors.proposal_list).
        return queryset.order_by(*ORDER_COLUMNS[value])

    def filter_answer(
        self, queryset: QuerySet[Proposal], name: str, value: str
    ) -> QuerySet[Proposal]:
        # Only published answers count: a draft is the responder's, not the city's word.
        if value == UNANSWERED:
            return queryset.filter(status=Proposal.Status.PUBLISHED).exclude(answered_q())
        if value == OVERDUE:
            return queryset.filter(overdue_q())
        return queryset.filter(answered_q(), answer__outcome=value)

    def filter_q(self, queryset: QuerySet[Proposal], name: str, value: str) -> QuerySet[Proposal]:
        # Best match first unless `ordering` (applied after this filter) says otherwise.
        return search_filter(queryset, value).order_by(*ORDER_COLUMNS[RELEVANCE])
