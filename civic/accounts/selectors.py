from datetime import timedelta

from django.contrib.auth.models import Group
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from civic.accounts import roles
from civic.accounts.models import User


def user_roles(user: User) -> list[str]:
    """The user's roles, resident first. Superusers hold every role."""
    if not user.is_authenticated:
        return []
    if user.is_superuser:
        return list(roles.ROLES)
    names = set(user.groups.filter(name__in=roles.STAFF_ROLES).values_list("name", flat=True))
    return [roles.RESIDENT] + [role for role in roles.STAFF_ROLES if role in names]


def staff_accounts() -> QuerySet[User]:
    """Superusers, accounts that work in the Django admin, and holders of any staff role."""
    return User.objects.filter(
        Q(is_superuser=True) | Q(is_staff=True) | Q(groups__name__in=roles.STAFF_ROLES)
    ).distinct()


def user_is_staff_account(user: User) -> bool:
    return bool(
        user.is_superuser
        or user.is_staff
        or user.groups.filter(name__in=roles.STAFF_ROLES).exists()
    )


def staff_groups_prefetch(lookup: str) -> Prefetch:
    """Prefetch of the staff-role groups of the account at `lookup` (e.g. "actor"), as its
    `staff_groups`: what a role badge beside the name needs, in one query for a page."""
    return Prefetch(
        f"{lookup}__groups",
        queryset=Group.objects.filter(name__in=roles.STAFF_ROLES).only("id", "name"),
        to_attr="staff_groups",
    )


def verification_emails_unsent() -> list[int]:
    """New accounts whose verification link a lost task never mailed: old enough that the
    first task had its chance, young enough to still matter."""
    now = timezone.now()
    return list(
        User.objects.filter(
            email_verified=False,
            verification_sent_at__isnull=True,
            date_joined__lt=now - timedelta(minutes=2),
            date_joined__gt=now - timedelta(days=3),
        ).values_list("id", flat=True)[:500]
    )
