"""Each web process hands the watchdog's outbox frames to the consoles it holds itself.

channel_layer.send() to a console's own channel reaches exactly that socket with the in-memory
layer and with Redis alike, so a frame is delivered once however many processes run.
"""

import asyncio
import logging

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.db.models import Max

from .models import Notification

log = logging.getLogger(__name__)

local_consoles: dict[str, int] = {}  # channel name -> facilitator id, for sockets in this process
_task: asyncio.Task | None = None


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


async def _relay_forever() -> None:
    last_id = await database_sync_to_async(_newest_id)()
    while True:
        await asyncio.sleep(settings.ESCALATION["OUTBOX_POLL_SECONDS"])
        if not local_consoles:
            continue
        try:
            fresh = await database_sync_to_async(_since)(last_id)
            if fresh:
                last_id = fresh[-1].pk
                await deliver(fresh)
        except Exception:  # the relay must outlive a database hiccup
            log.exception("outbox relay failed")


def ensure_relay() -> None:
    global _task
    loop = asyncio.get_running_loop()
    if _task is None or _task.done() or _task.get_loop() is not loop:
        _task = loop.create_task(_relay_forever())
