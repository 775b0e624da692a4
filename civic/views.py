from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults


def health(request: HttpRequest) -> HttpResponse:
    """Liveness for load balancers: answers without touching the database or Redis."""
    return HttpResponse(b'{"status": "ok"}', content_type="application/json")


# The API speaks JSON even when Django itself answers (unknown path, a request it
# refuses before any view runs, a crash); the web pages keep Django's HTML pages.
def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"detail": "Bad request.", "code": "bad_request"}, status=400)
    return defaults.bad_request(request, exception)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"detail": "Not found.", "code": "not_found"}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"detail": "Server error.", "code": "server_error"}, status=500)
    return defaults.server_error(request)
