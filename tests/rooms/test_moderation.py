"""Moderation through the room socket: every action, who may do it, what the room sees, the record."""

import uuid
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async

from rooms.clock import clock
from rooms.models import AuditEntry, Membership, Message, Report, Sanction
from tests.helpers import PATIENCE, open_socket, receive, send, types_until, types_within

pytestmark = pytest.mark.django_db(transaction=True)
db = sync_to_async


async def joined(user, slug="anxiety", after=None):
    path = f"/ws/rooms/{slug}/" + (f"?after={after}" if after is not None else "")
    socket, connected = await open_socket(path, user)
    assert connected, f"{user} could not join {slug}"
    return socket, await receive(socket, "room.state")


async def post(socket, body):
    cid = str(uuid.uuid4())
    await send(socket, type="message.send", client_id=cid, body=body)
    return cid


async def audit_actions():
    return await db(lambda: list(AuditEntry.objects.order_by("created_at", "pk").values_list("action", "actor__username")))()


@pytest.fixture
def admin(make_user):
    return make_user("root", role="admin")


ACTIONS = [
    ("mod.hide", {"message_id": 0}),
    ("mod.restore", {"message_id": 0}),
    ("mod.timeout", {"user_id": 0, "seconds": 60}),
    ("mod.kick", {"user_id": 0}),
    ("mod.ban", {"user_id": 0, "scope": "room"}),
    ("mod.lift", {"user_id": 0, "kind": "ban"}),
    ("mod.lock", {"locked": True}),
    ("mod.slow_mode", {"seconds": 10}),
    ("mod.pin", {"message_id": None}),
]


def fill(fields, message_id, user_id):
    """The frame's fields with the placeholders (0) replaced by a real message and person."""
    return {k: message_id if k == "message_id" and v == 0 else user_id if k == "user_id" else v
            for k, v in fields.items()}


@pytest.mark.parametrize("type_, fields", ACTIONS)
async def test_peers_may_not_moderate(alice, bob, anxiety, type_, fields):
    a, _ = await joined(alice)
    b, _ = await joined(bob)
    await post(b, "hello")
    message = (await receive(a, "message.new"))["message"]
    await send(a, type=type_, **fill(fields, message["id"], bob.pk))
    error = await receive(a, "error")
    assert error["code"] == "not_allowed" and "facilitators" in error["detail"].lower()
    assert await audit_actions() == []
    await a.disconnect()
    await b.disconnect()


@pytest.mark.parametrize("role", ["facilitator", "admin"])
async def test_hidden_message_vanishes_live_and_from_peers_history_but_is_kept(alice, bob, make_user, anxiety, role):
    mod = await db(make_user)("mod1", role=role)
    a, _ = await joined(alice)
    m, _ = await joined(mod)
    await post(a, "something unkind")
    message = (await receive(m, "message.new"))["message"]
    await send(m, type="mod.hide", message_id=message["id"], reason="unkind")
    for s in (a, m):
        hidden = await receive(s, "message.hidden")
        assert (hidden["id"], hidden["seq"]) == (message["id"], message["seq"])

    b, state = await joined(bob)
    assert state["history"] == []  # gone for peers, from history and replay
    _, authors_state = await joined(alice)
    assert authors_state["history"] == []  # and for its author: hidden by a facilitator, not held
    _, replay = await joined(bob, after=0)
    assert replay["history"] == []
    _, mod_state = await joined(mod)
    assert mod_state["history"][0]["hidden"] is True  # facilitators still see it, to restore it
    assert await db(Message.objects.filter(pk=message["id"]).exists)(), "kept for the record"

    await send(m, type="mod.restore", message_id=message["id"])
    restored = (await receive(b, "message.restored"))["message"]
    assert restored["id"] == message["id"] and "hidden" not in restored
    assert await audit_actions() == [("hide", "mod1"), ("restore", "mod1")]
    for s in (a, m, b):
        await s.disconnect()


