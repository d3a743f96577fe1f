"""The screening worker's steps: claim a batch of stored messages, read it with both readers, and
act where the final decision differs from the message path's. The database is the queue.

- `claim` hands out the next run of message ids (a compare-and-set on the one cursor row, and the
  batch row written in the same transaction), or takes over a batch whose worker let its lease
  run out (killed, stalled): none is skipped.
- `settle` marks the batch done in the same transaction as the alerts it raises, with a guard on
  who holds it: a batch two workers both read acts once, and a worker killed before its commit
  left nothing half done.
- What leaves the worker goes through the outbox (`Notification`), which each web process's
  relay hands to the sockets it holds: the worker needs no channel layer and reaches every process.
"""

import logging
import os
import socket
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Max

from rooms.clock import clock
from rooms.events import frame
from rooms.models import Message, Role

from . import audience, hotlines, payloads
from .detection import Assessment, Level
from .models import LEVEL_RANK, Alert, Notification, ScreeningBatch, ScreeningCursor, ScreeningGap, ScreeningWorker
from .services import raise_alert

logger = logging.getLogger(__name__)


def config(name: str):
    return settings.ESCALATION["SCREENING"][name]


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


# --- the queue -------------------------------------------------------------------------------

def _cursor() -> int:
    """Where the stream stands. A first worker starts at the newest message: screening is for the
    live stream, and re-reading years of history would page facilitators about old words."""
    row = ScreeningCursor.objects.filter(pk=1).values_list("claimed_through", flat=True).first()
    if row is not None:
        return row
    newest = Message.objects.aggregate(newest=Max("pk"))["newest"] or 0
    ScreeningCursor.objects.bulk_create([ScreeningCursor(pk=1, claimed_through=newest)], ignore_conflicts=True)
    return ScreeningCursor.objects.get(pk=1).claimed_through


def _settled_through(start: int, rows: list[tuple[int, object]], now) -> int | None:
    """The last id of the run after `start` that no slower transaction can still add to. An id
    missing from the run may belong to a message still committing (PostgreSQL hands ids out
    before commit) or to a rolled-back one: wait for it a moment, then go on without it."""
    through, expected = None, start + 1
    for pk, created_at in rows:
        if pk != expected and created_at > now - timedelta(seconds=config("GAP_SETTLE_SECONDS")):
            break
        through, expected = pk, pk + 1
    return through


def claim(worker: str, size: int | None = None) -> ScreeningBatch | None:
    """A batch to read: one whose worker let its lease run out, a message that committed after
    the stream passed its id, or the next run after the cursor."""
    now = clock.now()
    lease = timedelta(seconds=config("LEASE_SECONDS"))
    stale = ScreeningBatch.objects.filter(done_at=None, leased_until__lt=now).order_by("pk").first()
    if stale is not None:
        taken = ScreeningBatch.objects.filter(pk=stale.pk, done_at=None, leased_until=stale.leased_until).update(
            worker=worker, leased_until=now + lease)
        if taken:
            logger.warning("screening: took over batch %s (messages %s-%s) from %s", stale.pk, stale.after + 1,
                           stale.through, stale.worker)
            return ScreeningBatch.objects.get(pk=stale.pk)
    late = _claim_late(worker, now, lease)
    if late is not None:
        return late
    start = _cursor()
    rows = list(Message.objects.filter(pk__gt=start).order_by("pk").values_list("pk", "created_at")
                [:size or config("BATCH_SIZE")])
    through = _settled_through(start, rows, now)
    if through is None:
        return None
    missing = set(range(start + 1, through + 1)) - {pk for pk, _ in rows}
    with transaction.atomic():
        if not ScreeningCursor.objects.filter(pk=1, claimed_through=start).update(claimed_through=through):
            return None  # another worker claimed this run first
        ScreeningGap.objects.bulk_create([ScreeningGap(pk=pk, noticed_at=now) for pk in missing],
                                         ignore_conflicts=True)
        return ScreeningBatch.objects.create(after=start, through=through, worker=worker,
                                             leased_until=now + lease, created_at=now)


def _claim_late(worker: str, now, lease) -> ScreeningBatch | None:
    """A message whose id the stream passed while its transaction was still open."""
    gaps = list(ScreeningGap.objects.order_by("pk").values_list("pk", flat=True)[:500])
    if not gaps:
        return None
    for pk in Message.objects.filter(pk__in=gaps).order_by("pk").values_list("pk", flat=True):
        with transaction.atomic():
            if ScreeningGap.objects.filter(pk=pk).delete()[0]:  # only one worker deletes it
                logger.info("screening: message %s committed after the stream passed it", pk)
                return ScreeningBatch.objects.create(after=pk - 1, through=pk, worker=worker,
                                                     leased_until=now + lease, created_at=now)
    return None


