import asyncio
import threading
import time

import pytest
from limits import parse

from rooms.clock import clock
from rooms.ratelimits import InProcessLimiter


@pytest.fixture
def now(monkeypatch):
    moment = [1000.0]
    monkeypatch.setattr(clock, "monotonic", lambda: moment[0])
    return moment


def hits(limiter, item, keys, count):
    return [asyncio.run(limiter.hit(item, *keys)) for _ in range(count)]


def test_a_burst_over_the_limit_is_refused_until_the_window_moves_on(now):
    limiter, burst = InProcessLimiter(), parse("5/10 seconds")
    assert hits(limiter, burst, ("person", "1"), 6) == [True] * 5 + [False]
    now[0] += 9.9
    assert hits(limiter, burst, ("person", "1"), 1) == [False]
    now[0] += 0.2
    assert hits(limiter, burst, ("person", "1"), 6) == [True] * 5 + [False]


def test_the_window_moves_hit_by_hit_not_in_fixed_blocks(now):
    limiter, burst = InProcessLimiter(), parse("2/10 seconds")
    assert hits(limiter, burst, ("person", "1"), 1) == [True]
    now[0] += 6
    assert hits(limiter, burst, ("person", "1"), 2) == [True, False]
    now[0] += 4.5  # the first hit has left the window; the second is still in it
    assert hits(limiter, burst, ("person", "1"), 2) == [True, False]
    assert asyncio.run(limiter.get_window_stats(burst, "person", "1"))[1] == 0


def test_people_and_limits_are_counted_apart(now):
    limiter = InProcessLimiter()
    repeat, burst = parse("1/30 seconds"), parse("5/10 seconds")
    assert hits(limiter, repeat, ("repeat", "1", "abc"), 2) == [True, False]
    assert hits(limiter, repeat, ("repeat", "2", "abc"), 1) == [True]
    assert hits(limiter, burst, ("person", "1"), 1) == [True]


def test_the_wait_told_to_a_refused_sender_counts_down_to_the_oldest_hit_leaving(now):
    limiter, slow = InProcessLimiter(), parse("1/30 seconds")
    hits(limiter, slow, ("slow", "room", "1"), 1)
    now[0] += 12
    reset, remaining = asyncio.run(limiter.get_window_stats(slow, "slow", "room", "1"))
    assert remaining == 0 and round(reset - time.time()) == 18


def test_idle_keys_are_forgotten_so_memory_does_not_grow_with_every_message(now):
    limiter, repeat = InProcessLimiter(), parse("1/30 seconds")
    for n in range(500):
        hits(limiter, repeat, ("repeat", "1", str(n)), 1)
    assert len(limiter.windows) == 500
    now[0] += limiter.SWEEP_SECONDS
    hits(limiter, repeat, ("repeat", "1", "new"), 1)
    assert len(limiter.windows) == 1
    assert asyncio.run(limiter.get_window_stats(repeat, "repeat", "2", "never sent"))[1] == 1
    assert len(limiter.windows) == 1  # asking about a key does not make one


def test_counting_starts_no_threads(now, monkeypatch):
    # limits' in-memory storage started a sweeping timer thread after nearly every hit
    started = []
    monkeypatch.setattr(threading.Thread, "start", lambda self: started.append(self))
    limiter, burst = InProcessLimiter(), parse("5/10 seconds")
    for n in range(50):
        now[0] += 0.05
        hits(limiter, burst, ("person", str(n % 7)), 1)
    assert started == []
