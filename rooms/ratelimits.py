"""Rate limits that protect a room, counted by the `limits` library.

Per-person limits (burst and sustained, slow mode, repeats) live in Redis when REDIS_URL is set,
so every Daphne process shares one count; the per-socket frame rate is local to its process.
Facilitators are exempt from the per-person limits.
"""

import hashlib
import logging
import re
import time

from django.conf import settings
from limits import parse, parse_many
from limits.errors import StorageError
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from .background import per_loop
from .errors import ChatError

log = logging.getLogger(__name__)

_LINK = re.compile(r"https?://|www\.", re.IGNORECASE)


class RoomLimits:
    def __init__(self):
        redis_url = settings.REDIS_URL
        shared = (storage_from_string(f"async+{redis_url}", implementation="redispy", key_prefix="chat-limits",
                                      wrap_exceptions=True)
                  if redis_url else storage_from_string("async+memory://"))
        self.shared = MovingWindowRateLimiter(shared)
        self.local = MovingWindowRateLimiter(storage_from_string("async+memory://"))
        cfg = settings.CHAT
        self.per_person = parse_many(cfg["RATE_LIMITS"])
        self.repeats = parse(cfg["REPEAT_LIMIT"])
        self.frames = parse(cfg["FRAME_RATE"])
        self.max_links = cfg["MAX_LINKS"]

    async def frame_allowed(self, channel_name: str) -> bool:
        """Every frame a socket sends counts; an abusive socket is closed by the caller."""
        return await self.local.hit(self.frames, "frame", channel_name)

    async def check_message(self, user, room, body: str) -> None:
        if user.is_facilitator:
            return
        if len(_LINK.findall(body)) > self.max_links:
            raise ChatError("too_many_links", f"Please share at most {self.max_links} links in one message.")
        who = str(user.pk)
        checks = []
        if room.slow_mode_seconds:
            checks.append((parse(f"1/{room.slow_mode_seconds} seconds"), ("slow", str(room.pk), who), "slow_mode"))
        checks += [(item, ("person", who), "rate_limited") for item in self.per_person]
        digest = hashlib.sha1(" ".join(body.lower().split()).encode()).hexdigest()[:16]
        checks.append((self.repeats, ("repeat", who, digest), "repeated"))
        # hit() is atomic in the storage (one script in Redis), so two processes cannot both slip
        # under a limit; testing first and hitting after would let them. A message refused by a
        # later limit has counted towards the earlier ones: an over-count, the safe side.
        for item, keys, code in checks:
            try:
                allowed = await self.shared.hit(item, *keys)
            except StorageError:
                # Fail open: someone who may be in crisis must still be able to post while the
                # limiter's Redis is away; the flood guard on frames per socket still holds.
                log.warning("rate-limit storage unavailable; message allowed", exc_info=True)
                return
            if not allowed:
                raise ChatError(code, await self._explain(code, item, keys))

    async def _explain(self, code: str, item, keys) -> str:
        reset, _ = await self.shared.get_window_stats(item, *keys)
        wait = max(1, round(reset - time.time()))
        return {
            "slow_mode": f"Slow mode is on in this room: you can send again in {wait} s.",
            "rate_limited": f"You're sending messages quickly. Take a breath; you can send again in {wait} s.",
            "repeated": "You just sent that same message. Give the room a moment to reply.",
        }[code]


room_limits = per_loop(RoomLimits)  # this event loop's limiter: a Redis client belongs to one loop
