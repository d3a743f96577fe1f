"""A throwaway deployment for benchmarks: database, demo data, people with sessions, servers."""

import json
import shutil
import tempfile
from pathlib import Path

import psutil

from tests.e2e.servers import RedisServer, Site

DEMO_SLUGS = ["anxiety", "depression", "grief-and-loss", "ptsd-and-trauma", "addiction-recovery",
              "lgbtq-support", "young-people", "open-room"]
MAKE_PEOPLE = """
import json
from django.contrib.auth.models import Group
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from rooms.models import User, FACILITATORS_GROUP
out = {}
group = Group.objects.get_or_create(name=FACILITATORS_GROUP)[0]
for name in NAMES:
    user, _ = User.objects.get_or_create(username=name, defaults={"country": "US"})
    if name.startswith("fac"):
        user.groups.add(group)
    s = SessionStore()
    s[SESSION_KEY] = str(user.pk)
    s[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    s[HASH_SESSION_KEY] = user.get_session_auth_hash()
    s.create()
    out[name] = "sessionid=" + s.session_key
print(json.dumps(out))
"""


class BenchSite:
    def __init__(self, redis: bool = False):
        self.workdir = Path(tempfile.mkdtemp(prefix="chat-bench-"))
        self.redis = RedisServer(self.workdir) if redis else None
        self.site = Site(self.workdir, redis_url=self.redis.url if self.redis else "")
        self.site.env["LOG_LEVEL"] = "WARNING"
        # Synthetic senders send the same text several times a second: far past the per-person
        # limits meant for people. Lift them so the benchmark measures delivery, not refusals.
        # The socket's flood guard too: at 25 messages/s a sender's socket is at 25 of its 30
        # frames/s, and its gap fetches (two processes deliver out of order) tipped 24 of 200
        # sockets over it in a saturation run on Redis (closed 4008, back by replay).
        self.site.env["CHAT_RATE_LIMITS"] = "100000/second"
        self.site.env["CHAT_REPEAT_LIMIT"] = "100000/second"
        self.site.env["CHAT_FRAME_RATE"] = "100000/second"
        # bench.idle signs 50 people into 100 rooms each; a person's sockets are capped for people.
        self.site.env["CHAT_HANDSHAKE_RATE"] = "100000/second"
        self.site.env["CHAT_SOCKETS_PER_PERSON"] = "1000000"

    def people(self, names: list[str]) -> dict[str, str]:
        """name -> session cookie, made straight in the database (logging 200 people in is slow)."""
        code = f"NAMES = {names!r}\n" + MAKE_PEOPLE
        out = self.site.manage("shell", "-v0", "-c", code)
        return json.loads(out.strip().splitlines()[-1])

    def room_urls(self, ports: list[int], rooms: int, clients: int) -> list[str]:
        """One socket address per client, room by room, spread over the server processes."""
        slugs = DEMO_SLUGS[:rooms] + [f"bench-{i}" for i in range(rooms - len(DEMO_SLUGS))]
        if rooms > len(DEMO_SLUGS):
            self.site.manage("shell", "-v0", "-c", "from rooms.models import Room; [Room.objects.get_or_create("
                             f"slug=slug, defaults=dict(name=slug, topic='Bench')) for slug in {slugs!r}]")
        return [f"ws://127.0.0.1:{ports[i % len(ports)]}/ws/rooms/{slugs[i // clients]}/" for i in range(rooms * clients)]

    def start(self, processes: int = 1) -> list[int]:
        return [self.site.start_daphne() for _ in range(processes)]

    def server_processes(self) -> list[psutil.Process]:
        return [psutil.Process(p.pid) for p in self.site.servers]

    def close(self):
        self.site.stop_all()
        if self.redis:
            self.redis.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)  # a database copy and logs: ~10 MB a run


class Usage:
    """CPU seconds and peak RSS of server processes over a run, sampled in the background."""

    def __init__(self, processes: list[psutil.Process]):
        self.processes = processes
        self.cpu_start = sum(sum(p.cpu_times()[:2]) for p in processes)
        self.peak_rss = 0

    def sample(self):
        self.peak_rss = max(self.peak_rss, sum(p.memory_info().rss for p in self.processes))

    def cpu_seconds(self) -> float:
        return sum(sum(p.cpu_times()[:2]) for p in self.processes) - self.cpu_start


class MachineNoise:
    """What else took the CPUs during a run: the hypervisor's steal (a virtual machine's cores
    handed to other guests, which shows up as latency no server causes) and the load generator's
    own CPU (the generator shares the machine with the servers)."""

    def __init__(self):
        self.steal_start, self.total_start = self._steal_and_total()
        self.generator_start = sum(psutil.Process().cpu_times()[:2])

    @staticmethod
    def _steal_and_total() -> tuple[int, int]:
        with open("/proc/stat") as stat:  # "cpu user nice system idle iowait irq softirq steal ..."
            ticks = [int(v) for v in stat.readline().split()[1:9]]
        return ticks[7], sum(ticks)

    def summary(self) -> dict:
        steal, total = self._steal_and_total()
        return {
            "steal_pct": round(100 * (steal - self.steal_start) / max(1, total - self.total_start), 1),
            "generator_cpu_s": round(sum(psutil.Process().cpu_times()[:2]) - self.generator_start, 1),
        }
