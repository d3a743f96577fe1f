"""Open-loop WebSocket load: R rooms x C clients, S of them sending at a fixed rate.

Each sender sends on a schedule (start + k / rate) whether or not anything came back, so a slow
server shows up as latency and loss instead of as a lower offered load.
"""

import asyncio
import contextlib
import json
import random
import statistics
import time
import uuid
from dataclasses import dataclass, field

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

# What a refused, dropped or timed-out handshake raises in the client.
HANDSHAKE_FAILURES = (OSError, asyncio.TimeoutError, InvalidHandshake, ConnectionClosed)


@dataclass
class Result:
    offered: int = 0  # messages sent
    expected: int = 0  # deliveries expected (messages x members of their room)
    delivered: int = 0
    latencies: list[float] = field(default_factory=list)  # seconds, send -> receipt
    errors: int = 0
    seconds: float = 0.0
    reconnects: int = 0
    started_at: float = 0.0
    last_delivery_at: float = 0.0  # a long --drain counts late deliveries: they set the sustained rate
    stored: int | None = None  # page-like clients: (stored message, member) pairs in the run
    stored_missing: int | None = None  # of those, never shown to the member, live or by replay


    def delivered_one(self, sent_at: float) -> None:
        self.delivered += 1
        self.last_delivery_at = time.perf_counter()
        self.latencies.append(self.last_delivery_at - sent_at)

    def summary(self) -> dict:
        lat = sorted(self.latencies)
        pct = (lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1000) if lat else (lambda q: float("nan"))
        return {
            "offered_msgs_per_s": round(self.offered / self.seconds, 1),
            "deliveries_per_s": round(self.delivered / self.seconds, 1),
            "sustained_per_s": round(self.delivered / max(1e-9, self.last_delivery_at - self.started_at), 1),
            "loss": self.expected - self.delivered,
            "loss_pct": round(100 * (self.expected - self.delivered) / max(1, self.expected), 2),
            "p50_ms": round(pct(0.50), 1),
            "p99_ms": round(pct(0.99), 1),
            "max_ms": round(lat[-1] * 1000, 1) if lat else float("nan"),
            "errors": self.errors,
            **({} if self.stored is None else {
                "reconnects": self.reconnects, "stored_x_members": self.stored,
                "stored_not_shown": self.stored_missing}),
        }


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def open_client(url: str, cookie: str | None, origin: str):
    headers = {"Cookie": cookie} if cookie else {}
    ws = await connect(url, origin=origin, additional_headers=headers, max_queue=None, open_timeout=30)
    return ws


def page_backoff(first_s: float = 0.5):
    """The room page's waits between reconnect attempts (socket.js): doubling up to 10 s, each
    jittered to 0.5-1.0 of itself."""
    delay = first_s
    while True:
        yield delay * (0.5 + random.random() / 2)
        delay = min(delay * 2, 10.0)


async def join_as_the_page_does(url: str, cookie: str | None, origin: str, give_up_at: float):
    """Connect now, retrying failed handshakes on the page's backoff until `give_up_at`
    (time.monotonic()). Returns the socket once its room.state frame came (None if it never got
    in) and how many handshakes failed."""
    failed = 0
    waits = page_backoff()
    while time.monotonic() < give_up_at:
        try:
            ws = await open_client(url, cookie, origin)
            first = json.loads(await ws.recv())
        except HANDSHAKE_FAILURES:
            failed += 1
            await asyncio.sleep(next(waits))
            continue
        if first["type"] != "room.state":
            raise RuntimeError(f"a room socket opened with {first['type']}, not room.state")
        return ws, failed
    return None, failed


async def read_and_drop(ws) -> None:
    """Read a socket's traffic and drop it, as a page renders it, until the socket closes."""
    with contextlib.suppress(ConnectionClosed):
        async for _ in ws:
            pass


