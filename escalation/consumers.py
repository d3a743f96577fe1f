"""The facilitator console socket: duty, the live alert queue, acknowledge, resolve, step in."""

import logging

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from rooms import events, moderation, presence, selectors, standing
from rooms.consumers import ChatFrameMixin, KeepsStanding
from rooms.errors import ChatError
from rooms.services import beat
from rooms.validation import parse_frame

from . import notify, payloads, relay, screening, services
from .models import ConsoleConnection

log = logging.getLogger(__name__)
db = database_sync_to_async


CLOSE_NOT_A_FACILITATOR = 4403


class ConsoleConsumer(KeepsStanding, ChatFrameMixin, AsyncWebsocketConsumer):
    deleted = False  # the facilitator deleted their account: their rows are gone with it

    async def connect(self):
        user = self.scope["user"]
        if not user.is_authenticated or not await db(lambda: user.is_facilitator)():
            await self.close(code=4403)
            return
        self.user = user
        presence.ensure_heartbeat()
        relay.ensure_relay()
        for group in (notify.FACILITATORS_GROUP, notify.facilitator_group(user.pk)):
            await self.channel_layer.group_add(group, self.channel_name)
        await self.join_account()
        relay.local_consoles[self.channel_name] = user.pk
        state = await db(self._enter)()
        await self.accept()
        await self.send(text_data=state)
        self.recheck_while_privileged()

    def _enter(self) -> str:
        beat(presence.SERVER_ID)
        ConsoleConnection.objects.update_or_create(
            channel_name=self.channel_name, defaults={"user": self.user, "server_id": presence.SERVER_ID}
        )
        duty = services.seen(self.user)
        return events.frame(
            "console.state",
            me={"id": self.user.pk, "name": self.user.username},
            on_duty=duty.on_duty,
            outcomes=services.OUTCOMES,
            alerts=[payloads.alert_payload(a) for a in payloads.open_alerts()],
            reports=[events.report_payload(r) for r in selectors.open_reports()],
            second_reader=screening.status(),
        )

    async def disconnect(self, code):
        if self.user is None:
            return
        relay.local_consoles.pop(self.channel_name, None)
        for group in (notify.FACILITATORS_GROUP, notify.facilitator_group(self.user.pk)):
            await self.channel_layer.group_discard(group, self.channel_name)
        await self.leave_account()
        if not self.deleted:
            await db(self._leave)()

    async def standing_holds(self, user) -> bool:
        if not user.is_facilitator:  # the role came with the person (rooms.standing.current)
            await self.end("You are no longer a facilitator here, so the console has closed.",
                           CLOSE_NOT_A_FACILITATOR)
            return False
        self.user = user
        return True

    async def end(self, text: str, code: int) -> None:
        self.deleted = text == standing.DELETED  # their rows went with the account
        await super().end(text, code)

    def _leave(self):
        ConsoleConnection.objects.filter(channel_name=self.channel_name).delete()
        services.seen(self.user)  # duty lapses a grace period after the last console closes

    async def receive(self, text_data=None, bytes_data=None):
        if await self.closed_for_flooding():
            return
        try:
            frame = parse_frame(text_data)
            handler = self.HANDLERS.get(frame["type"])
            if handler is None:
                raise ChatError("unknown_type", f"Unknown frame type {frame['type'][:40]!r}.")
            if not await self.check_standing():
                return  # every console frame is a facilitator's power
            await handler(self, frame)
        except ChatError as refusal:
            await self.send(text_data=events.error(refusal.code, refusal.detail))
        except Exception:
            log.exception("console frame failed")
            await self.send(text_data=events.error("server_error", "Something went wrong; please retry."))

    async def on_duty_set(self, frame):
        duty = await db(services.set_duty)(self.user, frame.get("on_duty"))
        await self.send(text_data=events.frame("duty", on_duty=duty.on_duty))

    async def on_alert_ack(self, frame):
        alert = await db(services.acknowledge_alert)(frame.get("alert_id"), self.user)
        await notify.publish_updated(alert)

    async def on_alert_resolve(self, frame):
        alert = await db(services.resolve_alert)(
            frame.get("alert_id"), self.user, frame.get("outcome"), frame.get("note", "")
        )
        await notify.publish_updated(alert)

    async def on_alert_step_in(self, frame):
        alert = await db(services.step_in)(frame.get("alert_id"), self.user)
        await notify.publish_updated(alert)
        await notify.invite_to_support_room(alert, self.user)

    async def on_report_close(self, frame):
        made = await db(moderation.close_report)(self.user, frame.get("report_id"))
        text = events.frame("report.updated", report=await db(events.report_payload)(made))
        await self.channel_layer.group_send(notify.FACILITATORS_GROUP, {"type": "chat.frame", "text": text})

    async def on_audit_fetch(self, frame):
        filters = {k: frame.get(k) for k in ("action", "room", "person")}
        if any(v is not None and not isinstance(v, str) for v in filters.values()):
            raise ChatError("invalid_filter", "action, room and person are text.")
        entries = await db(lambda: [events.audit_payload(e) for e in selectors.audit_entries(**filters)])()
        await self.send(text_data=events.frame("audit", entries=entries, filters=filters))

    HANDLERS = {
        "report.close": on_report_close,
        "audit.fetch": on_audit_fetch,
        "duty.set": on_duty_set,
        "alert.ack": on_alert_ack,
        "alert.resolve": on_alert_resolve,
        "alert.step_in": on_alert_step_in,
    }
