"""Things that live as long as a web process's event loop: kept-alive tasks and per-loop objects.

A server has one loop; the test suite starts many, so each helper notices a new loop and starts
afresh instead of touching a closed one.
"""

import asyncio
import contextvars
import logging

log = logging.getLogger(__name__)
_tasks: dict[str, asyncio.Task] = {}


def start(coroutine) -> asyncio.Task:
    """A task that outlives the socket that started it, so it takes none of that socket's context:
    a console's database thread (rooms.admission) is for the console's own work while it lasts."""
    return asyncio.get_running_loop().create_task(coroutine, context=contextvars.Context())


def keep_running(name: str, make_coroutine) -> None:
    """Start the task `name` on this loop unless it is already running there."""
    task = _tasks.get(name)
    if task is None or task.done() or task.get_loop() is not asyncio.get_running_loop():
        _tasks[name] = start(make_coroutine())


async def every(seconds: float, job, what: str) -> None:
    """Await job() every `seconds`, for ever; a failed run is logged and the next one goes ahead."""
    while True:
        await asyncio.sleep(seconds)
        try:
            await job()
        except Exception:  # e.g. a database hiccup must not end the heartbeat or the relay
            log.exception("%s failed", what)


def per_loop(factory):
    """A getter for one `factory()` object per event loop (Redis clients belong to one loop)."""
    made: dict[asyncio.AbstractEventLoop, object] = {}

    def get():
        loop = asyncio.get_running_loop()
        if loop not in made:
            made.clear()  # earlier loops are closed; keep no reference to them
            made[loop] = factory()
        return made[loop]

    return get
