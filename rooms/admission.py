"""Room and lobby handshakes let through a few at a time, so a reconnect storm is served.

A room handshake costs about ten database queries, and Channels runs them all on one thread. When
hundreds of pages connect at once (a process restarted, the network dropped for a moment) their
queries interleave, so every handshake finishes late; Daphne drops a handshake its application has
not accepted within 5 s, the work done for it is wasted, and the pages retry into the same crowd.
Measured with 1,000 people, nobody was back in after three minutes (docs/benchmarks.md, "Reconnect
storm"). Here a handshake waits for one of a few slots before any query runs. One that arrives when
the queue is already long, or waits too long, is refused at once, cheaply, and its page retries on
its backoff.

The facilitator console has a line of its own: a facilitator must get in during a storm, so the
console never waits behind room handshakes; and a flood of console handshakes (each costs the
session, user and role queries before a peer is refused) takes its own few slots, not the rooms'.
Its database work has a thread of its own too. Channels runs every query of every socket on one
thread, first come first served, so in a storm each of the console's four handshake queries queued
behind the rooms' (a handshake of 2 s on a slow host); an acknowledge or resolve would queue too.
"""

import asyncio
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import ThreadSensitiveContext
from django.conf import settings

from .background import per_loop

# Sent before accepting, so Daphne answers HTTP 403 and the page retries on its backoff; the code
# shows in Daphne's log and in tests.
CLOSE_BUSY = 4503


class HandshakeSlots:
    """A few handshakes in progress at a time, a bounded queue of waiting ones (this event loop's)."""

    def __init__(self, slots: int):
        self.free = asyncio.Semaphore(slots)
        self.waiting = 0

    async def take(self) -> bool:
        """True once a slot is held; False when the queue is full or the wait ran out."""
        if not self.free.locked():
            return await self.free.acquire()  # returns at once: a slot is free
        if self.waiting >= settings.CHAT["HANDSHAKE_QUEUE"]:
            return False
        self.waiting += 1
        try:
            return await asyncio.wait_for(self.free.acquire(), settings.CHAT["HANDSHAKE_WAIT_SECONDS"])
        except TimeoutError:
            return False
        finally:
            self.waiting -= 1


handshake_slots = per_loop(lambda: HandshakeSlots(settings.CHAT["HANDSHAKE_SLOTS"]))
console_handshake_slots = per_loop(lambda: HandshakeSlots(settings.CHAT["CONSOLE_HANDSHAKE_SLOTS"]))
# One thread, as Channels' own: Django's connections belong to a thread, and one keeps them few.
console_database_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="console-db")


class HandshakeGate:
    """ASGI middleware, outside the session and auth middleware (their queries count too)."""

    def __init__(self, inner, console_paths: tuple[str, ...] = ()):
        self.inner = inner
        self.console_paths = console_paths

    async def __call__(self, scope, receive, send):
        if scope["type"] != "websocket":
            return await self.inner(scope, receive, send)
        if scope["path"].startswith(self.console_paths):
            async with ThreadSensitiveContext(executor=console_database_thread):
                return await self._admit(console_handshake_slots(), scope, receive, send)
        return await self._admit(handshake_slots(), scope, receive, send)

    async def _admit(self, slots: HandshakeSlots, scope, receive, send):
        if not await slots.take():
            await receive()  # websocket.connect
            await send({"type": "websocket.close", "code": CLOSE_BUSY})
            return
        held = True

        def release():
            nonlocal held
            if held:
                held = False
                slots.free.release()

        async def send_and_release_once_answered(message):
            await send(message)
            if message["type"] in ("websocket.accept", "websocket.close"):
                release()

        try:
            await self.inner(scope, receive, send_and_release_once_answered)
        finally:
            release()  # the handshake ended without an answer (the page went away)
