"""Room and lobby sockets: validate a frame, call a service, publish what it returns."""

import asyncio
import logging

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from escalation import notify
from escalation import services as escalation

from . import events, moderation, presence, selectors, services, standing
from .ratelimits import room_limits
from .clock import clock
from .errors import ChatError
from .fanout import fanout
from .validation import (
    check_after_param,
    check_body,
    check_client_id,
    check_limit,
    check_seq,
    parse_frame,
)
from .writer import writer

log = logging.getLogger(__name__)
db = database_sync_to_async

LOBBY_GROUP = "lobby"
CLOSE_CODES = {"not_signed_in": 4401, "not_a_member": 4403, "banned": 4403, "removed": 4403, "room_not_found": 4404,
               "too_many_handshakes": 4429, "too_many_sockets": 4429}
CLOSE_REMOVED = 4003  # kicked or banned while connected
# Servers may only send 1000 or 3000-4999 (autobahn refuses 1008 itself): 4008 mirrors 1008.
CLOSE_ABUSIVE = 4008  # policy violation: too many frames


class ChatFrameMixin:
    """Fan-out handler shared by every socket: the event already carries the final text."""

    async def dispatch(self, message):
        # Channels runs close_old_connections() in the sync thread before every handler: a
        # thread hop per delivery, per member. A fan-out frame touches no database, so skip it.
        if message["type"] == "chat.frame":
            await self.chat_frame(message)
        else:
            await super().dispatch(message)

    async def chat_frame(self, event):
        if event.get("exclude") != self.channel_name:
            await self.deliver(event["text"])

    async def deliver(self, text: str) -> None:
        await self.send(text_data=text)

    frame_budget = None

    async def closed_for_flooding(self) -> bool:
        """Count this frame; over the per-socket rate, close the socket and say so."""
        if self.frame_budget is None:
            self.frame_budget = room_limits().frame_budget()
        if self.frame_budget.allow():
            return False
        await self.close(code=CLOSE_ABUSIVE)
        return True


class KeepsStanding:
    """A socket that ends, or changes what it may do, when its person's account changes
    (rooms/standing.py). Call join_account after the handshake's checks pass."""

    user = None

    rechecks: asyncio.Task | None = None

    async def join_account(self) -> None:
        await self.channel_layer.group_add(standing.account_group(self.user.pk), self.channel_name)

    async def leave_account(self) -> None:
        if self.rechecks is not None:
            self.rechecks.cancel()
        await self.channel_layer.group_discard(standing.account_group(self.user.pk), self.channel_name)

    def recheck_while_privileged(self) -> None:
        """A socket that hears what only facilitators may (alerts, reports, held messages) reads
        its standing again every STANDING_RECHECK_SECONDS too: a notice lost while the channel
        layer was down cannot leave it listening. Peers' sockets are closed by such an outage."""
        if self.rechecks is None:
            self.rechecks = asyncio.create_task(self._recheck())

    async def _recheck(self) -> None:
        while self.privileged:
            await asyncio.sleep(settings.CHAT["STANDING_RECHECK_SECONDS"])
            try:
                if not await self.check_standing():
                    return
            except Exception:  # the database away for a moment: the next pass tries again
                log.warning("standing re-check failed", exc_info=True)
        self.rechecks = None

    privileged = True  # a console; a room socket, while its person is a facilitator

    async def account_changed(self, event):
        if self.user is not None:
            await self.check_standing(event.get("signed_out"))

    async def check_standing(self, signed_out: str | None = None) -> bool:
        """Read the person and this socket's session again; False once the socket is ending."""
        key = self.scope["session"].session_key
        ending = signed_out is not None and signed_out == standing.session_tag(key)
        found = await db(standing.current)(key, self.user.pk, ending)
        if isinstance(found, str):
            await self.end(found, standing.CLOSE_SIGNED_OUT)
            return False
        return await self.standing_holds(found)

    async def standing_holds(self, user) -> bool:
        """Apply the person as they are now; end the socket and return False if they may not stay."""
        self.user = user
        return True

    async def end(self, text: str, code: int) -> None:
        await self.send(text_data=events.frame("session.ended", text=text))
        await self.close(code=code)


def _admit(slug: str, user):
    """The room this person may join (or ChatError), when their timeout there ends: one hop."""
    room = services.enter_room(slug, user)
    return room, moderation.check_can_enter(user, room)


