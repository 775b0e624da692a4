"""What one notification says, in the active language: one line for the on-site list and
the emails alike. Titles and codes come from the rows; this module only words them."""

from dataclasses import dataclass

from django.utils.translation import gettext, gettext_noop

from proposals.labels import STATUS
from proposals.models import Notification

Kind = Notification.Kind


TEXTS = {
    Kind.COMMENT: gettext_noop("New comment on “%(title)s” (%(code)s)"),
    Kind.REPLY: gettext_noop("A reply to your comment on “%(title)s” (%(code)s)"),
    Kind.ANSWER: gettext_noop("The city answered “%(title)s” (%(code)s)"),
    Kind.STATUS: gettext_noop("“%(title)s” (%(code)s) is now %(status)s"),
    Kind.PUBLISHED: gettext_noop("New proposal in a section you follow: “%(title)s” (%(code)s)"),
    Kind.VERSION: gettext_noop("A new version of the strategy “%(strategy)s”"),
}
# A comment on a section, or a reply there: the item has a section_title and no proposal.
SECTION_TEXTS = {
    Kind.COMMENT: gettext_noop("New comment on the section “%(section)s”"),
    Kind.REPLY: gettext_noop("A reply to your comment on the section “%(section)s”"),
}


@dataclass(frozen=True)
class Item:
    kind: str
    code: str = ""
    title: str = ""
    status: str = ""
    strategy_title: str = ""
    section_title: str = ""


def describe(item: Item) -> str:
    params = {
        "code": item.code,
        "title": item.title,
        "status": str(STATUS.get(item.status, item.status)).lower(),
        "strategy": item.strategy_title,
        "section": item.section_title,
    }
    text = TEXTS[item.kind]
    if item.section_title and item.kind in SECTION_TEXTS:
        text = SECTION_TEXTS[item.kind]
    # Only the one line needed goes through the catalogue: a digest run words a great many.
    return gettext(text) % params
