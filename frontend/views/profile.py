"""The account's own pages: the terms and consent, the profile, the change of address,
"download my data" and "delete my account"."""

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from civic.accounts.apis import data_export_response
from civic.accounts.consent import needs_consent, terms_html, terms_version
from civic.accounts.export import data_export_of, data_export_request
from civic.accounts.models import DataExport
from civic.accounts.services import (
    user_accept_terms,
    user_delete,
    user_email_change_cancel,
    user_email_change_confirm,
    user_email_change_request,
    user_profile_update,
)
from civic.errors import DomainError, InvalidInput, NotAllowed
from frontend.forms import ConsentForm, DeleteAccountForm, EmailChangeForm, ProfileForm
from frontend.throttling import throttle_wait, throttled_page
from frontend.views.common import add_errors, refusal
from strategy.selectors import district_list


def _terms_context(request: HttpRequest) -> dict[str, object]:
    return {
        # Rendered from the operator's own Markdown files with raw HTML turned off.
        "terms": mark_safe(terms_html(language=request.LANGUAGE_CODE)),  # noqa: S308
        "version": terms_version(),
    }


def terms(request: HttpRequest) -> HttpResponse:
    """The terms of use and the privacy notice in force, in the page's language."""
    return render(request, "frontend/profile/terms.html", _terms_context(request))


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def consent(request: HttpRequest) -> HttpResponse:
    """Accept the terms in force; where the consent middleware sends residents who have not."""
    target = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = ""
    form = ConsentForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            user_accept_terms(user=request.user, accept_terms=form.cleaned_data["accept_terms"])
        except InvalidInput as exc:
            add_errors(form, exc)
        else:
            return redirect(target or "frontend:home")
    return render(
        request,
        "frontend/profile/consent.html",
        {
            **_terms_context(request),
            "form": form,
            "next": target,
            "earlier": request.user.consented_terms_version,
            "needed": needs_consent(request.user),
        },
        status=400 if form.errors else 200,
    )


@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    user = request.user
    districts = list(district_list())
    which = request.POST.get("form") if request.method == "POST" else None
    profile_form = ProfileForm(
        request.POST if which == "profile" else None,
        districts=districts,
        initial={
            "display_name": user.display_name,
            "district": user.district.slug if user.district_id else "",
            "language": user.language,
        },
    )
    email_form = EmailChangeForm(request.POST if which == "email" else None)
    if which == "profile" and profile_form.is_valid():
        data = profile_form.cleaned_data
        try:
            user_profile_update(
                user=user,
                display_name=data["display_name"],
                district=next((d for d in districts if d.slug == data["district"]), None),
                language=data["language"],
            )
        except InvalidInput as exc:
            add_errors(profile_form, exc)
        else:
            messages.success(request, _("Your profile is saved."))
            return redirect("frontend:profile")
    elif which == "email":
        # The form asks for the password: counted with sign-ins against guessing.
        if wait := throttle_wait(request, "login"):
            return throttled_page(request, wait)
        if email_form.is_valid():
            try:
                user_email_change_request(
                    user=user,
                    email=email_form.cleaned_data["new_email"],
                    password=email_form.cleaned_data["password"],
                )
            except (InvalidInput, NotAllowed) as exc:
                add_errors(email_form, _on_field(exc, email="new_email"))
            else:
                messages.success(
                    request,
                    _("We have sent a link to %(email)s. Your address changes when it is opened.")
                    % {"email": user.pending_email},
                )
                return redirect("frontend:profile")
    elif which == "cancel_email":
        user_email_change_cancel(user=user)
        messages.success(request, _("The change of address is cancelled."))
        return redirect("frontend:profile")
    export = data_export_of(user=user)
    return render(
        request,
        "frontend/profile/profile.html",
        {
            "profile_form": profile_form,
            "email_form": email_form,
            "export": export,
            "export_kept_until": export.finished_at
            + timedelta(days=settings.CIVIC_EXPORT_RETENTION_DAYS)
            if export is not None and export.finished_at
            else None,
            "terms_version": terms_version(),
        },
        status=400 if profile_form.errors or email_form.errors else 200,
    )


def _on_field(exc: DomainError, **renamed: str) -> DomainError:
    """A service's error on the form's name for the field (the form says `new_email`)."""
    if exc.field in renamed:
        exc.field = renamed[exc.field]
    return exc


def email_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """The link mailed to a new address: opening it makes it the account's address."""
    try:
        user = user_email_change_confirm(token=token)
    except InvalidInput as exc:
        return render(
            request, "frontend/profile/email_confirm.html", {"error": refusal(exc)}, status=400
        )
    return render(request, "frontend/profile/email_confirm.html", {"email": user.email})


@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def export(request: HttpRequest) -> HttpResponse:
    """POST asks for the data file (again); GET downloads it once built."""
    if request.method == "POST":
        if wait := throttle_wait(request, "export"):
            return throttled_page(request, wait)
        data_export_request(user=request.user)
        messages.success(
            request, _("We are preparing your data. The download appears here when it is ready.")
        )
        return redirect("frontend:profile")
    existing = data_export_of(user=request.user)
    if existing is None or existing.status != DataExport.Status.DONE:
        return redirect("frontend:profile")
    return data_export_response(request.user)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def account_delete(request: HttpRequest) -> HttpResponse:
    form = DeleteAccountForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if wait := throttle_wait(request, "login"):
            return throttled_page(request, wait)
        if form.is_valid():
            try:
                user_delete(user=request.user, password=form.cleaned_data["password"])
            except (InvalidInput, NotAllowed) as exc:
                add_errors(form, exc)
            else:
                logout(request)
                return render(request, "frontend/profile/deleted.html")
    return render(
        request,
        "frontend/profile/delete.html",
        {"form": form},
        status=400 if form.errors else 200,
    )
