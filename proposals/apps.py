from django.apps import AppConfig
from django.core.exceptions import ImproperlyConfigured


class ProposalsConfig(AppConfig):
    name = "proposals"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.conf import settings

        from proposals.duplicates.fingerprint import params

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
