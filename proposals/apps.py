from django.apps import AppConfig
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models.signals import pre_delete


class ProposalsConfig(AppConfig):
    name = "proposals"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Imported here, not at the top: these modules load models, which exist only once
        # the app registry is ready. The tasks register every task name, which services
        # enqueue by name, in the web process as in the worker.
        import proposals.tasks  # noqa: F401
        from civic.accounts import personal_data
        from proposals.duplicates.fingerprint import params
        from proposals.following.services import fan_out_on_new_version
        from proposals.privacy import proposals_erase, proposals_export, reactions_erase_on_delete
        from proposals.tallies.services import tally_mark_dirty_on_change
        from strategy.signals import strategy_counts_changed, strategy_version_recorded

        strategy_counts_changed.connect(tally_mark_dirty_on_change, dispatch_uid="tallies")
        strategy_version_recorded.connect(fan_out_on_new_version, dispatch_uid="following")

        # Accounts cannot import this app: "download my data" and "delete my account"
        # reach proposals, reactions and their history through this hook.
        personal_data.register("proposals", export=proposals_export, erase=proposals_erase)
        # An account deleted outright (the admin) would lose its reactions by cascade,
        # past the proposals' kept totals.
        pre_delete.connect(
            reactions_erase_on_delete,
            sender=settings.AUTH_USER_MODEL,
            dispatch_uid="reaction_totals",
        )

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
