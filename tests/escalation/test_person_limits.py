"""Limits per person on help requests, concerns, reports and sockets: a flood from one account
does not bury the console, and a real cry for help is never refused."""

import pytest
from asgiref.sync import sync_to_async

from escalation import services
from escalation.models import Alert, AlertEvent
from rooms.models import Message, Report
from tests.escalation.test_flow import in_room, on_duty_console
from tests.helpers import open_socket, receive, send, types_within

pytestmark = pytest.mark.django_db(transaction=True)
db = sync_to_async


async def refusal_code(path, user):
    from channels.testing import WebsocketCommunicator

    from chatserver.asgi import application
    from tests.helpers import ORIGIN, PATIENCE, session_cookie

    headers = [(b"origin", ORIGIN), (b"host", b"localhost"), (b"cookie", f"sessionid={await session_cookie(user)}".encode())]
    connected, code = await WebsocketCommunicator(application, path, headers=headers).connect(timeout=PATIENCE)
    return None if connected else code


async def messages_by(author, room, count):
    return await db(lambda: [Message.objects.create(room=room, seq=i + 1, author=author, body=f"line {i}").pk
                             for i in range(count)])()


async def test_help_asked_again_and_again_is_always_answered_and_tells_the_console_once(
        alice, maple, anxiety, hotlines):
    console, _ = await on_duty_console(maple)
    a = await in_room(alice)

    for _ in range(25):
        await send(a, type="help.request")
        assert "You're not alone" in (await receive(a, "help.requested"))["text"]

    assert (await types_within(console, 1.0)).count("alert.new") == 1
    assert await db(Alert.objects.count)() == 1
    assert await db(AlertEvent.objects.count)() == 1  # created; no row per repeat

    # Resolved, and asked again at once (still within the rate): a new cry for help, raised.
    alert = await db(Alert.objects.get)()
    await db(services.resolve_alert)(alert.pk, maple, "safe", "")
    await send(a, type="help.request")
    assert (await receive(a, "help.requested"))["text"].startswith("A facilitator has been asked")
    assert (await receive(console, "alert.new"))["alert"]["id"] != alert.pk
    await a.disconnect()
    await console.disconnect()


async def test_concerns_about_one_message_tell_the_console_once_and_a_flood_is_refused_clearly(
        alice, bob, maple, anxiety, hotlines):
    console, _ = await on_duty_console(maple)
    b = await in_room(bob)
    first, *others = await messages_by(alice, anxiety, 11)

    for _ in range(5):  # the same concern again: answered, told once, and not counted
        await send(b, type="peer.concern", message_id=first)
        await receive(b, "concern.received")
    assert (await types_within(console, 1.0)).count("alert.new") == 1

    for message_id in others[:9]:  # ten concerns in all
        await send(b, type="peer.concern", message_id=message_id)
        await receive(b, "concern.received")
    await send(b, type="peer.concern", message_id=others[9])
    refusal = await receive(b, "error")
    assert refusal["code"] == "too_many_concerns"
    assert "emergency number" in refusal["detail"] and "send another in" in refusal["detail"]
    await b.disconnect()
    await console.disconnect()


async def test_reporting_one_message_again_adds_nothing_and_a_flood_of_reports_is_refused(
        alice, bob, maple, anxiety):
    console, _ = await open_socket("/ws/facilitator/", maple)
    await receive(console, "console.state")
    b = await in_room(bob)
    ids = await messages_by(alice, anxiety, 11)

    for _ in range(3):  # the same report again: answered, and nothing new for facilitators
        await send(b, type="message.report", message_id=ids[0], reason="spam")
        await receive(b, "report.received")
    assert (await types_within(console, 1.0)).count("report.new") == 1
    assert await db(Report.objects.count)() == 1
    # Reported again in other words: new for facilitators to read.
    await send(b, type="message.report", message_id=ids[0], reason="unsafe", note="they said they have pills")
    await receive(b, "report.received")
    assert (await receive(console, "report.new"))["report"]["note"] == "they said they have pills"

    for message_id in ids[1:9]:  # ten reports in all
        await send(b, type="message.report", message_id=message_id, reason="spam")
        await receive(b, "report.received")
    await send(b, type="message.report", message_id=ids[9], reason="spam")
    assert (await receive(b, "error"))["code"] == "too_many_reports"
    assert await db(Report.objects.count)() == 10
    await b.disconnect()
    await console.disconnect()


async def test_one_account_cannot_open_sockets_without_end(alice, anxiety, settings):
    settings.CHAT = {**settings.CHAT, "SOCKETS_PER_PERSON": 3}
    sockets = []
    for _ in range(3):
        socket, connected = await open_socket("/ws/rooms/anxiety/", alice)
        assert connected
        sockets.append(socket)

    assert await refusal_code("/ws/rooms/anxiety/", alice) == 4429

    await sockets.pop().disconnect()
    again, connected = await open_socket("/ws/rooms/anxiety/", alice)
    assert connected, "a closed tab frees its place"
    for socket in (*sockets, again):
        await socket.disconnect()


async def test_handshakes_from_one_account_are_rate_limited(alice, bob, anxiety, settings):
    settings.CHAT = {**settings.CHAT, "HANDSHAKE_RATE": "4/minute"}
    outcomes = []
    for _ in range(5):
        socket, connected = await open_socket("/ws/lobby/", alice)
        outcomes.append(connected)
        if connected:
            await socket.disconnect()
    assert outcomes == [True] * 4 + [False]
    assert await refusal_code("/ws/rooms/anxiety/", alice) == 4429
    other, connected = await open_socket("/ws/lobby/", bob)
    assert connected, "per person: others are not held back"
    await other.disconnect()
