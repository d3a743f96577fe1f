"""rooms.fanout on Redis: two fan-outs stand for two Daphne processes sharing a real redis-server."""

import asyncio

import pytest

from rooms.fanout import CLOSE_LAYER_LOST, RedisRoomFanout
from tests.e2e.servers import RedisServer

pytestmark = pytest.mark.e2e


class Socket:
    """What the fan-out needs of a room consumer: dispatch() and close()."""

    def __init__(self, name):
        self.channel_name = name
        self.events, self.closed_with = [], None

    async def dispatch(self, event):
        self.events.append(event)

    async def close(self, code=None):
        self.closed_with = code


async def until(condition, timeout=5.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.01)


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(tmp_path)
    yield server
    server.stop()


async def test_a_frame_reaches_the_rooms_sockets_in_every_process_and_no_other_room(redis_server):
    one, two = RedisRoomFanout(redis_server.url), RedisRoomFanout(redis_server.url)
    here, there, elsewhere = Socket("here"), Socket("there"), Socket("elsewhere")
    await one.join("room-a", here)
    await two.join("room-a", there)
    await two.join("room-b", elsewhere)

    frames = [{"type": "chat.frame", "text": f'{{"type": "message.new", "n": {n}}}'} for n in range(20)]
    for frame in frames:
        await one.publish("room-a", frame)

    await until(lambda: len(here.events) == 20 and len(there.events) == 20)
    assert here.events == frames and there.events == frames  # all of them, in order
    assert elsewhere.events == []


async def test_the_last_socket_leaving_unsubscribes_the_process(redis_server):
    one, two = RedisRoomFanout(redis_server.url), RedisRoomFanout(redis_server.url)
    leaving, staying = Socket("leaving"), Socket("staying")
    await one.join("room-a", leaving)
    await two.join("room-a", staying)
    await one.leave("room-a", leaving)
    await until(lambda: one.relay.done())  # nothing left to read for

    await two.publish("room-a", {"type": "chat.frame", "text": "after"})
    await until(lambda: staying.events)
    assert leaving.events == []
    assert await one.redis.pubsub_numsub("chat-fanout:room-a") == [(b"chat-fanout:room-a", 1)]


async def test_redis_going_away_closes_the_sockets_so_they_replay_from_the_database(redis_server):
    fanout = RedisRoomFanout(redis_server.url)
    sockets = [Socket("a"), Socket("b")]
    for socket in sockets:
        await fanout.join("room-a", socket)

    redis_server.stop()
    await until(lambda: all(s.closed_with == CLOSE_LAYER_LOST for s in sockets))

    redis_server.start()  # the next join subscribes afresh
    later = Socket("later")
    await fanout.join("room-a", later)
    await fanout.publish("room-a", {"type": "chat.frame", "text": "back"})
    await until(lambda: later.events)


async def test_a_blip_is_not_papered_over_by_a_silent_resubscribe(redis_server):
    # The server stays up and only the subscriber's connection drops: a client that quietly
    # reconnected and resubscribed would lose what was published in between without anyone
    # knowing. The sockets are closed so they replay instead.
    fanout = RedisRoomFanout(redis_server.url)
    socket = Socket("a")
    await fanout.join("room-a", socket)
    assert await fanout.redis.client_kill_filter(_type="pubsub") == 1
    await until(lambda: socket.closed_with == CLOSE_LAYER_LOST)


async def test_a_join_that_fails_while_redis_is_down_leaves_no_ghost_and_the_room_speaks_again(redis_server):
    # Issue 20 (critical): a handshake during the outage recorded its socket before subscribe()
    # raised, so every later join saw a non-empty room, never subscribed again, and the room was
    # silent on this process until it restarted.
    fanout = RedisRoomFanout(redis_server.url)
    first = Socket("first")
    await fanout.join("room-a", first)
    redis_server.stop()
    await until(lambda: first.closed_with == CLOSE_LAYER_LOST)
    with pytest.raises(Exception):
        await fanout.join("room-a", Socket("during the outage"))
    assert fanout.members == {}, "the failed join left nobody behind"

    redis_server.start()
    one, two = Socket("one"), Socket("two")
    await fanout.join("room-a", one)
    await fanout.join("room-a", two)
    await fanout.publish("room-a", {"type": "chat.frame", "text": "heard"})
    await until(lambda: one.events and two.events)
