"""The hot path side by side: the project against the Channels tutorial chat and raw websockets.

    python -m bench.rooms [--rooms 10 --clients 20 --senders 2 --rate 5 --seconds 15]

Every target gets the same open-loop load in the same run: R rooms x C clients, S senders each at
RATE messages/s. The project stores and screens every message; the baselines only relay.
"""

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys

import psutil

from bench.load import add_load_arguments, run_rooms
from bench.site import BenchSite, MachineNoise, Usage
from tests.e2e.servers import ROOT, RedisServer, free_port, stop, wait_for_port

MEDIAN_OF = ("deliveries_per_s", "sustained_per_s", "loss", "p50_ms", "p99_ms", "server_cpu_s", "steal_pct")


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


async def _measure(name, args, urls, cookies, processes, frame, delivery, origin, greets=False, page_like=False):
    usage, noise = Usage([psutil.Process(p.pid) for p in processes]), MachineNoise()
    task = asyncio.create_task(run_rooms(
        urls=urls, cookies=cookies, origin=origin, rooms=args.rooms, clients=args.clients,
        senders=args.senders, rate=args.rate, seconds=args.seconds, drain=args.drain, send_frame=frame, is_delivery=delivery,
        greets=greets, page_like=page_like,
        body=lambda: "a message of ordinary length, nothing risky in it at all, just chatting away",
    ))
    while not task.done():
        usage.sample()
        await asyncio.sleep(0.5)
    result = task.result().summary()
    result.update(server_cpu_s=round(usage.cpu_seconds(), 1), peak_rss_mib=round(usage.peak_rss / 2**20),
                  **noise.summary())
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
                              _project_frame, _project_delivery, f"http://127.0.0.1:{ports[0]}", greets=True,
                              page_like=args.replay)
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
    chosen = [name for name in targets if not args.only or name in args.only]
    rounds = {name: [] for name in chosen}
    try:
        for number in range(1, args.rounds + 1):  # interleaved, so a slow spell of the machine hits every target
            if args.rounds > 1:
                print(f"round {number} of {args.rounds}")
            for name in chosen:
                rounds[name].append(await targets[name]())
    finally:
        redis_server.stop()
        shutil.rmtree(redis_server.workdir, ignore_errors=True)
    if args.rounds > 1:
        print("\nmedian over the rounds:")
        for name, results in rounds.items():
            print(f"{name:>22}: " + ", ".join(
                f"{key} {round(statistics.median(r[key] for r in results), 1)}" for key in MEDIAN_OF))
    if args.only:
        return  # ratios need every target
    print()
    for name in ("project, embedded", "project, redis, 2 procs"):
        baseline = "tutorial, redis" if "redis" in name else "tutorial, in-memory"
        pairs = list(zip(rounds[name], rounds[baseline], rounds["raw websockets"]))
        speed = [r["deliveries_per_s"] / max(1, b["deliveries_per_s"]) for r, b, _ in pairs]
        tail = [r["p99_ms"] / max(1e-9, b["p99_ms"]) for r, b, _ in pairs]
        ceiling = [r["p99_ms"] / max(1e-9, c["p99_ms"]) for r, _, c in pairs]
        print(f"{name}: deliveries/s {_ratios(speed)} of the {baseline}, p99 {_ratios(tail)} of its p99; "
              f"p99 {_ratios(ceiling)} of raw websockets")


def _ratios(values: list[float]) -> str:
    """One round's ratio, or the median and the range of the rounds' ratios."""
    if len(values) == 1:
        return f"x{values[0]:.2f}"
    return f"x{statistics.median(values):.2f} (rounds x{min(values):.2f}-x{max(values):.2f})"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_load_arguments(parser, seconds=15)
    parser.add_argument("--rounds", type=int, default=1,
                        help="run every target this many times, interleaved, and report medians")
    parser.add_argument("--replay", action="store_true",
                        help="the project's clients fetch gaps and reconnect with ?after= as the room page "
                             "does; deliveries include replays, and stored messages never shown are counted")
    parser.add_argument("--only", action="append", metavar="TARGET",
                        help='run just this target, e.g. --only "project, embedded" (repeatable)')
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
