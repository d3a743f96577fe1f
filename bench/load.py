"""Open-loop WebSocket load: R rooms x C clients, S of them sending at a fixed rate.

Each sender sends on a schedule (start + k / rate) whether or not anything came back, so a slow
server shows up as latency and loss instead of as a lower offered load.
"""

import asyncio
import json
import statistics
import time
import uuid
from dataclasses import dataclass, field

from websockets.asyncio.client import connect


@dataclass
class Result:
    offered: int = 0  # messages sent
    expected: int = 0  # deliveries expected (messages x members of their room)
    delivered: int = 0
    latencies: list[float] = field(default_factory=list)  # seconds, send -> receipt
    errors: int = 0
    seconds: float = 0.0

    def summary(self) -> dict:
        lat = sorted(self.latencies)
        pct = (lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1000) if lat else (lambda q: float("nan"))
        return {
            "offered_msgs_per_s": round(self.offered / self.seconds, 1),
            "deliveries_per_s": round(self.delivered / self.seconds, 1),
            "loss": self.expected - self.delivered,
            "loss_pct": round(100 * (self.expected - self.delivered) / max(1, self.expected), 2),
            "p50_ms": round(pct(0.50), 1),
            "p99_ms": round(pct(0.99), 1),
            "max_ms": round(lat[-1] * 1000, 1) if lat else float("nan"),
            "errors": self.errors,
        }


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def open_client(url: str, cookie: str | None, origin: str):
    headers = {"Cookie": cookie} if cookie else {}
    ws = await connect(url, origin=origin, additional_headers=headers, max_queue=None, open_timeout=30)
    return ws


async def run_rooms(
    *, urls: list[str], cookies: list[str | None], origin: str, rooms: int, clients: int, senders: int,
    rate: float, seconds: float, drain: float = 3.0, body=None, send_frame=None, is_delivery=None,
    greets: bool = True,
) -> Result:
    """urls[i] / cookies[i] for client i; clients are laid out room by room."""
    body = body or (lambda: "x" * 80)
    send_frame = send_frame or (lambda cid, text: json.dumps({"type": "message.send", "client_id": cid, "body": text}))
    is_delivery = is_delivery or _chat_delivery
    result = Result()
    sent_at: dict[str, float] = {}
    sockets = []
    for i in range(rooms * clients):
        sockets.append(await open_client(urls[i], cookies[i], origin))
    if greets:  # the project's first frame is the room state; the baselines send none
        for ws in sockets:
            await ws.recv()
    stop = asyncio.Event()

    async def reader(ws):
        while True:
            try:
                raw = await ws.recv()
            except Exception:
                return
            cid = is_delivery(raw)
            if cid and cid in sent_at:
                result.delivered += 1
                result.latencies.append(time.perf_counter() - sent_at[cid])

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

    readers = [asyncio.create_task(reader(ws)) for ws in sockets]
    send_tasks = [
        asyncio.create_task(sender(sockets[r * clients + s])) for r in range(rooms) for s in range(senders)
    ]
    started = time.perf_counter()
    await asyncio.sleep(seconds)
    stop.set()
    result.seconds = time.perf_counter() - started
    await asyncio.gather(*send_tasks, return_exceptions=True)
    await asyncio.sleep(drain)
    for ws in sockets:
        await ws.close()
    for task in readers:
        task.cancel()
    return result


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
