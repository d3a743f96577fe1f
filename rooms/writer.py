"""Batch the messages sent at the same moment into one transaction.

While one batch is being written, whatever arrives waits and goes in the next: no timer, no
added delay when the server is idle, and one commit for many senders when it is busy.
"""

import asyncio
import logging

from channels.db import database_sync_to_async

from escalation import notify

from .background import per_loop, start
from .services import Draft, post_messages

log = logging.getLogger(__name__)
MAX_BATCH = 200


class BatchWriter:
    def __init__(self):
        self.pending: list[tuple[Draft, asyncio.Future]] = []
        self.draining = False

    async def post(self, draft: Draft):
        """(Posted or ChatError, frames to publish or None) for this draft, once it is stored."""
        future = asyncio.get_running_loop().create_future()
        self.pending.append((draft, future))
        if not self.draining:
            self.draining = True
            start(self._drain())
        return await future

    async def _drain(self):
        try:
            while self.pending:
                batch, self.pending = self.pending[:MAX_BATCH], self.pending[MAX_BATCH:]
                try:
                    results = await database_sync_to_async(_write)([draft for draft, _ in batch])
                except Exception as exc:  # the whole batch failed: every sender hears it
                    results = [exc] * len(batch)
                await _publish_alerts(batch, results)
                for (_, future), result in zip(batch, results):
                    if future.done():
                        continue
                    if isinstance(result, BaseException):  # a refusal (ChatError) or a failure
                        future.set_exception(result)
                    else:
                        future.set_result(result)
        finally:
            self.draining = False


async def _publish_alerts(batch, results) -> None:
    """Alerts and cards go out before any of the batch's senders resumes to fan out its message, so
    a facilitator hears of a crisis ahead of the room traffic that arrived beside it."""
    for (draft, _), result in zip(batch, results):
        if isinstance(result, tuple) and result[1] is not None:
            try:
                await notify.publish_frames(result[1], draft.author.pk)
            except Exception:  # the alert is stored: the watchdog re-sends what this could not
                log.exception("publishing alert %s failed", result[1].raised.alert.pk)


def _write(drafts: list[Draft]) -> list:
    """In the database thread: store, screen, and render what each sender must publish."""
    out = []
    for draft, posted in zip(drafts, post_messages(drafts)):
        prepared = None
        if not isinstance(posted, Exception) and posted.raised:
            prepared = notify.prepare(posted.raised, draft.author, posted.assessment.level.value)
        out.append(posted if isinstance(posted, Exception) else (posted, prepared))
    return out


writer = per_loop(BatchWriter)  # this event loop's writer
