"""Sign up, verify the email address, sign in and out, reset a password, pick a language."""

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils import translation
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.i18n import set_language
from rest_framework.settings import api_settings

from civic.accounts.services import (
    user_credentials_revoke,
    user_register,
    user_resend_verification,
    user_set_language,
    user_verify_email,
)
from civic.errors import InvalidInput
from frontend.forms import LoginForm, SignupForm
from frontend.throttling import PageThrottle, throttle_wait, throttled_page
from frontend.views.common import add_errors, refusal
from strategy.selectors import district_list


def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("frontend:my-proposals")
    districts = list(district_list())
    form = SignupForm(request.POST or None, districts=districts)
    if request.method == "POST" and (wait := throttle_wait(request, "register")):
        return throttled_page(request, wait)
    if request.method == "POST" and form.is_valid() and form.looks_automated():
        # A script (frontend/bots.py), refused quietly: it sees what a person sees
        # after signing up, and no account is made, no email sent.
        return redirect("frontend:signup-done")
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user_register(
                email=data["email"],
                password=data["password"],
                display_name=data["display_name"],
                district=next((d for d in districts if d.slug == data["district"]), None),
                language=request.LANGUAGE_CODE,
                accept_terms=data["accept_terms"],
            )
        except InvalidInput as exc:
            add_errors(form, exc)
        else:
            return redirect("frontend:signup-done")
    status = 400 if form.errors else 200
    return render(request, "frontend/accounts/signup.html", {"form": form}, status=status)


def signup_done(request: HttpRequest) -> HttpResponse:
    return render(request, "frontend/accounts/signup_done.html")


def verify_email(request: HttpRequest, token: str) -> HttpResponse:
    """The link in the verification email."""
    try:
        user = user_verify_email(token=token)
    except InvalidInput as exc:
        return render(
            request,
            "frontend/accounts/verify_email.html",
            {"error": refusal(exc), "expired": exc.code == "token_expired"},
            status=400,
        )
    return render(request, "frontend/accounts/verify_email.html", {"verified_user": user})


@login_required
@require_POST
def resend_verification(request: HttpRequest) -> HttpResponse:
    if wait := throttle_wait(request, "register"):
        return throttled_page(request, wait)
    user_resend_verification(user=request.user)
    messages.success(request, _("We have sent the link again. Check your inbox."))
    return redirect("frontend:my-proposals")


class LoginView(auth_views.LoginView):
    """Django's sign-in (it refuses a `next` that leads off the site), with a rate limit."""

    template_name = "frontend/accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if wait := throttle_wait(request, "login"):
            context = {"form": self.get_form(), "throttled": True}
            return throttled_page(request, wait, self.template_name, context)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form: Any) -> HttpResponse:
        return self.render_to_response(self.get_context_data(form=form), status=400)

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        # The site speaks the language the account chose, wherever the visitor signed in.
        language = form.get_user().language
        if language and not self.request.POST.get("next"):
            response = redirect(f"/{language}/")
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            language,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        )
        return response


class RecipientThrottle(PageThrottle):
    """Counts what is sent to one email address, whoever asks for it. The cache key holds a
    keyed hash of the address, never the address."""

    # Its own rates: a test or setting that replaces the pages' rates leaves this one be.
    THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES

    def __init__(self, scope: str, address: str) -> None:
        self.address = address.strip().lower()
        super().__init__(scope)

    def get_cache_key(self, request: Any, view: Any) -> str:
        digest = salted_hmac("civic.throttle.recipient", self.address).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": digest}


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "frontend/accounts/password_reset.html"
    email_template_name = "frontend/accounts/password_reset_email.txt"
    subject_template_name = "frontend/accounts/password_reset_subject.txt"
    success_url = reverse_lazy("frontend:password-reset-done")

    # One rule for every link in an email: CIVIC_SITE_URL, not the request's host (mail
    # sent by workers sees no request, and a proxy's Host need not be the public address).
    @property
    def extra_email_context(self) -> dict[str, str]:
        return {"site_url": settings.CIVIC_SITE_URL}

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # One budget with sign-in: asking for reset mails is guessing at accounts too.
        if wait := throttle_wait(request, "login"):
            context = {"form": self.get_form(), "throttled": True}
            return throttled_page(request, wait, self.template_name, context)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form: Any) -> HttpResponse:
        # Past CIVIC_THROTTLE_RESET_EMAIL for this address: nothing is sent, and the page is
        # the one a person always sees, so it tells nobody whether the address has an account.
        limit = RecipientThrottle("reset_email", form.cleaned_data["email"])
        if not limit.allow_request(self.request, None):
            return redirect(self.get_success_url())
        return super().form_valid(form)


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "frontend/accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "frontend/accounts/password_reset_confirm.html"
    success_url = reverse_lazy("frontend:password-reset-complete")

    def form_valid(self, form: Any) -> HttpResponse:
        # A reset is what someone does when the account may be in other hands: every token
        # and every session of the account ends with the old password.
        with transaction.atomic():
            response = super().form_valid(form)
            user_credentials_revoke(user=form.user)
        return response


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "frontend/accounts/password_reset_complete.html"


@require_POST
def language_switch(request: HttpRequest) -> HttpResponse:
    """Django's set_language (cookie, same page in the new language, no open redirect);
    a signed-in resident's emails follow the choice too."""
    language = request.POST.get("language", "")
    # set_language finds the page in the active language's URLs; /language/ has no
    # prefix, so the cookie's language is active, and a /ru/ page opened from a shared
    # link would not be found while the cookie says kk (the visitor would stay in Russian).
    # Read the page in the language of its own prefix.
    next_url = request.POST.get("next") or request.META.get("HTTP_REFERER") or ""
    page_language = translation.get_language_from_path(urlsplit(next_url).path)
    if page_language:
        translation.activate(page_language)
    if language not in dict(settings.LANGUAGES):
        # set_language would take any language Django has a catalogue for (/de/ is no
        # page of ours): send the visitor back where they were, changing nothing.
        request.POST = request.POST.copy()
        request.POST.pop("language", None)
        return set_language(request)
    response = set_language(request)
    if request.user.is_authenticated:
        user_set_language(user=request.user, language=language)
    return response
