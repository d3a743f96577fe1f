import logging
import os
import time

from django.core.management.base import BaseCommand

from escalation import screening
from escalation.detection import EncoderUnavailable, learned_reader

logger = logging.getLogger("escalation.screening")


class Command(BaseCommand):
    help = "Read stored messages with the second reader and raise what the message path missed (the Procfile screener)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="read until nothing is waiting, then exit")
        parser.add_argument("--name", help="this worker's name (default host:pid)")

    def handle(self, *args, once=False, name=None, **options):
        worker = name or screening.worker_name()
        try:
            reader = learned_reader(encoder_dir=screening.config("ENCODER_DIR"))
        except EncoderUnavailable as exc:
            # Loud, and it stays that way: the console says the second reader is offline and why;
            # the lexicon keeps alerting on the message path. Staying up keeps `make run` up.
            self.stderr.write(f"SECOND READER REFUSED TO START: {exc}")
            while True:
                screening.beat(worker, refused=str(exc))
                if once:
                    return
                time.sleep(screening.config("OFFLINE_SECONDS") / 3)
        os.nice(screening.config("NICE"))  # the message path comes first on a shared core
        reader.read(["warming up the lexicon and the encoder"])  # their first read builds tables (~0.6 s)
        self.stdout.write(f"screening worker {worker}: reading after the cursor in batches of "
                          f"{screening.config('BATCH_SIZE')}")
        self.run(worker, reader, once)

    def run(self, worker, reader, once):
        poll, size = screening.config("POLL_SECONDS"), screening.config("BATCH_SIZE")
        last_beat = last_prune = 0.0
        unreported = 0  # messages read since the last heartbeat
        while True:
            full = False
            try:
                batch = screening.claim(worker)
                if batch is not None:
                    try:
                        done = screening.settle(batch, worker, screening.read_batch(batch, reader))
                    except Exception as exc:  # a message that cannot be read must not hold up the rest
                        logger.exception("screening: batch %s failed; setting it aside", batch.pk)
                        screening.set_aside(batch, worker, exc)
                        done = None
                    if done is not None:
                        unreported += done.read
                        if done.raised or done.doubted:
                            self.stdout.write(f"screening: batch {batch.pk} raised {done.raised} doubted {done.doubted}")
                    full = batch.through - batch.after >= size  # a backlog: straight on to the next
                if time.monotonic() - last_beat >= 1 or (once and batch is None):
                    screening.beat(worker, read=unreported)
                    unreported, last_beat = 0, time.monotonic()
                if once and batch is None:
                    return
                if time.monotonic() - last_prune >= 600:
                    screening.prune()
                    last_prune = time.monotonic()
            except Exception:  # keep reading: the batch's lease runs out and it is read again
                logger.exception("screening pass failed")
            if not full:
                # A short wait lets a live stream gather into batches (each costs a few queries
                # and a transaction) and keeps the worker off the web process's core.
                time.sleep(poll)
