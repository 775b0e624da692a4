"""Signed, expiring email-verification tokens: no table, nothing to clean up."""

from django.conf import settings
from django.core import signing

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
