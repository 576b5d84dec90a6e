"""Secrets: a sentinel key, variable value and proxy password never show up anywhere."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

import pytest


@pytest.mark.stress
@pytest.mark.e2e
def test_no_sentinel_leaks_anywhere(
    load_bench: Callable[[str], ModuleType], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reprs, errors, DEBUG logs, journal, widget state, --dry-run and a saved notebook: 0 hits."""
    leaks = load_bench("leaks")
    monkeypatch.delenv("BROWSERBASE_API_KEY", raising=False)
    monkeypatch.delenv("BROWSERBASE_BASE_URL", raising=False)
    got = leaks.measure(notebook=True)
    controls = got["positive_controls"]
    assert all(count > 0 for count in controls.values()), controls
    assert got["checked"]["log_records"] > 100 and got["checked"]["widgets"] > 100
    assert got["notebook_errors"] == [
        "AuthenticationError: 401 Unauthorized: Invalid API key (X-BB-API-Key) "
        "(GET /v1/agents/runs/nope)"
    ]
    assert got["occurrences"] == 0, got["found_in"]
