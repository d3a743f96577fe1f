"""Socket helpers shared by the consumer tests: a real session cookie and Origin, full app."""

import json

from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from chatserver.asgi import application

ORIGIN = b"http://localhost"
# How long to wait for something that should come. Only a failing test waits this long; a loaded CI
# host once took 1.5 s to log a test user in and 3 s to deliver a message.
PATIENCE = 10


@sync_to_async
def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


async def open_socket(path: str, user=None, origin: bytes = ORIGIN):
    """Connect like a browser would; returns (communicator, connected)."""
    headers = [(b"origin", origin), (b"host", b"localhost")]
    if user is not None:
        headers.append((b"cookie", f"sessionid={await session_cookie(user)}".encode()))
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, _ = await communicator.connect(timeout=PATIENCE)
    return communicator, connected


async def receive(communicator, type_: str, timeout: float = PATIENCE) -> dict:
    """The next frame of this type, skipping others (presence, typing ...)."""
    while True:
        frame = json.loads(await communicator.receive_from(timeout=timeout))
        if frame["type"] == type_:
            return frame


async def send(communicator, **frame) -> None:
    await communicator.send_to(text_data=json.dumps(frame))


async def drain(communicator, timeout: float = 0.3) -> list[dict]:
    """Every frame that arrives within `timeout`."""
    frames = []
    while not await communicator.receive_nothing(timeout=timeout):
        frames.append(json.loads(await communicator.receive_from()))
    return frames


async def types_within(communicator, timeout: float = 0.3) -> list[str]:
    return [frame["type"] for frame in await drain(communicator, timeout)]


async def types_until(communicator, **wanted: int) -> list[str]:
    """Frame types as they arrive, until each wanted type has come that many times
    (`message_new=3` for "message.new"); a slow machine waits instead of failing a fixed window."""
    types: list[str] = []
    while any(types.count(name.replace("_", ".")) < count for name, count in wanted.items()):
        types.append(json.loads(await communicator.receive_from(timeout=PATIENCE))["type"])
    return types
