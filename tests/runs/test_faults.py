"""1,000 runs through 5xx answers, dropped connections and 429 bursts: none lost, none twice."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from bbnb.client._client import AsyncClient
from bbnb.emulator import Emulator
from bbnb.runs import run_many_async

FAULTY = {
    "fault_5xx_rate": 0.10,
    "fault_drop_rate": 0.02,
    "max_concurrent_sessions": 20,
    "sessions_per_minute": 300,
    "run_seconds": (5.0, 20.0),
}


@pytest.mark.stress
@pytest.mark.parametrize("emulator_config", [FAULTY], indirect=True, ids=["5xx-drops-429"])
def test_thousand_runs_survive_faults(
    aclient: AsyncClient, emulator: Emulator, tmp_path: object
) -> None:
    """Every input ends with exactly one run; the server created exactly 1,000."""
    tasks = [f"Look up record {i}" for i in range(1000)]
    batch = asyncio.run(
        run_many_async(aclient, tasks, concurrency=100, progress="none", journal=False)
    )
    assert emulator.stats.faults["5xx"] > 50 and emulator.stats.faults["drop"] > 5
    assert emulator.stats.rate_limited >= 5
    assert len(batch.runs) == 1000
    assert batch.counts == {"COMPLETED": 1000}
    ids = [run.id for run in batch]
    assert len(set(ids)) == 1000
    assert emulator.stats.runs_created == 1000
    tasks_seen = Counter(run.task for run in batch)
    assert set(tasks_seen.values()) == {1} and set(tasks_seen) == set(tasks)
    assert [key for key, _ in batch.iter_keyed()] == list(range(1000))
    assert batch.stats.reconciled > 0
