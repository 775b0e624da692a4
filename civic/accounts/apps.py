from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "civic.accounts"
    label = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the system check that the terms in force have their texts.
        import civic.accounts.consent  # noqa: F401
