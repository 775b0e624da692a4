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


def theme_list() -> QuerySet[Theme]:
    return Theme.objects.all()


def district_list() -> QuerySet[District]:
    return District.objects.all()
