import re
from typing import Any

from rest_framework import authentication, exceptions

from civic.accounts.services import token_revoke, token_valid_since

_TOKEN = re.compile(r"[0-9a-f]{40}")


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token auth, refusing a malformed key before it reaches a query, and a token
    older than CIVIC_TOKEN_TTL_DAYS.

    A key holding a NUL byte would otherwise make PostgreSQL raise, and the client
    would get a 500 instead of a 401.
    """

    def authenticate_credentials(self, key: str) -> Any:
        if not _TOKEN.fullmatch(key):
            raise exceptions.AuthenticationFailed("Invalid token.")
        user, token = super().authenticate_credentials(key)
        if token.created <= token_valid_since():
            # A stolen token stops working on its own; the row goes with it.
            token_revoke(key=token.key)
            raise exceptions.AuthenticationFailed("Token has expired.")
        return user, token
