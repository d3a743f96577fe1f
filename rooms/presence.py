"""This process's identity and heartbeat, which keep the shared presence table honest.

A process that dies cannot delete its presence rows; once its heartbeat is older than three
intervals the selectors stop counting them, and the next beat of any process removes them.
"""

import asyncio
import logging
import os
import socket
import uuid
from datetime import timedelta

from channels.db import database_sync_to_async
from django.conf import settings

from .clock import clock
from .models import ServerProcess
from .services import beat

log = logging.getLogger(__name__)

SERVER_ID = f"{socket.gethostname()[:16]}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
_task: asyncio.Task | None = None


def beat_and_sweep() -> None:
    beat(SERVER_ID)
    stale_before = clock.now() - timedelta(seconds=3 * settings.CHAT["PRESENCE_HEARTBEAT_SECONDS"])
    ServerProcess.objects.filter(seen_at__lt=stale_before).delete()  # cascades to its sockets


async def _beat_forever() -> None:
    interval = settings.CHAT["PRESENCE_HEARTBEAT_SECONDS"]
    while True:
        await asyncio.sleep(interval)
        try:
            await database_sync_to_async(beat_and_sweep)()
        except Exception:  # a database hiccup must not end the heartbeat
            log.exception("presence heartbeat failed")


def ensure_heartbeat() -> None:
    global _task
    loop = asyncio.get_running_loop()
    if _task is None or _task.done() or _task.get_loop() is not loop:
        _task = loop.create_task(_beat_forever())