def _open(slug: str, user):
    """_admit for a new socket, which counts against the person's cap; and whether they have
    one in this room already (for the join announcement): one hop."""
    room, timeout_until = _admit(slug, user)
    return room, timeout_until, services.check_socket_count(user, room)


class RoomConsumer(KeepsStanding, ChatFrameMixin, AsyncWebsocketConsumer):
    room = None
    moderator = False  # settled in _enter; frames that arrive before it are treated as for a peer
    # Fan-out frames that arrive after joining the room's group but before the handshake is done;
    # None once they can go straight out.
    early_frames: list[str] | None = None

    async def chat_frame(self, event):
        """The room's fan-out (rooms/fanout.py) reaches only room sockets, so its rules live here."""
        if "held_for" in event and not (self.moderator or self.user.pk == event["held_for"]):
            return  # a message held for review: facilitators and its author only
        await super().chat_frame(event)

    async def deliver(self, text: str) -> None:
        if self.early_frames is None:
            await self.send(text_data=text)
        else:
            self.early_frames.append(text)

    async def send_early_frames(self) -> None:
        """After the state frame: a message stored after the history was read is not lost.
        Presence and typing are left out; the state frame's online list is newer."""
        frames, self.early_frames = self.early_frames or [], None
        for text in frames:
            if not text.startswith(events.LIVE_ONLY_PREFIXES):
                await self.send(text_data=text)

    async def connect(self):
        user = self.scope["user"]
        try:
            if not user.is_authenticated:
                raise ChatError("not_signed_in", "Sign in to join a room.")
            after = check_after_param(self.scope["query_string"])
            await room_limits().check("handshake", user)
            self.room, self.timeout_until, self.online_here = await db(_open)(self.scope["url_route"]["kwargs"]["slug"], user)
        except ChatError as refusal:
            await self.close(code=CLOSE_CODES.get(refusal.code, 4400))
            return
        self.user = user
        self.last_typing = float("-inf")
        presence.ensure_heartbeat()
        # Join the group before reading history so nothing posted meanwhile is missed;
        # a message seen twice is dropped by the client on its seq.
        self.early_frames = []
        await fanout().join(self.room.group_name, self)
        await self.channel_layer.group_add(notify.person_group(user.pk), self.channel_name)
        await self.join_account()
        notify.listen_as_person(self.channel_name, user.pk)
        state, joined, online_count = await db(self._enter)(after)
        await self.accept()
        await self.send(text_data=state)
        await self.send_early_frames()
        if self.moderator:
            self.recheck_while_privileged()
            await self.hear_alerts(True)
        if joined:
            await self._publish_presence("join", online_count)

    def _enter(self, after):
        presence.beat_unless_fresh()
        joined = services.open_connection(self.room, self.user, self.channel_name, presence.SERVER_ID, self.online_here)
        online = selectors.online_people(self.room)
        # The person's own row of the online list holds their role: no query of its own.
        own = next((person for person in online if person["id"] == self.user.pk), None)
        if own is not None:
            self.user.role = own["role"]
        self.role = self.user.role
        self.moderator = self.user.is_facilitator
        if after is None:
            history, has_more = selectors.recent_messages(
                self.room, settings.CHAT["HISTORY_ON_CONNECT"], self.user), None
        else:
            history, has_more = selectors.messages_after(
                self.room, after, settings.CHAT["REPLAY_MAX"], self.user)
        state = events.frame(
            "room.state",
            room=events.room_payload(self.room),
            me=events.author_payload(self.user, self.role),
            online=online,
            history=[events.message_payload(m) for m in history],
            has_more=has_more,
            muted=moderation.muted_ids(self.user),
            timeout_until=self.timeout_until.isoformat() if self.timeout_until else None,
        )
        return state, joined, len(online)

    async def standing_holds(self, user) -> bool:
        try:
            _, timeout_until = await db(_admit)(self.room.slug, user)
        except ChatError:  # a private room they were in as a facilitator, say
            await self.end("You no longer have access to this room.", CLOSE_CODES["not_a_member"])
            return False
        self.user, self.role, self.timeout_until = user, user.role, timeout_until
        self.moderator = user.is_facilitator
        await self.hear_alerts(self.moderator)
        if self.moderator:
            self.recheck_while_privileged()
        return True

    @property
    def privileged(self) -> bool:
        return self.moderator

    hearing_alerts = False

    async def hear_alerts(self, hear: bool) -> None:
        """A facilitator reading a room gets their alerts here too (alert.new: a banner on the page);
        nobody else does."""
        if hear == self.hearing_alerts:
            return
        self.hearing_alerts = hear
        group = notify.facilitator_group(self.user.pk)
        if hear:
            await self.channel_layer.group_add(group, self.channel_name)
        else:
            await self.channel_layer.group_discard(group, self.channel_name)
        notify.listen_as_facilitator(self.channel_name, self.user.pk, hear)

    async def disconnect(self, code):
        if self.room is None:
            return
        await fanout().leave(self.room.group_name, self)
        await self.hear_alerts(False)
        notify.stop_listening(self.channel_name)
        await self.channel_layer.group_discard(notify.person_group(self.user.pk), self.channel_name)
        await self.leave_account()
        if await db(services.close_connection)(self.channel_name):
            await self._publish_presence("leave")

    async def _publish_presence(self, event, online_count: int | None = None):
        me = events.author_payload(self.user, self.role)
        await fanout().publish(
            self.room.group_name,
            {
                "type": "chat.frame",
                "text": events.frame("presence", event=event, user=me),
                "exclude": self.channel_name,  # room.state already told the joiner
            },
        )
        if self.room.is_private:
            return  # the lobby is everyone's: a private room, and that someone has joined it, are its members' only
        if online_count is None:
            online_count = await db(selectors.online_count)(self.room)
        await self.channel_layer.group_send(
            LOBBY_GROUP,
            {"type": "chat.frame", "text": events.frame("lobby.count", room=self.room.slug, online=online_count)},
        )

    async def receive(self, text_data=None, bytes_data=None):
        if await self.closed_for_flooding():
            return
        client_id = None
        try:
            frame = parse_frame(text_data)
            client_id = frame.get("client_id") if isinstance(frame.get("client_id"), str) else None
            handler = self.HANDLERS.get(frame["type"])
            if handler is None:
                raise ChatError("unknown_type", f"Unknown frame type {frame['type'][:40]!r}.")
            if frame["type"].startswith("mod.") and not await self.check_standing():
                return  # moderating on a role the person no longer has
            await handler(self, frame)
        except ChatError as refusal:
            await self.send(text_data=events.error(refusal.code, refusal.detail, client_id))
        except Exception:
            log.exception("room frame failed")
            await self.send(
                text_data=events.error("server_error", "Something went wrong; please resend.", client_id)
            )

    async def on_message_send(self, frame):
        client_id = check_client_id(frame.get("client_id"))
        body = check_body(frame.get("body"))
        try:
            moderation.check_can_post(self.user, self.room, self.timeout_until)
            await room_limits().check_message(self.user, self.room, body)
        except ChatError:
            # A resend of a message already stored is answered, not refused (asked only on refusal).
            if not await db(services.is_stored)(self.user, client_id):
                raise
        posted, prepared = await writer().post(services.Draft(self.room, self.user, client_id, body))
        # The writer has already sent the person's card and the facilitators' alert, if any.
        # A resend of a stored message goes to the room again, not just the sender: the first
        # publish may have failed after the store (layer down), and members drop repeats by seq.
        event = {"type": "chat.frame", "text": events.message_new(posted.message)}
        if posted.message.hidden_at is not None:
            event["held_for"] = self.user.pk
        await fanout().publish(self.room.group_name, event)
        if prepared:
            await notify.send_out_of_band_if_due(prepared)

    async def on_help_request(self, frame):
        asked_just_now = not await room_limits().allows("help", self.user)

        def ask():
            raised = escalation.request_help(self.user, self.room, asked_just_now=asked_just_now)
            return notify.prepare(raised, self.user), escalation.help_answer(raised)

        prepared, answer = await db(ask)()
        await self.send(text_data=events.frame("help.requested", text=answer))
        await notify.publish(prepared, self.user.pk)

    async def on_peer_concern(self, frame):
        message_id = frame.get("message_id")
        prepared = None
        if not await db(escalation.concern_already_raised)(self.user, self.room, message_id):
            await room_limits().check("concern", self.user)  # the same concern again costs nothing
            prepared = await db(lambda: notify.prepare(escalation.report_concern(self.user, self.room, message_id)))()
        await self.send(text_data=events.frame(
            "concern.received", message_id=message_id,
            text="Thank you for looking out for them. A facilitator will check in.",
        ))
        if prepared is not None:
            await notify.publish(prepared)  # a report alone does not confront the person

    async def on_history_fetch(self, frame):
        before, after = frame.get("before"), frame.get("after")
        if (before is None) == (after is None):
            raise ChatError("invalid_history", "Send exactly one of before or after.")
        limit = check_limit(frame.get("limit"), 50, settings.CHAT["HISTORY_PAGE_MAX"])
        if before is not None:
            page, has_more = await db(selectors.messages_before)(
                self.room, check_seq(before, "before"), limit, self.user)
        else:
            page, has_more = await db(selectors.messages_after)(
                self.room, check_seq(after, "after"), limit, self.user)
        await self.send(
            text_data=events.frame(
                "history",
                before=before,
                after=after,
                messages=[events.message_payload(m) for m in page],
                has_more=has_more,
            )
        )

    async def on_typing(self, frame):
        now = clock.monotonic()
        if now - self.last_typing < settings.CHAT["TYPING_THROTTLE_SECONDS"]:
            return  # throttled quietly: typing is a hint, not a message
        self.last_typing = now
        me = events.author_payload(self.user, self.role)
        await fanout().publish(
            self.room.group_name,
            {"type": "chat.frame", "text": events.frame("typing", user=me), "exclude": self.channel_name},
        )

    # --- moderation: facilitators act, the room sees the result at once ----------------------
    async def _room_event(self, type_, **fields):
        await fanout().publish(self.room.group_name, {"type": "chat.frame", "text": events.frame(type_, **fields)})

    async def on_mod_hide(self, frame):
        message = await db(moderation.hide_message)(self.user, self.room, frame.get("message_id"), frame.get("reason"))
        await self._room_event("message.hidden", id=message.pk, seq=message.seq)

    async def on_mod_restore(self, frame):
        message, was_held = await db(moderation.restore_message)(self.user, self.room, frame.get("message_id"))
        if was_held:  # new to peers, at the room's next seq; those who saw it held swap it in
            await fanout().publish(self.room.group_name, {"type": "chat.frame", "text": events.message_new(message)})
        else:
            await self._room_event("message.restored", message=await db(events.message_payload)(message))

    async def on_mod_timeout(self, frame):
        sanction = await db(moderation.time_out)(
            self.user, self.room, frame.get("user_id"), frame.get("seconds"), frame.get("reason"))
        await self._tell_sanctioned(sanction, f"A facilitator has paused your posting here until "
                                              f"{sanction.until:%H:%M} UTC. You can still read along.")

    async def on_mod_kick(self, frame):
        sanction = await db(moderation.kick)(self.user, self.room, frame.get("user_id"), frame.get("reason"))
        await self._tell_sanctioned(sanction, "A facilitator has asked you to leave this room for now.")

    async def on_mod_ban(self, frame):
        sanction = await db(moderation.ban)(
            self.user, self.room, frame.get("user_id"), frame.get("scope"), frame.get("reason"))
        await self._tell_sanctioned(sanction, "You have been removed from "
                                              f"{'this room' if sanction.room_id else 'the service'}.")

    async def on_mod_lift(self, frame):
        scope = frame.get("scope", "room")
        count = await db(moderation.lift)(self.user, self.room, frame.get("user_id"), frame.get("kind"), scope)
        if count:  # nothing lifted: nothing to tell, and no socket may stop applying what stands
            await self.channel_layer.group_send(notify.person_group(frame["user_id"]), {
                "type": "chat.sanction", "kind": f"lift_{frame['kind']}",
                "room": self.room.slug if scope == "room" else None, "until": None,
                "text": "A facilitator lifted your restriction. Welcome back.",
            })
        await self.send(text_data=events.frame("mod.done", action="lift", count=count))

    async def _tell_sanctioned(self, sanction, text):
        await self.channel_layer.group_send(notify.person_group(sanction.user_id), {
            "type": "chat.sanction", "kind": sanction.kind, "room": self.room.slug if sanction.room_id else None,
            "until": sanction.until.isoformat() if sanction.until else None, "text": text,
        })
        await self.send(text_data=events.frame("mod.done", action=sanction.kind, user_id=sanction.user_id))

    async def on_mod_lock(self, frame):
        self.room = await db(moderation.set_locked)(self.user, self.room, frame.get("locked"))
        await self._room_updated()

    async def on_mod_slow_mode(self, frame):
        self.room = await db(moderation.set_slow_mode)(self.user, self.room, frame.get("seconds"))
        await self._room_updated()

    async def on_mod_pin(self, frame):
        self.room = await db(moderation.pin)(self.user, self.room, frame.get("message_id"))
        await self._room_updated()

    async def _room_updated(self):
        payload = await db(events.room_payload)(self.room)
        await fanout().publish(self.room.group_name, {"type": "chat.room", "room": payload})

    async def chat_room(self, event):
        """Room settings changed (lock, slow mode, pin): keep this socket's copy current."""
        for field in ("locked", "slow_mode_seconds"):
            setattr(self.room, field, event["room"][field])
        await self.send(text_data=events.frame("room.updated", room=event["room"]))

    async def chat_sanction(self, event):
        """A sanction on this person, from any process: apply it to this socket."""
        here = event["room"] in (None, self.room.slug)
        if not here:
            return
        if event["kind"] == "timeout":
            from datetime import datetime

            self.timeout_until = datetime.fromisoformat(event["until"])
        elif event["kind"] == "lift_timeout":
            # Another timeout may still stand (lifting the service-wide one leaves this room's):
            # what the socket applies is what the database says now.
            self.timeout_until = await db(moderation.timeout_until)(self.user, self.room)
            if self.timeout_until is not None:
                return
        await self.send(text_data=events.frame("sanction", kind=event["kind"], room=event["room"],
                                               until=event["until"], text=event["text"]))
        if event["kind"] in ("kick", "ban"):
            await self.close(code=CLOSE_REMOVED)

    # --- peers: report, mute for yourself, leave ------------------------------------------
    async def on_message_report(self, frame):
        said = (self.user, self.room, frame.get("message_id"), frame.get("reason"), frame.get("note"))
        made, new = await db(moderation.repeated_report)(*said), False
        if made is None:  # the same report again is answered, and costs nothing against the rate
            await room_limits().check("report", self.user)
            made, new = await db(moderation.report)(*said)
        await self.send(text_data=events.frame(
            "report.received", message_id=made.message_id,
            text="Thanks for telling us. A facilitator will look at it."))
        if new:
            text = events.frame("report.new", report=await db(events.report_payload)(made))
            await self.channel_layer.group_send(notify.FACILITATORS_GROUP, {"type": "chat.frame", "text": text})

    async def on_mute_set(self, frame):
        other_id = await db(moderation.set_mute)(self.user, frame.get("user_id"), frame.get("muted"))
        await self.send(text_data=events.frame("mute", user_id=other_id, muted=frame["muted"]))

    async def on_room_leave(self, frame):
        await db(moderation.leave)(self.user, self.room)
        await self.send(text_data=events.frame("left", room=self.room.slug))
        await self.close(code=1000)

    HANDLERS = {
        "message.send": on_message_send,
        "history.fetch": on_history_fetch,
        "typing": on_typing,
        "help.request": on_help_request,
        "peer.concern": on_peer_concern,
        "mod.hide": on_mod_hide,
        "mod.restore": on_mod_restore,
        "mod.timeout": on_mod_timeout,
        "mod.kick": on_mod_kick,
        "mod.ban": on_mod_ban,
        "mod.lift": on_mod_lift,
        "mod.lock": on_mod_lock,
        "mod.slow_mode": on_mod_slow_mode,
        "mod.pin": on_mod_pin,
        "message.report": on_message_report,
        "mute.set": on_mute_set,
        "room.leave": on_room_leave,
    }


class LobbyConsumer(KeepsStanding, ChatFrameMixin, AsyncWebsocketConsumer):
    """Live online counts for the lobby page."""

    async def connect(self):
        if not self.scope["user"].is_authenticated:
            await self.close(code=4401)
            return
        if not await room_limits().allows("handshake", self.scope["user"]):
            await self.close(code=CLOSE_CODES["too_many_handshakes"])
            return
        self.user = self.scope["user"]
        await self.channel_layer.group_add(LOBBY_GROUP, self.channel_name)
        await self.join_account()
        await self.accept()
        await self.send_state()

    async def send_state(self):
        counts = await db(selectors.online_counts)(self.user)
        await self.send(text_data=events.frame("lobby.state", online=counts))

    async def standing_holds(self, user) -> bool:
        self.user = user
        await self.send_state()  # a new role may see other rooms
        return True

    async def disconnect(self, code):
        await self.channel_layer.group_discard(LOBBY_GROUP, self.channel_name)
        if self.user is not None:
            await self.leave_account()

    async def receive(self, text_data=None, bytes_data=None):
        if not await self.closed_for_flooding():
            await self.send(text_data=events.error("unknown_type", "The lobby socket takes no frames."))
