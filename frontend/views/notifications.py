"""Following and what it brings: the notification list, the email settings, the one-click
unsubscribe pages behind the links in emails, and the follow buttons."""

import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from civic.accounts.services import (
    NOTIFY_EMAIL_CHOICES,
    user_set_answer_notifications,
    user_set_notification_preferences,
)
from civic.errors import DomainError
from frontend.views.common import paginate, query_without_page
from proposals.answers.notify import unsubscribe_user_from_token
from proposals.following import selectors, services
from proposals.following.describe import Item, describe
from proposals.following.tokens import (
    unsubscribe_user_from_token as notifications_user_from_token,
)
from proposals.models import Notification
from proposals.selectors import proposal_find_visible
from strategy.models import Section
from strategy.selectors import strategy_get_public, strategy_list_public


# Mail clients unsubscribe with a bare POST of "List-Unsubscribe=One-Click" to the link
# (RFC 8058): no session, no CSRF token. The signed token in the path is the authority,
# and it is only in the recipient's own mailbox, so a forged request cannot carry it.
@csrf_exempt
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
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


@csrf_exempt  # as `unsubscribe` above: the signed token is the authority
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe_notifications(request: HttpRequest, token: str) -> HttpResponse:
    """The link in the emails about what one follows: POST turns them off, or back to a
    daily digest with `enable=1`; GET only asks."""
    template = "frontend/accounts/unsubscribe_notifications.html"
    user = notifications_user_from_token(token)
    if user is None:
        return render(request, template, {"invalid": True}, status=404)
    if request.method == "POST":
        enabled = request.POST.get("enable") == "1"
        user_set_notification_preferences(user=user, notify_email="daily" if enabled else "off")
        return render(request, template, {"done": True, "enabled": enabled})
    return render(request, template, {"enabled": user.notify_email != "off"})


SLUG = re.compile(r"[-a-zA-Z0-9_]{1,80}")

_FIELDS = {
    "notify_answers": {"1": True, "0": False},
    "notify_email": {choice: choice for choice in NOTIFY_EMAIL_CHOICES},
    "follow_automatically": {"1": True, "0": False},
}


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def notification_settings(request: HttpRequest) -> HttpResponse:
    """Emails about answers, emails about what one follows (each, daily, never), and
    whether writing, commenting and reacting follow a proposal. A form may send any of
    them; one value that is not a choice changes nothing."""
    user = request.user
    error = ""
    if request.method == "POST":
        given = {name: request.POST.get(name) for name in _FIELDS if name in request.POST}
        chosen = {name: _FIELDS[name].get(value) for name, value in given.items()}
        if not given or any(value is None for value in chosen.values()):
            error = _("Choose whether to get these emails.")
        else:
            if "notify_answers" in chosen:
                user_set_answer_notifications(user=user, enabled=chosen["notify_answers"])
            if chosen.get("notify_email") == "immediate" and user.notify_email != "immediate":
                services.notifications_settle_unemailed(user=user)
            user_set_notification_preferences(
                user=user,
                notify_email=chosen.get("notify_email"),
                follow_automatically=chosen.get("follow_automatically"),
            )
            if set(chosen) != {"notify_answers"}:
                messages.success(request, _("Your email settings are saved."))
            elif chosen["notify_answers"]:
                messages.success(request, _("You will get emails about the city's answers."))
            else:
                messages.success(
                    request, _("You will no longer get emails about the city's answers.")
                )
            return redirect("frontend:notification-settings")
    return render(
        request,
        "frontend/accounts/notifications.html",
        {
            "notify_answers": user.notify_answers,
            "notify_email": user.notify_email,
            "follow_automatically": user.follow_automatically,
            "error": error,
        },
        status=400 if error else 200,
    )


def _line(notification: Notification) -> str:
    proposal, strategy = notification.proposal, notification.strategy
    return describe(
        Item(
            kind=notification.kind,
            code=proposal.code if proposal else "",
            title=proposal.title if proposal else "",
            status=notification.status,
            strategy_title=strategy.title if strategy else "",
            section_title=(
                f"{notification.section.code}. {notification.section.title}"
                if notification.section_id
                else ""
            ),
        )
    )


@login_required
@require_safe
def notification_list(request: HttpRequest) -> HttpResponse:
    unread_only = request.GET.get("unread") == "1"
    page = paginate(request, selectors.notification_list(user=request.user, unread=unread_only))
    rows = [{"notification": n, "text": _line(n)} for n in page.object_list]
    return render(
        request,
        "frontend/accounts/notification_list.html",
        {
            "page": page,
            "rows": rows,
            "unread_only": unread_only,
            "query": query_without_page(request),
        },
    )


@login_required
@require_POST
def notification_open(request: HttpRequest, notification_id: int) -> HttpResponse:
    """Mark one read and go to what it is about."""
    notification = selectors.notification_list(user=request.user).filter(pk=notification_id).first()
    if notification is None:
        raise Http404
    services.notifications_mark_read(user=request.user, ids=[notification.pk])
    if notification.section_id:
        section = notification.section
        return redirect(
            reverse("frontend:section-discussion", args=[section.strategy.slug, section.code])
            + f"#comment-{notification.comment_id}"
        )
    if notification.proposal_id:
        anchor = f"#comment-{notification.comment_id}" if notification.comment_id else ""
        return redirect(reverse("frontend:proposal", args=[notification.proposal_id]) + anchor)
    if notification.strategy_id:
        return redirect("frontend:versions", notification.strategy.slug)
    return redirect("frontend:notifications")


@login_required
@require_POST
def notifications_read_all(request: HttpRequest) -> HttpResponse:
    services.notifications_mark_read(user=request.user)
    messages.success(request, _("All notifications are marked as read."))
    return redirect("frontend:notifications")


def _back(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


@login_required
@require_POST
def follow(request: HttpRequest) -> HttpResponse:
    """The follow buttons: one of `proposal` (id), `section` (id) or `strategy` (slug),
    and `following` 1 or 0. Back to the page it came from."""
    following = request.POST.get("following")
    target: dict[str, object] = {}
    try:
        if "proposal" in request.POST:
            proposal = proposal_find_visible(
                user=request.user, proposal_id=int(request.POST["proposal"])
            )
            if proposal is not None:
                target["proposal"] = proposal
        elif "section" in request.POST:
            section = Section.objects.filter(
                pk=int(request.POST["section"]), strategy__in=strategy_list_public()
            ).first()
            if section is not None:
                target["section"] = section
        elif "strategy" in request.POST:
            slug = request.POST["strategy"]
            # Only a well-formed slug reaches the database (PostgreSQL refuses NUL outright).
            strategy = strategy_get_public(slug=slug) if SLUG.fullmatch(slug) else None
            if strategy is not None:
                target["strategy"] = strategy
    except ValueError:
        target = {}
    if not target or following not in ("0", "1"):
        message = _("Nothing to follow was named, or it cannot be followed.")
        return render(request, "frontend/bad_request.html", {"message": message}, status=400)
    try:
        services.follow_set(user=request.user, following=following == "1", **target)
    except DomainError as exc:
        messages.error(request, exc.translated())
    else:
        if following == "1":
            messages.success(
                request, _("You follow it now. News of it comes to your notifications.")
            )
        else:
            messages.success(request, _("You no longer follow it."))
    return redirect(_back(request, "frontend:notifications"))
