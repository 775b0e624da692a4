"""What the pages call the codes the API speaks."""

from django.utils.translation import gettext_lazy as _

from proposals.labels import ACTION, OUTCOME, REACTION, REASON, STATUS

__all__ = [
    "ACTION",
    "ANSWER_FILTER",
    "LANGUAGE",
    "ORDERING",
    "OUTCOME",
    "REACTION",
    "REASON",
    "ROLE",
    "STATUS",
    "STRATEGY_STATUS",
]

ANSWER_FILTER = {
    **OUTCOME,
    "unanswered": _("Awaiting the city's answer"),
    "overdue": _("Answer overdue"),
}

LANGUAGE = {
    "ru": _("Russian"),
    "kk": _("Kazakh"),
    "en": _("English"),
}

# The badge beside a staff member's name where their action is shown.
ROLE = {
    "admin": _("administrator"),
    "moderator": _("moderator"),
    "analyst": _("analyst"),
    "responder": _("responder"),
}

ORDERING = {
    "-created_at": _("Newest first"),
    "created_at": _("Oldest first"),
    # Every kind counts, "outrage" too: it measures attention, not support.
    "-reactions": _("Most reactions of any kind first"),
    "relevance": _("Best match first"),
}

STRATEGY_STATUS = {
    "draft": _("Draft"),
    "open": _("Open for proposals"),
    "closed": _("Closed"),
    "archived": _("Archived"),
}
