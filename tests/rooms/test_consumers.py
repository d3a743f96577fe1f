import json
import uuid

import pytest

from rooms.clock import clock
from rooms.models import Message
from tests.helpers import open_socket, receive, send, types_within

pytestmark = pytest.mark.django_db(transaction=True)


def new_id():
    return str(uuid.uuid4())


async def test_message_reaches_everyone_in_the_room_and_nobody_elsewhere(alice, bob, make_user, anxiety, grief):
    carol = await sync(make_user)("carol")
    a, _ = await open_socket("/ws/rooms/anxiety/", alice)
    b, _ = await open_socket("/ws/rooms/anxiety/", bob)
    c, _ = await open_socket("/ws/rooms/grief/", carol)
    for s in (a, b, c):
        await receive(s, "room.state")

    cid = new_id()
    await send(a, type="message.send", client_id=cid, body="  hello there  ")
    for s in (a, b):
        msg = (await receive(s, "message.new"))["message"]
        assert msg["body"] == "hello there"
        assert msg["seq"] == 1
        assert msg["client_id"] == cid
        assert msg["room"] == "anxiety"
        assert msg["author"] == {"id": alice.pk, "name": "alice", "role": "peer"}
        assert msg["created_at"]
    assert "message.new" not in await types_within(c)
    for s in (a, b, c):
        await s.disconnect()


async def test_room_state_on_connect_has_room_online_and_last_50(alice, bob, anxiety):
    await sync(_post_many)(anxiety, alice, 60)
    b, _ = await open_socket("/ws/rooms/anxiety/", bob)
    state = await receive(b, "room.state")
    assert state["room"]["slug"] == "anxiety"
    assert state["room"]["guidelines"] == "Be kind."
    assert [m["seq"] for m in state["history"]] == list(range(11, 61))
    assert [u["name"] for u in state["online"]] == ["bob"]
    await b.disconnect()


async def test_history_fetch_pages_backwards_with_before(alice, anxiety):
    await sync(_post_many)(anxiety, alice, 30)
    a, _ = await open_socket("/ws/rooms/anxiety/", alice)
    await receive(a, "room.state")
    await send(a, type="history.fetch", before=11, limit=5)
    page = await receive(a, "history")
    assert [m["seq"] for m in page["messages"]] == [6, 7, 8, 9, 10]
    assert page["has_more"] is True
    await send(a, type="history.fetch", before=6, limit=50)
    page = await receive(a, "history")
    assert [m["seq"] for m in page["messages"]] == [1, 2, 3, 4, 5]
    assert page["has_more"] is False
    await a.disconnect()


async def test_reconnect_with_after_replays_exactly_what_was_missed(alice, bob, anxiety):
    b, _ = await open_socket("/ws/rooms/anxiety/", bob)
    await receive(b, "room.state")
    await sync(_post_many)(anxiety, alice, 3)
    await b.disconnect()
    await sync(_post_many)(anxiety, alice, 4, start=3)  # bob is away for seq 4..7

    b, _ = await open_socket("/ws/rooms/anxiety/?after=3", bob)
    state = await receive(b, "room.state")
    assert [m["seq"] for m in state["history"]] == [4, 5, 6, 7]
    assert state["has_more"] is False
    await b.disconnect()


async def test_gap_is_filled_with_history_fetch_after(alice, anxiety):
    await sync(_post_many)(anxiety, alice, 8)
    a, _ = await open_socket("/ws/rooms/anxiety/", alice)
    await receive(a, "room.state")
    await send(a, type="history.fetch", after=5)
    page = await receive(a, "history")
    assert [m["seq"] for m in page["messages"]] == [6, 7, 8]
    await a.disconnect()


async def test_resend_with_same_client_id_returns_stored_message_not_a_duplicate(alice, bob, anxiety):
    a, _ = await open_socket("/ws/rooms/anxiety/", alice)
    b, _ = await open_socket("/ws/rooms/anxiety/", bob)
    await receive(a, "room.state")
    await receive(b, "room.state")
    cid = new_id()
    await send(a, type="message.send", client_id=cid, body="only once")
    first = (await receive(a, "message.new"))["message"]
    await receive(b, "message.new")

    await send(a, type="message.send", client_id=cid, body="only once")
    again = (await receive(a, "message.new"))["message"]
    assert again["id"] == first["id"] and again["seq"] == first["seq"]
    # Re-announced to the room with the same seq (its first announcement may have been lost
    # after the store); a member who has it drops the repeat by seq.
    repeat = (await receive(b, "message.new"))["message"]
    assert (repeat["id"], repeat["seq"]) == (first["id"], first["seq"])
    assert await sync(Message.objects.count)() == 1
    await a.disconnect()
    await b.disconnect()


