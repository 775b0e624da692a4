"""Signed one-click unsubscribe links for the emails about what one follows.

Like the answer emails' links (proposals/answers/tokens.py), with a salt of their own, so
neither link can be used for the other: the token carries only the account's id and no
timestamp, since the link must work as long as the email is read.
"""

from django.conf import settings

from civic.accounts.models import User
from civic.accounts.tokens import unsubscribe_token_make, unsubscribe_token_user

_SALT = "civic.proposals.following.unsubscribe"


def unsubscribe_token(user: User) -> str:
    return unsubscribe_token_make(user_id=user.pk, salt=_SALT)


def unsubscribe_user_from_token(token: str) -> User | None:
    return unsubscribe_token_user(token, salt=_SALT)


def unsubscribe_url(user: User, language: str) -> str:
    return (
        f"{settings.CIVIC_SITE_URL}/{language}/unsubscribe/notifications/{unsubscribe_token(user)}/"
    )
