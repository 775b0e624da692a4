"""Errors that services raise; the API layer maps them onto status codes.

Services are called by views, the admin, management commands and tasks, so they
speak in these terms rather than in HTTP ones.

Messages are written in English and marked with `gettext_noop`: the API answers in
English, and the web pages look the same text up in the catalogue of the visitor's
language (`DomainError.translated`). Numbers and names go in `params`, so the text
to look up stays the same whatever they are.
"""

from typing import Any

from django.utils.translation import gettext


class DomainError(Exception):
    code = "invalid"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        code: str | None = None,
        errors: dict[str, list[str]] | None = None,
        params: dict[str, Any] | None = None,
    ) -> None:
        self.template = message
        self.params = params or {}
        self.message = message % self.params if params else message
        super().__init__(self.message)
        self.field = field
        # Several field errors at once (e.g. every bad filter), else just `field`.
        self.errors = errors
        if code:
            self.code = code

    def translated(self, **readable: Any) -> str:
        """The message in the active language, for the web pages; `readable` replaces
        params (a status code, say) with what a reader calls them."""
        text = gettext(self.template)
        return text % {**self.params, **readable} if self.params else text


class InvalidInput(DomainError):
    """The request itself is wrong (400)."""


class NotAllowed(DomainError):
    """The caller may not do this (403)."""

    code = "permission_denied"


class StateConflict(DomainError):
    """The object is not in a state that allows this (409)."""

    code = "invalid_transition"
