"""Signed one-click unsubscribe links for the emails about what one follows.

Like the answer emails' links (proposals/answers/tokens.py), with a salt of their own, so
neither link can be used for the other: the token carries only the account's id and no
timestamp, since the link must work as long as the email is read.
"""

from django.conf import settings
from django.core import signing

from civic.accounts.models import User

_SALT = "civic.proposals.following.unsubscribe"


def unsubscribe_token(user: User) -> str:
    return signing.Signer(salt=_SALT).sign_object({"u": user.pk})


def unsubscribe_user_from_token(token: str) -> User | None:
    """The account a token was made for; None for a forged or mangled one."""
    try:
        data = signing.Signer(salt=_SALT).unsign_object(token)
        user_id = int(data["u"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
    return User.objects.filter(pk=user_id).first()


def unsubscribe_url(user: User, language: str) -> str:
    return (
        f"{settings.CIVIC_SITE_URL}/{language}/unsubscribe/notifications/{unsubscribe_token(user)}/"
    )
