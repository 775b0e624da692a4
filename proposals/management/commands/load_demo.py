import time
from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from proposals.demo import DEMO_PASSWORD, demo_load, demo_strategy_load

# With debug off the site is taken for a real one: demo accounts there are open doors.
REFUSAL = (
    "load_demo creates demo accounts with a known password, an administrator among them "
    "(admin@demo.civic.kz), and this server runs with debug off, as a public site does. Run `manage.py load_demo --force` to load them anyway (a test or training site), "
    "or `manage.py load_demo --strategy-only` to load only the Алматы-2050 document, with no "
    "accounts and no proposals."
)


class Command(BaseCommand):
    help = (
        "Load the Алматы-2050 demo: the document, demo accounts and proposals (idempotent). "
        "With debug off it needs --force; --strategy-only loads the document alone."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--force",
            action="store_true",
            help="Load the demo accounts even with debug off (their password is public).",
        )
        parser.add_argument(
            "--strategy-only",
            action="store_true",
            help="Load only the document, open for proposals: no accounts, no proposals.",
        )

    def handle(self, *args: Any, force: bool, strategy_only: bool, **options: Any) -> None:
        started = time.perf_counter()
        if strategy_only:
            strategy = demo_strategy_load()
            self.stdout.write(
                f"Loaded the document {strategy.slug}, open {strategy.opens_at} to "
                f"{strategy.closes_at}; no accounts or proposals "
                f"({time.perf_counter() - started:.1f} s)."
            )
            return
        if not settings.DEBUG and not force:
            raise CommandError(REFUSAL)
        summary = demo_load()
        elapsed = time.perf_counter() - started
        strategy = summary.strategy
        verb = (
            "Loaded" if summary.created else "Already loaded; refreshed the document and dates of"
        )
        self.stdout.write(
            f"{verb} {strategy.slug}: {summary.proposals} proposals, open "
            f"{strategy.opens_at} to {strategy.closes_at} ({elapsed:.1f} s)."
        )
        self.stdout.write(f"Demo accounts (password: {DEMO_PASSWORD}):")
        for email, role in summary.accounts:
            self.stdout.write(f"  {role:<10} {email}")
