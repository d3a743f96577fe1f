"""Memory per idle signed-in room socket on one Daphne process.

    python -m bench.idle [--sockets 5000] [--rooms 100]

People sit in rooms doing nothing (the usual state of a support room at night). The server's
resident memory is read before and after they connect; the difference over the count is the cost
of one idle socket: the TCP and WebSocket state in Twisted, the consumer, its session and user,
its presence row handling, and the layer's group membership. Target (issue #7): under 100 KB.
"""

import argparse
import asyncio
import gc
import resource
import time

from websockets.asyncio.client import connect

from bench.load import HANDSHAKE_FAILURES
from bench.site import BenchSite


def raise_open_file_limit(wanted: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = min(max(wanted, soft), hard) if hard != resource.RLIM_INFINITY else wanted
    resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


async def open_idle(urls: list[str], cookies: list[str], origin: str, concurrency: int) -> tuple[list, int]:
    """The sockets that opened, and how many handshakes failed (Daphne drops a handshake its
    application has not accepted within 5 s, so an overloaded server shows up here)."""
    sockets = []
    failed = 0
    gate = asyncio.Semaphore(concurrency)

    async def one(url, cookie):
        nonlocal failed
        async with gate:
            try:
                ws = await connect(url, origin=origin, additional_headers={"Cookie": cookie},
                                   open_timeout=60, ping_interval=None, max_queue=4)
                await ws.recv()  # room.state: the server has done all its work for this socket
            except HANDSHAKE_FAILURES:
                failed += 1
            else:
                sockets.append(ws)

    await asyncio.gather(*(one(u, c) for u, c in zip(urls, cookies)))
    return sockets, failed


async def run(args) -> None:
    raise_open_file_limit(args.sockets * 2 + 1000)  # the server inherits it; both ends are here
    site = BenchSite()
    try:
        per_room = args.sockets // args.rooms
        people = site.people([f"idle{i}" for i in range(per_room)])
        port = site.start(1)[0]
        urls = site.room_urls([port], args.rooms, per_room)
        cookies = [people[f"idle{i % per_room}"] for i in range(len(urls))]
        server = site.server_processes()[0]
        origin = f"http://127.0.0.1:{port}"
        # Warm up: imports, lexicon, pools and the first room are paid once, not per socket.
        warm, _ = await open_idle(urls[:args.rooms], cookies[:args.rooms], origin, 10)
        await asyncio.sleep(2)
        before = server.memory_info().rss
        started = time.monotonic()
        sockets, failed = await open_idle(urls[args.rooms:], cookies[args.rooms:], origin, args.concurrency)
        connect_seconds = time.monotonic() - started
        await asyncio.sleep(args.settle)
        gc.collect()
        after = server.memory_info().rss
        count = len(sockets)
        print(f"idle sockets: {count + len(warm)} signed-in room sockets on one Daphne process "
              f"({args.rooms} rooms, {per_room} people each)")
        print(f"  connected {count} in {connect_seconds:.1f} s ({count / connect_seconds:.0f}/s), "
              f"{failed} handshakes failed")
        print(f"  server RSS {before / 2**20:.1f} MiB -> {after / 2**20:.1f} MiB")
        print(f"  memory per connection: {(after - before) / count / 1024:.1f} KB (target < 100 KB)")
        for ws in warm + sockets:
            await ws.close()
    finally:
        site.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sockets", type=int, default=5000)
    parser.add_argument("--rooms", type=int, default=100, help="support rooms are small: 50 people each by default")
    parser.add_argument("--concurrency", type=int, default=50, help="handshakes in flight at once")
    parser.add_argument("--settle", type=float, default=5, help="seconds to wait before reading memory")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