async def test_another_rooms_message_cannot_be_hidden(alice, maple, anxiety, grief):
    other = await db(Message.objects.create)(room=grief, seq=1, author=alice, body="elsewhere")
    m, _ = await joined(maple)
    await send(m, type="mod.hide", message_id=other.pk)
    assert (await receive(m, "error"))["code"] == "message_not_found"
    await m.disconnect()


async def test_timeout_refuses_posts_kindly_and_expires_on_the_clock(alice, maple, anxiety, monkeypatch):
    now = [clock.now()]
    monkeypatch.setattr(clock, "now", lambda: now[0])
    a, _ = await joined(alice)
    m, _ = await joined(maple)
    await send(m, type="mod.timeout", user_id=alice.pk, seconds=600, reason="cool down")
    notice = await receive(a, "sanction")
    assert notice["kind"] == "timeout" and "read along" in notice["text"]
    await post(a, "can I still post?")
    refusal = await receive(a, "error")
    assert refusal["code"] == "timed_out" and "10 more minutes" in refusal["detail"]

    again, state = await joined(alice)  # a new socket knows about it too
    assert state["timeout_until"]
    await post(again, "still paused?")
    assert (await receive(again, "error"))["code"] == "timed_out"

    now[0] += timedelta(seconds=601)
    await post(a, "back again")
    assert (await receive(m, "message.new"))["message"]["body"] == "back again"
    for s in (a, m, again):
        await s.disconnect()


async def test_lifting_a_timeout_lets_them_post_at_once(alice, maple, anxiety):
    a, _ = await joined(alice)
    m, _ = await joined(maple)
    await send(m, type="mod.timeout", user_id=alice.pk, seconds=3600)
    await receive(a, "sanction")
    await send(m, type="mod.lift", user_id=alice.pk, kind="timeout")
    assert (await receive(a, "sanction"))["kind"] == "lift_timeout"
    await post(a, "thanks")
    assert (await receive(m, "message.new"))["message"]["body"] == "thanks"
    assert [a_ for a_, _ in await audit_actions()] == ["timeout", "lift_timeout"]
    await a.disconnect()
    await m.disconnect()


async def test_lifting_a_timeout_that_does_not_exist_leaves_the_one_that_does(alice, maple, anxiety):
    # Issue 20 #6: lifting a service-wide timeout nobody had freed the room timeout on the socket.
    a, _ = await joined(alice)
    m, _ = await joined(maple)
    await send(m, type="mod.timeout", user_id=alice.pk, seconds=3600)
    await receive(a, "sanction")
    assert (await receive(m, "mod.done"))["action"] == "timeout"
    await send(m, type="mod.lift", user_id=alice.pk, kind="timeout", scope="service")
    assert (await receive(m, "mod.done"))["count"] == 0
    assert "sanction" not in await types_within(a)
    await post(a, "still here?")
    assert (await receive(a, "error"))["code"] == "timed_out"
    await a.disconnect()
    await m.disconnect()


async def test_removal_closes_their_sockets_here_only_and_keeps_them_out_until_let_back(alice, maple, anxiety, grief):
    from django.test import Client

    a, _ = await joined(alice)
    elsewhere, _ = await joined(alice, "grief")
    m, _ = await joined(maple)
    await send(m, type="mod.kick", user_id=alice.pk, reason="please take a break")
    assert (await receive(a, "sanction"))["kind"] == "kick"
    closed = await a.receive_output(timeout=PATIENCE)
    assert closed == {"type": "websocket.close", "code": 4003}
    assert "sanction" not in await types_within(elsewhere)
    assert (await receive(m, "mod.done"))["action"] == "kick"
    _, connected = await open_socket("/ws/rooms/anxiety/", alice)
    assert not connected, "a reload is no way back in"

    def page():
        client = Client()
        client.force_login(alice)
        return client.get("/rooms/anxiety/")

    refused = await db(page)()
    assert refused.status_code == 403 and "asked you to leave this room" in refused.content.decode()
    await send(m, type="mod.lift", user_id=alice.pk, kind="kick")
    assert (await receive(m, "mod.done"))["action"] == "lift"
    back, connected = await open_socket("/ws/rooms/anxiety/", alice)
    assert connected, "let back in"
    for socket in (back, elsewhere, m):
        await socket.disconnect()


