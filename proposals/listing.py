"""The proposal list's page as plain dicts, without DRF's per-field machinery.

`ProposalSerializer` builds each row through a dozen Field objects, their source lookups
and a model instance per joined table; on a 100-row page that is most of the request.
Here a page is three queries of plain tuples (the rows with their joins, the themes, the
comment counts) turned into the same dicts, key for key, in the serializer's key order.
Who sees what is still asked of the same rules (`civic.accounts.rules.allows`), and
datetimes go through DRF's own DateTimeField, so both paths render the same bytes;
tests/proposals/test_listing.py holds them to it for every kind of reader.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils import timezone
from rest_framework.fields import DateTimeField

from civic.accounts.models import User
from civic.accounts.rules import allows
from proposals.comments.selectors import comment_counts_for
from proposals.models import Proposal, Reaction

REJECTED = Proposal.Status.REJECTED
# The kept totals, in the order `reaction_counts_for` gives the kinds.
_REACTION_COLUMNS = tuple(f"reactions_{kind}" for kind in Reaction.Kind.values)
_COLUMNS = (
    "id",
    "code",
    "strategy__slug",
    "section_id",
    "title",
    "body",
    "language",
    "district__slug",
    "status",
    "created_at",
    "published_at",
    "author__display_name",
    "author_id",
    "rejection_public",
    "suggested_themes",
    "suggestion_version",
    "latest_decision_id",
    "latest_decision__action",
    "latest_decision__reason",
    "latest_decision__note",
    "latest_decision__note_public",
    "latest_decision__at",
    "duplicate_of_id",
    "duplicate_of__code",
    "answer__id",
    "answer__outcome",
    "answer__text",
    "answer__published",
    "answer__answered_at",
    *_REACTION_COLUMNS,
)
_FIXED = len(_COLUMNS) - len(_REACTION_COLUMNS)


@dataclass(frozen=True, slots=True)
class _RuleSubject:
    """What the proposal rules read of a proposal (proposals/rules.py: is_author,
    is_published, is_publicly_rejected). A rule that came to read anything else would
    fail here with an AttributeError rather than be answered from a stale verdict."""

    author_id: int
    status: str
    rejection_public: bool


@dataclass(frozen=True, slots=True)
class _Ref:
    # `comment_counts_for` reads only the proposals' `pk`.
    pk: int


class _Verdicts:
    """The serializer's rules for one reader, asked once per kind of row.

    The proposal rules depend on a row only through whether the reader wrote it, its
    status and whether its rejection is public; the rest is about the reader (a role,
    which may cost a query the first time). So a page asks each rule at most once per
    combination of the three, not once per row.
    """

    def __init__(self, user: Any) -> None:
        self.user = user
        self.pk = getattr(user, "pk", None)
        self._known: dict[tuple[str, bool, str, bool], bool] = {}

    def __call__(self, perm: str, author_id: int, status: str, rejection_public: bool) -> bool:
        key = (perm, author_id == self.pk, status, rejection_public)
        verdict = self._known.get(key)
        if verdict is None:
            subject = _RuleSubject(
                author_id=author_id, status=status, rejection_public=rejection_public
            )
            verdict = self._known[key] = allows(self.user, perm, subject)
        return verdict


def _themes_of(ids: Sequence[int]) -> dict[int, list[str]]:
    through = Proposal.themes.through
    found: dict[int, list[str]] = {}
    for proposal_id, slug in through.objects.filter(proposal_id__in=ids).values_list(
        "proposal_id", "theme__slug"
    ):
        found.setdefault(proposal_id, []).append(slug)
    # Sorted in Python, as the serializer sorts them: the database's collation may differ.
    return {proposal_id: sorted(slugs) for proposal_id, slugs in found.items()}


def proposal_list_rows(*, ids: Sequence[int], user: User) -> list[dict[str, Any]]:
    """The representations of one page of proposals, in the order of `ids`, equal to
    `ProposalSerializer(page, many=True, context=...).data` for this reader.

    `ids` must already be the ones this reader may see (the list's queryset decides it);
    a row deleted since it was paged is left out. Three queries whatever the page size,
    plus the reader's roles the first time a rule asks for them.
    """
    if not ids:
        return []
    rows = {
        row[0]: row for row in Proposal.objects.filter(pk__in=ids).order_by().values_list(*_COLUMNS)
    }
    themes = _themes_of(ids)
    comments = comment_counts_for([_Ref(pk) for pk in rows])
    verdicts = _Verdicts(user)
    # DRF's own rendering, with the zone its fields would read at each value (the active
    # one) read once for the page: asking for it is a good part of the field's cost.
    zone = timezone.get_current_timezone() if settings.USE_TZ else None
    datetime = DateTimeField(default_timezone=zone).to_representation
    kinds = Reaction.Kind.values

    page = []
    for pk in ids:
        row = rows.get(pk)
        if row is None:
            continue
        (
            _,
            code,
            strategy,
            section_id,
            title,
            body,
            language,
            district,
            status,
            created_at,
            published_at,
            author_name,
            author_id,
            rejection_public,
            suggested_themes,
            suggestion_version,
            decision_id,
            decision_action,
            decision_reason,
            decision_note,
            decision_note_public,
            decision_at,
            duplicate_of_id,
            duplicate_of_code,
            answer_id,
            answer_outcome,
            answer_text,
            answer_published,
            answer_answered_at,
        ) = row[:_FIXED]
        item: dict[str, Any] = {
            "id": pk,
            "code": code,
            "strategy": strategy,
            "section": section_id,
            "title": title,
            "body": body,
            "language": language,
            "district": district,
            "themes": themes.get(pk, []),
            "status": status,
            "created_at": datetime(created_at),
            "published_at": datetime(published_at),
            "author_name": author_name,
            "reactions": dict(zip(kinds, row[_FIXED:], strict=True)),
            "comments_count": comments.get(pk, 0),
        }
        if verdicts("proposals.view_decision", author_id, status, rejection_public):
            item["moderation"] = (
                None
                if decision_id is None
                else {
                    "decision": decision_action,
                    "reason": decision_reason,
                    "note": decision_note,
                    "decided_at": datetime(decision_at),
                }
            )
        if verdicts("proposals.view_suggested_themes", author_id, status, rejection_public):
            item["suggested_themes"] = [
                {**theme, "version": suggestion_version} for theme in suggested_themes
            ]

        answer = None
        if answer_id is not None:
            staff = verdicts("proposals.view_draft_answer", author_id, status, rejection_public)
            if answer_published or staff:
                answer = {
                    "outcome": answer_outcome,
                    "text": answer_text,
                    "answered_at": datetime(answer_answered_at),
                }
                if staff:
                    answer["published"] = answer_published
        item["answer"] = answer

        rejection = None
        if (
            status == REJECTED
            and decision_id is not None
            and verdicts("proposals.view_rejection", author_id, status, rejection_public)
        ):
            rejection = {
                "reason": decision_reason,
                "note": decision_note if decision_note_public and decision_note else None,
                "duplicate_of": duplicate_of_code if duplicate_of_id else None,
            }
        item["rejection"] = rejection
        page.append(item)
    return page
