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
