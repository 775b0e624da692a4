"""How the pages name people."""

from django import template
from django.utils.translation import gettext

from civic.accounts.models import FORMER_RESIDENT

register = template.Library()


@register.filter
def person(display_name: str | None) -> str:
    """A display name as the pages show it: a deleted account's in the page's language.

    Deleted accounts keep the fixed English text in the database (and the API shows it);
    nobody else may take it as a name (civic.accounts.services).
    """
    if display_name == FORMER_RESIDENT:
        return gettext(FORMER_RESIDENT)
    return display_name or ""
