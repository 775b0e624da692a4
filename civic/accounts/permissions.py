"""API permission classes: each asks a rule (civic/accounts/rules.py, proposals/rules.py).

The class decides who may call an endpoint at all; the view then asks the same rule about
the object it loaded (`allows(user, perm, obj)`), so a permission has one definition
whichever the endpoint, page or service that applies it.
"""

from typing import Any

from rest_framework import permissions
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.views import APIView

from civic.accounts.rules import (
    allows,
    is_verified_resident,
    may_answer,
    may_moderate,
    may_order_reports,
    sees_every_proposal,
    sees_history,
)


def can_view_all(user: object) -> bool:
    """Staff who see proposals in every status: moderators, analysts, admins."""
    return sees_every_proposal(user)


class EmailNotVerified(PermissionDenied):
    default_detail = "Verify your email address before you do this."
    default_code = "email_not_verified"


class IsVerifiedResident(permissions.IsAuthenticated):
    """Signed in and, unless verification is switched off, with a verified email."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        if not super().has_permission(request, view):
            return False
        if not is_verified_resident(request.user):
            raise EmailNotVerified()
        return True


def requires(perm: str) -> type[permissions.BasePermission]:
    """A permission class granting access to signed-in users whom the rule `perm` allows
    (or who hold the role permission `perm`)."""

    class Requires(permissions.IsAuthenticated):
        def has_permission(self, request: Request, view: APIView) -> bool:
            return super().has_permission(request, view) and allows(request.user, perm)

    Requires.__name__ = f"Requires_{perm.rsplit('.', 1)[-1]}"
    return Requires


def _holding(predicate: Any, name: str) -> type[permissions.BasePermission]:
    """A permission class for signed-in users of whom the role predicate holds."""

    class Holding(permissions.IsAuthenticated):
        def has_permission(self, request: Request, view: APIView) -> bool:
            return super().has_permission(request, view) and predicate(request.user)

    Holding.__name__ = name
    return Holding


CanModerate = _holding(may_moderate, "CanModerate")
CanViewAll = _holding(sees_every_proposal, "CanViewAll")
CanViewHistory = _holding(sees_history, "CanViewHistory")
CanOrderReports = _holding(may_order_reports, "CanOrderReports")
CanAnswer = _holding(may_answer, "CanAnswer")
