"""One channel-layer subscription per room per process; the process fans out to its own sockets.

With every socket in the room group, each message costs a layer delivery per member (a deep copy
and a queue with the in-memory layer, a Redis round trip with channels-redis) and a dispatch per
member. Instead each process joins a room's group once, with its own channel, and hands the frame,
already serialised, to the sockets it holds. Ordering is kept: one relay reads one channel in order.

If the layer fails (Redis stopped), frames published meanwhile are gone for this process's
sockets, so the relay closes them (4012, after 1012 "service restart"): clients reconnect with ?after=<seq>
and the database replays what they missed. The next join starts a fresh channel and relay.
"""

import asyncio
import logging

from channels.layers import get_channel_layer

from .background import every, keep_running, per_loop

log = logging.getLogger(__name__)
REFRESH_SECONDS = 3600  # re-join groups well inside the layer's group expiry (a day)
CLOSE_LAYER_LOST = 4012  # as 1012 "service restart", which servers may not send: reconnect, replay


class RoomFanout:
    def __init__(self):
        self.layer = get_channel_layer()
        self.members: dict[str, set] = {}  # room group -> this process's consumers in it
        self.channel: str | None = None
        self.relay: asyncio.Task | None = None

    async def join(self, group: str, consumer) -> None:
        if self.relay is None or self.relay.done():
            # The default prefix: channels-redis reads all of a process's channels from one key.
            self.channel = await self.layer.new_channel()
            self.relay = asyncio.get_running_loop().create_task(self._relay())
            keep_running("fanout refresh", lambda: every(REFRESH_SECONDS, self._refresh, "fanout refresh"))
        members = self.members.setdefault(group, set())
        if not members:
            await self.layer.group_add(group, self.channel)
        members.add(consumer)

    async def leave(self, group: str, consumer) -> None:
        members = self.members.get(group)
        if not members:
            return
        members.discard(consumer)
        if not members:
            del self.members[group]
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
            for consumer in list(self.members.get(event.get("fanout_group"), ())):
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

    async def _refresh(self) -> None:
        for group in list(self.members):
            await self.layer.group_add(group, self.channel)


fanout = per_loop(RoomFanout)  # this event loop's fan-out
