"""How fast one screening worker reads a backlog, and its memory: python -m bench.screening

    python -m bench.screening [--messages 5000]

Stores the messages first (everyday talk with one in twenty a crisis message the lexicon misses,
from 200 people), then starts one worker process (`escalation_screen --once`, one BLAS thread) and
times it from its first claimed batch to the end of the backlog, sampling its RSS. The embedded
default (SQLite); DATABASE_URL=postgres://... runs it on PostgreSQL.
"""

import argparse
import time

import psutil

from bench.site import BenchSite

EVERYDAY = ["hi everyone, how's your evening going?", "same here, long day at work", "thanks for the tip!",
            "anyone tried the breathing exercise from last week?", "my cat just knocked my tea over lol",
            "buenos días a todos", "obrigada pela força de ontem", "bonne soirée tout le monde",
            "therapy went ok today, small steps", "what time is the group on thursday?"]
CRISIS = ["ya no quiero seguir viviendo, quiero morirme", "não aguento mais, quero morrer",
          "je veux mourir, je n'en peux plus"]


def store(site: BenchSite, count: int) -> None:
    site.site.manage("shell", "-v0", "-c", f"""
import random, uuid
from rooms.models import Room, User
from rooms.services import Draft, post_messages
room, _ = Room.objects.get_or_create(slug="screening-bench", defaults=dict(name="Bench", topic="Bench"))
people = [User.objects.get_or_create(username=f"screen{{i}}")[0] for i in range(200)]
rng = random.Random(5)
bodies = [rng.choice({CRISIS!r}) if rng.random() < 0.05 else rng.choice({EVERYDAY!r}) for _ in range({count})]
for start in range(0, len(bodies), 50):
    post_messages([Draft(room, people[(start + i) % 200], uuid.uuid4(), b) for i, b in enumerate(bodies[start:start + 50])])
""")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5000)
    args = parser.parse_args()
    site = BenchSite()
    try:
        # The cursor first, before the backlog: a first worker starts at the newest message.
        site.site.manage("shell", "-v0", "-c", "from escalation.screening import _cursor; _cursor()")
        store(site, args.messages)
        query = site.site.query
        started = time.perf_counter()
        worker = site.site.start_process("escalation_screen", "--once", "--name", "bench")
        process, peak, first_batch = psutil.Process(worker.pid), 0, None
        while worker.poll() is None:
            peak = max(peak, process.memory_info().rss)
            if first_batch is None and query("SELECT count(*) FROM escalation_screeningbatch")[0][0]:
                first_batch = time.perf_counter()
            time.sleep(0.05)
        done = time.perf_counter()
        read = query("SELECT sum(read_count) FROM escalation_screeningworker")[0][0] or 0
        alerts = query("SELECT count(*) FROM escalation_alert WHERE source = 'second_reader'")[0][0]
        reading = done - (first_batch or started)
        print(f"one worker, one core: {read:,} messages read in {reading:.1f} s = {read / reading:,.0f} messages/s "
              f"(start-up, model load and warm-up: {(first_batch or done) - started:.1f} s); "
              f"{alerts} alerts raised; peak RSS {peak / 2**20:.0f} MiB")
    finally:
        site.close()


if __name__ == "__main__":
    main()