async def test_room_ban_refuses_new_handshakes_until_lifted(alice, maple, anxiety, grief):
    a, _ = await joined(alice)
    m, _ = await joined(maple)
    await send(m, type="mod.ban", user_id=alice.pk, scope="room", reason="harassment")
    assert (await receive(a, "sanction"))["kind"] == "ban"
    assert (await receive(m, "mod.done"))["action"] == "ban"
    assert not (await open_socket("/ws/rooms/anxiety/", alice))[1]
    assert (await open_socket("/ws/rooms/grief/", alice))[1], "only this room"
    await send(m, type="mod.lift", user_id=alice.pk, kind="ban")
    assert (await receive(m, "mod.done"))["action"] == "lift"
    assert (await open_socket("/ws/rooms/anxiety/", alice))[1]
    await m.disconnect()


async def test_service_ban_closes_every_room_and_refuses_everywhere(alice, maple, anxiety, grief):
    a1, _ = await joined(alice)
    a2, _ = await joined(alice, "grief")
    m, _ = await joined(maple)
    await send(m, type="mod.ban", user_id=alice.pk, scope="service")
    for s in (a1, a2):
        assert (await receive(s, "sanction"))["room"] is None
    for slug in ("anxiety", "grief"):
        assert not (await open_socket(f"/ws/rooms/{slug}/", alice))[1]
    await m.disconnect()


async def test_facilitators_cannot_be_sanctioned_in_the_room(maple, make_user, anxiety):
    other = await db(make_user)("rowan", role="facilitator")
    m, _ = await joined(maple)
    await send(m, type="mod.ban", user_id=other.pk, scope="service")
    assert (await receive(m, "error"))["code"] == "not_allowed"
    await send(m, type="mod.timeout", user_id=maple.pk, seconds=60)
    assert (await receive(m, "error"))["code"] == "not_yourself"
    await send(m, type="mod.timeout", user_id=999999, seconds=60)
    assert (await receive(m, "error"))["code"] == "user_not_found"
    await send(m, type="mod.timeout", user_id=other.pk, seconds=0)
    assert (await receive(m, "error"))["code"] in {"invalid_duration", "not_allowed"}
    await m.disconnect()


async def test_locked_room_is_read_only_for_peers_not_facilitators(alice, maple, anxiety):
    a, _ = await joined(alice)
    m, _ = await joined(maple)
    await send(m, type="mod.lock", locked=True)
    for s in (a, m):
        assert (await receive(s, "room.updated"))["room"]["locked"] is True
    await post(a, "hello?")
    refusal = await receive(a, "error")
    assert refusal["code"] == "room_locked" and "read along" in refusal["detail"]
    await post(m, "We're pausing for a moment.")
    assert (await receive(a, "message.new"))["message"]["author"]["role"] == "facilitator"
    await send(m, type="mod.lock", locked=False)
    await receive(a, "room.updated")
    await post(a, "hello again")
    assert (await receive(a, "message.new"))["message"]["body"] == "hello again"
    await a.disconnect()
    await m.disconnect()


async def test_slow_mode_spaces_a_peers_messages(alice, maple, anxiety):
    a, _ = await joined(alice)
    m, _ = await joined(maple)
    await send(m, type="mod.slow_mode", seconds=30)
    assert (await receive(a, "room.updated"))["room"]["slow_mode_seconds"] == 30
    await post(a, "first")
    await receive(a, "message.new")
    await post(a, "second")
    refusal = await receive(a, "error")
    assert refusal["code"] == "slow_mode" and "send again in" in refusal["detail"]
    await post(m, "facilitators are exempt")
    await post(m, "twice")
    await types_until(m, message_new=3)  # alice's first, then both of maple's
    assert "message.new" not in await types_within(m)  # and not alice's refused second
    await a.disconnect()
    await m.disconnect()


