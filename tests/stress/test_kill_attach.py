"""Kill and attach: SIGKILL the submitting process mid-submission, re-attach from the journal."""

from __future__ import annotations

from collections.abc import Callable
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
