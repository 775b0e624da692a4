import time

from django.core.management.base import BaseCommand, CommandError, CommandParser

from proposals.duplicates.selectors import duplicate_group_labels
from proposals.duplicates.services import duplicates_refresh
from proposals.models import Fingerprint
from strategy.models import Strategy


class Command(BaseCommand):
    help = (
        "Bring near-duplicate fingerprints and groups up to date, in this process "
        "(--full regroups every proposal, e.g. after changing CIVIC_DUPLICATE_THRESHOLD)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--strategy", metavar="SLUG", help="only this strategy")
        parser.add_argument("--full", action="store_true", help="regroup every proposal")

    def handle(
        self, *args: object, strategy: str | None = None, full: bool = False, **options: object
    ) -> None:
        strategies = Strategy.objects.order_by("slug")
        if strategy:
            strategies = strategies.filter(slug=strategy)
            if not strategies.exists():
                raise CommandError(f"No strategy {strategy!r}.")
        for item in strategies:
            started = time.perf_counter()
            result = duplicates_refresh(strategy_id=item.pk, full=full)
            elapsed = time.perf_counter() - started
            sizes = [size for _, size in duplicate_group_labels(strategy=item)]
            total = Fingerprint.objects.filter(strategy=item).count()
            scope = "whole strategy" if result.full else "new and changed only"
            self.stdout.write(
                f"{item.slug}: {result.fingerprinted} fingerprinted ({scope}) in "
                f"{elapsed:.3f} s; {len(sizes)} groups of near-duplicates hold "
                f"{sum(sizes)} of {total} proposals"
            )
