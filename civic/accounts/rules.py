"""Who someone is to the platform: the predicates every app's rules are made of.

The roles themselves stay where they are granted: Django groups holding the named
permissions of roles.py. The predicates here read those (through `user.has_perm`) and
say it in the product's words, so that each app's rules.py composes its permissions from
the same few facts. django-rules autodiscovers this module (settings.INSTALLED_APPS).

Ask a rule with `allows(user, "app.rule", obj)`, from Python; templates ask it with
`{% has_perm "app.rule" user obj as name %}` (`{% load rules %}`).
"""

from typing import Any

import rules
from django.conf import settings

from civic.accounts import roles
from civic.accounts.selectors import user_is_staff_account


def allows(user: Any, perm: str, obj: Any = None) -> bool:
    """The verdict of the rule `perm` for `user` (about `obj`).

    Code asks this rather than `user.has_perm`, because Django answers yes to an active
    superuser before it reads any rule: "only the author may withdraw it" must mean only
    the author, and "staff accounts are closed by an administrator" must hold for a
    superuser too. A rule built on a role still lets a superuser through, since he holds
    every permission of roles.py.
    """
    return rules.has_perm(perm, user, obj)


@rules.predicate
def is_signed_in(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False))


@rules.predicate
def is_verified_resident(user: Any) -> bool:
    """Signed in and, unless verification is switched off, with a confirmed address:
    who may submit a proposal and react to one."""
    if not is_signed_in(user):
        return False
    return not settings.CIVIC_EMAIL_VERIFICATION or bool(user.email_verified)


@rules.predicate
def is_staff_account(user: Any) -> bool:
    """An account that acts for the city: any staff role, the Django admin, a superuser."""
    return is_signed_in(user) and user_is_staff_account(user)


def _holds(permission: str, name: str) -> rules.Predicate:
    """A predicate true for whoever holds the role permission `permission` (roles.py)."""

    def holds(user: Any) -> bool:
        return is_signed_in(user) and user.has_perm(permission)

    return rules.predicate(holds, name=name)


# The roles, by what each lets a person do (roles.ROLE_PERMISSIONS says who has which).
sees_every_proposal = _holds(roles.VIEW_ALL, "sees_every_proposal")  # moderator, analyst, admin
may_moderate = _holds(roles.MODERATE, "may_moderate")  # moderator, admin
sees_history = _holds(roles.VIEW_HISTORY, "sees_history")  # all staff
may_answer = _holds(roles.ANSWER, "may_answer")  # responder, admin
may_order_reports = _holds(roles.ORDER_REPORT, "may_order_reports")  # analyst, admin
sees_every_report = _holds(roles.VIEW_ALL_REPORTS, "sees_every_report")  # admin

# The account's own pages and data: its owner, signed in. Staff act for the city, so
# their accounts are closed by an administrator, who reassigns their work.
rules.add_perm("accounts.edit_own_profile", is_signed_in)
rules.add_perm("accounts.export_own_data", is_signed_in)
rules.add_perm("accounts.close_own_account", is_signed_in & ~is_staff_account)
