"""bench/cache.py: a re-run --foreach cell is answered from the cache (small size)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest


@pytest.mark.stress
def test_rerun_creates_no_run(
    load_bench: Callable[[str], ModuleType], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """60 rows: the re-run creates 0 runs, returns the same answers, all marked _cached."""
    bench = load_bench("cache")
    monkeypatch.setenv("BBNB_HOME", str(tmp_path))
    monkeypatch.delenv("BROWSERBASE_API_KEY", raising=False)
    got = bench.measure(60, 7)
    assert got["first_run_created"] == 60
    assert got["rerun_created"] == 0
    assert got["rerun_all_cached"] and got["same_answers"]
    assert got["cache_entries"] == 60
    assert "60 of 60 from cache" in got["summary"]
