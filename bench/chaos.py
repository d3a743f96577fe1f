"""Random faults against the whole system, then its promises checked.

Two Daphne processes on Redis, the watchdog and the screening worker run; people talk in one room
through clients that behave like the page (tests/e2e/chatclient.py: seq, replay, resend with the
same client_id), some of them in crisis, and a facilitator keeps a console open on duty. For a
bounded time a seeded random sequence of faults hits them: a Daphne process killed with SIGKILL
(started again on its port), Redis stopped or killed (started again), a Daphne process paused with
SIGSTOP (resumed), the watchdog or the screening worker killed (started again). Then the faults
stop and the run checks what the product promises:
- every stored message reached every member exactly once, shown in seq order, with no gap;
- nothing was stored twice, and every message sent was stored or refused with a clear error;
- every alert reached the on-duty console live (alert.new, first sent or re-sent);
- every process serves again, and the second reader has read every message.

    python -m bench.chaos [--seconds 120] [--people 8] [--seed 7]      (make bench)

tests/e2e/test_chaos.py runs it smaller in `make test`. Numbers: docs/benchmarks.md, "Chaos".
"""

import argparse
import asyncio
import json
import os
import random
import signal
import time
from collections import Counter
from dataclasses import dataclass, field

from websockets.asyncio.client import connect

from bench.site import BenchSite
from tests.e2e.chatclient import Member

CRISIS = ["i am going to kill myself tonight, i have the pills ready",
          "im standing on the bridge rn and im going to jump"]
FAULTS = ["kill_daphne", "pause_daphne", "stop_redis", "kill_redis", "kill_watchdog", "kill_screener"]
ENV = {
    # Synthetic people write and reconnect faster than a person may; the limits have their own tests.
    "RESEND_IMMINENT_SECONDS": "2", "RESEND_CRISIS_SECONDS": "2", "WATCHDOG_TICK_SECONDS": "0.3",
    "OUTBOX_POLL_SECONDS": "0.2", "ALERT_WIDEN_AFTER": "1000",
    "SCREENING_LEASE_SECONDS": "2", "SCREENING_OFFLINE_SECONDS": "3", "SCREENING_BATCH_SIZE": "8",
}


@dataclass
class Report:
    seed: int
    faults: Counter = field(default_factory=Counter)
    sent: list[str] = field(default_factory=list)
    stored: int = 0
    refused: int = 0
    alerts: int = 0
    alerts_seen: int = 0
    reconnects: int = 0
    settle_seconds: float = 0.0
    broken: list[str] = field(default_factory=list)  # each promise not kept, in words

    def lines(self) -> list[str]:
        return [
            f"chaos (seed {self.seed}): faults {dict(sorted(self.faults.items()))}",
            f"  messages: {len(self.sent)} sent, {self.stored} stored, {self.refused} refused with an error; "
            f"{self.reconnects} reconnects; everyone caught up {self.settle_seconds:.1f} s after the last fault",
            f"  alerts: {self.alerts} raised, {self.alerts_seen} reached the on-duty console live",
            "  promises kept" if not self.broken else "  BROKEN: " + "; ".join(self.broken),
        ]


