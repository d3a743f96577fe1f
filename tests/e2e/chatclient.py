"""A room client for fault tests that behaves like rooms/static/rooms/room.js: it keeps what it
has seen by seq, reconnects with ?after=<last seq> (to any of several servers), and resends
what the server has not confirmed, with the same client_id."""

import asyncio
import json
import time
import uuid

from websockets.asyncio.client import connect


class Member:
    def __init__(self, name: str, session: str, ports: list[int], slug: str = "anxiety"):
        self.name, self.session, self.ports, self.slug = name, session, list(ports), slug
        self.seen: dict[int, dict] = {}  # seq -> message
        self.arrivals: list[int] = []  # seqs in the order they were shown (after dropping repeats)
        self.received_at: dict[int, tuple[dict, float]] = {}  # seq -> (message, time.monotonic())
        self.outbox: dict[str, str] = {}  # client_id -> body, until echoed back stored
        self.refused: dict[str, str] = {}  # client_id -> error code the server gave
        self.gap_fetch_pending = False
        self.ws = None
        self.reader: asyncio.Task | None = None
        self.connects = 0

    async def connect(self, timeout: float = 60) -> None:
        """Connect to the first server that accepts, retrying like the page's back-off does."""
        deadline = asyncio.get_running_loop().time() + timeout
        attempt = 0
        while True:
            port = self.ports[attempt % len(self.ports)]
            attempt += 1
            after = self.contiguous
            url = f"ws://127.0.0.1:{port}/ws/rooms/{self.slug}/" + (f"?after={after}" if after else "")
            try:
                self.ws = await connect(url, origin=f"http://127.0.0.1:{port}", open_timeout=3,
                                        additional_headers={"Cookie": f"sessionid={self.session}"})
                state = await self._next_state()
                break
            except (OSError, asyncio.TimeoutError, Exception) as failure:  # refused, reset, 1011 ...
                if asyncio.get_running_loop().time() > deadline:
                    raise TimeoutError(f"{self.name} could not reconnect") from failure
                await asyncio.sleep(0.3)
        self.connects += 1
        for message in state["history"]:
            self._show(message)
        self.reader = asyncio.create_task(self._read())
        for client_id, body in list(self.outbox.items()):  # resend what was never confirmed
            await self._send_frame(client_id, body)

    async def _next_state(self) -> dict:
        async with asyncio.timeout(5):
            while True:
                frame = json.loads(await self.ws.recv())
                if frame["type"] == "room.state":
                    return frame

    async def _read(self) -> None:
        try:
            async for text in self.ws:
                frame = json.loads(text)
                if frame["type"] == "message.new":
                    await self._live(frame["message"])
                elif frame["type"] == "history" and frame["after"] is not None:
                    for message in frame["messages"]:
                        self._show(message)
                    self.gap_fetch_pending = frame["has_more"]
                    if frame["has_more"]:
                        await self._fetch_after(max(self.seen))
                elif frame["type"] == "error" and frame.get("client_id") in self.outbox:
                    client_id = frame["client_id"]
                    if frame["code"] == "server_error":  # the page tries again a moment later
                        asyncio.get_running_loop().call_later(
                            1, lambda: asyncio.ensure_future(self._send_frame(client_id, self.outbox[client_id]))
                            if client_id in self.outbox else None)
                    else:
                        self.refused[client_id] = frame["code"]
                        self.outbox.pop(client_id)
        except Exception:  # the connection died: the test decides when to reconnect
            pass

    async def _live(self, message: dict) -> None:
        last = max(self.seen, default=0)
        if last and message["seq"] > last + 1 and not self.gap_fetch_pending:
            self.gap_fetch_pending = True  # a jump: fetch what we missed, as the page does
            await self._fetch_after(last)
        self._show(message)

    async def _fetch_after(self, seq: int) -> None:
        await self.ws.send(json.dumps({"type": "history.fetch", "after": seq, "limit": 100}))

    def _show(self, message: dict) -> None:
        if message["seq"] in self.seen:
            return  # the page drops a repeat by its seq
        self.seen[message["seq"]] = message
        self.received_at[message["seq"]] = (message, time.monotonic())
        self.arrivals.append(message["seq"])
        self.outbox.pop(message["client_id"], None)

    async def say(self, body: str) -> str:
        client_id = str(uuid.uuid4())
        self.outbox[client_id] = body
        await self._send_frame(client_id, body)
        return client_id

    async def _send_frame(self, client_id: str, body: str) -> None:
        try:
            await self.ws.send(json.dumps({"type": "message.send", "client_id": client_id, "body": body}))
        except Exception:
            pass  # offline: it stays in the outbox and goes again on reconnect

    @property
    def contiguous(self) -> int:
        """The highest seq with every seq before it seen: where a reconnect picks up."""
        seq = 0
        while seq + 1 in self.seen:
            seq += 1
        return seq

    @property
    def connected(self) -> bool:
        return self.reader is not None and not self.reader.done()

    async def reconnect_if_dropped(self, timeout: float = 60) -> None:
        if not self.connected:
            await self.connect(timeout)

    async def wait_until(self, predicate, timeout: float = 20) -> None:
        async with asyncio.timeout(timeout):
            while not predicate():
                await asyncio.sleep(0.05)

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self.reader is not None:
            await asyncio.wait([self.reader], timeout=5)
