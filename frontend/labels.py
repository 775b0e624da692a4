"""What the pages call the codes the API speaks."""

from django.utils.translation import gettext_lazy as _

from proposals.labels import ACTION, REACTION, REASON, STATUS

__all__ = ["ACTION", "LANGUAGE", "ORDERING", "REACTION", "REASON", "STATUS", "STRATEGY_STATUS"]

LANGUAGE = {
    "ru": _("Russian"),
    "kk": _("Kazakh"),
    "en": _("English"),
}

ORDERING = {
    "-created_at": _("Newest first"),
    "created_at": _("Oldest first"),
    "-reactions": _("Most reactions first"),
}

STRATEGY_STATUS = {
    "draft": _("Draft"),
    "open": _("Open for proposals"),
    "closed": _("Closed"),
    "archived": _("Archived"),
}
