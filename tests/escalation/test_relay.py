"""The outbox relay hands each frame to this process's sockets once, even when rows commit out of order."""

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from escalation import relay, services
from escalation.models import Notification
from rooms.clock import clock

pytestmark = pytest.mark.django_db(transaction=True)
db = database_sync_to_async


def _alert(alice, room):
    from django.db import transaction

    with transaction.atomic():
        return services.raise_alert(level="crisis", source="detector", subject=alice, room=room).alert


def _row(alert, user, text, pk=None):
    return Notification.objects.create(pk=pk, alert=alert, recipients=[user.pk], text=text, created_at=clock.now())


async def test_a_row_that_becomes_visible_after_a_higher_one_is_still_delivered_once(alice, maple, anxiety):
    layer = get_channel_layer()
    channel = await layer.new_channel()
    relay.local_consoles[channel] = maple.pk
    try:
        alert = await db(_alert)(alice, anxiety)
        outbox = relay.OutboxRelay()
        # Started after a row, as a running relay is (PostgreSQL's ids do not restart per test).
        outbox.last_id = (await db(_row)(alert, maple, '"before"')).pk
        rows = [await db(_row)(alert, maple, f'"frame {i}"') for i in range(3)]
        committing_later = rows[1].pk
        await db(rows[1].delete)()  # PostgreSQL: its id handed out, its transaction not yet committed
        await outbox.step()
        assert [(await layer.receive(channel))["text"] for _ in range(2)] == ['"frame 0"', '"frame 2"']
        await db(_row)(alert, maple, '"frame 1"', pk=committing_later)  # it commits
        await outbox.step()
        assert (await layer.receive(channel))["text"] == '"frame 1"'
        await outbox.step()
        assert outbox.missing == {}, "delivered once, no longer looked for"
    finally:
        relay.local_consoles.pop(channel, None)


async def test_a_frame_for_a_person_goes_to_their_room_sockets_only(alice, bob, anxiety):
    layer = get_channel_layer()
    mine, theirs = await layer.new_channel(), await layer.new_channel()
    relay.local_people.update({mine: alice.pk, theirs: bob.pk})
    try:
        alert = await db(_alert)(alice, anxiety)
        card = await db(lambda: Notification.objects.create(alert=alert, person=alice, text='"card"',
                                                            created_at=clock.now()))()
        await relay.deliver([card])
        assert (await layer.receive(mine))["text"] == '"card"'
        from asyncio import TimeoutError, wait_for

        with pytest.raises(TimeoutError):
            await wait_for(layer.receive(theirs), 0.2)
    finally:
        relay.local_people.pop(mine, None)
        relay.local_people.pop(theirs, None)
