"""The embedded default's channel layer."""

import secrets
import time

from channels.layers import InMemoryChannelLayer


class EmbeddedChannelLayer(InMemoryChannelLayer):
    """Channels' in-memory layer, with its expiry sweep run at most once a second.

    The stock layer sweeps every channel and group on every receive(): O(sockets) work per
    delivery, quadratic for a busy room. Expiry is about minutes, so once a second loses nothing.
    """

    sweep_interval = 1.0
    _last_sweep = 0.0

    def _clean_expired(self):
        now = time.monotonic()
        if now - self._last_sweep >= self.sweep_interval:
            self._last_sweep = now
            super()._clean_expired()

    async def new_channel(self, prefix="specific."):
        # Not the `random` module, which test tools such as Hypothesis re-seed: a repeated name
        # would deliver one socket's frames to another.
        return f"{prefix}.inmemory!{secrets.token_hex(8)}"