def set_aside(batch: ScreeningBatch, worker: str, error: Exception) -> list[int]:
    """A batch that failed to read: split it into one batch per message so the rest are read,
    or, a single message, mark it done with the error (the lexicon read it on the message path).
    Returns the batches it was split into."""
    now = clock.now()
    with transaction.atomic():
        if not ScreeningBatch.objects.filter(pk=batch.pk, worker=worker, done_at=None).update(
                done_at=now, error=f"{error!r}"[:2000]):
            return []
        if batch.through - batch.after <= 1:
            logger.error("screening: message %s could not be read by the second reader: %r", batch.through, error)
            return []
        ids = Message.objects.filter(pk__gt=batch.after, pk__lte=batch.through).values_list("pk", flat=True)
        made = ScreeningBatch.objects.bulk_create([
            ScreeningBatch(after=pk - 1, through=pk, worker="", leased_until=now, created_at=now) for pk in ids])
        return [b.pk for b in made]


# --- reading ---------------------------------------------------------------------------------

def messages_of(batch: ScreeningBatch) -> list[Message]:
    """Peers' messages (facilitators' own words often quote crisis language)."""
    return list(Message.objects.filter(pk__gt=batch.after, pk__lte=batch.through)
                .exclude(author_role__in=[Role.FACILITATOR, Role.ADMIN])
                .select_related("author", "room").order_by("pk"))


def earlier_levels(messages: list[Message]) -> list[Level]:
    """The risk each writer had stated before each message, as the message path read it: an alert
    facilitators are still on (crisis), else a distress message in the last few minutes."""
    authors = {m.author_id for m in messages}
    if not authors:
        return []
    first_alert: dict[int, object] = {}
    for subject_id, created_at in Alert.objects.filter(status__in=Alert.UNRESOLVED, subject_id__in=authors) \
            .order_by("created_at").values_list("subject_id", "created_at"):
        first_alert.setdefault(subject_id, created_at)
    since = clock.now() - timedelta(minutes=settings.ESCALATION["DISTRESS_CONTEXT_MINUTES"])
    distress: dict[int, int] = {}
    for author_id, pk in Message.objects.filter(author_id__in=authors, risk_level=Level.DISTRESS.value,
                                                created_at__gte=since).order_by("pk").values_list("author_id", "pk"):
        distress.setdefault(author_id, pk)  # the first of them: a later message is read beside it
    levels = []
    for m in messages:
        if m.author_id in first_alert and first_alert[m.author_id] < m.created_at:
            levels.append(Level.CRISIS)  # an alert raised before this message (not the one it raised)
        elif distress.get(m.author_id, m.pk) < m.pk:
            levels.append(Level.DISTRESS)
        else:
            levels.append(Level.NONE)
    return levels


def read_batch(batch: ScreeningBatch, reader) -> list[tuple[Message, Assessment]]:
    messages = messages_of(batch)
    if not messages:
        return []
    earlier = earlier_levels(messages)
    readings = reader.read([m.body for m in messages], earlier)
    # A risk read here stands for the same person's later messages in the batch, as the message
    # path reads a batch (stands_after): "ya tengo las pastillas" after "quiero morirme".
    at_risk: set[int] = set()
    for i, m in enumerate(messages):
        if m.author_id in at_risk and earlier[i] < Level.CRISIS:
            readings[i] = reader.beside(readings[i], m.body, Level.CRISIS)
        if readings[i].level >= Level.CRISIS:
            at_risk.add(m.author_id)
    return list(zip(messages, readings))


# --- acting ----------------------------------------------------------------------------------

def verdict(kind: str, assessment: Assessment, message: Message) -> dict:
    reading = assessment.second_reader
    return {"verdict": kind, "message": message.pk, "level": assessment.level.value, "model_level": reading.level.value,
            "lexicon_level": reading.lexicon_level.value, "score": reading.score, "scores": reading.scores,
            "reader": "multilingual sentence encoder + lexicon"}


def reasons(assessment: Assessment) -> list[dict]:
    return [{"category": s.category, "text": s.text, "reader": "lexicon"} for s in assessment.signals]


