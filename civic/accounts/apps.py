from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "civic.accounts"
    label = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Imported here, not at the top: these modules load models, which exist only once
        # the app registry is ready. consent registers the system check that the terms in
        # force have their texts; tasks registers the task names services enqueue by name,
        # in the web process as in the worker (Celery's autodiscovery runs in workers only).
        import civic.accounts.consent  # noqa: F401
        import civic.accounts.tasks  # noqa: F401
