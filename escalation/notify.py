"""Publishing alert frames once the database holds them (fast path; the watchdog is the safety net)."""

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from rooms.events import frame

from . import hotlines, payloads, watchdog
from .models import Alert
from .services import Raised

FACILITATORS_GROUP = "facilitators"


def facilitator_group(user_id: int) -> str:
    return f"facilitator.{user_id}"


def person_group(user_id: int) -> str:
    return f"user.{user_id}"


async def _group_send(group: str, text: str) -> None:
    await get_channel_layer().group_send(group, {"type": "chat.frame", "text": text})


async def publish_raised(raised: Raised) -> None:
    if not raised.notify:
        return
    text = await database_sync_to_async(payloads.alert_frame)("alert.new", raised.alert)
    for user_id in raised.recipients:
        await _group_send(facilitator_group(user_id), text)
    if raised.alert.out_of_band_due:
        # At once, from here; if this fails or the process dies, the watchdog sends it.
        await database_sync_to_async(watchdog._out_of_band)(raised.alert.pk)


async def publish_updated(alert: Alert) -> None:
    text = await database_sync_to_async(payloads.alert_frame)("alert.updated", alert)
    await _group_send(FACILITATORS_GROUP, text)


async def offer_support(user, level: str) -> None:
    """The hotline card, to every tab of the person at risk and nobody else."""
    offer = await database_sync_to_async(hotlines.support_offer)(level, user.country.code or "")
    await _group_send(person_group(user.pk), frame("support.offer", **offer))


async def invite_to_support_room(alert: Alert, facilitator) -> None:
    room = alert.support_room
    await _group_send(
        person_group(alert.subject_id),
        frame("support.invite", room={"slug": room.slug, "name": room.name, "url": f"/rooms/{room.slug}/"},
              facilitator={"id": facilitator.pk, "name": facilitator.username}),
    )
