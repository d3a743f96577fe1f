"""Who may reach what: every page, every socket path and every client frame type, against
anonymous, peer, member (of a private room), non-member, facilitator and admin.

Moderation frames (`mod.*`) have their own per-action matrix in tests/rooms/test_moderation.py;
here each frame type is checked for the refusal a role must or must not get.
"""

import json
import uuid

import pytest
from asgiref.sync import sync_to_async
from django.test import Client

from escalation.models import Alert
from rooms.clock import clock
from rooms.models import Membership, Room, User
from rooms.services import post_message
from tests.fuzzing import exchange
from tests.helpers import PATIENCE, drain, open_socket, receive, send

ROLES = ["anonymous", "peer", "member", "facilitator", "admin"]
PRIVATE = "support-7-abc123"


@pytest.fixture
def people(make_user, anxiety):
    private = Room.objects.create(slug=PRIVATE, name="Private support", topic="Private support", is_private=True)
    member = make_user("member")
    Membership.objects.create(room=private, user=member)
    return {
        "anonymous": None,
        "peer": make_user("peer"),
        "member": member,
        "facilitator": make_user("facil", role="facilitator"),
        "admin": make_user("boss", role="admin"),
    }


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


# url -> the status each role gets; 302 to the login page for people who must sign in first.
PAGES = {
    "/": {"anonymous": 302, "peer": 200, "member": 200, "facilitator": 200, "admin": 200},
    "/rooms/anxiety/": {"anonymous": 302, "peer": 200, "member": 200, "facilitator": 200, "admin": 200},
    f"/rooms/{PRIVATE}/": {"anonymous": 302, "peer": 403, "member": 200, "facilitator": 200, "admin": 200},
    "/rooms/no-such-room/": {"anonymous": 302, "peer": 404, "member": 404, "facilitator": 404, "admin": 404},
    "/console/": {"anonymous": 302, "peer": 403, "member": 403, "facilitator": 200, "admin": 200},
    "/account/": {"anonymous": 302, "peer": 200, "member": 200, "facilitator": 200, "admin": 200},
    "/account/export/": {"anonymous": 302, "peer": 200, "member": 200, "facilitator": 200, "admin": 200},
    "/privacy/": {"anonymous": 200, "peer": 200, "member": 200, "facilitator": 200, "admin": 200},
    "/login/": {"anonymous": 200, "peer": 302, "member": 302, "facilitator": 302, "admin": 302},
    "/signup/": {"anonymous": 200, "peer": 302, "member": 302, "facilitator": 302, "admin": 302},
    # The admin holds alerts, notes and flags: staff only; everyone else is sent to its login.
    "/admin/": {"anonymous": 302, "peer": 302, "member": 302, "facilitator": 302, "admin": 200},
    "/admin/escalation/alert/": {"anonymous": 302, "peer": 302, "member": 302, "facilitator": 302, "admin": 200},
    "/admin/rooms/message/": {"anonymous": 302, "peer": 302, "member": 302, "facilitator": 302, "admin": 200},
}


@pytest.mark.django_db
@pytest.mark.parametrize("url", PAGES)
def test_every_page_against_every_role(people, url):
    for role, expected in PAGES[url].items():
        response = client_for(people[role]).get(url)
        assert response.status_code == expected, f"{role} GET {url}"
        if expected == 302 and role == "anonymous" and not url.startswith(("/login", "/signup")):
            assert "login" in response["Location"], f"{role} GET {url} must be sent to sign in"
        if response.status_code == 200 and response.get("Content-Type", "").startswith("text/html"):
            policy = response["Content-Security-Policy"] if not url.startswith("/admin") else ""
            assert "unsafe-inline" not in policy.split("script-src")[-1].split(";")[0]


