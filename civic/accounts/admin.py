from typing import Any

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from civic.accounts.forms import UserPasswordSetForm
from civic.accounts.models import User
from civic.accounts.selectors import user_is_staff_account

# What lets someone sign in as an account or decide what it may do.
CREDENTIALS = ["email", "is_active", "is_staff", "is_superuser", "groups"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["id"]
    list_display = ["id", "email", "display_name", "email_verified", "is_staff", "date_joined"]
    search_fields = ["email", "display_name"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Profile", {"fields": ["display_name", "district", "language", "email_verified"]}),
        ("Roles", {"fields": ["is_active", "is_staff", "is_superuser", "groups"]}),
    ]
    add_fieldsets = [
        (
            None,
            {"classes": ["wide"], "fields": ["email", "display_name", "password1", "password2"]},
        ),
    ]
    filter_horizontal = ["groups"]
    # A new password ends the account's tokens and sessions.
    change_password_form = UserPasswordSetForm

    def _protected(self, request: HttpRequest, obj: User | None) -> bool:
        """An admin-role account below superuser manages residents, not staff: otherwise it
        could set a superuser's password or address and sign in as them. Its own account
        included: its password changes at /admin/password_change/, which asks the old one."""
        return obj is not None and not request.user.is_superuser and user_is_staff_account(obj)

    def get_readonly_fields(self, request: HttpRequest, obj: User | None = None) -> list[str]:
        # Only a superuser makes superusers or staff; an admin-role account manages
        # profiles and roles but cannot raise itself above them.
        if request.user.is_superuser:
            return []
        if self._protected(request, obj):
            return [*CREDENTIALS, "email_verified"]
        return ["is_staff", "is_superuser", "email_verified"]

    def get_fieldsets(self, request: HttpRequest, obj: User | None = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)
        if not self._protected(request, obj):
            return fieldsets
        # No link to a password form that would refuse them.
        return [
            (name, {**options, "fields": [f for f in options["fields"] if f != "password"]})
            for name, options in fieldsets
        ]

    def user_change_password(
        self, request: HttpRequest, id: str, form_url: str = ""
    ) -> HttpResponse:
        if self._protected(request, self.get_object(request, unquote(id))):
            raise PermissionDenied
        return super().user_change_password(request, id, form_url)