async def run_rooms(
    *, urls: list[str], cookies: list[str | None], origin: str, rooms: int, clients: int, senders: int,
    rate: float, seconds: float, drain: float = 3.0, body=None, send_frame=None, is_delivery=None,
    greets: bool = True, page_like: bool = False,
) -> Result:
    """urls[i] / cookies[i] for client i; clients are laid out room by room. `page_like` clients
    (the project only) fetch gaps and reconnect as the room page does, and the result counts
    stored messages never shown to a member."""
    body = body or (lambda: "x" * 80)
    send_frame = send_frame or (lambda cid, text: json.dumps({"type": "message.send", "client_id": cid, "body": text}))
    is_delivery = is_delivery or _chat_delivery
    result = Result()
    sent_at: dict[str, float] = {}
    sockets = []
    for i in range(rooms * clients):
        sockets.append(await open_client(urls[i], cookies[i], origin))
    states = []
    if greets:  # the project's first frame is the room state; the baselines send none
        for ws in sockets:
            states.append(await ws.recv())
    stop, stop_reading = asyncio.Event(), asyncio.Event()

    async def reader(ws):
        while True:
            try:
                raw = await ws.recv()
            except Exception:
                return
            cid = is_delivery(raw)
            if cid and cid in sent_at:
                result.delivered_one(sent_at[cid])

    async def sender(ws):
        start = time.perf_counter()
        k = 0
        while not stop.is_set():
            delay = start + k / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if stop.is_set():
                return
            cid = str(uuid.uuid4())
            sent_at[cid] = time.perf_counter()
            try:
                await ws.send(send_frame(cid, body()))
                result.offered += 1
                result.expected += clients
            except Exception:
                result.errors += 1
            k += 1

    if page_like:
        page_clients = [PageClient(urls[i], cookies[i], origin, ws, result, sent_at) for i, ws in enumerate(sockets)]
        for client, state in zip(page_clients, states):
            client.take_state(state, first=True)
        readers = [asyncio.create_task(client.read(stop_reading)) for client in page_clients]
    else:
        readers = [asyncio.create_task(reader(ws)) for ws in sockets]
    endpoints = page_clients if page_like else sockets  # a PageClient sends on its current socket
    send_tasks = [asyncio.create_task(sender(endpoints[r * clients + s])) for r in range(rooms) for s in range(senders)]
    result.started_at = time.perf_counter()
    await asyncio.sleep(seconds)
    stop.set()
    result.seconds = time.perf_counter() - result.started_at
    await asyncio.gather(*send_tasks, return_exceptions=True)
    await asyncio.sleep(drain)
    stop_reading.set()
    for ws in [client.ws for client in page_clients] if page_like else sockets:
        await ws.close()
    for task in readers:
        task.cancel()
    if page_like:
        await _count_stored(result, page_clients, rooms, clients, urls, cookies, origin)
    return result


