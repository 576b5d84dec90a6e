"""Fixtures for the results tests: wire-shaped runs and invocations."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

RunFactory = Callable[..., dict[str, Any]]


@pytest.fixture
def make_run() -> RunFactory:
    """Build a wire-shaped agent run dict (completed unless told otherwise)."""
    counter = iter(range(10_000))

    def build(result: Any = None, *, status: str = "COMPLETED", **extra: Any) -> dict[str, Any]:
        n = next(counter)
        run: dict[str, Any] = {
            "runId": f"run-{n}",
            "task": "find things",
            "status": status,
            "createdAt": "2026-01-01T10:00:00Z",
            "updatedAt": "2026-01-01T10:01:00Z",
            "startedAt": "2026-01-01T10:00:01Z",
            "endedAt": "2026-01-01T10:00:31.5Z",
            "sessionId": f"sess-{n}",
        }
        if result is not None:
            run["result"] = result
        run.update(extra)
        return run

    return build


@pytest.fixture
def make_invocation() -> Callable[..., dict[str, Any]]:
    """Build a wire-shaped function invocation dict."""

    def build(results: Any, *, status: str = "COMPLETED", **extra: Any) -> dict[str, Any]:
        inv: dict[str, Any] = {
            "id": "inv-1",
            "projectId": "p",
            "functionId": "f",
            "versionId": "v",
            "sessionId": "s",
            "status": status,
            "createdAt": "2026-01-01T10:00:00Z",
            "updatedAt": "2026-01-01T10:00:05Z",
            "startedAt": "2026-01-01T10:00:01Z",
            "expiresAt": "2026-01-02T10:00:00Z",
            "results": results,
        }
        inv.update(extra)
        return inv

    return build
