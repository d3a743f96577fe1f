"""Rate limits that protect a room, written as `limits` items ("5/10 seconds").

Per-person limits (burst and sustained, slow mode, repeats; help requests, concerns, reports and
handshakes) live in Redis when REDIS_URL is set, counted by `limits`, so every Daphne process shares
one count; without Redis they are counted in the process's memory. The per-socket frame rate is
local to its process. Facilitators are exempt from the per-person message limits.
"""

import hashlib
import logging
import re
import time
from collections import deque

from django.conf import settings
from limits import parse, parse_many
from limits.errors import StorageError
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from .background import per_loop
from .clock import clock
from .errors import ChatError

log = logging.getLogger(__name__)

_LINK = re.compile(r"https?://|www\.", re.IGNORECASE)


class InProcessLimiter:
    """Moving-window counts in this process's memory, timed by the shared clock.

    Not `limits`' own memory storage: after nearly every hit it starts a timer thread that walks
    every key under a lock, and all of that contends for the GIL with the event loop (three limits
    per message at 58 messages/s: 412 threads and 1.37 s of CPU in 10 s, growing with the keys).
    Here a key drops its expired hits when it is next hit, and keys left idle go in one sweep at
    most once a minute. One event loop owns an instance (`per_loop`), and nothing here awaits.
    """

    SWEEP_SECONDS = 60

    def __init__(self):
        self.windows: dict[str, tuple[float, deque[float]]] = {}  # key -> (its expiry, hit times, oldest first)
        self.swept_at = clock.monotonic()

    async def hit(self, item, *keys) -> bool:
        now = clock.monotonic()
        if now - self.swept_at >= self.SWEEP_SECONDS:
            self._sweep(now)
        hits = self._hits(item, keys, now)
        if len(hits) >= item.amount:
            return False
        hits.append(now)
        return True

    async def get_window_stats(self, item, *keys) -> tuple[float, int]:
        """(when the oldest hit in the window expires, as an epoch time; hits left), as `limits` gives."""
        now = clock.monotonic()
        hits = self._hits(item, keys, now, create=False)
        reset_in = hits[0] + item.get_expiry() - now if hits else 0
        return time.time() + reset_in, item.amount - len(hits)

    def _hits(self, item, keys, now: float, create: bool = True) -> deque[float]:
        expiry, key = item.get_expiry(), item.key_for(*keys)
        window = self.windows.get(key)
        if window is None:
            if not create:
                return deque()
            window = self.windows[key] = (expiry, deque())
        hits = window[1]
        while hits and hits[0] <= now - expiry:
            hits.popleft()
        return hits

    def _sweep(self, now: float) -> None:
        self.swept_at = now
        for key, (expiry, hits) in list(self.windows.items()):
            if not hits or hits[-1] <= now - expiry:
                del self.windows[key]


class FrameBudget:
    """One socket's frames per window, counted on the socket itself: a flood guard needs no
    storage, and a fixed window is enough to tell a person from a script."""

    def __init__(self, item):
        self.amount, self.window = item.amount, item.get_expiry()
        self.started, self.count = float("-inf"), 0

    def allow(self) -> bool:
        now = clock.monotonic()
        if now - self.started >= self.window:
            self.started, self.count = now, 0
        self.count += 1
        return self.count <= self.amount


class RoomLimits:
    def __init__(self):
        redis_url = settings.REDIS_URL
        self.shared = (MovingWindowRateLimiter(storage_from_string(
            f"async+{redis_url}", implementation="redispy", key_prefix="chat-limits", wrap_exceptions=True))
            if redis_url else InProcessLimiter())
        cfg = settings.CHAT
        self.per_person = parse_many(cfg["RATE_LIMITS"])
        self.repeats = parse(cfg["REPEAT_LIMIT"])
        self.frames = parse(cfg["FRAME_RATE"])
        self.max_links = cfg["MAX_LINKS"]
        self.per_action = {action: parse(cfg[setting]) for action, setting in (
            ("help", "HELP_RATE"), ("concern", "CONCERN_RATE"), ("report", "REPORT_RATE"),
            ("handshake", "HANDSHAKE_RATE"))}

    def frame_budget(self) -> FrameBudget:
        """For one socket: every frame it sends counts; over budget, the caller closes it."""
        return FrameBudget(self.frames)

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
            if not await self._hit(item, keys):
                raise ChatError(code, await self._explain(code, item, keys))

    async def allows(self, action: str, user) -> bool:
        """Counts one help request, concern, report or handshake of this person; False over the rate."""
        return await self._hit(self.per_action[action], (action, str(user.pk)))

    async def check(self, action: str, user) -> None:
        """As allows(), refusing with a clear reason over the rate."""
        item, keys = self.per_action[action], (action, str(user.pk))
        if not await self._hit(item, keys):
            raise ChatError(f"too_many_{action}s", await self._explain(f"too_many_{action}s", item, keys))

    async def _hit(self, item, keys) -> bool:
        try:
            return await self.shared.hit(item, *keys)
        except StorageError:
            # Fail open: someone who may be in crisis must still be able to post or ask for help
            # while the limiter's Redis is away; the flood guard on frames per socket still holds.
            log.warning("rate-limit storage unavailable; allowed", exc_info=True)
            return True

    async def _explain(self, code: str, item, keys) -> str:
        reset, _ = await self.shared.get_window_stats(item, *keys)
        wait = max(1, round(reset - time.time()))
        return {
            "slow_mode": f"Slow mode is on in this room: you can send again in {wait} s.",
            "rate_limited": f"You're sending messages quickly. Take a breath; you can send again in {wait} s.",
            "repeated": "You just sent that same message. Give the room a moment to reply.",
            "too_many_concerns": "Facilitators have the concerns you sent just now. If someone is in danger "
                                 f"right now, call your local emergency number. You can send another in {wait} s.",
            "too_many_reports": f"Facilitators have the reports you sent just now. You can send another in {wait} s.",
            "too_many_handshakes": f"Too many connections from your account just now; retrying in {wait} s.",
        }[code]


room_limits = per_loop(RoomLimits)  # this event loop's limiter: a Redis client belongs to one loop
