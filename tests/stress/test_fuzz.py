"""Bad input: hypothesis fuzz of models, client, magics, widgets and the emulator's HTTP API."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

import pytest

TARGETS = ["models", "client", "magics", "widgets", "http", "seeds"]


@pytest.mark.stress
@pytest.mark.parametrize("target", TARGETS, ids=TARGETS)
def test_fuzz_finds_no_crash(
    load_bench: Callable[[str], ModuleType], target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only documented errors (ValidationError, ValueError, BBNBError 4xx, UsageError) come out."""
    fuzz = load_bench("fuzz")
    monkeypatch.delenv("BROWSERBASE_API_KEY", raising=False)
    got = fuzz.measure(80, 20260101, [target])
    assert got["inputs_tried"] >= 80
    assert got[f"{target}_accepted"] > 0, "the fuzz never produced a valid input"
    assert got["crashes"] == 0, got["crash_examples"]
