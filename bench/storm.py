"""A reconnect storm: everyone in the rooms connects at once, as their pages do after a restart.

    python -m bench.storm [--people 1000] [--rooms 20] [--give-up 180]

One Daphne process, embedded default. Each simulated page retries a failed handshake on the room
page's backoff (socket.js: 0.5 s doubling to 10 s, jittered 0.5-1.0), as a browser would, and reads
what the room sends it. A moment into the storm an on-duty facilitator opens the console. Reports
how long until everyone is back in, how many handshakes failed on the way, and how long the console
took to connect in the middle of it.
"""

import argparse
import asyncio
import time

from bench.idle import raise_open_file_limit
from bench.load import HANDSHAKE_FAILURES, join_as_the_page_does, open_client, percentile, read_and_drop
from bench.site import BenchSite, MachineNoise


class Storm:
    def __init__(self, origin: str):
        self.origin = origin
        self.started = time.monotonic()
        self.failed = 0
        self.in_after: list[float] = []
        self.sockets = []

    async def page(self, url: str, cookie: str, give_up: float) -> None:
        ws, failed = await join_as_the_page_does(url, cookie, self.origin, self.started + give_up)
        self.failed += failed
        if ws is not None:
            self.in_after.append(time.monotonic() - self.started)
            self.sockets.append(ws)
            asyncio.create_task(read_and_drop(ws))


async def console_connect_seconds(port: int, cookie: str, origin: str) -> float:
    started = time.monotonic()
    try:
        ws = await open_client(f"ws://127.0.0.1:{port}/ws/facilitator/", cookie, origin)
        await ws.recv()
    except HANDSHAKE_FAILURES:
        return float("nan")
    await ws.close()
    return time.monotonic() - started


async def run(args) -> None:
    raise_open_file_limit(args.people * 2 + 1000)
    site = BenchSite()
    try:
        per_room = args.people // args.rooms
        people = site.people([f"storm{i}" for i in range(per_room)] + ["fac-storm"])
        port = site.start(1)[0]
        urls = site.room_urls([port], args.rooms, per_room)
        cookies = [people[f"storm{i % per_room}"] for i in range(len(urls))]
        origin = f"http://127.0.0.1:{port}"
        warm = await open_client(urls[0], cookies[0], origin)  # imports and first-use costs, paid once
        await warm.recv()
        await warm.close()
        noise = MachineNoise()
        storm = Storm(origin)
        pages = [asyncio.create_task(storm.page(u, c, args.give_up)) for u, c in zip(urls, cookies)]
        await asyncio.sleep(args.console_after)
        console_s = await console_connect_seconds(port, people["fac-storm"], origin)
        await asyncio.gather(*pages)
        everyone_s = max(storm.in_after) if len(storm.in_after) == len(urls) else float("nan")
        print(f"reconnect storm: {len(urls)} people ({args.rooms} rooms x {per_room}) connect at once "
              f"to one Daphne process, retrying on the page's backoff")
        print(f"  back in: {len(storm.in_after)} of {len(urls)}; everyone after {everyone_s:.1f} s "
              f"(gave up at {args.give_up:.0f} s)")
        print(f"  time to get in: p50 {percentile(storm.in_after, 0.5):.1f} s, "
              f"p99 {percentile(storm.in_after, 0.99):.1f} s")
        print(f"  failed handshakes on the way: {storm.failed} ({storm.failed / len(urls):.1f} per person)")
        print(f"  facilitator console opened {args.console_after:.1f} s into the storm: connected in {console_s:.2f} s")
        print(f"  machine: steal {noise.summary()['steal_pct']}% of CPU time")
        for ws in storm.sockets:
            await ws.close()
    finally:
        site.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--rooms", type=int, default=20, help="support rooms are small: 50 people each by default")
    parser.add_argument("--give-up", type=float, default=180, help="seconds after which a page stops retrying")
    parser.add_argument("--console-after", type=float, default=1.0, help="seconds into the storm the console opens")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
