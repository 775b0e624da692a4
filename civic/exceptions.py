from typing import Any

from django.core.exceptions import RequestDataTooBig
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from civic.errors import DomainError, InvalidInput, NotAllowed, StateConflict


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The object is not in a state that allows this."
    default_code = "conflict"


# Codes that clients act on; these reach the body as a top-level "code".
_EXPOSED_CODES = {"email_not_verified", "strategy_closed", "not_authenticated", "throttled"}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        return _domain_response(exc)
    if isinstance(exc, RequestDataTooBig):
        return Response(
            {"detail": "Request body is too large.", "code": "request_too_large"},
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, exceptions.UnsupportedMediaType):
        # The contract: a body that is not JSON is a 400, whatever it claims to be.
        return Response(
            {"detail": f"Request body must be JSON, not {exc.detail}", "code": "not_json"},
            status=status.HTTP_400_BAD_REQUEST,
        )
    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    if isinstance(response.data, dict) and "code" not in response.data:
        codes = exc.get_codes()
        if isinstance(codes, str) and (codes in _EXPOSED_CODES or response.status_code == 409):
            response.data["code"] = codes
    return response


def _domain_response(exc: DomainError) -> Response:
    if isinstance(exc, StateConflict):
        return Response({"detail": exc.message, "code": exc.code}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, NotAllowed):
        return Response({"detail": exc.message, "code": exc.code}, status=status.HTTP_403_FORBIDDEN)
    assert isinstance(exc, InvalidInput)  # noqa: S101 - the three kinds above are exhaustive
    body: dict[str, Any] = dict(exc.errors or {exc.field or "non_field_errors": [exc.message]})
    if exc.code != "invalid":
        body["code"] = exc.code
    return Response(body, status=status.HTTP_400_BAD_REQUEST)
