"""Ask a signed-in resident to accept the terms in force before they go on writing."""

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import Resolver404, resolve, reverse
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.settings import api_settings

from civic.accounts.consent import needs_consent

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Pages a resident may open without accepting: the consent page and the terms it asks
# about, signing out, and the rights the law gives whatever the terms say (seeing and
# deleting one's data).
_FREE_PAGES = frozenset(
    {"consent", "terms", "privacy", "logout", "account-delete", "export", "email-confirm"}
)
# Paths outside the pages: files, the admin (staff fix things there), the health check,
# the language switch, and the API (answered below, by method).
_FREE_PREFIXES = ("/static/", "/media/", "/admin/", "/healthz", "/language/")
# Account management through the API: signing in, out, consenting, exporting, deleting.
_FREE_API_PREFIX = "/api/v1/auth/"


class ConsentMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        if path.startswith("/api/"):
            refused = self._api(request, path)
        elif path.startswith(_FREE_PREFIXES):
            refused = None
        else:
            refused = self._page(request, path)
        return refused or self.get_response(request)

    def _page(self, request: HttpRequest, path: str) -> HttpResponse | None:
        if not needs_consent(getattr(request, "user", None)):
            return None
        try:
            match = resolve(path)
        except Resolver404:
            return None
        if match.namespace == "frontend" and match.url_name in _FREE_PAGES:
            return None
        url = reverse("frontend:consent")
        if request.method in _SAFE_METHODS:
            url += "?" + urlencode({"next": request.get_full_path()}, safe="/")
        return redirect(url)

    def _api(self, request: HttpRequest, path: str) -> HttpResponse | None:
        # Reading stays open (the resident's own data included); writes wait for consent.
        if request.method in _SAFE_METHODS or path.startswith(_FREE_API_PREFIX):
            return None
        if not needs_consent(_api_user(request)):
            return None
        return JsonResponse(
            {
                "detail": "Accept the current terms of use and privacy notice first: "
                "POST /api/v1/auth/me/consent/ with accept_terms true.",
                "code": "terms_not_accepted",
            },
            status=403,
        )


def _api_user(request: HttpRequest) -> Any:
    """The account the API view will see, found the way DRF finds it, without its CSRF
    check (the view still makes it): the first authenticator that recognises the request."""
    drf_request = Request(request)
    for authenticator_class in api_settings.DEFAULT_AUTHENTICATION_CLASSES:
        if issubclass(authenticator_class, SessionAuthentication):
            user = getattr(request, "user", None)
            if user is not None and user.is_active and user.is_authenticated:
                return user
            continue
        try:
            result = authenticator_class().authenticate(drf_request)
        except APIException:
            # A bad token: the view answers 401 itself.
            return None
        if result is not None:
            return result[0]
    return None