class PageClient:
    """Keeps up with a room as the room page does (rooms/static/rooms/room.js): a repeat is
    dropped by its seq, a jump past the last seq fetches the gap, a dropped socket reconnects
    with ?after=<last seq> and the server replays what was missed."""

    def __init__(self, url, cookie, origin, ws, result: Result, sent_at: dict):
        self.url, self.cookie, self.origin, self.ws = url, cookie, origin, ws
        self.result, self.sent_at = result, sent_at
        self.seen: set[int] = set()
        self.first_seq = 0  # the room's last seq before the run
        self.last_seq = 0
        self.gap_fetch_pending = False
        self.first_retry_s = 0.5  # the page's backoff starts here (page_backoff)

    async def send(self, frame: str) -> None:
        await self.ws.send(frame)

    def take_state(self, raw: str, first: bool = False) -> list[str]:
        """The room.state frame of a (re)connect; returns the frames to send in reply."""
        state = json.loads(raw)
        if first:
            self.first_seq = self.last_seq = max((m["seq"] for m in state["history"]), default=0)
            return []
        for message in state["history"]:
            self._show(message)
            self.last_seq = max(self.last_seq, message["seq"])
        return [self._fetch_after()] if state["has_more"] else []

    async def read(self, stop_reading: asyncio.Event) -> None:
        while not stop_reading.is_set():
            try:
                frame = json.loads(await self.ws.recv())
            except Exception:
                if not stop_reading.is_set():
                    await self._reconnect(stop_reading)
                continue
            for reply in self._receive(frame):
                with contextlib.suppress(Exception):
                    await self.ws.send(reply)

    def _receive(self, frame: dict) -> list[str]:
        kind = frame["type"]
        if kind == "message.new":
            message, replies = frame["message"], []
            if self.last_seq and message["seq"] > self.last_seq + 1 and not self.gap_fetch_pending:
                self.gap_fetch_pending = True
                replies.append(self._fetch_after())
            self._show(message)
            if not self.gap_fetch_pending:
                self.last_seq = max(self.last_seq, message["seq"])
            return replies
        if kind == "history" and frame.get("after") is not None:
            for message in frame["messages"]:
                self._show(message)
                self.last_seq = max(self.last_seq, message["seq"])
            self.gap_fetch_pending = bool(frame["has_more"])
            return [self._fetch_after()] if frame["has_more"] else []
        return []

    def _fetch_after(self) -> str:
        return json.dumps({"type": "history.fetch", "after": self.last_seq, "limit": 100})

    def _show(self, message: dict) -> None:
        seq = message["seq"]
        if seq <= self.first_seq or seq in self.seen:
            return
        self.seen.add(seq)
        cid = message["client_id"]
        if cid in self.sent_at:
            self.result.delivered_one(self.sent_at[cid])

    async def _reconnect(self, stop_reading: asyncio.Event) -> None:
        for wait in page_backoff(self.first_retry_s):
            if stop_reading.is_set():
                return
            await asyncio.sleep(wait)
            try:
                self.ws = await open_client(f"{self.url}?after={self.last_seq}", self.cookie, self.origin)
                replies = self.take_state(await self.ws.recv())
                self.gap_fetch_pending = bool(replies)
                for reply in replies:
                    await self.ws.send(reply)
                self.result.reconnects += 1
                return
            except Exception:
                continue


async def _count_stored(result: Result, page_clients, rooms: int, clients: int, urls, cookies, origin) -> None:
    """Every stored message of the run x every member of its room, and how many of those pairs
    were never shown: the room's last seq comes from a fresh socket, as a newcomer would see it."""
    result.stored = result.stored_missing = 0
    for room in range(rooms):
        members = page_clients[room * clients:(room + 1) * clients]
        ws = await open_client(urls[room * clients], cookies[room * clients], origin)
        state = json.loads(await ws.recv())
        await ws.close()
        last = max((m["seq"] for m in state["history"]), default=0)
        for member in members:
            stored = range(member.first_seq + 1, last + 1)
            result.stored += len(stored)
            result.stored_missing += sum(seq not in member.seen for seq in stored)


def _chat_delivery(raw) -> str | None:
    if '"message.new"' not in raw[:40]:
        return None
    return json.loads(raw)["message"]["client_id"]


def add_load_arguments(parser, seconds: float) -> None:
    """The room load every benchmark offers; defaults are the reference point (2,000 deliveries/s)."""
    parser.add_argument("--rooms", type=int, default=10)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--senders", type=int, default=2)
    parser.add_argument("--rate", type=float, default=5)
    parser.add_argument("--seconds", type=float, default=seconds)
    parser.add_argument("--drain", type=float, default=3.0,
                        help="seconds to keep reading after the senders stop; later deliveries count as loss")


def describe(values_ms: list[float]) -> str:
    if not values_ms:
        return "no samples"
    return (f"n={len(values_ms)} p50={percentile(values_ms, .5):.1f} ms p99={percentile(values_ms, .99):.1f} ms "
            f"max={max(values_ms):.1f} ms mean={statistics.mean(values_ms):.1f} ms")
