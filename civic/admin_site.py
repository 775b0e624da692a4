"""Django's admin site with the site's sign-in rate limit, and a change of one's own password
that ends the account's other sessions and its tokens.

Like civic/urls.py this module wires the project together above the apps, so it may use
the pages' throttle (frontend.throttling): the admin's sign-in counts in the same `login`
cache entries as the pages' and the API's, so switching between them buys no attempts.
"""

from typing import Any

from django.contrib import admin
from django.contrib.auth.views import PasswordChangeView
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from civic.accounts.forms import OwnPasswordChangeForm
from frontend.throttling import throttle_wait, throttled_page


class AdminSite(admin.AdminSite):
    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        if request.method == "POST" and (wait := throttle_wait(request, "login")):
            return throttled_page(request, wait)
        return super().login(request, extra_context)

    def password_change(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        # Django's own view, with a form whose save also revokes the account's tokens; the
        # view keeps this session signed in (update_session_auth_hash), the others end.
        request.current_app = self.name
        return PasswordChangeView.as_view(
            form_class=OwnPasswordChangeForm,
            success_url=reverse("admin:password_change_done", current_app=self.name),
            extra_context={**self.each_context(request), **(extra_context or {})},
            **(
                {"template_name": self.password_change_template}
                if self.password_change_template is not None
                else {}
            ),
        )(request)
