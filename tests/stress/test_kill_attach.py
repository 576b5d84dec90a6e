"""Kill and attach: SIGKILL the submitting process mid-submission, re-attach from the journal."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest


@pytest.mark.stress
@pytest.mark.slow
def test_sigkilled_batches_are_recovered_without_duplicates(
    load_bench: Callable[[str], ModuleType],
) -> None:
    """Four seeds (agents and functions, all three kill points): all recovered, none twice."""
    bench = load_bench("kill_attach")
    got = bench.measure([2, 3, 4, 7], runs=16, concurrency=6, workers=4)
    rows = got["rows"]
    assert {r["kind"] for r in rows} == {"agent", "function"}
    assert all(r["killed"] for r in rows), [r["submit_stderr_tail"] for r in rows]
    assert got["recovered/submitted"] == "64/64"
    assert got["lost"] == 0
    assert got["duplicates_by_counter"] == 0
    assert got["duplicates_in_store"] == 0
    assert got["orphans"] == 0


@pytest.mark.stress
def test_attach_recovers_function_batch_killed_before_any_id(
    load_bench: Callable[[str], ModuleType], tmp_path: Path
) -> None:
    """All three invokes in flight at the kill (no id journaled): attach adopts all three."""
    bench = load_bench("kill_attach")
    got = bench.one_seed(bench.KillPlan(1, 3, 3, at=1, where="handled"), tmp_path)
    assert got["killed"] and got["journal_states_at_kill"] == {"submitting": 3}
    assert got["recovered"] == 3 and got["lost"] == 0
    assert got["duplicates_by_counter"] == 0 and got["orphans"] == 0