async def test_pin_a_message_then_the_guidelines_again(alice, maple, anxiety):
    a, _ = await joined(alice)
    m, _ = await joined(maple)
    await post(m, "Reminder: the crisis line is on every page.")
    message = (await receive(a, "message.new"))["message"]
    await send(m, type="mod.pin", message_id=message["id"])
    assert (await receive(a, "room.updated"))["room"]["pinned"]["id"] == message["id"]
    _, state = await joined(alice)
    assert state["room"]["pinned"]["id"] == message["id"]
    await send(m, type="mod.pin", message_id=None)
    assert (await receive(a, "room.updated"))["room"]["pinned"] is None
    await a.disconnect()
    await m.disconnect()


async def test_peer_reports_a_message_with_a_reason(alice, bob, anxiety):
    a, _ = await joined(alice)
    b, _ = await joined(bob)
    await post(a, "spam spam spam")
    message = (await receive(b, "message.new"))["message"]
    await send(b, type="message.report", message_id=message["id"], reason="spam", note="ads")
    assert "facilitator" in (await receive(b, "report.received"))["text"]
    made = await db(Report.objects.get)()
    assert (made.reason, made.note, made.reporter_id) == ("spam", "ads", bob.pk)
    await send(b, type="message.report", message_id=message["id"], reason="because")
    assert (await receive(b, "error"))["code"] == "invalid_reason"
    await send(a, type="message.report", message_id=message["id"], reason="spam")
    assert (await receive(a, "error"))["code"] == "own_message"
    await a.disconnect()
    await b.disconnect()


async def test_mute_is_personal_and_remembered(alice, bob, anxiety):
    await joined(bob)
    a, _ = await joined(alice)
    await send(a, type="mute.set", user_id=bob.pk, muted=True)
    assert (await receive(a, "mute"))["muted"] is True
    _, state = await joined(alice)
    assert state["muted"] == [bob.pk]
    _, bob_state = await joined(bob)
    assert bob_state["muted"] == []
    await send(a, type="mute.set", user_id=bob.pk, muted=False)
    await receive(a, "mute")
    _, state = await joined(alice)
    assert state["muted"] == []
    await a.disconnect()


async def test_muting_answers_alike_whether_or_not_an_id_is_anyones(alice, bob, make_user, anxiety, grief):
    from rooms import services as room_services

    stranger = await db(make_user)("stranger")  # exists, but shares no room with alice
    await db(room_services.enter_room)("grief", stranger)
    await db(room_services.enter_room)("anxiety", bob)
    a, _ = await joined(alice)
    answers = []
    for user_id in (bob.pk, stranger.pk, stranger.pk + 1000):
        await send(a, type="mute.set", user_id=user_id, muted=True)
        frame = await receive(a, "mute")
        answers.append({**frame, "user_id": "?"})
    assert answers[0] == answers[1] == answers[2] == {"type": "mute", "user_id": "?", "muted": True}
    _, state = await joined(alice)
    assert state["muted"] == [bob.pk]  # not the stranger: that would tell alice the account exists
    await a.disconnect()


async def test_leaving_a_room_ends_membership_and_the_socket(alice, anxiety):
    a, _ = await joined(alice)
    await send(a, type="room.leave")
    assert (await receive(a, "left"))["room"] == "anxiety"
    assert (await a.receive_output(timeout=PATIENCE))["type"] == "websocket.close"
    assert not await db(Membership.objects.filter(user=alice, room=anxiety).exists)()


async def test_burst_limit_refuses_then_facilitators_are_exempt(alice, maple, anxiety):
    a, _ = await joined(alice)
    for i in range(5):
        await post(a, f"message {i}")
    await post(a, "one too many")
    await types_until(a, message_new=5, error=1)
    assert "message.new" not in await types_within(a)  # the sixth was refused
    m, _ = await joined(maple)
    for i in range(8):
        await post(m, f"announcement {i}")
    assert "error" not in await types_until(m, message_new=8)
    await a.disconnect()
    await m.disconnect()


