"""Two real Daphne processes sharing one redis-server and one database."""

import asyncio
import json
import uuid

import pytest
from websockets.asyncio.client import connect

from tests.e2e.servers import login, logout

pytestmark = pytest.mark.e2e


async def open_room(port, session, slug="anxiety", after=None):
    url = f"ws://127.0.0.1:{port}/ws/rooms/{slug}/" + (f"?after={after}" if after is not None else "")
    ws = await connect(url, origin=f"http://127.0.0.1:{port}", additional_headers={"Cookie": f"sessionid={session}"})
    return ws, await next_of(ws, "room.state")


async def next_of(ws, type_, timeout=10):
    async with asyncio.timeout(timeout):
        while True:
            frame = json.loads(await ws.recv())
            if frame["type"] == type_:
                return frame


async def say(ws, body):
    await ws.send(json.dumps({"type": "message.send", "client_id": str(uuid.uuid4()), "body": body}))


async def test_message_crosses_processes_and_reconnect_to_other_process_replays(redis_site):
    one, two = redis_site.start_daphne(), redis_site.start_daphne()
    river = login(one, "river", "demo-river-pass")
    sky = login(two, "sky", "demo-sky-pass")

    a, _ = await open_room(one, river)
    b, _ = await open_room(two, sky)
    await say(a, "hello from process one")
    await next_of(a, "message.new")  # river's own copy
    received = (await next_of(b, "message.new"))["message"]
    assert received["body"] == "hello from process one"
    assert received["author"]["name"] == "river"
    last_seen = received["seq"]

    # sky drops; river keeps talking on process one; sky comes back on process TWO.
    await b.close()
    for i in range(3):
        await say(a, f"while you were away {i}")
        await next_of(a, "message.new")
    b, state = await open_room(two, sky, after=last_seen)
    assert [m["body"] for m in state["history"]] == [f"while you were away {i}" for i in range(3)]
    assert [m["seq"] for m in state["history"]] == [last_seen + 1, last_seen + 2, last_seen + 3]

    # and live traffic keeps flowing the other way too
    await say(b, "back again")
    assert (await next_of(a, "message.new"))["message"]["body"] == "back again"
    await a.close()
    await b.close()


async def test_signing_out_on_one_process_ends_that_sessions_sockets_on_the_other(redis_site):
    from websockets.exceptions import ConnectionClosed

    one, two = redis_site.start_daphne(), redis_site.start_daphne()
    shared_device, own_device = login(one, "river", "demo-river-pass"), login(one, "river", "demo-river-pass")
    on_two, _ = await open_room(two, shared_device)
    kept, _ = await open_room(two, own_device)

    logout(one, shared_device)

    ended = await next_of(on_two, "session.ended")
    assert "signed out on this device" in ended["text"]
    with pytest.raises(ConnectionClosed) as closed:
        async with asyncio.timeout(10):
            await on_two.recv()
    assert closed.value.rcvd.code == 4401
    await kept.send(json.dumps({"type": "history.fetch", "before": 1}))
    assert (await next_of(kept, "history"))["type"] == "history"
    await kept.close()


async def test_presence_is_shared_between_processes(redis_site):
    one, two = redis_site.start_daphne(), redis_site.start_daphne()
    a, _ = await open_room(one, login(one, "river", "demo-river-pass"))
    b, state = await open_room(two, login(two, "sky", "demo-sky-pass"))
    assert {u["name"] for u in state["online"]} == {"river", "sky"}
    joined = await next_of(a, "presence")
    assert (joined["event"], joined["user"]["name"]) == ("join", "sky")
    await b.close()
    left = await next_of(a, "presence")
    assert (left["event"], left["user"]["name"]) == ("leave", "sky")
    await a.close()


async def test_anonymous_and_cross_origin_handshakes_are_refused_by_a_real_server(embedded_site):
    from websockets.exceptions import InvalidStatus

    port = embedded_site.start_daphne()
    with pytest.raises(InvalidStatus) as refused:
        await connect(f"ws://127.0.0.1:{port}/ws/rooms/anxiety/", origin=f"http://127.0.0.1:{port}")
    assert refused.value.response.status_code == 403
    session = login(port, "river", "demo-river-pass")
    with pytest.raises(InvalidStatus) as refused:
        await connect(f"ws://127.0.0.1:{port}/ws/rooms/anxiety/", origin="https://evil.example",
                      additional_headers={"Cookie": f"sessionid={session}"})
    assert refused.value.response.status_code == 403


async def test_rate_limits_hold_across_two_processes_on_redis(redis_site):
    one, two = redis_site.start_daphne(), redis_site.start_daphne()
    session = login(one, "river", "demo-river-pass")
    a, _ = await open_room(one, session)
    b, _ = await open_room(two, session, slug="open-room")
    sent = 0
    for i in range(6):  # alternate processes: the burst of 5 is counted in Redis, not per process
        await say(a if i % 2 == 0 else b, f"message {i}")
        sent += 1
    frames = []
    for ws in (a, b):
        try:
            async with asyncio.timeout(2):
                while True:
                    frames.append(json.loads(await ws.recv()))
        except TimeoutError:
            pass
    delivered = [f for f in frames if f["type"] == "message.new"]
    refused = [f for f in frames if f["type"] == "error"]
    assert len(delivered) == 5 and [f["code"] for f in refused] == ["rate_limited"]
    await a.close()
    await b.close()


async def test_a_ban_on_one_process_closes_the_socket_on_the_other(redis_site):
    one, two = redis_site.start_daphne(), redis_site.start_daphne()
    river, _ = await open_room(two, login(two, "river", "demo-river-pass"))
    maple, _ = await open_room(one, login(one, "maple", "demo-maple-pass"))
    river_id = (await open_room(two, login(two, "river", "demo-river-pass")))[1]["me"]["id"]
    await maple.send(json.dumps({"type": "mod.ban", "user_id": river_id, "scope": "room", "reason": "test"}))
    assert (await next_of(river, "sanction"))["kind"] == "ban"
    from websockets.exceptions import ConnectionClosed

    with pytest.raises(ConnectionClosed) as closed:
        async with asyncio.timeout(5):
            while True:
                await river.recv()
    assert closed.value.rcvd.code == 4003
    await maple.close()


async def test_a_flooding_socket_is_closed_by_a_real_server(embedded_site):
    from websockets.exceptions import ConnectionClosed

    port = embedded_site.start_daphne()
    ws, _ = await open_room(port, login(port, "river", "demo-river-pass"))
    with pytest.raises(ConnectionClosed) as closed:
        for _ in range(200):
            await ws.send(json.dumps({"type": "typing"}))
        async with asyncio.timeout(5):
            while True:
                await ws.recv()
    assert closed.value.rcvd.code == 4008  # a code a server may send; autobahn refuses 1008
