"""The OpenAPI document itself: what the response checks rely on."""

from __future__ import annotations

import pytest
from jsonschema import ValidationError

from tests.emulator.contract import OpenAPI


def test_openapi_lacks_paused(openapi: OpenAPI) -> None:
    """The document predates PAUSED; the checks add it explicitly (and only it)."""
    raw = openapi.raw["components"]["schemas"]["AgentRun"]["properties"]["status"]["enum"]
    assert "PAUSED" not in raw
    patched = openapi.components["schemas"]["AgentRun"]["properties"]["status"]["enum"]
    assert patched == [*raw, "PAUSED"]


def test_checks_reject_a_wrong_body(openapi: OpenAPI) -> None:
    """The validators are real: a run without runId, or with a bad status, fails."""
    good = {
        "runId": "r",
        "task": "t",
        "status": "RUNNING",
        "createdAt": "2026-01-01T00:00:00Z",
        "updatedAt": "2026-01-01T00:00:00Z",
    }
    openapi.check("AgentRuns_get", 200, good)
    with pytest.raises(ValidationError):
        openapi.check("AgentRuns_get", 200, {**good, "status": "DONE"})
    with pytest.raises(ValidationError):
        openapi.check("AgentRuns_get", 200, {k: v for k, v in good.items() if k != "runId"})
    with pytest.raises(ValidationError):
        openapi.check("Invocations_get", 200, {"id": "not-a-uuid"})


def test_nullable_becomes_null_alternative(openapi: OpenAPI) -> None:
    """OpenAPI 3.0 nullable: a null nextSince is accepted."""
    openapi.check("AgentRuns_messages", 200, {"data": [], "nextSince": None})
    openapi.check("AgentRuns_list", 200, {"data": [], "limit": 20, "nextCursor": None})
