"""What every page needs: reference data, pagination, and proposals made ready to show."""

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.utils import timezone

from civic.accounts.rules import allows
from civic.errors import DomainError, InvalidInput
from frontend import labels
from proposals.duplicates.selectors import group_sizes
from proposals.models import Answer, Proposal, Reaction
from proposals.paging import ListPaginator
from proposals.search.selectors import highlight_parts
from proposals.selectors import reaction_counts_for
from proposals.services import decisions_allowed, may_edit, may_withdraw
from strategy.models import District, Section, Theme
from strategy.selectors import district_list, sections_by_id, theme_list

PAGE_SIZE = 20


@dataclass
class Reference:
    """Themes and districts by slug: two small queries per page, whatever it lists."""

    themes: list[Theme]
    districts: list[District]
    theme_by_slug: dict[str, Theme] = field(default_factory=dict)
    district_by_slug: dict[str, District] = field(default_factory=dict)

    @classmethod
    def load(cls) -> "Reference":
        themes, districts = list(theme_list()), list(district_list())
        return cls(
            themes=themes,
            districts=districts,
            theme_by_slug={t.slug: t for t in themes},
            district_by_slug={d.slug: d for d in districts},
        )


@dataclass
class Card:
    """A proposal with its section, themes, district and reactions resolved for a template."""

    proposal: Proposal
    section: Section | None
    themes: list[Theme]
    district: District | None
    reactions: dict[str, int]

    @property
    def reactions_total(self) -> int:
        return sum(self.reactions.values())

    suggestions: list[dict[str, Any]] = field(default_factory=list)
    # The size of the proposal's group of near-identical proposals (0: it has none).
    group_size: int = 0
    # In a search's results: why it matched (proposals.search.selectors.highlight_parts).
    highlight: list[tuple[str, bool]] = field(default_factory=list)

    @property
    def answer(self) -> Answer | None:
        """The city's public answer; a draft is for the responders' own pages."""
        answer = getattr(self.proposal, "answer", None)
        return answer if answer is not None and answer.published else None

    @property
    def days_waiting(self) -> int | None:
        """Days a published proposal has waited for the city's answer, if it still does."""
        if self.proposal.status != Proposal.Status.PUBLISHED or self.answer is not None:
            return None
        return (timezone.now() - self.proposal.published_at).days

    @property
    def may_edit(self) -> bool:
        return may_edit(self.proposal)

    @property
    def may_withdraw(self) -> bool:
        return may_withdraw(self.proposal)

    @property
    def decisions(self) -> list[str]:
        return decisions_allowed(self.proposal.status)

    @property
    def reaction_list(self) -> list[tuple[str, int]]:
        return [(kind, self.reactions.get(kind, 0)) for kind in Reaction.Kind.values]


def cards_for(
    proposals: list[Proposal],
    reference: Reference,
    *,
    with_groups: bool = False,
    published_groups: bool = False,
) -> list[Card]:
    """Two more queries for any number of proposals: their sections and reaction counts
    (and two for their near-duplicate groups, `with_groups`; `published_groups` counts only
    their published members)."""
    counts = reaction_counts_for(proposals)
    sections = sections_by_id(p.section_id for p in proposals)
    sizes = (
        group_sizes(proposal_ids=[p.pk for p in proposals], published_only=published_groups)
        if with_groups
        else {}
    )
    return [
        Card(
            proposal=p,
            section=sections.get(p.section_id) if p.section_id else None,
            themes=[
                reference.theme_by_slug[t.slug]
                for t in p.themes.all()
                if t.slug in reference.theme_by_slug
            ],
            district=reference.district_by_slug.get(p.district.slug) if p.district_id else None,
            reactions=counts[p.pk],
            suggestions=[
                {
                    "name": reference.theme_by_slug[s["slug"]].name,
                    "percent": round(100 * s["score"]),
                    "words": s.get("words", []),
                }
                for s in p.suggested_themes
                if s["slug"] in reference.theme_by_slug
            ],
            group_size=sizes.get(p.pk, 0),
        )
        for p in proposals
    ]


def paginate(request: HttpRequest, queryset: QuerySet[Any], per_page: int = PAGE_SIZE) -> Page:
    # get_page turns a missing, wrong or too large page number into the nearest page.
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))


def query_without_page(request: HttpRequest) -> str:
    """The query string without `page`, so pagination links keep the filters."""
    query: QueryDict = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def refusal(exc: DomainError) -> str:
    """A service's refusal in the visitor's language, statuses and decisions by name."""
    readable = {}
    for key in ("status", "expected"):
        if key in exc.params:
            readable[key] = str(labels.STATUS.get(exc.params[key], exc.params[key]))
    if "decision" in exc.params:
        readable["decision"] = str(
            labels.ACTION.get(exc.params["decision"], exc.params["decision"])
        )
    return exc.translated(**readable)


def error_messages(exc: DomainError) -> dict[str | None, list[str]]:
    """A service's refusal, in the visitor's language, by the form field it names."""
    if exc.errors:
        return {name: [str(m) for m in messages] for name, messages in exc.errors.items()}
    return {exc.field: [refusal(exc)]}


def add_errors(form: Any, exc: DomainError) -> None:
    for name, messages in error_messages(exc).items():
        for message in messages:
            form.add_error(name if name in form.fields else None, message)


def render_filtered(
    request: HttpRequest,
    template: str,
    form: dict[str, Any],
    reference: Reference,
    select: Callable[[], QuerySet[Proposal]],
    more: Callable[[QuerySet[Proposal]], dict[str, Any]] | None = None,
    with_groups: bool = False,
    published_groups: bool = False,
    **context: Any,
) -> HttpResponse:
    """A page of the proposals `select` returns, or a 400 page naming each bad filter.

    `more` adds to the context what a page derives from the whole filtered set.
    """
    try:
        queryset = select()
        page = ListPaginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    except InvalidInput as exc:
        return render(
            request,
            template,
            {"form": form, "filter_errors": error_messages(exc), "cards": []},
            status=400,
        )
    cards = cards_for(
        list(page.object_list),
        reference,
        with_groups=with_groups,
        published_groups=published_groups,
    )
    if q := form.get("values", {}).get("q"):
        for card in cards:
            card.highlight = highlight_parts(
                title=card.proposal.title, body=card.proposal.body, q=q
            )
    return render(
        request,
        template,
        {
            "form": form,
            "page": page,
            "cards": cards,
            "query": query_without_page(request),
            **(more(queryset) if more else {}),
            **context,
        },
    )


def permission_required(perm: str) -> Callable[..., Any]:
    """Signed-in visitors whom the rule `perm` does not allow get a 403 page; others are
    sent to sign in."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not allows(request.user, perm):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
