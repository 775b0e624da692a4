from django.apps import AppConfig
from django.core.exceptions import ImproperlyConfigured


class ProposalsConfig(AppConfig):
    name = "proposals"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.conf import settings

        # Celery's autodiscovery imports only `proposals.tasks`: the answers package's
        # tasks must be imported here for workers to know their names.
        import proposals.answers.tasks  # noqa: F401

        # Likewise the summary table's build and sweep tasks; its services also send
        # the build by name, which needs it registered.
        import proposals.summary.tasks  # noqa: F401
        from civic.accounts import personal_data
        from proposals.duplicates.fingerprint import params
        from proposals.privacy import proposals_erase, proposals_export

        # Accounts cannot import this app: "download my data" and "delete my account"
        # reach proposals, reactions and their history through this hook.
        personal_data.register("proposals", export=proposals_export, erase=proposals_erase)

        # LSH needs at least two bands: a threshold too close to 1 for the number of
        # permutations cannot be banded. Refuse to start rather than fail every submission.
        try:
            params()
        except ValueError as exc:
            raise ImproperlyConfigured(
                f"CIVIC_DUPLICATE_THRESHOLD={settings.CIVIC_DUPLICATE_THRESHOLD} cannot be "
                f"used with CIVIC_DUPLICATE_NUM_PERM={settings.CIVIC_DUPLICATE_NUM_PERM}: {exc}. "
                "Lower the threshold or raise the number of permutations."
            ) from exc
