from django.http import HttpRequest, HttpResponse


def health(request: HttpRequest) -> HttpResponse:
    """Liveness for load balancers: answers without touching the database or Redis."""
    return HttpResponse(b'{"status": "ok"}', content_type="application/json")
