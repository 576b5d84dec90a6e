"""Fault soak: agent runs and invocations through 5xx, drops, slow answers, 429s and a restart."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest


@pytest.mark.stress
@pytest.mark.slow
def test_soak_loses_nothing_and_creates_nothing_twice(
    load_bench: Callable[[str], ModuleType], tmp_path: Path
) -> None:
    """Every input gets exactly one settled run; the server made no extra run; faults happened."""
    soak = load_bench("soak")
    plan = soak.SoakPlan(runs=240, seed=7, concurrency=30, server_sessions=45)
    got = soak.run_once(plan, tmp_path, faults=True)
    assert got["restarts"] == 1
    assert got["faults"].get("5xx", 0) > 0 and got["faults"].get("drop", 0) > 0
    assert got["faults"].get("slow", 0) > 0 and got["rate_limited"] > 0
    assert got["received"] == got["submitted"] == 240, got["errors"]
    assert got["lost"] == 0
    assert got["duplicates_by_counter"] == 0
    assert got["duplicates_in_store"] == 0
    assert got["orphans"] == 0
    assert got["ids_given_twice"] == 0
    assert got["completed"] == 240
