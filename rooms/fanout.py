"""One subscription per room per process; the process fans out to its own sockets.

With every socket in the room group, each message costs a layer delivery per member (a deep copy
and a queue with the in-memory layer, a Redis round trip with channels-redis) and a dispatch per
member. Instead each process subscribes to a room once and hands the frame, already serialised, to
the sockets it holds. Ordering is kept: one relay reads the subscription in order.

Embedded, the subscription is a channel-layer group with one channel per process. On Redis it is a
Redis pub/sub channel: channels-redis' `group_send` costs four round trips and a Lua script per
message (about a fifth of a busy process's time), a PUBLISH costs one. channels-redis' own pub/sub
layer is not used because it reconnects silently after a Redis blip, losing what was published
meanwhile without telling anyone.

If the subscription fails (Redis stopped, or it blipped and came back), frames published meanwhile
are gone for this process's sockets, so the relay closes them (4012, after 1012 "service restart"):
clients reconnect with ?after=<seq> and the database replays what they missed. The next join
subscribes afresh.
"""

import asyncio
import contextlib
import json
import logging

from channels.layers import get_channel_layer
from django.conf import settings
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from .background import every, keep_running, per_loop, start

log = logging.getLogger(__name__)
REFRESH_SECONDS = 3600  # re-join groups well inside the layer's group expiry (a day)
CLOSE_LAYER_LOST = 4012  # as 1012 "service restart", which servers may not send: reconnect, replay
REDIS_CHANNEL_PREFIX = "chat-fanout:"


class _Members:
    """This process's sockets per room, and handing a room's events to them."""

    def __init__(self):
        self.members: dict[str, set] = {}  # room group -> this process's consumers in it

    def _add(self, group: str, consumer) -> bool:
        """Add; True when the process had nobody in the room before (subscribe now)."""
        members = self.members.setdefault(group, set())
        first = not members
        members.add(consumer)
        return first

    def _remove(self, group: str, consumer) -> bool:
        """Remove; True when the process has nobody left in the room (unsubscribe now)."""
        members = self.members.get(group)
        if not members:
            return False
        members.discard(consumer)
        if members:
            return False
        del self.members[group]
        return True

    async def _deliver(self, group: str, event: dict) -> None:
        for consumer in list(self.members.get(group, ())):
            try:
                await consumer.dispatch(event)
            except Exception:  # one closing socket must not cost the others their message
                log.exception("room fan-out to %s failed", consumer.channel_name)

    async def _drop_everyone(self) -> None:
        stranded = [consumer for members in self.members.values() for consumer in members]
        self.members.clear()
        for consumer in stranded:
            try:
                await consumer.close(code=CLOSE_LAYER_LOST)
            except Exception:
                log.exception("closing %s failed", consumer.channel_name)


class RoomFanout(_Members):
    """Through the channel layer: a group per room, one channel per process (the embedded default)."""

    def __init__(self):
        super().__init__()
        self.layer = get_channel_layer()
        self.channel: str | None = None
        self.relay: asyncio.Task | None = None

    async def join(self, group: str, consumer) -> None:
        if self.relay is None or self.relay.done():
            # The default prefix: channels-redis reads all of a process's channels from one key.
            self.channel = await self.layer.new_channel()
            self.relay = start(self._relay())
            keep_running("fanout refresh", lambda: every(REFRESH_SECONDS, self._refresh, "fanout refresh"))
        if self._add(group, consumer):
            try:
                await self.layer.group_add(group, self.channel)
            except Exception:
                self._remove(group, consumer)  # as RedisRoomFanout.join: both or neither
                raise

    async def leave(self, group: str, consumer) -> None:
        if self._remove(group, consumer):
            await self.layer.group_discard(group, self.channel)

    async def publish(self, group: str, event: dict) -> None:
        """To every socket in the room, in every process (one layer message per process)."""
        await self.layer.group_send(group, {**event, "fanout_group": group})

    async def _relay(self) -> None:
        while True:
            try:
                event = await self.layer.receive(self.channel)
            except Exception:
                log.exception("room fan-out lost the channel layer; closing this process's room sockets")
                await self._drop_everyone()
                return
            await self._deliver(event.get("fanout_group"), event)

    async def _refresh(self) -> None:
        for group in list(self.members):
            await self.layer.group_add(group, self.channel)


class RedisRoomFanout(_Members):
    """Through Redis pub/sub: a PUBLISH per frame, one subscriber connection per process."""

    def __init__(self, url: str, max_connections: int | None = None):
        super().__init__()
        # No retries: a reconnect would resubscribe silently after frames were lost, so every
        # connection error reaches the relay, which closes the sockets for a replay instead.
        # No read timeout: a quiet room must not look like a lost connection.
        self.redis = Redis.from_url(url, retry=Retry(NoBackoff(), 0), socket_timeout=None,
                                    max_connections=max_connections)
        self.pubsub = None
        self.relay: asyncio.Task | None = None

    async def join(self, group: str, consumer) -> None:
        """Membership and subscription succeed together or not at all: a socket recorded as a
        member of a room this process never subscribed to would make every later join skip the
        subscribe, and the room would be silent here for good."""
        first = self._add(group, consumer)
        try:
            if first or self.pubsub is None:
                if self.pubsub is None:
                    self.pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
                await self.pubsub.subscribe(_redis_channel(group))
            if self.relay is None or self.relay.done():
                self.relay = start(self._relay(self.pubsub))
        except Exception:
            self._remove(group, consumer)
            # The connection is broken for every room it carried: start afresh, and close the
            # sockets it served so they replay from the database.
            pubsub, self.pubsub = self.pubsub, None
            await self._drop_everyone()
            if pubsub is not None:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
            raise

    async def leave(self, group: str, consumer) -> None:
        if self._remove(group, consumer) and self.pubsub is not None:
            await self.pubsub.unsubscribe(_redis_channel(group))

    async def publish(self, group: str, event: dict) -> None:
        """To every socket in the room, in every process (one PUBLISH)."""
        await self.redis.publish(_redis_channel(group), json.dumps(event, separators=(",", ":")))

    async def _relay(self, pubsub) -> None:
        try:
            while pubsub.subscribed:
                message = await pubsub.get_message(timeout=None)
                if message is not None and message["type"] == "message":
                    group = message["channel"].decode()[len(REDIS_CHANNEL_PREFIX):]
                    await self._deliver(group, json.loads(message["data"]))
        except Exception:
            log.exception("room fan-out lost Redis; closing this process's room sockets")
            if self.pubsub is pubsub:
                self.pubsub = None  # the next join subscribes on a fresh connection
            await self._drop_everyone()
            with contextlib.suppress(Exception):  # the connection is already gone
                await pubsub.aclose()


def _redis_channel(group: str) -> str:
    return REDIS_CHANNEL_PREFIX + group


def _make_fanout():
    if settings.REDIS_URL:
        return RedisRoomFanout(settings.REDIS_URL, settings.REDIS_MAX_CONNECTIONS)
    return RoomFanout()


fanout = per_loop(_make_fanout)  # this event loop's fan-out