# path -> whether each role's handshake is accepted.
SOCKETS = {
    "/ws/rooms/anxiety/": {"anonymous": False, "peer": True, "member": True, "facilitator": True, "admin": True},
    f"/ws/rooms/{PRIVATE}/": {"anonymous": False, "peer": False, "member": True, "facilitator": True, "admin": True},
    "/ws/rooms/no-such-room/": {"anonymous": False, "peer": False, "member": False, "facilitator": False,
                                "admin": False},
    "/ws/lobby/": {"anonymous": False, "peer": True, "member": True, "facilitator": True, "admin": True},
    "/ws/facilitator/": {"anonymous": False, "peer": False, "member": False, "facilitator": True, "admin": True},
}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", SOCKETS)
async def test_every_socket_path_against_every_role(people, path):
    for role, accepted in SOCKETS[path].items():
        socket, connected = await open_socket(path, people[role])
        assert connected is accepted, f"{role} -> {path}"
        await socket.disconnect()
    # And never from another site, whoever you are.
    socket, connected = await open_socket(path, people["admin"], origin=b"https://evil.example")
    assert not connected, f"cross-origin -> {path}"


def room_frames(message_id: int, other_id: int) -> dict[str, dict]:
    """One well-formed frame of every type the room socket takes."""
    return {
        "message.send": {"client_id": str(uuid.uuid4()), "body": "hello"},
        "history.fetch": {"before": 5},
        "typing": {},
        "help.request": {},
        "peer.concern": {"message_id": message_id},
        "message.report": {"message_id": message_id, "reason": "spam"},
        "mute.set": {"user_id": other_id, "muted": True},
        "mod.hide": {"message_id": message_id, "reason": "test"},
        "mod.restore": {"message_id": message_id},
        "mod.timeout": {"user_id": other_id, "seconds": 60},
        "mod.kick": {"user_id": other_id},
        "mod.ban": {"user_id": other_id, "scope": "room"},
        "mod.lift": {"user_id": other_id, "kind": "timeout"},
        "mod.lock": {"locked": True},
        "mod.slow_mode": {"seconds": 10},
        "mod.pin": {"message_id": message_id},
        "room.leave": {},
    }


def test_the_matrix_names_every_frame_type_the_sockets_take():
    from escalation.consumers import ConsoleConsumer
    from rooms.consumers import RoomConsumer

    assert set(room_frames(1, 2)) == set(RoomConsumer.HANDLERS)
    assert set(console_frames(1)) == set(ConsoleConsumer.HANDLERS)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("role", ["peer", "member", "facilitator", "admin"])
async def test_every_room_frame_type_against_every_role(people, role, anxiety):
    """Peers are refused every mod.* frame and nothing else; facilitators and admins nothing."""
    user, other = people[role], people["member" if role != "member" else "peer"]
    target = await sync_to_async(post_message)(anxiety, other, uuid.uuid4(), "hi there")
    target = target.message
    moderator = role in ("facilitator", "admin")
    for type_, fields in room_frames(target.pk, other.pk).items():
        socket, connected = await open_socket("/ws/rooms/anxiety/", user)
        assert connected
        await receive(socket, "room.state")
        answer = await exchange(socket, json.dumps({"type": type_, **fields}))
        codes = {f["code"] for f in answer if f["type"] == "error"}
        assert ("not_allowed" in codes) is (type_.startswith("mod.") and not moderator), f"{role} {type_}: {answer}"
        assert "server_error" not in codes
        if type_ == "mod.lock":
            await send(socket, type="mod.lock", locked=False)
        if type_ in ("mod.kick", "mod.ban"):
            await sync_to_async(lambda: other.sanctions.all().delete())()
        await socket.disconnect()


