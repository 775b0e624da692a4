from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet

from strategy.models import District, Section, Strategy, Theme


def strategy_list_public() -> QuerySet[Strategy]:
    """Strategies the public may see: every status but draft."""
    return Strategy.objects.exclude(status=Strategy.Status.DRAFT)


def strategy_get_public(*, slug: str) -> Strategy | None:
    return strategy_list_public().filter(slug=slug).first()


def section_tree(*, strategy: Strategy) -> list[dict[str, Any]]:
    """The whole section tree in document order, from one query."""
    nodes: dict[int, dict[str, Any]] = {}
    roots: list[dict[str, Any]] = []
    for section in Section.objects.filter(strategy=strategy).order_by("position"):
        node = {
            "id": section.pk,
            "code": section.code,
            "title": section.title,
            "body": section.body,
            "children": [],
        }
        nodes[section.pk] = node
        parent = nodes.get(section.parent_id) if section.parent_id else None
        (parent["children"] if parent else roots).append(node)
    return roots


def section_rows(tree: list[dict[str, Any]], depth: int = 0) -> list[dict[str, Any]]:
    """The tree flattened in document order, each node with its `depth` (0 at the top)."""
    rows: list[dict[str, Any]] = []
    for node in tree:
        rows.append({**node, "depth": depth})
        rows.extend(section_rows(node["children"], depth + 1))
    return rows


def theme_list() -> QuerySet[Theme]:
    return Theme.objects.all()


def district_list() -> QuerySet[District]:
    return District.objects.all()


def sections_by_id(ids: Iterable[int]) -> dict[int, Section]:
    """Sections with their codes and titles, by id, from one query."""
    ids = {pk for pk in ids if pk}
    if not ids:
        return {}
    return Section.objects.only(
        "id", "code", "position", "title_ru", "title_kk", "title_en"
    ).in_bulk(ids)


def section_of_strategy(*, strategy: Strategy, section_id: int) -> Section | None:
    return Section.objects.filter(pk=section_id, strategy=strategy).first()


def sections_in_order(counts: dict[int | None, int]) -> list[tuple[Section | None, int]]:
    """(section, count) pairs in document order; None (the whole document) first."""
    sections = sections_by_id(pk for pk in counts if pk)
    pairs = [(sections.get(pk) if pk else None, n) for pk, n in counts.items()]
    return sorted(pairs, key=lambda pair: pair[0].position if pair[0] else -1)