async def test_presence_join_and_leave_are_live(alice, bob, anxiety):
    a, _ = await open_socket("/ws/rooms/anxiety/", alice)
    await receive(a, "room.state")
    b, _ = await open_socket("/ws/rooms/anxiety/", bob)
    state = await receive(b, "room.state")
    assert {u["name"] for u in state["online"]} == {"alice", "bob"}
    joined = await receive(a, "presence")
    assert (joined["event"], joined["user"]["name"]) == ("join", "bob")
    await b.disconnect()
    left = await receive(a, "presence")
    assert (left["event"], left["user"]["name"]) == ("leave", "bob")
    await a.disconnect()


async def test_second_tab_does_not_announce_a_second_join_or_an_early_leave(alice, bob, anxiety):
    a, _ = await open_socket("/ws/rooms/anxiety/", alice)
    await receive(a, "room.state")
    b1, _ = await open_socket("/ws/rooms/anxiety/", bob)
    await receive(a, "presence")
    b2, _ = await open_socket("/ws/rooms/anxiety/", bob)
    await receive(b2, "room.state")
    await b1.disconnect()
    assert "presence" not in await types_within(a)
    await b2.disconnect()
    assert (await receive(a, "presence"))["event"] == "leave"
    await a.disconnect()


async def test_the_lobby_never_shows_a_private_room_or_that_someone_joined_it(alice, bob, maple, anxiety):
    # Issue 20 #3: a support room's lobby.count told every peer a crisis conversation had begun.
    from asgiref.sync import sync_to_async

    from rooms.models import Membership, Room

    support = await sync_to_async(Room.objects.create)(slug="support-7-alice", name="Support", topic="Support",
                                                       is_private=True)
    await sync_to_async(Membership.objects.create)(room=support, user=alice)
    inside, connected = await open_socket("/ws/rooms/support-7-alice/", alice)
    assert connected
    await receive(inside, "room.state")
    lobby, _ = await open_socket("/ws/lobby/", bob)
    assert (await receive(lobby, "lobby.state"))["online"] == {}, "bob is not a member"
    assert "lobby.count" not in await types_within(lobby)
    public, _ = await open_socket("/ws/rooms/anxiety/", alice)
    assert (await receive(lobby, "lobby.count"))["room"] == "anxiety", "public rooms still count live"
    await public.disconnect()
    await lobby.disconnect()
    await inside.disconnect()


async def test_lobby_counts_update_live(alice, bob, anxiety):
    lobby, connected = await open_socket("/ws/lobby/", alice)
    assert connected
    assert (await receive(lobby, "lobby.state"))["online"] == {}
    b, _ = await open_socket("/ws/rooms/anxiety/", bob)
    count = await receive(lobby, "lobby.count")
    assert (count["room"], count["online"]) == ("anxiety", 1)
    await b.disconnect()
    assert (await receive(lobby, "lobby.count"))["online"] == 0
    await lobby.disconnect()


