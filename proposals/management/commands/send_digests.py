import time

from django.core.management.base import BaseCommand

from proposals.following.emails import send_digests


class Command(BaseCommand):
    help = (
        "Send today's daily digests not yet sent, in this process. Beat does this with the "
        "workers; where nothing runs beat (the embedded default), run this once a day."
    )

    def handle(self, *args: object, **options: object) -> None:
        started = time.perf_counter()
        sent = send_digests()
        self.stdout.write(f"{sent} digests sent in {time.perf_counter() - started:.1f} s")
