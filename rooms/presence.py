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
from .services import beat

SERVER_ID = f"{socket.gethostname()[:16]}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def beat_and_sweep() -> None:
    beat(SERVER_ID)
    stale_before = clock.now() - timedelta(seconds=3 * settings.CHAT["PRESENCE_HEARTBEAT_SECONDS"])
    ServerProcess.objects.filter(seen_at__lt=stale_before).delete()  # cascades to its sockets


def ensure_heartbeat() -> None:
    keep_running("presence", lambda: every(
        settings.CHAT["PRESENCE_HEARTBEAT_SECONDS"], database_sync_to_async(beat_and_sweep), "presence heartbeat"))