async def test_typing_reaches_others_and_is_throttled(alice, bob, anxiety, monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(clock, "monotonic", lambda: now[0])
    a, _ = await open_socket("/ws/rooms/anxiety/", alice)
    b, _ = await open_socket("/ws/rooms/anxiety/", bob)
    await receive(a, "room.state")
    await receive(b, "room.state")
    await receive(a, "presence")

    await send(a, type="typing")
    assert (await receive(b, "typing"))["user"]["name"] == "alice"
    await send(a, type="typing")  # 0 s later: dropped
    assert "typing" not in await types_within(b)
    now[0] += 3.5
    await send(a, type="typing")
    assert (await receive(b, "typing"))["user"]["name"] == "alice"
    assert "typing" not in await types_within(a), "the typist does not hear themself"
    await a.disconnect()
    await b.disconnect()


async def test_anonymous_handshake_is_refused(anxiety):
    _, connected = await open_socket("/ws/rooms/anxiety/")
    assert not connected
    _, connected = await open_socket("/ws/lobby/")
    assert not connected


async def test_cross_origin_handshake_is_refused(alice, anxiety):
    _, connected = await open_socket("/ws/rooms/anxiety/", alice, origin=b"https://evil.example")
    assert not connected


async def test_unknown_room_is_refused(alice, anxiety):
    _, connected = await open_socket("/ws/rooms/nope/", alice)
    assert not connected


async def test_private_room_refuses_non_members(alice, anxiety):
    from rooms.models import Room

    await sync(Room.objects.create)(slug="private-1", name="Support", topic="Private", is_private=True)
    _, connected = await open_socket("/ws/rooms/private-1/", alice)
    assert not connected


@pytest.mark.parametrize(
    "raw, code",
    [
        ("{not json", "bad_json"),
        ('{"type": "message.send", "x": ' + "[" * 5000 + "]" * 5000 + "}", "bad_json"),  # too deep to parse
        ('["a list"]', "bad_frame"),
        ('{"no": "type"}', "bad_frame"),
        ('{"type": "launch.rocket"}', "unknown_type"),
        ('{"type": "message.send", "client_id": "nope", "body": "hi"}', "invalid_client_id"),
        # other spellings of a UUID: the echo would never match what the client holds
        *[(json.dumps({"type": "message.send", "client_id": spelling, "body": "hi"}), "invalid_client_id")
          for spelling in ("{%s}" % uuid.uuid4(), uuid.uuid4().hex, uuid.uuid4().urn, str(uuid.uuid4()).upper())],
        ('{"type": "message.send", "client_id": "%s", "body": "   "}' % uuid.uuid4(), "empty_body"),
        # zero-width space and joiner, word joiner, a Hangul filler: nothing shows
        ('{"type": "message.send", "client_id": "%s", "body": "\\u200b\\u200d\\u2060\\u3164"}' % uuid.uuid4(),
         "empty_body"),
        ('{"type": "message.send", "client_id": "%s", "body": 42}' % uuid.uuid4(), "invalid_body"),
        (json.dumps({"type": "message.send", "client_id": str(uuid.uuid4()), "body": "x" * 4001}), "body_too_long"),
        (json.dumps({"type": "message.send", "client_id": str(uuid.uuid4()), "body": "x" * 20000}), "frame_too_large"),
        ('{"type": "history.fetch"}', "invalid_history"),
        ('{"type": "history.fetch", "before": -1}', "invalid_before"),
        ('{"type": "history.fetch", "before": 5, "limit": 1000}', "invalid_limit"),
    ],
)
async def test_bad_frames_get_an_error_and_the_socket_keeps_working(alice, anxiety, raw, code):
    a, _ = await open_socket("/ws/rooms/anxiety/", alice)
    await receive(a, "room.state")
    await a.send_to(text_data=raw)
    error = await receive(a, "error")
    assert error["code"] == code
    assert error["detail"]
    cid = new_id()
    await send(a, type="message.send", client_id=cid, body="still here")
    assert (await receive(a, "message.new"))["message"]["client_id"] == cid
    await a.disconnect()


async def test_error_names_the_client_id_it_answers(alice, anxiety):
    a, _ = await open_socket("/ws/rooms/anxiety/", alice)
    await receive(a, "room.state")
    cid = new_id()
    await send(a, type="message.send", client_id=cid, body="")
    error = await receive(a, "error")
    assert (error["code"], error["client_id"]) == ("empty_body", cid)
    shouted = cid.upper()  # refused, and answered with the spelling that was sent
    await send(a, type="message.send", client_id=shouted, body="hello")
    assert ((error := await receive(a, "error"))["code"], error["client_id"]) == ("invalid_client_id", shouted)
    assert await sync(Message.objects.count)() == 0
    await a.disconnect()


async def test_binary_frames_are_refused_with_an_error(alice, anxiety):
    a, _ = await open_socket("/ws/rooms/anxiety/", alice)
    await receive(a, "room.state")
    await a.send_to(bytes_data=b"\x00\x01")
    assert (await receive(a, "error"))["code"] == "bad_frame"
    await a.disconnect()


def _post_many(room, author, n, start=0):
    from rooms.services import post_message

    for i in range(start, start + n):
        post_message(room, author, uuid.uuid4(), f"message {i + 1}")


def sync(fn):
    from asgiref.sync import sync_to_async

    return sync_to_async(fn)


async def test_a_message_stored_while_you_join_is_not_lost(alice, bob, anxiety, monkeypatch):
    """Posted after your history was read but before your socket was accepted: it still arrives."""
    from asgiref.sync import async_to_sync

    from rooms import events, services
    from rooms.consumers import RoomConsumer
    from rooms.fanout import fanout

    read_history = RoomConsumer._enter

    def enter_then_someone_posts(self, after):
        state = read_history(self, after)
        if self.user.pk == alice.pk:
            posted = services.post_message(anxiety, bob, uuid.uuid4(), "posted while you were joining")

            async def publish():  # on the server's loop, as bob's socket would
                await fanout().publish(anxiety.group_name, {
                    "type": "chat.frame", "text": events.message_new(posted.message)})

            async_to_sync(publish)()
        return state

    monkeypatch.setattr(RoomConsumer, "_enter", enter_then_someone_posts)
    socket, connected = await open_socket("/ws/rooms/anxiety/", alice)
    assert connected
    state = await receive(socket, "room.state")
    assert state["history"] == []
    late = await receive(socket, "message.new")
    assert late["message"]["body"] == "posted while you were joining" and late["message"]["seq"] == 1
    await socket.disconnect()


async def test_a_socket_path_that_leads_nowhere_is_refused_without_a_traceback(alice, caplog):
    for path in ("/ws/nowhere/", "/ws/rooms/", "/ws/rooms/a/b/c/", "/"):
        socket, connected = await open_socket(path, alice)
        assert not connected, path
    assert "Traceback" not in caplog.text and "No route found" not in caplog.text
