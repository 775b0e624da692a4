"""Signed tokens: expiring ones to verify an address, lasting ones to unsubscribe; no
table, nothing to clean up."""

from django.conf import settings
from django.core import signing

from civic.accounts.models import User

_SALT = "civic.accounts.verify-email"


def email_token_make(*, user_id: int, email: str) -> str:
    return signing.dumps({"u": user_id, "e": email}, salt=_SALT, compress=True)


def email_token_read(token: str) -> tuple[int, str]:
    """Return (user id, email) or raise signing.BadSignature (SignatureExpired included)."""
    data = signing.loads(token, salt=_SALT, max_age=settings.CIVIC_EMAIL_VERIFICATION_MAX_AGE)
    return int(data["u"]), str(data["e"])


def email_verification_url(token: str, language: str = "ru") -> str:
    """The page that confirms the address, in the language the account was opened in."""
    return f"{settings.CIVIC_SITE_URL}/{language}/verify-email/{token}/"


# A change of address: its own salt, so a verification link can never confirm a change.
_CHANGE_SALT = "civic.accounts.change-email"


def email_change_token_make(*, user_id: int, email: str) -> str:
    return signing.dumps({"u": user_id, "e": email}, salt=_CHANGE_SALT, compress=True)


def email_change_token_read(token: str) -> tuple[int, str]:
    """Return (user id, new email) or raise signing.BadSignature (SignatureExpired included)."""
    data = signing.loads(
        token, salt=_CHANGE_SALT, max_age=settings.CIVIC_EMAIL_VERIFICATION_MAX_AGE
    )
    return int(data["u"]), str(data["e"])


def email_change_url(token: str, language: str = "ru") -> str:
    return f"{settings.CIVIC_SITE_URL}/{language}/me/email/{token}/"


# One-click unsubscribe links: the account's id signed under the salt of one kind of email,
# with no timestamp, because the link must work as long as the email is read; one account
# has one token per kind, so the link in the body and the one in the List-Unsubscribe
# header agree. A token made for one kind (or for anything else) is refused for another.


def unsubscribe_token_make(*, user_id: int, salt: str) -> str:
    return signing.Signer(salt=salt).sign_object({"u": user_id})


def unsubscribe_token_user(token: str, *, salt: str) -> User | None:
    """The account a token was made for, or None for a forged, mangled or stale token
    (an account since removed)."""
    try:
        data = signing.Signer(salt=salt).unsign_object(token)
        user_id = int(data["u"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
    return User.objects.filter(pk=user_id).first()
