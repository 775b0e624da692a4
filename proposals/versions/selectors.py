"""Reading versions: the list, one version, a comparison with the proposals linked to it."""

from collections import defaultdict
from typing import Any

from django.db.models import QuerySet

from proposals.models import Answer, AnswerSectionLink, Proposal
from strategy.models import Strategy, StrategyVersion
from strategy.versions import section_changes

# Version numbers come from URLs; beyond a database integer they name nothing (and
# PostgreSQL would refuse the query rather than find no row).
NUMBER_MAX = 2_147_483_647


def _number_ok(number: int) -> bool:
    return 1 <= number <= NUMBER_MAX


def version_list(*, strategy: Strategy) -> QuerySet[StrategyVersion]:
    """The strategy's versions, oldest first, without their (large) texts."""
    return (
        StrategyVersion.objects.filter(strategy=strategy)
        .only("id", "strategy_id", "number", "imported_at", "changed_sections")
        .order_by("number")
    )


def version_get(*, strategy: Strategy, number: int) -> StrategyVersion | None:
    if not _number_ok(number):
        return None
    return StrategyVersion.objects.filter(strategy=strategy, number=number).first()


def version_pair(
    *, strategy: Strategy, a: int, b: int
) -> tuple[StrategyVersion, StrategyVersion] | None:
    """The earlier and the later of versions `a` and `b` (one query), or None if either
    does not exist."""
    if not (_number_ok(a) and _number_ok(b)):
        return None
    low, high = sorted((a, b))
    found = {
        version.number: version
        for version in StrategyVersion.objects.filter(strategy=strategy, number__in={low, high})
    }
    if low not in found or high not in found:
        return None
    return found[low], found[high]


def _shown(status: str, published: bool | None, outcome: str | None) -> bool:
    # A link shows only while it is still true in public: the proposal is published and
    # its published answer still says the city took it (in full or in part). A proposal
    # taken down later, or an answer changed since, drops out without anyone unlinking it.
    return bool(
        status == Proposal.Status.PUBLISHED and published and outcome in Answer.CHANGES_TEXT
    )


def _by_section(
    queryset: QuerySet[AnswerSectionLink], *, shown_only: bool
) -> dict[str, list[dict[str, Any]]]:
    """{section code: [{id, code, title, shown}]}, each proposal once per section, by code."""
    rows = queryset.order_by("section_code", "proposal__code", "proposal_id").values_list(
        "section_code",
        "proposal_id",
        "proposal__code",
        "proposal__title",
        "proposal__status",
        "proposal__answer__published",
        "proposal__answer__outcome",
    )
    linked: dict[str, list[dict[str, Any]]] = defaultdict(list)
    seen: set[tuple[str, int]] = set()
    for section_code, proposal_id, code, title, status, published, outcome in rows:
        shown = _shown(status, published, outcome)
        if (section_code, proposal_id) in seen or (shown_only and not shown):
            continue
        seen.add((section_code, proposal_id))
        linked[section_code].append(
            {"id": proposal_id, "code": code or str(proposal_id), "title": title, "shown": shown}
        )
    return dict(linked)


def linked_proposals(
    *, strategy: Strategy, after: int, upto: int
) -> dict[str, list[dict[str, Any]]]:
    """The proposals linked to each section in a version numbered above `after` and at
    most `upto` that still show in public; one query."""
    queryset = AnswerSectionLink.objects.filter(
        version__strategy=strategy, version__number__gt=after, version__number__lte=upto
    )
    return _by_section(queryset, shown_only=True)


def version_changes(
    *, strategy: Strategy, old: StrategyVersion, new: StrategyVersion, language: str
) -> list[dict[str, Any]]:
    """Section by section from `old` to `new` (see strategy.versions.section_changes), each
    with the codes of the proposals linked in a version after `old` up to `new`
    (`proposals`) and, for the pages, `linked` ([{id, code, title, shown}]). One query."""
    items = section_changes(old, new, language)
    linked = linked_proposals(strategy=strategy, after=old.number, upto=new.number)
    for item in items:
        item["linked"] = linked.get(item["section_code"], [])
        item["proposals"] = [proposal["code"] for proposal in item["linked"]]
    return items


def version_compare(
    *, strategy: Strategy, a: int, b: int, language: str
) -> list[dict[str, Any]] | None:
    """`version_changes` from the earlier of versions `a` and `b` to the later; None when
    either does not exist. Two queries."""
    pair = version_pair(strategy=strategy, a=a, b=b)
    if pair is None:
        return None
    return version_changes(strategy=strategy, old=pair[0], new=pair[1], language=language)


def version_links(
    *, version: StrategyVersion, shown_only: bool = True
) -> dict[str, list[dict[str, Any]]]:
    """The proposals linked to each section in this very version. With `shown_only` False
    (for responders, who may need to undo them) those that no longer show are listed too,
    with `shown` False."""
    return _by_section(AnswerSectionLink.objects.filter(version=version), shown_only=shown_only)
