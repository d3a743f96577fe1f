"""Each web process hands the outbox's frames (the watchdog's re-sends, the screening worker's
alerts and hotline cards) to the consoles and room sockets it holds itself.

channel_layer.send() to a console's own channel reaches exactly that socket with the in-memory
layer and with Redis alike, so a frame is delivered once however many processes run.
"""

import logging
import time

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.db.models import Max, Q

from rooms.background import every, keep_running
from rooms.events import frame

from . import screening
from .models import Notification

logger = logging.getLogger(__name__)

local_consoles: dict[str, int] = {}  # channel name -> facilitator id, for sockets in this process
local_people: dict[str, int] = {}  # channel name -> person id, for room sockets in this process
local_facilitator_rooms: dict[str, int] = {}  # channel name -> facilitator id: their room sockets here


def _newest_id() -> int:
    return Notification.objects.aggregate(newest=Max("pk"))["newest"] or 0


def _since(last_id: int, missing: list[int]) -> list[Notification]:
    """Rows after `last_id`, and any of the `missing` ids that have appeared since."""
    query = Q(pk__gt=last_id) | Q(pk__in=missing) if missing else Q(pk__gt=last_id)
    return list(Notification.objects.filter(query).order_by("pk"))


async def deliver(notifications: list[Notification]) -> None:
    """Each frame to each socket once; a send that fails (a full or broken channel) is logged and
    the others still go."""
    layer = get_channel_layer()
    for notification in notifications:
        if notification.person_id is not None:
            targets = [c for c, user_id in list(local_people.items()) if user_id == notification.person_id]
        else:
            recipients = set(notification.recipients)
            targets = [c for listening in (local_consoles, local_facilitator_rooms)
                       for c, user_id in list(listening.items()) if user_id in recipients]
        for channel in targets:
            try:
                await layer.send(channel, {"type": "chat.frame", "text": notification.text})
            except Exception:
                logger.exception("outbox relay: a frame for %s was not delivered", channel)


class OutboxRelay:
    """Hands new outbox rows to this process's sockets, from the newest row when it started.

    PostgreSQL hands ids out before commit, so a row may become visible after a higher one: the
    ids skipped over are looked for again for GAP_SECONDS before they are given up."""

    GAP_SECONDS = 60

    def __init__(self):
        self.last_id = 0
        self.missing: dict[int, float] = {}  # id -> when it was first missed (monotonic)

    async def run(self) -> None:
        # Read the starting point before the first wait, or a row written meanwhile is skipped.
        self.last_id = await database_sync_to_async(_newest_id)()
        await every(settings.ESCALATION["OUTBOX_POLL_SECONDS"], self.step, "outbox relay")

    async def step(self) -> None:
        if not (local_consoles or local_people or local_facilitator_rooms):
            # Nobody here to hand anything to: a socket that opens later starts from then (a
            # console's state frame lists every open alert; a card is for the moment it was due).
            self.last_id = await database_sync_to_async(_newest_id)()
            self.missing.clear()
            return
        fresh = await database_sync_to_async(_since)(self.last_id, list(self.missing))
        now = time.monotonic()
        for row in fresh:
            self.missing.pop(row.pk, None)
        newest = max([self.last_id, *(row.pk for row in fresh)])
        seen = {row.pk for row in fresh}
        for pk in range(max(self.last_id + 1, newest - 1000), newest):  # a bounded look-back
            if pk not in seen:
                self.missing.setdefault(pk, now)
        self.missing = {pk: t for pk, t in self.missing.items() if now - t < self.GAP_SECONDS}
        self.last_id = newest
        if fresh:
            await deliver(fresh)


class ScreeningWatch:
    """Tells this process's consoles when the second reader goes offline or comes back."""

    def __init__(self):
        self.last = None

    async def run(self) -> None:
        await every(settings.ESCALATION["SCREENING"]["OFFLINE_SECONDS"] / 6, self.step, "screening watch")

    async def step(self) -> None:
        if not local_consoles:
            self.last = None
            return
        now = await database_sync_to_async(screening.status)()
        if self.last is not None and (now["online"], now["refused"]) != (self.last["online"], self.last["refused"]):
            text = frame("screening.status", second_reader=now)
            layer = get_channel_layer()
            for channel in list(local_consoles):
                await layer.send(channel, {"type": "chat.frame", "text": text})
        self.last = now


def ensure_relay() -> None:
    keep_running("outbox relay", lambda: OutboxRelay().run())
    keep_running("screening watch", lambda: ScreeningWatch().run())
