import asyncio
import threading

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from chatserver.asgi import application
from rooms.admission import CLOSE_BUSY, HandshakeGate, console_handshake_slots, handshake_slots
from tests.helpers import ORIGIN, PATIENCE, open_socket, receive, send, session_cookie


class SlowRoom:
    """A room app whose handshake finishes when the test says so; records who got in and when."""

    def __init__(self):
        self.started: list[str] = []
        self.finish: dict[str, asyncio.Event] = {}

    async def __call__(self, scope, receive, send):
        query = scope["query_string"].decode()
        name = f"{scope['path']}?{query}" if query else scope["path"]
        self.started.append(name)
        await receive()  # websocket.connect
        await self.finish.setdefault(name, asyncio.Event()).wait()
        await send({"type": "websocket.accept"})
        while (await receive())["type"] != "websocket.disconnect":
            pass

    def let_in(self, name):
        self.finish.setdefault(name, asyncio.Event()).set()


def gated(settings, slots=1, queue=10, wait=60.0, console_slots=2):
    settings.CHAT = {**settings.CHAT, "HANDSHAKE_SLOTS": slots, "HANDSHAKE_QUEUE": queue,
                     "HANDSHAKE_WAIT_SECONDS": wait, "CONSOLE_HANDSHAKE_SLOTS": console_slots}
    room = SlowRoom()
    return room, HandshakeGate(room, console_paths=("/ws/facilitator/",))


async def until(condition):
    while not condition():
        await asyncio.sleep(0)


async def test_handshakes_go_through_a_few_at_a_time_in_arrival_order(settings):
    room, gate = gated(settings, slots=1)
    first, second, third = (WebsocketCommunicator(gate, f"/ws/rooms/{n}/") for n in ("a", "b", "c"))
    connecting = [asyncio.create_task(c.connect(timeout=5)) for c in (first, second, third)]
    await until(lambda: room.started == ["/ws/rooms/a/"])
    assert handshake_slots().waiting == 2  # the others wait for a turn, no work done for them yet

    room.let_in("/ws/rooms/b/")  # ready early, but still waits for its turn
    room.let_in("/ws/rooms/a/")
    assert (await connecting[0])[0] is True
    assert (await connecting[1])[0] is True
    await until(lambda: room.started == ["/ws/rooms/a/", "/ws/rooms/b/", "/ws/rooms/c/"])
    room.let_in("/ws/rooms/c/")
    assert (await connecting[2])[0] is True
    for c in (first, second, third):
        await c.disconnect()


async def test_a_handshake_arriving_when_the_queue_is_full_is_refused_at_once(settings):
    room, gate = gated(settings, slots=1, queue=1)
    first, second, third = (WebsocketCommunicator(gate, f"/ws/rooms/{n}/") for n in ("a", "b", "c"))
    connecting = [asyncio.create_task(c.connect(timeout=5)) for c in (first, second)]
    await until(lambda: handshake_slots().waiting == 1)

    assert await third.connect(timeout=5) == (False, CLOSE_BUSY)
    assert "/ws/rooms/c/" not in room.started  # refused before any work (session, queries) for it
    room.let_in("/ws/rooms/a/")
    room.let_in("/ws/rooms/b/")
    assert [(await task)[0] for task in connecting] == [True, True]
    for c in (first, second):
        await c.disconnect()


async def test_a_handshake_that_waits_too_long_is_refused_and_the_next_gets_its_turn(settings):
    room, gate = gated(settings, slots=1, wait=0.01)
    first, second, third = (WebsocketCommunicator(gate, f"/ws/rooms/{n}/") for n in ("a", "b", "c"))
    connecting = asyncio.create_task(first.connect(timeout=5))
    await until(lambda: room.started == ["/ws/rooms/a/"])

    assert await second.connect(timeout=5) == (False, CLOSE_BUSY)
    room.let_in("/ws/rooms/a/")
    assert (await connecting)[0] is True
    room.let_in("/ws/rooms/c/")
    assert (await third.connect(timeout=5))[0] is True  # the slot came back after the accept
    for c in (first, third):
        await c.disconnect()


async def test_a_page_that_leaves_mid_handshake_gives_its_slot_back(settings):
    room, gate = gated(settings, slots=1)
    leaving, next_in = WebsocketCommunicator(gate, "/ws/rooms/a/"), WebsocketCommunicator(gate, "/ws/rooms/b/")
    connecting = asyncio.create_task(leaving.connect(timeout=5))
    await until(lambda: room.started == ["/ws/rooms/a/"])
    connecting.cancel()
    await leaving.disconnect()  # the app is stopped before it ever answered

    room.let_in("/ws/rooms/b/")
    assert (await next_in.connect(timeout=5))[0] is True
    await next_in.disconnect()


async def test_a_flood_of_console_handshakes_waits_in_its_own_line_and_rooms_go_on(settings):
    room, gate = gated(settings, slots=1, console_slots=1)
    consoles = [WebsocketCommunicator(gate, f"/ws/facilitator/?n={n}") for n in range(3)]
    connecting = [asyncio.create_task(c.connect(timeout=5)) for c in consoles]
    await until(lambda: console_handshake_slots().waiting == 2)
    assert room.started == ["/ws/facilitator/?n=0"]  # one at a time, however many arrive

    visitor = WebsocketCommunicator(gate, "/ws/rooms/a/")
    joining = asyncio.create_task(visitor.connect(timeout=5))
    await asyncio.wait_for(until(lambda: "/ws/rooms/a/" in room.started), 2)  # not behind them
    room.let_in("/ws/rooms/a/")
    assert (await joining)[0] is True
    for n in range(3):
        room.let_in(f"/ws/facilitator/?n={n}")
    assert [(await task)[0] for task in connecting] == [True, True, True]
    for c in (visitor, *consoles):
        await c.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_the_console_gets_in_while_room_handshakes_are_turned_away(settings, alice, maple, anxiety):
    settings.CHAT = {**settings.CHAT, "HANDSHAKE_SLOTS": 1, "HANDSHAKE_QUEUE": 0}
    slots = handshake_slots()
    await slots.free.acquire()  # a storm holds every slot

    room, connected = await open_socket("/ws/rooms/anxiety/", alice)
    assert connected is False
    console, connected = await open_socket("/ws/facilitator/", maple)
    assert connected is True
    await console.disconnect()

    slots.free.release()  # the storm has passed
    room, connected = await open_socket("/ws/rooms/anxiety/", alice)
    assert connected is True
    assert (await receive(room, "room.state"))["room"]["slug"] == "anxiety"
    await room.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_the_console_works_while_the_rooms_database_work_is_stuck(maple):
    """In a storm the rooms' queries queue on Channels' one database thread; the console's do not
    wait behind them (held here for as long as the test likes)."""
    cookie = await session_cookie(maple)
    release = threading.Event()
    stuck = asyncio.create_task(sync_to_async(release.wait, thread_sensitive=True)())
    try:
        console = WebsocketCommunicator(application, "/ws/facilitator/", headers=[
            (b"origin", ORIGIN), (b"host", b"localhost"), (b"cookie", f"sessionid={cookie}".encode())])
        assert (await console.connect(timeout=PATIENCE))[0] is True
        assert (await receive(console, "console.state"))["me"]["name"] == "maple"
        await send(console, type="duty.set", on_duty=True)
        assert (await receive(console, "duty"))["on_duty"] is True
        assert not stuck.done()  # all of it while the rooms' database thread was held
    finally:
        release.set()
        await stuck
    await console.disconnect()
