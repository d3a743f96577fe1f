import asyncio
import json
import uuid

import pytest

from escalation import notify
from escalation.models import Alert
from rooms.services import Draft
from rooms.writer import BatchWriter

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_crisis_reaches_facilitators_before_the_room_traffic_stored_beside_it(alice, bob, maple, anxiety, hotlines, monkeypatch):
    happened = []

    async def group_send(group, text):
        happened.append((group, json.loads(text)["type"]))

    monkeypatch.setattr(notify, "_group_send", group_send)
    writer = BatchWriter()

    async def post(author, body):
        await writer.post(Draft(anxiety, author, uuid.uuid4(), body))
        happened.append((author.username, "resumed to fan out"))  # what every sender does next

    # Sent at the same moment, so stored in one batch, bob's first.
    await asyncio.gather(post(bob, "anyone watching the match tonight?"), post(alice, "I want to die"))
    assert happened[:3] == [
        (f"user.{alice.pk}", "support.offer"),
        (f"facilitator.{maple.pk}", "alert.new"),
        ("bob", "resumed to fan out"),
    ]


async def test_a_batch_without_risk_publishes_nothing_of_its_own(alice, bob, anxiety, monkeypatch):
    happened = []

    async def group_send(group, text):
        happened.append(group)

    monkeypatch.setattr(notify, "_group_send", group_send)
    writer = BatchWriter()
    await asyncio.gather(*(writer.post(Draft(anxiety, who, uuid.uuid4(), "hello")) for who in (alice, bob)))
    assert happened == []


async def test_senders_are_answered_when_the_alert_cannot_be_published(alice, bob, maple, anxiety, hotlines, monkeypatch):
    async def layer_down(group, text):
        raise ConnectionError("channel layer unavailable")

    monkeypatch.setattr(notify, "_group_send", layer_down)
    writer = BatchWriter()
    results = await asyncio.wait_for(asyncio.gather(
        writer.post(Draft(anxiety, bob, uuid.uuid4(), "hello")),
        writer.post(Draft(anxiety, alice, uuid.uuid4(), "I want to die")),
    ), timeout=10)
    (bob_posted, _), (alice_posted, prepared) = results
    assert bob_posted.message.seq == 1 and alice_posted.message.seq == 2
    # Stored with the message, so the watchdog re-sends what could not go out now.
    assert prepared.raised.alert.pk and await Alert.objects.filter(message=alice_posted.message).aexists()
