"""Each web process hands the outbox's frames (the watchdog's re-sends, the screening worker's
alerts and hotline cards) to the consoles and room sockets it holds itself.

channel_layer.send() to a console's own channel reaches exactly that socket with the in-memory
layer and with Redis alike, so a frame is delivered once however many processes run.
"""

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.db.models import Max

from rooms.background import every, keep_running
from rooms.events import frame

from . import screening
from .models import Notification

local_consoles: dict[str, int] = {}  # channel name -> facilitator id, for sockets in this process
local_people: dict[str, int] = {}  # channel name -> person id, for room sockets in this process


def _newest_id() -> int:
    return Notification.objects.aggregate(newest=Max("pk"))["newest"] or 0


def _since(last_id: int) -> list[Notification]:
    return list(Notification.objects.filter(pk__gt=last_id).order_by("pk"))


async def deliver(notifications: list[Notification]) -> None:
    layer = get_channel_layer()
    for notification in notifications:
        if notification.person_id is not None:
            targets = [c for c, user_id in list(local_people.items()) if user_id == notification.person_id]
        else:
            recipients = set(notification.recipients)
            targets = [c for c, user_id in list(local_consoles.items()) if user_id in recipients]
        for channel in targets:
            await layer.send(channel, {"type": "chat.frame", "text": notification.text})


class OutboxRelay:
    """Hands new outbox rows to this process's consoles, from the newest row when it started."""

    def __init__(self):
        self.last_id = 0

    async def run(self) -> None:
        # Read the starting point before the first wait, or a row written meanwhile is skipped.
        self.last_id = await database_sync_to_async(_newest_id)()
        await every(settings.ESCALATION["OUTBOX_POLL_SECONDS"], self.step, "outbox relay")

    async def step(self) -> None:
        if not (local_consoles or local_people):
            # Nobody here to hand anything to: a socket that opens later starts from then (a
            # console's state frame lists every open alert; a card is for the moment it was due).
            self.last_id = await database_sync_to_async(_newest_id)()
            return
        fresh = await database_sync_to_async(_since)(self.last_id)
        if fresh:
            self.last_id = fresh[-1].pk
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