def console_frames(alert_id: int) -> dict[str, dict]:
    return {
        "duty.set": {"on_duty": True},
        "alert.ack": {"alert_id": alert_id},
        "alert.step_in": {"alert_id": alert_id},
        "alert.resolve": {"alert_id": alert_id, "outcome": "safe", "note": ""},
        "report.close": {"report_id": 999_999},
        "audit.fetch": {},
    }


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("role", ["facilitator", "admin"])
async def test_every_console_frame_type_works_for_facilitators_and_admins(people, role, anxiety):
    alert = await sync_to_async(Alert.objects.create)(
        level="crisis", source="self_referral", subject=people["peer"], room=anxiety, created_at=clock.now())
    socket, connected = await open_socket("/ws/facilitator/", people[role])
    assert connected
    await receive(socket, "console.state")
    for type_, fields in console_frames(alert.pk).items():
        await send(socket, type=type_, **fields)
        # Every frame type gets an answer; some come back through the channel layer, so wait
        # for the first however long a loaded machine takes, then collect what follows it.
        frames = [json.loads(await socket.receive_from(timeout=PATIENCE))] + await drain(socket, 0.2)
        codes = {f.get("code") for f in frames if f["type"] == "error"}
        assert "not_allowed" not in codes, f"{role} {type_}: {frames}"
        if type_ == "report.close":
            assert codes == {"report_not_found"}, frames  # a clear error, not silence
        else:
            assert frames and not codes, f"{role} {type_}: {frames}"
    await socket.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_another_rooms_message_id_is_refused_in_this_room(people, anxiety):
    """A message id from a private room, used in a public one, touches nothing and says so."""
    private = await sync_to_async(Room.objects.get)(slug=PRIVATE)
    secret = (await sync_to_async(post_message)(private, people["member"], uuid.uuid4(), "private words")).message
    for role, types in (("peer", ["peer.concern", "message.report"]),
                        ("facilitator", ["mod.hide", "mod.restore", "mod.pin", "peer.concern"])):
        socket, _ = await open_socket("/ws/rooms/anxiety/", people[role])
        await receive(socket, "room.state")
        for type_ in types:
            answer = await exchange(socket, json.dumps({"type": type_, **room_frames(secret.pk, 0)[type_]}))
            assert [f["code"] for f in answer if f["type"] == "error"] == ["message_not_found"], (role, type_)
        await socket.disconnect()
    await sync_to_async(secret.refresh_from_db)()
    assert secret.hidden_at is None and not await sync_to_async(secret.alerts.exists)()


@pytest.mark.django_db(transaction=True)
async def test_crisis_flags_reach_facilitators_only(people, anxiety):
    peer, member, facilitator = people["peer"], people["member"], people["facilitator"]
    writer, _ = await open_socket("/ws/rooms/anxiety/", peer)
    await receive(writer, "room.state")
    reader, _ = await open_socket("/ws/rooms/anxiety/", member)
    await receive(reader, "room.state")
    console, _ = await open_socket("/ws/facilitator/", facilitator)
    await receive(console, "console.state")

    await send(writer, type="message.send", client_id=str(uuid.uuid4()), body="i want to kill myself tonight")

    alert = await receive(console, "alert.new")
    assert alert["alert"]["level"] in ("crisis", "imminent")
    seen_by_peer = json.dumps(await drain(reader, 0.7))
    assert "i want to kill myself tonight" in seen_by_peer  # the message is delivered ...
    for word in ("risk", "alert", "crisis", "imminent", "signals", "support.offer"):
        assert word not in seen_by_peer  # ... and nothing about the flag
    await send(reader, type="history.fetch", before=100)
    history = json.dumps(await receive(reader, "history"))
    assert "kill myself" in history and "risk" not in history and "imminent" not in history
    for socket in (writer, reader, console):
        await socket.disconnect()


@pytest.mark.django_db
@pytest.mark.parametrize("url, data", [
    ("/signup/", {"username": "newbie", "password1": "a-long-pass-phrase", "password2": "a-long-pass-phrase",
                  "country": "US"}),
    ("/login/", {"username": "peer", "password": "x-pass-12345"}),
    ("/account/", {"password": "x-pass-12345"}),
    ("/logout/", {}),
])
def test_forms_refuse_a_post_without_the_csrf_token(people, url, data):
    client = Client(enforce_csrf_checks=True)
    if url in ("/account/", "/logout/"):
        client.force_login(people["peer"])
    response = client.post(url, data)
    assert response.status_code == 403
    assert User.objects.filter(username="peer").exists() and not User.objects.filter(username="newbie").exists()
