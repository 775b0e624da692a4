from django.http import HttpRequest, HttpResponse
from django.utils.html import escape

from civic.accounts.services import user_verify_email
from civic.errors import InvalidInput


def verify_email(request: HttpRequest, token: str) -> HttpResponse:
    """The link in the verification email. The pages issue gives it a proper template."""
    try:
        user = user_verify_email(token=token)
    except InvalidInput as exc:
        return HttpResponse(
            f"<!doctype html><title>Civic</title><p>{escape(exc.message)}</p>", status=400
        )
    return HttpResponse(
        "<!doctype html><title>Civic</title>"
        f"<p>{escape(user.display_name)}: email confirmed / почта подтверждена.</p>"
    )
