"""API permission classes: each maps an action onto a named permission (roles.py)."""

from django.conf import settings
from rest_framework import permissions
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.views import APIView

from civic.accounts import roles


def can_view_all(user: object) -> bool:
    """Staff who see proposals in every status: moderators, analysts, admins."""
    return bool(getattr(user, "is_authenticated", False)) and user.has_perm(roles.VIEW_ALL)


def sees_draft_answers(user: object) -> bool:
    """Staff who see an answer before it is published: those who answer, and those who
    see every proposal."""
    if not getattr(user, "is_authenticated", False):
        return False
    return user.has_perm(roles.ANSWER) or user.has_perm(roles.VIEW_ALL)


class EmailNotVerified(PermissionDenied):
    default_detail = "Verify your email address before you do this."
    default_code = "email_not_verified"


class IsVerifiedResident(permissions.IsAuthenticated):
    """Signed in and, unless verification is switched off, with a verified email."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        if not super().has_permission(request, view):
            return False
        if settings.CIVIC_EMAIL_VERIFICATION and not request.user.email_verified:
            raise EmailNotVerified()
        return True


def requires(perm: str) -> type[permissions.BasePermission]:
    """A permission class granting access to signed-in users who hold `perm`."""

    class Requires(permissions.IsAuthenticated):
        def has_permission(self, request: Request, view: APIView) -> bool:
            return super().has_permission(request, view) and request.user.has_perm(perm)

    Requires.__name__ = f"Requires_{perm.rsplit('.', 1)[-1]}"
    return Requires


CanModerate = requires(roles.MODERATE)
CanViewAll = requires(roles.VIEW_ALL)
CanViewHistory = requires(roles.VIEW_HISTORY)
CanOrderReports = requires(roles.ORDER_REPORT)
CanAnswer = requires(roles.ANSWER)
