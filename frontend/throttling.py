"""The API's rate limits, applied to the pages' forms that do the same things.

Each scope counts in the same cache entries as the API's ScopedRateThrottle (by account
when signed in, else by client address), so a client cannot double its budget by
switching between the two.
"""

from typing import Any

from django.http import HttpRequest
from django.shortcuts import render
from rest_framework.throttling import SimpleRateThrottle

from civic.clients import HashedIdentMixin
from civic.throttling import throttle_cache


class PageThrottle(HashedIdentMixin, SimpleRateThrottle):
    # The API's store: shared by every web process, held without Redis (civic/throttling.py).
    cache = throttle_cache

    def __init__(self, scope: str) -> None:
        self.scope = scope
        super().__init__()

    def get_cache_key(self, request: Any, view: Any) -> str:
        user = getattr(request, "user", None)
        ident = user.pk if user is not None and user.is_authenticated else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


def throttle_wait(request: HttpRequest, scope: str) -> int:
    """0 if one more `scope` action is allowed now, else the seconds to wait."""
    throttle = PageThrottle(scope)
    if throttle.allow_request(request, None):
        return 0
    return max(1, int(throttle.wait() or 1))


def throttled_page(
    request: HttpRequest,
    wait: int,
    template: str = "frontend/throttled.html",
    context: dict[str, Any] | None = None,
) -> Any:
    """A 429 with Retry-After; a form page passes its own template to show the form again."""
    response = render(request, template, {**(context or {}), "wait": wait}, status=429)
    response["Retry-After"] = str(wait)
    return response
