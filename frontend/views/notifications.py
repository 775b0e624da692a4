"""Emails about the city's answers: the one-click unsubscribe page behind the link in
each such email, and the account's own switch."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from civic.accounts.services import user_set_answer_notifications
from proposals.answers.notify import unsubscribe_user_from_token


# Mail clients unsubscribe with a bare POST of "List-Unsubscribe=One-Click" to the link
# (RFC 8058): no session, no CSRF token. The signed token in the path is the authority,
# and it is only in the recipient's own mailbox, so a forged request cannot carry it.
@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks (mail scanners open links, so it changes nothing); POST turns the emails
    off, or on again with `enable=1`."""
    template = "frontend/accounts/unsubscribe.html"
    user = unsubscribe_user_from_token(token)
    if user is None:
        return render(request, template, {"invalid": True}, status=404)
    if request.method == "POST":
        enabled = request.POST.get("enable") == "1"
        user_set_answer_notifications(user=user, enabled=enabled)
        return render(request, template, {"done": True, "enabled": enabled})
    return render(request, template, {"enabled": user.notify_answers})


@login_required
@require_http_methods(["GET", "POST"])
def notification_settings(request: HttpRequest) -> HttpResponse:
    choice = request.POST.get("notify_answers")
    if request.method == "POST" and choice in ("0", "1"):
        enabled = choice == "1"
        user_set_answer_notifications(user=request.user, enabled=enabled)
        if enabled:
            messages.success(request, _("You will get emails about the city's answers."))
        else:
            messages.success(request, _("You will no longer get emails about the city's answers."))
        return redirect("frontend:notifications")
    error = _("Choose whether to get these emails.") if request.method == "POST" else ""
    return render(
        request,
        "frontend/accounts/notifications.html",
        {"notify_answers": request.user.notify_answers, "error": error},
        status=400 if error else 200,
    )