class System:
    """The processes under test, each of which a fault may take down and bring back."""

    def __init__(self, bench: BenchSite):
        self.bench, self.site = bench, bench.site
        self.site.env.update(ENV)
        self.ports = [self.site.start_daphne(), self.site.start_daphne()]
        self.daphne = dict(zip(self.ports, self.site.servers))
        self.watchdog = self.site.start_process("escalation_watchdog")
        self.screener = self.site.start_process("escalation_screen", "--name", "chaos")

    async def fault(self, kind: str, rng: random.Random) -> None:
        held = rng.uniform(0.5, 3.0)
        if kind == "kill_daphne":
            port = rng.choice(self.ports)
            os.kill(self.daphne[port].pid, signal.SIGKILL)
            self.daphne[port].wait()
            await asyncio.sleep(held)
            await asyncio.to_thread(self._start_daphne, port)
        elif kind == "pause_daphne":
            process = self.daphne[rng.choice(self.ports)]
            os.kill(process.pid, signal.SIGSTOP)
            await asyncio.sleep(held)
            os.kill(process.pid, signal.SIGCONT)
        elif kind in ("stop_redis", "kill_redis"):
            await asyncio.to_thread(self.bench.redis.stop if kind == "stop_redis" else self.bench.redis.kill)
            await asyncio.sleep(held)
            await asyncio.to_thread(self.bench.redis.start)
        elif kind == "kill_watchdog":
            self.watchdog.kill()
            await asyncio.sleep(held)
            self.watchdog = self.site.start_process("escalation_watchdog")
        elif kind == "kill_screener":
            self.screener.kill()
            await asyncio.sleep(held)
            self.screener = self.site.start_process("escalation_screen", "--name", "chaos")

    def _start_daphne(self, port: int) -> None:
        self.site.start_daphne(port=port)
        self.daphne[port] = self.site.servers[-1]

    def dead(self) -> list[str]:
        named = {f"daphne:{port}": p for port, p in self.daphne.items()}
        named.update(watchdog=self.watchdog, screener=self.screener, redis=self.bench.redis.process)
        return [name for name, process in named.items() if process.poll() is not None]


class Console:
    """A facilitator's console kept open on duty, back on whichever process answers."""

    def __init__(self, session: str, ports: list[int]):
        self.session, self.ports = session, ports
        # Alerts that came live (alert.new: raised, re-sent or raised again). A console that comes
        # back lists every open alert in console.state, which would hide a live path that broke.
        self.live: set[int] = set()
        self.task = asyncio.create_task(self._keep_open())

    async def _keep_open(self) -> None:
        attempt = 0
        while True:
            port = self.ports[attempt % len(self.ports)]
            attempt += 1
            try:
                async with connect(f"ws://127.0.0.1:{port}/ws/facilitator/", origin=f"http://127.0.0.1:{port}",
                                   open_timeout=3, additional_headers={"Cookie": f"sessionid={self.session}"}) as ws:
                    await ws.send(json.dumps({"type": "duty.set", "on_duty": True}))
                    async for text in ws:
                        frame = json.loads(text)
                        if frame["type"] == "alert.new":
                            self.live.add(frame["alert"]["id"])
            except Exception:  # refused, reset, closed with 4012 ...: come back, as the page does
                await asyncio.sleep(0.3)

    def stop(self) -> None:
        self.task.cancel()


def stored_messages(site, slug: str = "anxiety") -> list[tuple[int, str, str]]:
    rows = site.query("SELECT m.seq, m.client_id, m.body FROM rooms_message m JOIN rooms_room r"
                      " ON r.id = m.room_id WHERE r.slug = ? ORDER BY m.seq", (slug,))
    return [(seq, str(client_id).replace("-", ""), body) for seq, client_id, body in rows]


async def talk(member: Member, rng: random.Random, stop_at: float, sent: list[str]) -> None:
    said = 0
    while time.monotonic() < stop_at:
        try:
            await member.reconnect_if_dropped(timeout=max(1.0, stop_at - time.monotonic()))
        except TimeoutError:
            continue
        said += 1
        body = rng.choice(CRISIS) + f" ({member.name} {said})" if rng.random() < 0.08 else f"{member.name} says {said}"
        sent.append(await member.say(body))
        await asyncio.sleep(rng.uniform(0.3, 1.0))


