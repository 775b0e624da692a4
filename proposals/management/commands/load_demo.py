import time

from django.core.management.base import BaseCommand

from proposals.demo import DEMO_PASSWORD, demo_load


class Command(BaseCommand):
    help = "Load the Алматы-2050 demo: the document, demo accounts and proposals (idempotent)."

    def handle(self, *args: object, **options: object) -> None:
        started = time.perf_counter()
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
