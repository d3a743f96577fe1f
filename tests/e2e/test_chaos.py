"""Random faults against two Daphne processes, Redis, the watchdog and the screening worker
(bench/chaos.py), at a size that fits the suite; `make bench` runs it longer."""

import pytest

from bench.chaos import run

pytestmark = pytest.mark.e2e


async def test_random_faults_break_none_of_the_promises():
    report = await run(seconds=20, people=4, seed=11)
    print("\n".join(report.lines()))
    assert sum(report.faults.values()) >= 5, "the run was long enough to hurt"
    assert report.stored > 40 and report.alerts >= 1
    assert report.broken == []