async def test_the_same_text_twice_is_refused_but_a_resend_is_answered(alice, anxiety):
    a, _ = await joined(alice)
    cid = await post(a, "hello everyone")
    await receive(a, "message.new")
    await post(a, "hello   everyone")
    assert (await receive(a, "error"))["code"] == "repeated"
    await send(a, type="message.send", client_id=cid, body="hello everyone")
    assert (await receive(a, "message.new"))["message"]["client_id"] == cid
    await a.disconnect()


async def test_too_many_links(alice, anxiety):
    a, _ = await joined(alice)
    await post(a, "http://a.example http://b.example www.c.example https://d.example")
    assert (await receive(a, "error"))["code"] == "too_many_links"
    await a.disconnect()


@pytest.mark.parametrize("path, who", [("/ws/rooms/anxiety/", "alice"), ("/ws/lobby/", "alice"),
                                       ("/ws/facilitator/", "maple")])
async def test_a_flooding_socket_is_closed_as_a_policy_violation(alice, maple, anxiety, path, who):
    a, connected = await open_socket(path, {"alice": alice, "maple": maple}[who])
    assert connected
    for _ in range(40):
        await send(a, type="typing")
    while True:
        output = await a.receive_output(timeout=PATIENCE)
        if output["type"] == "websocket.close":
            break
    assert output["code"] == 4008


async def test_every_action_lands_in_the_audit_log(alice, bob, maple, anxiety):
    a, _ = await joined(alice)
    m, _ = await joined(maple)
    await post(a, "x")
    message = (await receive(m, "message.new"))["message"]
    for frame in [dict(type="mod.hide", message_id=message["id"], reason="r"),
                  dict(type="mod.restore", message_id=message["id"]),
                  dict(type="mod.lock", locked=True), dict(type="mod.lock", locked=False),
                  dict(type="mod.slow_mode", seconds=5), dict(type="mod.pin", message_id=message["id"]),
                  dict(type="mod.timeout", user_id=bob.pk, seconds=60, reason="calm"),
                  dict(type="mod.ban", user_id=bob.pk, scope="room", reason="x"),
                  dict(type="mod.lift", user_id=bob.pk, kind="ban"),
                  dict(type="mod.kick", user_id=bob.pk)]:
        await send(m, **frame)
    await types_until(m, mod_done=4)  # timeout, ban, lift and kick answer last, in order
    actions = [action for action, actor in await audit_actions()]
    assert actions == ["hide", "restore", "lock", "unlock", "slow_mode", "pin", "timeout", "ban_room",
                       "lift_ban", "kick"]
    entry = await db(lambda: AuditEntry.objects.filter(action="timeout").select_related("target", "room").get())()
    assert (entry.target.username, entry.room.slug, entry.reason, entry.detail) == ("bob", "anxiety", "calm", {"seconds": 60})
    with pytest.raises(ValueError):
        await db(entry.delete)()
    assert await db(Sanction.objects.count)() == 3
    await a.disconnect()
    await m.disconnect()


async def test_anonymous_cannot_reach_any_of_it(anxiety):
    assert not (await open_socket("/ws/rooms/anxiety/"))[1]


RESULTS = {"mod.hide": "message.hidden", "mod.restore": "message.restored", "mod.timeout": "mod.done",
           "mod.kick": "mod.done", "mod.ban": "mod.done", "mod.lift": "mod.done", "mod.lock": "room.updated",
           "mod.slow_mode": "room.updated", "mod.pin": "room.updated"}


@pytest.mark.parametrize("role", ["facilitator", "admin"])
@pytest.mark.parametrize("type_, fields", ACTIONS)
async def test_facilitators_and_admins_may_moderate(alice, make_user, anxiety, role, type_, fields):
    mod = await db(make_user)(f"mod-{role}", role=role)
    a, _ = await joined(alice)
    m, _ = await joined(mod)
    await post(a, "hello")
    message = (await receive(m, "message.new"))["message"]
    await send(m, type=type_, **fill(fields, message["id"], alice.pk))
    assert (await receive(m, RESULTS[type_]))["type"] == RESULTS[type_]
    await m.disconnect()
