import time

from django.core.management.base import BaseCommand, CommandError, CommandParser

from proposals.services import reaction_totals_rebuild
from proposals.tallies.services import tally_rebuild
from strategy.models import Strategy


class Command(BaseCommand):
    help = (
        "Recompute tallies from the database rows, in this process, and recount every "
        "proposal's kept reaction totals (reactions_<kind>, reactions_total) from its "
        "reaction rows: set-based, in batches, zeroing those with no reactions."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--strategy", metavar="SLUG", help="only this strategy")

    def handle(self, *args: object, strategy: str | None = None, **options: object) -> None:
        strategies = Strategy.objects.order_by("slug")
        if strategy:
            strategies = strategies.filter(slug=strategy)
            if not strategies.exists():
                raise CommandError(f"No strategy {strategy!r}.")
        for item in strategies:
            started = time.perf_counter()
            tally = tally_rebuild(strategy_id=item.pk)
            elapsed = time.perf_counter() - started
            received = tally.data.get("totals", {}).get("received", 0) if tally else 0
            self.stdout.write(f"{item.slug}: {received} proposals counted in {elapsed:.3f} s")
        started = time.perf_counter()
        only = strategies.get().pk if strategy else None
        corrected = reaction_totals_rebuild(strategy_id=only)
        elapsed = time.perf_counter() - started
        self.stdout.write(
            f"reaction totals: {corrected} proposals corrected from the rows in {elapsed:.3f} s"
        )
