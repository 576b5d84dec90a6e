"""Load: a 2,000-run batch loses nothing, creates nothing twice, and stays within budgets."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

import pytest


@pytest.mark.stress
@pytest.mark.slow
def test_two_thousand_runs_in_one_batch(load_bench: Callable[[str], ModuleType]) -> None:
    """Every run completes once; memory, CPU, journal and to_frame stay within generous bounds."""
    load = load_bench("load")
    got = load.measure(2000, seed=3, concurrency=100)
    assert got["completed"] == 2000 and got["lost"] == 0
    assert got["duplicates_by_counter"] == 0
    assert got["frame_shape"][0] == 2000
    assert got["peak_rss_kb_per_run"] < 200, got
    assert got["journal_bytes_per_run"] < 20_000, got
    assert got["cpu_ms_per_run"] < 60, got
    assert got["to_frame_s"] < 10, got
    assert got["requests_per_run"] < 2, got
