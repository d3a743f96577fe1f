"""Faults with real processes: Redis stops, a Daphne process dies, the watchdog dies, a client
stops reading. Nothing stored is lost, nothing is doubled, the room keeps going."""

import asyncio
import json
import os
import signal

import pytest

from tests.e2e.chatclient import Member
from tests.e2e.servers import login

pytestmark = pytest.mark.e2e


def stored_messages(site, slug="anxiety") -> list[dict]:
    out = site.manage("shell", "-v0", "-c", (
        "import json; from rooms.models import Message; "
        f"print(json.dumps(list(Message.objects.filter(room__slug='{slug}').order_by('seq')"
        ".values('seq', 'client_id', 'body')), default=str))"))
    return json.loads(out.strip().splitlines()[-1])


async def settle(members: list[Member], expected: int, timeout: float = 60) -> None:
    """Reconnect whoever dropped (as the page does) until everyone has seen `expected` messages
    and has nothing left unconfirmed."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        for member in members:
            await member.reconnect_if_dropped(timeout=max(1, deadline - loop.time()))
        if all(m.contiguous >= expected and not m.outbox for m in members):
            return
        await asyncio.sleep(0.2)
    raise AssertionError({m.name: (m.contiguous, len(m.outbox), m.connects) for m in members})


def assert_nothing_lost_or_doubled(site, members: list[Member], sent: list[str], sender: Member) -> None:
    stored = stored_messages(site)
    assert [m["seq"] for m in stored] == list(range(1, len(stored) + 1)), "seq has a gap or repeat"
    stored_ids = [m["client_id"] for m in stored]
    assert len(set(stored_ids)) == len(stored_ids), "a resend was stored twice"
    for client_id in sent:
        # Stored and delivered, or refused with a clear error: never silently dropped.
        assert (client_id in stored_ids) != (client_id in sender.refused), client_id
    for member in members:
        shown = [member.seen[seq]["body"] for seq in sorted(member.seen)]
        assert shown == [m["body"] for m in stored], f"{member.name} saw a different history"
        assert len(member.arrivals) == len(set(member.arrivals))


@pytest.fixture
def fast_site(redis_site):
    # Synthetic senders write faster than a person may; the limits have their own tests.
    redis_site.env["CHAT_RATE_LIMITS"] = "100/second"
    redis_site.env["CHAT_REPEAT_LIMIT"] = "100/second"
    return redis_site


async def test_redis_stopping_mid_conversation_loses_nothing(redis_server, fast_site):
    one, two = fast_site.start_daphne(), fast_site.start_daphne()
    river = Member("river", login(one, "river", "demo-river-pass"), [one, two])
    sky = Member("sky", login(two, "sky", "demo-sky-pass"), [two, one])
    await river.connect()
    await sky.connect()
    sent = [await river.say(f"before {i}") for i in range(3)]
    await sky.wait_until(lambda: sky.contiguous == 3)

    redis_server.stop()
    for i in range(6):
        sent.append(await river.say(f"during the outage {i}"))
        await asyncio.sleep(0.3)
    redis_server.start()
    sent += [await river.say(f"after {i}") for i in range(3)]

    await settle([river, sky], expected=len(sent) - len(river.refused))
    assert river.connects >= 2 and sky.connects >= 2, "both were dropped and came back by replay"
    assert_nothing_lost_or_doubled(fast_site, [river, sky], sent, river)
    # Live traffic flows again both ways, on whichever process each one landed.
    sent.append(await sky.say("glad you're back"))
    await river.wait_until(lambda: any(m["body"] == "glad you're back" for m in river.seen.values()))
    for member in (river, sky):
        await member.close()


async def test_a_killed_daphne_process_loses_nothing(fast_site):
    one, two = fast_site.start_daphne(), fast_site.start_daphne()
    river = Member("river", login(one, "river", "demo-river-pass"), [one, two])
    sky = Member("sky", login(two, "sky", "demo-sky-pass"), [two, one])
    await river.connect()
    await sky.connect()
    sent = []
    for i in range(12):
        sent.append(await river.say(f"message {i}"))
        if i == 5:
            os.kill(fast_site.servers[0].pid, signal.SIGKILL)  # river's process, mid-stream
        await asyncio.sleep(0.1)

    await settle([river, sky], expected=len(sent))
    assert river.connects == 2, "river moved to the surviving process"
    assert_nothing_lost_or_doubled(fast_site, [river, sky], sent, river)
    for member in (river, sky):
        await member.close()
