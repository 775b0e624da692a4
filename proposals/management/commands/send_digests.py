import time

from django.core.management.base import BaseCommand

from proposals.following.emails import send_digests
from proposals.following.tasks import notification_sweep


class Command(BaseCommand):
    help = (
        "Send today's daily digests not yet sent, in this process, after the notification "
        "sweep (fan-outs and emails at once that failed). Beat does both with the workers; "
        "where nothing runs beat (the embedded default), run this from cron, hourly."
    )

    def handle(self, *args: object, **options: object) -> None:
        started = time.perf_counter()
        # Where tasks run in process, a failed fan-out or email has no other second chance.
        notification_sweep()
        sent = send_digests()
        self.stdout.write(f"{sent} digests sent in {time.perf_counter() - started:.1f} s")