@dataclass
class Settled:
    read: int
    raised: list[int]  # alerts raised or upgraded
    doubted: list[int]  # alerts whose message the second reader reads as likely not a crisis


def settle(batch: ScreeningBatch, worker: str, readings: list[tuple[Message, Assessment]]) -> Settled | None:
    """Act on a batch's readings, once: None when another worker holds the batch now."""
    with transaction.atomic():
        now = clock.now()
        if not ScreeningBatch.objects.filter(pk=batch.pk, worker=worker, done_at=None).update(done_at=now):
            return None
        done = Settled(len(readings), [], [])
        for message, assessment in readings:
            _act(message, assessment, done)
    return done


def _act(message: Message, assessment: Assessment, done: Settled) -> None:
    stored = Level(message.risk_level)
    final = assessment.level
    if final > stored:
        # What the next messages are read beside (recent distress) and what facilitators see.
        Message.objects.filter(pk=message.pk).update(risk_level=final.value)
    if final >= Level.CRISIS and final > stored:
        raised = raise_alert(level=final.value, source=Alert.Source.SECOND_READER, subject=message.author,
                             room=message.room, message=message, signals=reasons(assessment))
        alert = raised.alert
        alert.second_reader = verdict("raised", assessment, message)
        alert.save(update_fields=["second_reader"])
        if raised.notify:
            _outbox(alert, recipients=raised.recipients, text=payloads.alert_frame("alert.new", alert))
        if raised.new:  # an open case already showed its card: the person sees one per case
            offer = hotlines.support_offer(final.value, message.author.country.code or "")
            _outbox(alert, person_id=message.author_id, text=frame("support.offer", **offer))
        done.raised.append(alert.pk)
    elif stored >= Level.CRISIS:
        alert = Alert.objects.filter(message=message).exclude(status=Alert.Status.RESOLVED).first()
        if alert is None:
            return
        if final >= Level.CRISIS:
            kind = "agrees"
        elif LEVEL_RANK[alert.level] <= stored.rank and alert.second_reader.get("verdict") not in ("raised", "agrees"):
            kind = "doubts"  # this message made the alert what it is, and nothing before it was believed
        else:
            return  # the alert stands on an earlier message the second reader did not doubt
        alert.second_reader = verdict(kind, assessment, message)
        alert.save(update_fields=["second_reader"])
        _outbox(alert, recipients=audience.all_facilitators(), text=payloads.alert_frame("alert.updated", alert))
        if alert.doubted:
            done.doubted.append(alert.pk)


def _outbox(alert: Alert, *, text: str, recipients=(), person_id: int | None = None) -> None:
    Notification.objects.create(alert=alert, recipients=sorted(recipients), person_id=person_id, text=text,
                                created_at=clock.now())


# --- health ----------------------------------------------------------------------------------

def beat(worker: str, read: int = 0, refused: str = "") -> None:
    now = clock.now()
    updated = ScreeningWorker.objects.filter(pk=worker).update(seen_at=now, refused=refused,
                                                               read_count=F("read_count") + read)
    if not updated:
        ScreeningWorker.objects.bulk_create([ScreeningWorker(id=worker, seen_at=now, read_count=read, refused=refused)],
                                            ignore_conflicts=True)


def status() -> dict:
    """Whether a second reader is reading now, for the console and the admin."""
    since = clock.now() - timedelta(seconds=config("OFFLINE_SECONDS"))
    live = ScreeningWorker.objects.filter(seen_at__gte=since)
    reading = live.filter(refused="").order_by("-seen_at").first()
    last = ScreeningWorker.objects.order_by("-seen_at").first()
    refused = live.exclude(refused="").order_by("-seen_at").first()
    return {
        "online": reading is not None,
        "last_seen_at": last.seen_at.isoformat() if last else None,
        "refused": refused.refused if refused and reading is None else "",
    }


def prune(keep_hours: int = 1) -> int:
    """Done batches are only needed while a worker may still be taking one over; a gap still
    empty after GAP_FORGET_SECONDS was a rolled-back insert (a resend), not a slow commit."""
    now = clock.now()
    deleted, _ = ScreeningBatch.objects.filter(done_at__lt=now - timedelta(hours=keep_hours)).delete()
    forgotten, _ = ScreeningGap.objects.filter(
        noticed_at__lt=now - timedelta(seconds=config("GAP_FORGET_SECONDS"))).delete()
    return deleted + forgotten
