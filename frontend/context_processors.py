from typing import Any

from django.http import HttpRequest

from civic.accounts.rules import allows
from proposals.following.selectors import unread_count


def navigation(request: HttpRequest) -> dict[str, Any]:
    """Which role pages the header links to, and what it says about who is signed in."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": {"signed_in": False}}
    return {
        "nav": {
            "signed_in": True,
            "moderate": allows(user, "proposals.moderate"),
            "analyse": allows(user, "proposals.view_every_proposal"),
            "history": allows(user, "proposals.view_history"),
            "reports": allows(user, "proposals.order_reports"),
            "answer": allows(user, "proposals.answer"),
            "admin": user.is_staff or user.has_perm("strategy.change_strategy"),
            "unread": unread_count(user=user),
        }
    }
