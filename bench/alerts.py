"""Crisis message sent -> `alert.new` on an on-duty facilitator's console, under room load.

    python -m bench.alerts [--rooms 10 --clients 20 --senders 2 --rate 5 --seconds 20]
                           [--second-reader] [--redis]

Room load defaults to the benchmark's reference point: 10 rooms x 20 clients x 2 senders at
5 messages/s each (2,000 deliveries/s), against one Daphne process with the embedded default.
--second-reader runs the screening worker beside it and sends crisis messages only it reads
(Spanish, Portuguese, French): the time is message sent -> the worker's alert.new on the console.
--redis: two Daphne processes on Redis, the console on one and the people at risk on the other.
"""

import argparse
import asyncio
import json
import time
import uuid

import psutil

from bench.load import add_load_arguments, describe, open_client, read_and_drop, run_rooms
from bench.site import BenchSite, MachineNoise, Usage

CRISIS = ["I want to die", "I want to end my life", "I took 30 pills", "I can't go on, I want to kill myself"]
# What the English lexicon does not read: an alert for these comes from the screening worker.
CRISIS_FOR_THE_SECOND_READER = [
    "ya no quiero seguir viviendo, quiero morirme",
    "não aguento mais, quero morrer",
    "je veux mourir, je n'en peux plus",
    "ya no quiero estar viva",
]


class CrisisSenders:
    """An on-duty console and people at risk, seated in the load's rooms before the load starts
    (joining is not what is measured), who then each send one crisis message."""

    def __init__(self, console, peers, texts=CRISIS):
        self.console, self.peers, self.texts = console, peers, texts
        self.sent_at: dict[str, float] = {}
        self.latencies: list[float] = []
        self.tasks = [asyncio.create_task(self._listen()), *(asyncio.create_task(read_and_drop(ws)) for ws in peers)]

    @classmethod
    async def seat(cls, port, room_urls, cookies, console_cookie, origin, texts=CRISIS):
        console = await open_client(f"ws://127.0.0.1:{port}/ws/facilitator/", console_cookie, origin)
        await console.recv()
        await console.send(json.dumps({"type": "duty.set", "on_duty": True}))
        peers = []
        for i, cookie in enumerate(cookies):
            ws = await open_client(room_urls[i % len(room_urls)], cookie, origin)
            await ws.recv()
            peers.append(ws)
        return cls(console, peers, texts)

    async def _listen(self):
        while True:
            frame = json.loads(await self.console.recv())
            if frame["type"] == "alert.new" and frame["alert"]["message"]:
                cid = frame["alert"]["message"]["client_id"]
                if cid in self.sent_at:
                    self.latencies.append((time.perf_counter() - self.sent_at.pop(cid)) * 1000)

    async def send_all(self, interval: float):
        for i, ws in enumerate(self.peers):  # one message per person: each is a new alert
            await asyncio.sleep(interval)
            cid = str(uuid.uuid4())
            self.sent_at[cid] = time.perf_counter()
            await ws.send(json.dumps({"type": "message.send", "client_id": cid, "body": self.texts[i % len(self.texts)]}))
        await asyncio.sleep(3)

    async def close(self):
        for task in self.tasks:
            task.cancel()
        for ws in [*self.peers, self.console]:
            await ws.close()


async def main_async(args):
    latencies, lost = [], 0
    for number in range(1, args.rounds + 1):
        if args.rounds > 1:
            print(f"round {number} of {args.rounds}")
        crisis = await one_round(args)
        latencies += crisis.latencies
        lost += len(crisis.sent_at)
    if args.rounds > 1:
        print(f"all {args.rounds} rounds: crisis message -> console alert.new: {describe(latencies)}; "
              f"alerts not received: {lost}")


async def one_round(args) -> CrisisSenders:
    site = BenchSite(redis=args.redis)
    try:
        names = [f"peer{i}" for i in range(args.rooms * args.clients)] + [f"risk{i}" for i in range(args.alerts)] + ["fac0"]
        cookies = site.people(names)
        ports = site.start(2 if args.redis else 1)
        port, risk_port = ports[0], ports[-1]
        origin = f"http://127.0.0.1:{port}"
        urls = site.room_urls(ports, args.rooms, args.clients)
        worker = start_screening_worker(site) if args.second_reader else None
        room_cookies = [cookies[f"peer{i}"] for i in range(args.rooms * args.clients)]
        # People at risk sit ten to a quiet room, so they add alerts to the load, not deliveries.
        quiet = [f"quiet-{i}" for i in range(max(1, args.alerts // 10))]
        site.site.manage("shell", "-v0", "-c", "from rooms.models import Room; [Room.objects.get_or_create("
                         f"slug=s, defaults=dict(name=s, topic='Bench')) for s in {quiet!r}]")
        crisis = await CrisisSenders.seat(port, [f"ws://127.0.0.1:{risk_port}/ws/rooms/{slug}/" for slug in quiet],
                                          [cookies[f"risk{i}"] for i in range(args.alerts)], cookies["fac0"], origin,
                                          CRISIS_FOR_THE_SECOND_READER if worker else CRISIS)
        usage, noise = Usage(site.server_processes()), MachineNoise()
        worker_usage = Usage([psutil.Process(worker.pid)]) if worker else None
        load = asyncio.create_task(run_rooms(
            urls=urls, cookies=room_cookies, origin=origin, rooms=args.rooms, clients=args.clients,
            senders=args.senders, rate=args.rate, seconds=args.seconds, drain=args.drain,
        ))
        await asyncio.sleep(2)  # let the room load reach its rate
        interval = max(0.05, (args.seconds - 4) / max(1, args.alerts))
        alerts = asyncio.create_task(crisis.send_all(interval))
        while not load.done():
            usage.sample()
            if worker_usage:
                worker_usage.sample()
            await asyncio.sleep(0.5)
        room = (await load).summary()
        await alerts
        await crisis.close()
        print(f"room load: {args.rooms} rooms x {args.clients} clients x {args.senders} senders at {args.rate}/s: {room}")
        print(f"server: cpu {usage.cpu_seconds():.1f} s over {args.seconds} s, peak rss {usage.peak_rss / 2**20:.0f} MiB; "
              f"machine: {noise.summary()}")
        if worker_usage:
            print(f"screening worker: cpu {worker_usage.cpu_seconds():.1f} s, peak rss "
                  f"{worker_usage.peak_rss / 2**20:.0f} MiB")
        path = "the second reader's alert.new" if worker else "alert.new"
        layout = "two processes on Redis" if args.redis else "one process, embedded"
        print(f"crisis message -> console {path} ({layout}): {describe(crisis.latencies)}; "
              f"alerts not received: {len(crisis.sent_at)}")
        return crisis
    finally:
        site.close()


def start_screening_worker(site):
    process = site.site.start_process("escalation_screen", "--name", "bench")
    deadline = time.monotonic() + 60
    while not site.site.query("SELECT count(*) FROM escalation_screeningcursor")[0][0]:
        if time.monotonic() > deadline or process.poll() is not None:
            raise RuntimeError("the screening worker did not start")
        time.sleep(0.2)
    return process


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_load_arguments(parser, seconds=20)
    parser.add_argument("--alerts", type=int, default=40, help="per round")
    parser.add_argument("--second-reader", action="store_true", help="alerts only the screening worker raises")
    parser.add_argument("--redis", action="store_true", help="two Daphne processes on Redis")
    parser.add_argument("--rounds", type=int, default=1,
                        help="run this many times on a fresh server and pool the alerts (p99 of 40 is their maximum)")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
