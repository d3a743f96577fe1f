"""Open sockets keep only the standing their person still has: signing out, deactivation, a
password change and a lost role reach room, lobby and console sockets already open."""

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async as db
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from chatserver.asgi import application
from escalation import audience
from escalation.models import ConsoleConnection, FacilitatorDuty
from rooms.clock import clock
from rooms.models import FACILITATORS_GROUP, AuditEntry, Sanction, ServerProcess, User
from tests.helpers import ORIGIN, PATIENCE, open_socket, receive, send

pytestmark = pytest.mark.django_db(transaction=True)


@sync_to_async
def signed_in_device(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


async def socket_on(device: Client, path: str):
    headers = [(b"origin", ORIGIN), (b"host", b"localhost"),
               (b"cookie", f"sessionid={device.cookies['sessionid'].value}".encode())]
    socket = WebsocketCommunicator(application, path, headers=headers)
    connected, _ = await socket.connect(timeout=PATIENCE)
    assert connected, path
    return socket


async def ended(socket) -> tuple[str, int]:
    """The session.ended frame's text and the close code that follows it."""
    frame = await receive(socket, "session.ended")
    while (out := await socket.receive_output(timeout=PATIENCE))["type"] != "websocket.close":
        pass
    return frame["text"], out["code"]


async def still_open(socket) -> bool:
    await send(socket, type="history.fetch", before=1)
    return (await receive(socket, "history"))["type"] == "history"


async def test_signing_out_ends_that_devices_room_lobby_and_console_sockets_and_no_others(maple, anxiety):
    laptop, phone = await signed_in_device(maple), await signed_in_device(maple)
    room = await socket_on(laptop, "/ws/rooms/anxiety/")
    lobby = await socket_on(laptop, "/ws/lobby/")
    console = await socket_on(laptop, "/ws/facilitator/")
    other = await socket_on(phone, "/ws/rooms/anxiety/")
    await receive(room, "room.state"), await receive(lobby, "lobby.state"), await receive(console, "console.state")
    await receive(other, "room.state")

    await sync_to_async(laptop.post)(reverse("logout"))

    for socket in (room, lobby, console):
        text, code = await ended(socket)
        assert "signed out on this device" in text and code == 4401
    assert await still_open(other)
    await other.disconnect()


async def test_a_facilitator_removed_from_the_group_loses_the_console_and_moderation_at_once(maple, alice, anxiety):
    console, _ = await open_socket("/ws/facilitator/", maple)
    await receive(console, "console.state")
    room, _ = await open_socket("/ws/rooms/anxiety/", maple)
    await receive(room, "room.state")

    await db(lambda: maple.groups.remove(Group.objects.get(name=FACILITATORS_GROUP)))()

    text, code = await ended(console)
    assert "no longer a facilitator" in text and code == 4403
    await send(room, type="mod.timeout", user_id=alice.pk, seconds=600)
    assert (await receive(room, "error"))["code"] == "not_allowed"
    assert not await db(Sanction.objects.exists)()
    await room.disconnect()


async def test_group_membership_changed_from_the_groups_side_reaches_the_console_too(maple):
    console, _ = await open_socket("/ws/facilitator/", maple)
    await receive(console, "console.state")

    await db(lambda: Group.objects.get(name=FACILITATORS_GROUP).user_set.clear())()

    assert (await ended(console))[1] == 4403


async def test_deactivating_an_account_ends_its_sockets(alice, anxiety):
    room, _ = await open_socket("/ws/rooms/anxiety/", alice)
    await receive(room, "room.state")

    user = await db(User.objects.get)(pk=alice.pk)
    user.is_active = False
    await db(user.save)()

    assert (await ended(room))[1] == 4401


async def test_a_password_change_ends_sockets_signed_in_with_the_old_password(alice, anxiety):
    room, _ = await open_socket("/ws/rooms/anxiety/", alice)
    await receive(room, "room.state")

    user = await db(User.objects.get)(pk=alice.pk)
    await db(user.set_password)("a-new-pass-phrase")
    await db(user.save)()

    assert (await ended(room))[1] == 4401


async def test_a_demotion_whose_notice_was_lost_still_takes_every_power_away(maple, alice, anxiety):
    """A bulk delete sends no signal, as a notice lost while Redis was down reaches nobody."""
    console, _ = await open_socket("/ws/facilitator/", maple)
    await receive(console, "console.state")
    room, _ = await open_socket("/ws/rooms/anxiety/", maple)
    await receive(room, "room.state")

    await db(lambda: User.groups.through.objects.filter(user_id=maple.pk).delete())()

    await send(room, type="mod.timeout", user_id=alice.pk, seconds=600)
    assert (await receive(room, "error"))["code"] == "not_allowed"
    await send(console, type="audit.fetch")
    assert (await ended(console))[1] == 4403
    assert not await db(AuditEntry.objects.exists)()
    await room.disconnect()


def test_a_console_left_open_after_a_demotion_hears_no_alerts(maple, make_user):
    oak = make_user("oak", role="facilitator")
    server = ServerProcess.objects.create(id="p1", seen_at=clock.now())
    for person in (maple, oak):
        ConsoleConnection.objects.create(channel_name=f"c.{person.pk}", user=person, server=server)
        FacilitatorDuty.objects.create(user=person, on_duty=True, last_seen_at=clock.now())
    assert audience.on_duty_facilitators().keys() == {maple.pk, oak.pk}

    User.groups.through.objects.filter(user_id=maple.pk).delete()

    assert audience.online_facilitators() == {oak.pk}
    assert audience.on_duty_facilitators().keys() == {oak.pk}
    assert audience.all_facilitators() == {oak.pk}


async def test_a_socket_at_the_cap_keeps_its_place_when_its_standing_is_read_again(maple, alice, anxiety, settings):
    settings.CHAT = {**settings.CHAT, "SOCKETS_PER_PERSON": 1}
    room, _ = await open_socket("/ws/rooms/anxiety/", maple)
    await receive(room, "room.state")
    await send(room, type="mod.timeout", user_id=alice.pk, seconds=60)  # each mod frame re-reads standing
    assert (await receive(room, "mod.done"))["action"] == "timeout"
    await room.disconnect()


async def test_a_console_that_only_listens_ends_on_its_own_after_a_lost_notice(maple, settings):
    settings.CHAT = {**settings.CHAT, "STANDING_RECHECK_SECONDS": 0.2}
    console, _ = await open_socket("/ws/facilitator/", maple)
    await receive(console, "console.state")

    await db(lambda: User.groups.through.objects.filter(user_id=maple.pk).delete())()  # no notice

    assert (await ended(console))[1] == 4403
