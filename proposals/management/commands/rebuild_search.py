import time

from django.core.management.base import BaseCommand, CommandError, CommandParser

from proposals.search.services import search_index_rebuild
from strategy.models import Strategy


class Command(BaseCommand):
    help = (
        "Write the full-text index of every proposal again, from its title and body (after "
        "a restore that left the index out, or a change to the stemming rules)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--strategy", metavar="SLUG", help="only this strategy")

    def handle(self, *args: object, strategy: str | None = None, **options: object) -> None:
        strategy_id = None
        if strategy:
            strategy_id = (
                Strategy.objects.filter(slug=strategy).values_list("pk", flat=True).first()
            )
            if strategy_id is None:
                raise CommandError(f"No strategy {strategy!r}.")
        started = time.perf_counter()
        done = search_index_rebuild(strategy_id=strategy_id)
        self.stdout.write(f"indexed {done:,} proposals in {time.perf_counter() - started:.1f} s")
