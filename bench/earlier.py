"""What reading a batch beside its authors' earlier risk costs, as the room's history grows.

    python -m bench.earlier [--authors 20] [--messages 50000 200000]

Every message batch asks, before it is screened, which of its authors have an open alert or a
distress message in the last DISTRESS_CONTEXT_MINUTES (escalation.services.earlier_risk). This
fills a scratch SQLite database with a room's history (one message in 50 rated distress, all of it
older than the window) and times that question for one batch of authors at each size: a cost that
grows with the history is one every message pays.
"""

import argparse
import os
import shutil
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--authors", type=int, default=20)
    parser.add_argument("--messages", type=int, nargs="+", default=[50_000, 200_000])
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="bench-earlier-"))
    os.environ.update(DATABASE_URL=f"sqlite:///{workdir / 'db.sqlite3'}", SECRET_KEY="bench-earlier",
                      DJANGO_SETTINGS_MODULE="chatserver.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from escalation.services import earlier_risk
    from rooms.clock import clock
    from rooms.models import Message, Room, User

    try:
        call_command("migrate", verbosity=0)
        room = Room.objects.create(slug="history", name="History")
        authors = [User.objects.create(username=f"author{i}") for i in range(args.authors)]
        ids = {author.pk for author in authors}
        stored, before_window = 0, clock.now() - timedelta(days=30)
        for size in sorted(args.messages):
            Message.objects.bulk_create([
                Message(room=room, seq=k + 1, author=authors[k % len(authors)], client_id=uuid.uuid4(), body="hello",
                        risk_level="distress" if k % 50 == 0 else "none", created_at=before_window)
                for k in range(stored, size)], batch_size=5000)
            stored = size
            earlier_risk(ids)  # warm
            started = time.perf_counter()
            for _ in range(args.rounds):
                earlier_risk(ids)
            per_batch_ms = (time.perf_counter() - started) / args.rounds * 1000
            print(f"{size:,} messages ({size // 50:,} distress): earlier_risk for {len(ids)} authors "
                  f"{per_batch_ms:.2f} ms per batch")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
