"""Sign-in attempts counted per client address, in the same budget as the API's token login."""

from typing import Any

from django.http import HttpRequest
from rest_framework.throttling import SimpleRateThrottle


class LoginThrottle(SimpleRateThrottle):
    # The API's scope: a client cannot double its guesses by switching between the two.
    scope = "login"

    def get_cache_key(self, request: Any, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


def login_allowed(request: HttpRequest) -> tuple[bool, int]:
    """(allowed, seconds to wait) for one more sign-in attempt from this client."""
    throttle = LoginThrottle()
    if throttle.allow_request(request, None):
        return True, 0
    return False, int(throttle.wait() or 1)
