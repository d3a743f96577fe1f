"""Demo rooms and accounts for `make run`; safe to run again (nothing is duplicated)."""

import json
from pathlib import Path

from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand

from escalation.models import Hotline

from rooms.models import FACILITATORS_GROUP, Room, User

ROOMS_FILE = Path(__file__).resolve().parents[2] / "fixtures" / "demo_rooms.json"

DEMO_ACCOUNTS = [
    # pseudonym, password, role, country
    ("river", "demo-river-pass", "peer", "US"),
    ("sky", "demo-sky-pass", "peer", "GB"),
    ("maple", "demo-maple-pass", "facilitator", "US"),
    ("admin", "demo-admin-pass", "admin", "IE"),
]


class Command(BaseCommand):
    help = "Load demo topic rooms, the hotline directory, the Facilitators group and demo accounts."

    def handle(self, *args, **options):
        # Upsert by slug and leave last_seq alone: a reload must never rewind a room's seq.
        for entry in json.loads(ROOMS_FILE.read_text()):
            fields = dict(entry["fields"])
            Room.objects.update_or_create(slug=fields.pop("slug"), defaults=fields)
        if not Hotline.objects.exists():  # never overwrite a directory an admin has edited
            call_command("loaddata", "hotlines", verbosity=0)
        facilitators, _ = Group.objects.get_or_create(name=FACILITATORS_GROUP)
        for name, password, role, country in DEMO_ACCOUNTS:
            user, created = User.objects.get_or_create(username=name, defaults={"country": country})
            if created:
                user.set_password(password)
                user.is_staff = user.is_superuser = role == "admin"
                user.save()
            if role == "facilitator":
                user.groups.add(facilitators)
        self.stdout.write("\nDemo accounts (pseudonym / password / role):")
        for name, password, role, _country in DEMO_ACCOUNTS:
            self.stdout.write(f"  {name:<8} {password:<18} {role}")
        self.stdout.write("Open http://127.0.0.1:8000 and log in with one of them.\n")
