"""Each web process hands the watchdog's outbox frames to the consoles it holds itself.

channel_layer.send() to a console's own channel reaches exactly that socket with the in-memory
layer and with Redis alike, so a frame is delivered once however many processes run.
"""

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.db.models import Max

from rooms.background import every, keep_running

from .models import Notification

local_consoles: dict[str, int] = {}  # channel name -> facilitator id, for sockets in this process


def _newest_id() -> int:
    return Notification.objects.aggregate(newest=Max("pk"))["newest"] or 0


def _since(last_id: int) -> list[Notification]:
    return list(Notification.objects.filter(pk__gt=last_id).order_by("pk"))


async def deliver(notifications: list[Notification]) -> None:
    layer = get_channel_layer()
    for notification in notifications:
        recipients = set(notification.recipients)
        for channel, user_id in list(local_consoles.items()):
            if user_id in recipients:
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
        if not local_consoles:
            return
        fresh = await database_sync_to_async(_since)(self.last_id)
        if fresh:
            self.last_id = fresh[-1].pk
            await deliver(fresh)


def ensure_relay() -> None:
    keep_running("outbox relay", lambda: OutboxRelay().run())
