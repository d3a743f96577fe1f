"""Publishing alert frames once the database holds them (fast path; the watchdog is the safety net).

The card is sent to the person's own group (`user.<id>`): every tab they have open, nobody else."""

from dataclasses import dataclass

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from rooms.events import frame

from . import hotlines, payloads, relay, watchdog
from .models import Alert
from .services import Raised

FACILITATORS_GROUP = "facilitators"


def facilitator_group(user_id: int) -> str:
    return f"facilitator.{user_id}"


def person_group(user_id: int) -> str:
    return f"user.{user_id}"


def listen_as_facilitator(channel_name: str, user_id: int, listen: bool = True) -> None:
    """A facilitator's room socket of this process hears their alerts from the outbox too (the
    channel layer's group reaches it from the fast path), so one reading a room is not the last to
    know; listen=False when they are no longer a facilitator."""
    if listen:
        relay.local_facilitator_rooms[channel_name] = user_id
        relay.ensure_relay()
    else:
        relay.local_facilitator_rooms.pop(channel_name, None)


def listen_as_person(channel_name: str, user_id: int) -> None:
    """A room socket of this process hears what the outbox has for its person (the second
    reader's hotline card); the channel layer's group reaches it from this process's own sends."""
    relay.local_people[channel_name] = user_id
    relay.ensure_relay()


def stop_listening(channel_name: str) -> None:
    relay.local_people.pop(channel_name, None)


async def _group_send(group: str, text: str) -> None:
    await get_channel_layer().group_send(group, {"type": "chat.frame", "text": text})


@dataclass(frozen=True)
class Prepared:
    """Frames rendered in the same database hop that stored the alert, ready to publish."""

    raised: Raised
    alert_text: str
    offer_text: str | None  # the hotline card for the person, when they should see it


def prepare(raised: Raised, person=None, level: str | None = None) -> Prepared:
    """Call in the database thread, right after the alert is stored."""
    offer = None
    if person is not None:
        offer = frame("support.offer", **hotlines.support_offer(level or raised.alert.level, person.country.code or ""))
    return Prepared(raised, payloads.alert_frame("alert.new", raised.alert), offer)


async def publish(prepared: Prepared, person_id: int | None = None) -> None:
    """The card to the person, the alert to the chosen facilitators; out of band if nobody is on duty."""
    await publish_frames(prepared, person_id)
    await send_out_of_band_if_due(prepared)


async def publish_frames(prepared: Prepared, person_id: int | None = None) -> None:
    """The card and the alert frames: channel-layer sends only, no database work."""
    if prepared.offer_text and person_id is not None:
        await _group_send(person_group(person_id), prepared.offer_text)
    raised = prepared.raised
    if raised.notify:
        for user_id in raised.recipients:
            await _group_send(facilitator_group(user_id), prepared.alert_text)


async def send_out_of_band_if_due(prepared: Prepared) -> None:
    if prepared.raised.alert.out_of_band_due:
        # At once, from here; if this fails or the process dies, the watchdog sends it.
        await database_sync_to_async(watchdog.deliver_out_of_band)(prepared.raised.alert.pk)


async def publish_updated(alert: Alert) -> None:
    text = await database_sync_to_async(payloads.alert_frame)("alert.updated", alert)
    await _group_send(FACILITATORS_GROUP, text)


async def invite_to_support_room(alert: Alert, facilitator) -> None:
    room = alert.support_room
    await _group_send(
        person_group(alert.subject_id),
        frame("support.invite", room={"slug": room.slug, "name": room.name, "url": f"/rooms/{room.slug}/"},
              facilitator={"id": facilitator.pk, "name": facilitator.username}),
    )
