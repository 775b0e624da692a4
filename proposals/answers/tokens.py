"""Signed one-click unsubscribe links for the emails about answers: no table, no expiry.

The link must keep working as long as the email it came in is read, so the token carries
only the account's id, signed with a salt of its own (a token made for anything else,
such as email verification, is refused here) and no timestamp: one account has one
token, so the link in the body and the one in the List-Unsubscribe header agree.
"""

from django.conf import settings
from django.core import signing

from civic.accounts.models import User

_SALT = "civic.proposals.answers.unsubscribe"


def unsubscribe_token(user: User) -> str:
    return signing.Signer(salt=_SALT).sign_object({"u": user.pk})


def unsubscribe_user_from_token(token: str) -> User | None:
    """The account a token was made for, or None for a forged, mangled or stale token
    (an account since removed)."""
    try:
        data = signing.Signer(salt=_SALT).unsign_object(token)
        user_id = int(data["u"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
    return User.objects.filter(pk=user_id).first()


def unsubscribe_url(user: User, language: str) -> str:
    """The page behind the link, with its language prefix: a path without one is
    redirected, and a redirect would turn a mail client's one-click POST into a GET."""
    return f"{settings.CIVIC_SITE_URL}/{language}/unsubscribe/{unsubscribe_token(user)}/"
