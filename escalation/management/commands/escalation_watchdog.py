import time

from django.conf import settings
from django.core.management.base import BaseCommand

from escalation.watchdog import tick


class Command(BaseCommand):
    help = "Re-send unacknowledged alerts, widen them and go out of band (the Procfile worker)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="run one pass and exit")

    def handle(self, *args, once=False, **options):
        interval = settings.ESCALATION["WATCHDOG_TICK_SECONDS"]
        self.stdout.write(f"escalation watchdog: a pass every {interval} s")
        while True:
            try:
                done = tick()
                if any(done.values()):
                    self.stdout.write(f"watchdog: {done}")
            except Exception as exc:  # keep watching: a failed pass is retried on the next one
                self.stderr.write(f"watchdog pass failed: {exc!r}")
            if once:
                return
            time.sleep(interval)
