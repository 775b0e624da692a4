from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from django.views.decorators.cache import never_cache

from civic.health import readiness


@never_cache
def health(request: HttpRequest) -> HttpResponse:
    """Liveness for load balancers: answers without touching the database or Redis, so a
    web process is never taken out for what another part lacks (that is /readyz)."""
    return HttpResponse(b'{"status": "ok"}', content_type="application/json")


@never_cache
def ready(request: HttpRequest) -> HttpResponse:
    """Readiness for monitoring: 200 when the database, Redis, a worker and beat all answer
    (civic/health.py), 503 naming the parts that do not."""
    ok, report = readiness()
    return JsonResponse(report, status=200 if ok else 503)


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
