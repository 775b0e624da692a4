"""Signed one-click unsubscribe links for the emails about answers: no table, no expiry.

The link must keep working as long as the email it came in is read, so the token carries
only the account's id, signed with a salt of its own (a token made for anything else,
such as email verification, is refused here) and no timestamp: one account has one
token, so the link in the body and the one in the List-Unsubscribe header agree.
"""

from django.conf import settings

from civic.accounts.models import User
from civic.accounts.tokens import unsubscribe_token_make, unsubscribe_token_user

_SALT = "civic.proposals.answers.unsubscribe"


def unsubscribe_token(user: User) -> str:
    return unsubscribe_token_make(user_id=user.pk, salt=_SALT)


def unsubscribe_user_from_token(token: str) -> User | None:
    return unsubscribe_token_user(token, salt=_SALT)


def unsubscribe_url(user: User, language: str) -> str:
    """The page behind the link, with its language prefix: a path without one is
    redirected, and a redirect would turn a mail client's one-click POST into a GET."""
    return f"{settings.CIVIC_SITE_URL}/{language}/unsubscribe/{unsubscribe_token(user)}/"
