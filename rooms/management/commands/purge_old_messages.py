"""Retention: delete messages and sign-in records older than MESSAGE_RETENTION_DAYS, and expired
sessions (run it daily, e.g. from cron)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from rooms.privacy import purge_old_messages, purge_old_sign_in_records


class Command(BaseCommand):
    help = "Delete chat messages older than the retention age, keeping evidence of open alerts and reports."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=settings.CHAT["MESSAGE_RETENTION_DAYS"],
                            help="Age in days (default: MESSAGE_RETENTION_DAYS).")
        parser.add_argument("--dry-run", action="store_true", help="Count, delete nothing.")

    def handle(self, *args, days, dry_run, **options):
        if days < 1:
            raise CommandError("--days must be at least 1.")
        count = purge_old_messages(days, dry_run=dry_run)
        records = purge_old_sign_in_records(days, dry_run=dry_run)
        verb = "Would delete" if dry_run else "Deleted"
        self.stdout.write(f"{verb} {count} message(s) and {records} sign-in record(s) and expired session(s) "
                          f"older than {days} day(s).")