async def settle(members: list[Member], site, timeout: float) -> None:
    """Reconnect whoever dropped until everyone has every stored message and nothing unconfirmed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        expected = len(stored_messages(site))
        for member in members:
            if not member.connected:
                try:
                    await member.connect(timeout=max(1.0, deadline - time.monotonic()))
                except TimeoutError:
                    pass
        if all(m.contiguous >= expected and not m.outbox for m in members):
            return
        await asyncio.sleep(0.3)


def check(report: Report, members: list[Member], site, system: System, console: Console) -> None:
    stored = stored_messages(site)
    report.stored = len(stored)
    promise = report.broken.append
    if [seq for seq, _, _ in stored] != list(range(1, len(stored) + 1)):
        promise("the room's seq has a gap or a repeat")
    ids = [client_id for _, client_id, _ in stored]
    if len(set(ids)) != len(ids):
        promise("a message was stored twice")
    refused = {cid.replace("-", "") for m in members for cid in m.refused}
    report.refused = len(refused)
    lost = [cid for cid in report.sent if (cid.replace("-", "") in ids) == (cid.replace("-", "") in refused)]
    if lost:
        promise(f"{len(lost)} message(s) neither stored nor refused")
    bodies = [body for _, _, body in stored]
    for member in members:
        shown = [member.seen[seq]["body"] for seq in sorted(member.seen)]
        if shown != bodies:
            promise(f"{member.name} has {len(shown)} of {len(bodies)} messages, or others")
        if len(member.arrivals) != len(set(member.arrivals)):
            promise(f"{member.name} was shown a message twice")
    alerts = {row[0] for row in site.query("SELECT id FROM escalation_alert")}
    report.alerts, report.alerts_seen = len(alerts), len(alerts & console.live)
    if alerts - console.live:
        promise(f"alerts {sorted(alerts - console.live)} never reached the on-duty console live")
    if system.dead():
        promise(f"not running: {system.dead()}")
    newest = max((row[0] for row in site.query("SELECT id FROM rooms_message")), default=0)
    cursor = site.query("SELECT claimed_through FROM escalation_screeningcursor")
    open_batches = site.query("SELECT count(*) FROM escalation_screeningbatch WHERE done_at IS NULL")[0][0]
    if not cursor or cursor[0][0] < newest or open_batches:
        promise("the second reader has not read every message")


async def serving(port: int, session: str) -> bool:
    try:
        async with connect(f"ws://127.0.0.1:{port}/ws/rooms/anxiety/", origin=f"http://127.0.0.1:{port}",
                           open_timeout=5, additional_headers={"Cookie": f"sessionid={session}"}) as ws:
            async with asyncio.timeout(5):
                while json.loads(await ws.recv())["type"] != "room.state":
                    pass
        return True
    except Exception:
        return False


async def run(seconds: float, people: int, seed: int, settle_timeout: float = 90) -> Report:
    rng = random.Random(seed)
    report = Report(seed)
    bench = BenchSite(redis=True)
    members, console = [], None
    try:
        sessions = {name: cookie.removeprefix("sessionid=")
                    for name, cookie in bench.people([f"chaos{i}" for i in range(people)] + ["fac-chaos"]).items()}
        system = System(bench)
        console = Console(sessions["fac-chaos"], system.ports)
        members = [Member(f"chaos{i}", sessions[f"chaos{i}"], system.ports[i % 2:] + system.ports[:i % 2])
                   for i in range(people)]
        for member in members:
            await member.connect()
        stop_at = time.monotonic() + seconds
        talkers = [asyncio.create_task(talk(m, random.Random(rng.random()), stop_at, report.sent)) for m in members]
        while time.monotonic() < stop_at:
            await asyncio.sleep(rng.uniform(1.0, 4.0))
            kind = rng.choice(FAULTS)
            report.faults[kind] += 1
            await system.fault(kind, rng)
        await asyncio.gather(*talkers)
        started = time.monotonic()
        await settle(members, bench.site, settle_timeout)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # the screener's lease and the console's re-send catch up
            alerts = {row[0] for row in bench.site.query("SELECT id FROM escalation_alert")}
            if alerts <= console.live and not bench.site.query(
                    "SELECT count(*) FROM escalation_screeningbatch WHERE done_at IS NULL")[0][0]:
                break
            await asyncio.sleep(0.5)
        report.settle_seconds = time.monotonic() - started
        report.reconnects = sum(m.connects - 1 for m in members)
        check(report, members, bench.site, system, console)
        for port in system.ports:
            if not await serving(port, sessions["chaos0"]):
                report.broken.append(f"daphne on {port} does not serve a room")
    finally:
        if console is not None:
            console.stop()
        for member in members:
            await member.close()
        bench.close()
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=120, help="how long faults go on")
    parser.add_argument("--people", type=int, default=8)
    parser.add_argument("--seed", type=int, default=7)
    report = asyncio.run(run(**vars(parser.parse_args())))
    print("\n".join(report.lines()))
    raise SystemExit(1 if report.broken else 0)


if __name__ == "__main__":
    main()
