from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse


class RequestBodyLimitMiddleware:
    """Refuse a declared body over the limit with 413 before anything reads it.

    Django's own DATA_UPLOAD_MAX_MEMORY_SIZE check answers 400 only once the body
    is read; the API contract names 413 for an oversized body.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return JsonResponse(
                {"detail": "Content-Length is not a number.", "code": "bad_length"}, status=400
            )
        if length > settings.CIVIC_MAX_BODY_BYTES:
            return JsonResponse(
                {
                    "detail": f"Request body is larger than {settings.CIVIC_MAX_BODY_BYTES} bytes.",
                    "code": "request_too_large",
                },
                status=413,
            )
        return self.get_response(request)
