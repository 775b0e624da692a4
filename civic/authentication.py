import re
from typing import Any

from rest_framework import authentication, exceptions

_TOKEN = re.compile(r"[0-9a-f]{40}")


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token auth, refusing a malformed key before it reaches a query.

    A key holding a NUL byte would otherwise make PostgreSQL raise, and the client
    would get a 500 instead of a 401.
    """

    def authenticate_credentials(self, key: str) -> Any:
        if not _TOKEN.fullmatch(key):
            raise exceptions.AuthenticationFailed("Invalid token.")
        return super().authenticate_credentials(key)
