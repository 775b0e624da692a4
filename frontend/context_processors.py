from typing import Any

from django.http import HttpRequest

from civic.accounts import roles


def navigation(request: HttpRequest) -> dict[str, Any]:
    """Which role pages the header links to, and what it says about who is signed in."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": {"signed_in": False}}
    return {
        "nav": {
            "signed_in": True,
            "moderate": user.has_perm(roles.MODERATE),
            "analyse": user.has_perm(roles.VIEW_ALL),
            "history": user.has_perm(roles.VIEW_HISTORY),
            "reports": user.has_perm(roles.ORDER_REPORT),
            "answer": user.has_perm(roles.ANSWER),
            "admin": user.is_staff or user.has_perm("strategy.change_strategy"),
        }
    }
