"""The admin's password forms: a new password ends the account's tokens and other sessions."""

from typing import Any

from django.contrib.admin.forms import AdminPasswordChangeForm as OwnPasswordForm
from django.contrib.auth.forms import AdminPasswordChangeForm as SetPasswordForm
from django.db import transaction

from civic.accounts.services import user_credentials_revoke


class OwnPasswordChangeForm(OwnPasswordForm):
    """/admin/password_change/: staff change their own password, giving the old one."""

    def save(self, commit: bool = True) -> Any:
        with transaction.atomic():
            user = super().save(commit=commit)
            if commit:
                user_credentials_revoke(user=user)
        return user


class UserPasswordSetForm(SetPasswordForm):
    """/admin/accounts/user/<id>/password/: a superuser, or an admin for a resident."""

    def save(self, commit: bool = True) -> Any:
        with transaction.atomic():
            user = super().save(commit=commit)
            if commit:
                user_credentials_revoke(user=user)
        return user
