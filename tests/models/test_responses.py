"""Response models: lenient, keep unknown fields, and know the status machines."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bbnb.models import AgentRun, Invocation, Message, MessagesPage, RunStatus

STAMP = "2026-01-01T00:00:00Z"


def run_wire(status: str, **extra: Any) -> dict[str, Any]:
    return {
        "runId": "r1",
        "task": "t",
        "status": status,
        "createdAt": STAMP,
        "updatedAt": STAMP,
        **extra,
    }


@pytest.mark.parametrize(
    ("status", "terminal", "needs_input"),
    [
        ("PENDING", False, False),
        ("RUNNING", False, False),
        ("PAUSED", False, True),
        ("COMPLETED", True, False),
        ("FAILED", True, False),
        ("STOPPED", True, False),
        ("TIMED_OUT", True, False),
    ],
    ids=lambda v: str(v),
)
def test_run_status_helpers(status: RunStatus, terminal: bool, needs_input: bool) -> None:
    """is_terminal and needs_input follow the documented run status machine."""
    run = AgentRun.from_wire(run_wire(status))
    assert (run.is_terminal, run.needs_input) == (terminal, needs_input)


def test_unknown_fields_kept() -> None:
    """A field Browserbase adds later survives parsing and goes back on the wire."""
    run = AgentRun.from_wire(run_wire("RUNNING", costCents=12))
    assert run.model_extra == {"costCents": 12}
    assert run.to_wire()["costCents"] == 12


def test_output_unwraps_runner_wrapper() -> None:
    """output reads result.output when present, else result."""
    wrapped = AgentRun.from_wire(
        run_wire("COMPLETED", result={"output": {"a": 1}, "stepsTaken": 4})
    )
    plain = AgentRun.from_wire(run_wire("COMPLETED", result={"a": 1}))
    assert wrapped.output == plain.output == {"a": 1}


def test_duration_and_timestamps() -> None:
    """Timestamps parse as UTC datetimes; duration is seconds from start to end."""
    run = AgentRun.from_wire(
        run_wire("COMPLETED", startedAt="2026-01-01T00:00:01Z", endedAt="2026-01-01T00:00:31.5Z")
    )
    assert run.created_at == datetime(2026, 1, 1, tzinfo=UTC)
    assert run.duration == 30.5
    assert run.to_wire()["createdAt"] == STAMP


@pytest.mark.parametrize(
    "results",
    [None, "ok", 3.5, True, [1, {"a": 2}], {"rows": []}],
    ids=["null", "string", "number", "bool", "list", "object"],
)
def test_invocation_results_any_json(results: Any) -> None:
    """An invocation's results may be any JSON value."""
    inv = Invocation.from_wire(
        {
            "id": "i",
            "projectId": "p",
            "functionId": "f",
            "versionId": "v",
            "sessionId": "s",
            "status": "COMPLETED",
            "createdAt": STAMP,
            "updatedAt": STAMP,
            "startedAt": STAMP,
            "expiresAt": STAMP,
            "results": results,
        }
    )
    assert inv.results == results and inv.is_terminal and not inv.needs_input


def test_message_parts() -> None:
    """Plain-text content reads as one text part; part lists keep tool fields."""
    page = MessagesPage.from_wire(
        {
            "data": [
                {"id": "m1", "createdAt": STAMP, "message": {"role": "assistant", "content": "hi"}},
                {
                    "id": "m2",
                    "createdAt": STAMP,
                    "message": {
                        "role": "assistant",
                        "content": [
                            {
                                "type": "tool-call",
                                "toolCallId": "c1",
                                "toolName": "goto",
                                "input": {"url": "https://example.com"},
                            },
                        ],
                    },
                },
            ],
            "nextSince": "m2",
        }
    )
    first, second = page.data
    assert isinstance(first, Message)
    assert first.message.parts[0].text == "hi"
    assert second.message.parts[0].tool_name == "goto"
    assert page.next_since == "m2"
