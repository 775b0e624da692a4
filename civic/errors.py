"""Errors that services raise; the API layer maps them onto status codes.

Services are called by views, the admin, management commands and tasks, so they
speak in these terms rather than in HTTP ones.
"""


class DomainError(Exception):
    code = "invalid"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        code: str | None = None,
        errors: dict[str, list[str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        # Several field errors at once (e.g. every bad filter), else just `field`.
        self.errors = errors
        if code:
            self.code = code


class InvalidInput(DomainError):
    """The request itself is wrong (400)."""


class NotAllowed(DomainError):
    """The caller may not do this (403)."""

    code = "permission_denied"


class StateConflict(DomainError):
    """The object is not in a state that allows this (409)."""

    code = "invalid_transition"
