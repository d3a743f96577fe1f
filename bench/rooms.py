"""The hot path side by side: the project against the Channels tutorial chat and raw websockets.

    python -m bench.rooms [--rooms 10 --clients 20 --senders 2 --rate 5 --seconds 15]

Every target gets the same open-loop load in the same run: R rooms x C clients, S senders each at
RATE messages/s. The project stores and screens every message; the baselines only relay.
"""

import argparse
import asyncio
import json
import os
import subprocess
import sys

import psutil

from bench.load import add_load_arguments, run_rooms
from bench.site import BenchSite, Usage
from tests.e2e.servers import ROOT, RedisServer, free_port, stop, wait_for_port

def _project_frame(cid, body):
    return json.dumps({"type": "message.send", "client_id": cid, "body": body})


def _project_delivery(raw):
    return json.loads(raw)["message"]["client_id"] if '"message.new"' in raw[:40] else None


def _tutorial_frame(cid, body):
    return json.dumps({"message": f"{cid} {body}"})


def _tutorial_delivery(raw):
    return json.loads(raw)["message"].split(" ", 1)[0]


def _raw_delivery(raw):
    return json.loads(raw).get("client_id")


def _start(cmd, env, port):
    process = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_port(port, process)
    return process


async def _measure(name, args, urls, cookies, processes, frame, delivery, origin, greets=False):
    usage = Usage([psutil.Process(p.pid) for p in processes])
    task = asyncio.create_task(run_rooms(
        urls=urls, cookies=cookies, origin=origin, rooms=args.rooms, clients=args.clients,
        senders=args.senders, rate=args.rate, seconds=args.seconds, send_frame=frame, is_delivery=delivery,
        greets=greets,
        body=lambda: "a message of ordinary length, nothing risky in it at all, just chatting away",
    ))
    while not task.done():
        usage.sample()
        await asyncio.sleep(0.5)
    result = task.result().summary()
    result.update(server_cpu_s=round(usage.cpu_seconds(), 1), peak_rss_mib=round(usage.peak_rss / 2**20))
    print(f"{name:>22}: {result}", flush=True)
    return result


async def project(args, redis: bool):
    site = BenchSite(redis=redis)
    try:
        n = args.rooms * args.clients
        cookies = site.people([f"peer{i}" for i in range(n)])
        ports = site.start(2 if redis else 1)
        urls = site.room_urls(ports, args.rooms, args.clients)
        name = "project, redis, 2 procs" if redis else "project, embedded"
        return await _measure(name, args, urls, [cookies[f"peer{i}"] for i in range(n)], site.site.servers,
                              _project_frame, _project_delivery, f"http://127.0.0.1:{ports[0]}", greets=True)
    finally:
        site.close()


async def tutorial(args, redis_server=None):
    port = free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.baselines.tutorial.settings", "PYTHONPATH": str(ROOT)}
    env.pop("REDIS_URL", None)
    if redis_server:
        env["REDIS_URL"] = redis_server.url
    process = _start([sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
                      "bench.baselines.tutorial.asgi:application"], env, port)
    try:
        n = args.rooms * args.clients
        urls = [f"ws://127.0.0.1:{port}/ws/chat/room{i // args.clients}/" for i in range(n)]
        name = "tutorial, redis" if redis_server else "tutorial, in-memory"
        return await _measure(name, args, urls, [None] * n, [process], _tutorial_frame, _tutorial_delivery,
                              f"http://127.0.0.1:{port}")
    finally:
        stop(process)


async def raw(args):
    port = free_port()
    process = _start([sys.executable, "-m", "bench.baselines.raw_websockets", str(port)], dict(os.environ), port)
    try:
        n = args.rooms * args.clients
        urls = [f"ws://127.0.0.1:{port}/room{i // args.clients}" for i in range(n)]
        return await _measure("raw websockets", args, urls, [None] * n, [process], _project_frame, _raw_delivery,
                              f"http://127.0.0.1:{port}")
    finally:
        stop(process)


async def main_async(args):
    import tempfile
    from pathlib import Path

    print(f"load: {args.rooms} rooms x {args.clients} clients x {args.senders} senders at {args.rate}/s "
          f"= {args.rooms * args.senders * args.rate * args.clients:,.0f} deliveries/s offered, {args.seconds} s each")
    redis_server = RedisServer(Path(tempfile.mkdtemp(prefix="bench-redis-")))
    targets = {
        "project, embedded": lambda: project(args, redis=False),
        "project, redis, 2 procs": lambda: project(args, redis=True),
        "tutorial, in-memory": lambda: tutorial(args),
        "tutorial, redis": lambda: tutorial(args, redis_server),
        "raw websockets": lambda: raw(args),
    }
    try:
        results = {name: await run() for name, run in targets.items() if not args.only or name in args.only}
    finally:
        redis_server.stop()
    if args.only:
        return  # ratios need every target
    base_mem, base_redis = results["tutorial, in-memory"], results["tutorial, redis"]
    ceiling = results["raw websockets"]
    print()
    for name in ("project, embedded", "project, redis, 2 procs"):
        r = results[name]
        against = base_redis if "redis" in name else base_mem
        print(f"{name}: deliveries/s x{r['deliveries_per_s'] / max(1, against['deliveries_per_s']):.2f} of the tutorial"
              f" ({'redis' if 'redis' in name else 'in-memory'}), p99 x{r['p99_ms'] / max(1e-9, against['p99_ms']):.2f}"
              f" of its p99; p99 x{r['p99_ms'] / max(1e-9, ceiling['p99_ms']):.2f} of raw websockets")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_load_arguments(parser, seconds=15)
    parser.add_argument("--only", action="append", metavar="TARGET",
                        help='run just this target, e.g. --only "project, embedded" (repeatable)')
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
