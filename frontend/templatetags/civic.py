from typing import Any

from django import template
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from civic.accounts import roles
from frontend import labels

register = template.Library()


@register.filter
def status_label(code: str) -> str:
    return str(labels.STATUS.get(code, code))


@register.filter
def action_label(code: str) -> str:
    return str(labels.ACTION.get(code, code))


@register.filter
def reason_label(code: str) -> str:
    return str(labels.REASON.get(code, code)) if code else ""


@register.filter
def outcome_label(code: str) -> str:
    """The outcome of an answer, or the `unanswered` / `overdue` filter values."""
    return str(labels.ANSWER_FILTER.get(code, code))


@register.filter
def reaction_label(code: str) -> str:
    return str(labels.REACTION.get(code, code))


@register.filter
def staff_role(user: Any) -> str:
    """The role badge beside a staff member's name ("moderator"), "" for a resident. Reads
    the `staff_groups` the selector prefetched (civic.accounts.selectors)."""
    if user is None:
        return ""
    if user.is_superuser:
        return str(labels.ROLE[roles.ADMIN])
    groups = getattr(user, "staff_groups", None)
    if groups is None:
        groups = user.groups.filter(name__in=roles.STAFF_ROLES)
    names = {group.name for group in groups}
    if roles.ADMIN in names:
        return str(labels.ROLE[roles.ADMIN])
    return ", ".join(str(labels.ROLE[role]) for role in roles.STAFF_ROLES if role in names)


@register.filter
def language_label(code: str) -> str:
    return str(labels.LANGUAGE.get(code, code))


@register.filter
def ordering_label(code: str) -> str:
    return str(labels.ORDERING.get(code, code))


@register.filter
def strategy_status_label(code: str) -> str:
    return str(labels.STRATEGY_STATUS.get(code, code))


@register.filter
def filter_label(name: str) -> str:
    """The name a visitor sees for a filter of the query string."""
    names = {
        "strategy": _("Strategy"),
        "section": _("Section"),
        "theme": _("Themes"),
        "district": _("District"),
        "language": _("Language of the proposal"),
        "status": _("Status"),
        "created_after": _("Submitted from"),
        "created_before": _("Submitted until"),
        "q": _("Words"),
        "ordering": _("Order"),
        "answer": _("The city's answer"),
    }
    return str(names.get(name, name))


@register.filter
def multiply(value: int, factor: int) -> int:
    return int(value) * int(factor)


@register.filter
def complement(percent: float) -> str:
    """The y of a column `percent` tall in a 100-high chart."""
    return f"{100 - float(percent):.1f}"


@register.filter
def percent(share: float) -> str:
    """0.873 as "87%", in the active language's number format."""
    return f"{number_format(round(100 * float(share)))}%"


@register.filter
def get_item(mapping: dict, key: str) -> object:
    """mapping[key] in a template, where the key is itself a variable."""
    return mapping.get(key, "") if hasattr(mapping, "get") else ""


@register.filter
def share(part: int, rest: int) -> str:
    """`part` as a share of part + rest, "87%" in the active language's number format."""
    total = int(part) + int(rest)
    return percent(int(part) / total) if total else "—"
