"""One channel-layer subscription per room per process; the process fans out to its own sockets.

With every socket in the room group, each message costs a layer delivery per member (a deep copy
and a queue with the in-memory layer, a Redis round trip with channels-redis) and a dispatch per
member. Instead each process joins a room's group once, with its own channel, and hands the frame,
already serialised, to the sockets it holds. Ordering is kept: one relay reads one channel in order.
"""

import asyncio
import logging

from channels.layers import get_channel_layer

from .background import every, keep_running, per_loop

log = logging.getLogger(__name__)
REFRESH_SECONDS = 3600  # re-join groups well inside the layer's group expiry (a day)


class RoomFanout:
    def __init__(self):
        self.layer = get_channel_layer()
        self.members: dict[str, set] = {}  # room group -> this process's consumers in it
        self.channel: str | None = None

    async def join(self, group: str, consumer) -> None:
        if self.channel is None:
            # The default prefix: channels-redis reads all of a process's channels from one key.
            self.channel = await self.layer.new_channel()
            asyncio.get_running_loop().create_task(self._relay())
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
            event = await self.layer.receive(self.channel)
            for consumer in list(self.members.get(event.get("fanout_group"), ())):
                try:
                    await consumer.dispatch(event)
                except Exception:  # one closing socket must not cost the others their message
                    log.exception("room fan-out to %s failed", consumer.channel_name)

    async def _refresh(self) -> None:
        for group in list(self.members):
            await self.layer.group_add(group, self.channel)


fanout = per_loop(RoomFanout)  # this event loop's fan-out
