from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from strategy.importers import StrategyImportError
from strategy.services import strategy_import_files


class Command(BaseCommand):
    help = (
        "Import one strategy document: its Markdown files (one per language, same slug) "
        "or one JSON file. Importing again updates it in place."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("files", nargs="+", metavar="FILE")

    def handle(self, *args: Any, files: list[str], **options: Any) -> None:
        try:
            result = strategy_import_files(files)
        except StrategyImportError as exc:
            for message in exc.messages:
                self.stderr.write(message)
            raise CommandError(f"{len(exc.messages)} problem(s); nothing was imported") from exc
        strategy = result.strategy
        if result.created:
            state = f"created (proposal codes {strategy.code_prefix}-...)"
        elif result.changed:
            state = "updated"
        else:
            state = "unchanged"
        self.stdout.write(
            self.style.SUCCESS(
                f"{strategy.slug}: {state}, status {strategy.status}; sections: "
                f"{result.sections_created} created, {result.sections_updated} updated, "
                f"{result.sections_deleted} deleted"
            )
        )
