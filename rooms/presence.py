"""This process's identity and heartbeat, which keep the shared presence table honest.

A process that dies cannot delete its presence rows; once its heartbeat is older than three
intervals the selectors stop counting them, and the next beat of any process removes them.
"""

import os
import socket
import uuid
from datetime import timedelta

from channels.db import database_sync_to_async
from django.conf import settings

from .background import every, keep_running
from .clock import clock
from .models import ServerProcess
from .selectors import live_since
from .services import beat

SERVER_ID = f"{socket.gethostname()[:16]}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


_last_beat = None  # when this process last wrote its row


def beat_and_sweep() -> None:
    beat_now()
    ServerProcess.objects.filter(seen_at__lt=live_since()).delete()  # cascades to its sockets


def beat_now() -> None:
    global _last_beat
    beat(SERVER_ID)
    _last_beat = clock.now()


def beat_unless_fresh() -> None:
    """Before a socket row, which needs this process's row: beat unless this process beat within
    an interval. A row is swept only after three silent intervals, so a fresh one is still there;
    every handshake used to write it (a write transaction per handshake in a reconnect storm)."""
    interval = timedelta(seconds=settings.CHAT["PRESENCE_HEARTBEAT_SECONDS"])
    if _last_beat is None or clock.now() - _last_beat >= interval:
        beat_now()


def ensure_heartbeat() -> None:
    keep_running("presence", lambda: every(
        settings.CHAT["PRESENCE_HEARTBEAT_SECONDS"], database_sync_to_async(beat_and_sweep), "presence heartbeat"))
