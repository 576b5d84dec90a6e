"""The emulator's stored objects, and how their state follows from the clock.

A record holds only what was fixed when it was created (its planned durations and
outcome) plus what a caller changed later (stop, resume, release).  Status and
timestamps are derived from those and the current time, lazily, on every read:
no background timers, and a ``ManualClock`` moves every run at once.

Records turn into wire dicts (camelCase, ISO timestamps) with ``to_wire(now)``,
and into JSON-ready rows for SQLite with ``to_row()`` / ``from_row()``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, Literal, NamedTuple

from bbnb.emulator.wire import iso

__all__ = [
    "TERMINAL_RUN",
    "AgentRecord",
    "InvocationRecord",
    "RunRecord",
    "RunState",
    "SessionRecord",
]

TERMINAL_RUN = frozenset({"COMPLETED", "FAILED", "STOPPED", "TIMED_OUT"})
INF = math.inf


class RunState(NamedTuple):
    """A run's status at one moment, with its derived timestamps (None if not yet)."""

    status: str
    started: float | None
    ended: float | None
    updated: float


class _Row:
    """Row conversion shared by all records (fields marked ``persist=False`` stay in memory)."""

    KIND: ClassVar[str] = ""

    def to_row(self) -> dict[str, Any]:
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)  # type: ignore[arg-type]
            if f.metadata.get("persist", True)
        }

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Any:
        names = {f.name for f in fields(cls) if f.metadata.get("persist", True)}  # type: ignore[arg-type]
        return cls(**{k: v for k, v in row.items() if k in names})


MEMORY_ONLY: Any = {"persist": False}


@dataclass(slots=True, eq=False)
class RunRecord(_Row):
    """One agent run: what it was asked, its plan, and what callers did to it."""

    KIND: ClassVar[str] = "run"

    run_id: str
    seq: int
    task: str
    created: float
    session_id: str
    pending_s: float
    run_s: float
    outcome: str
    steps: int
    seed: int
    agent_id: str | None = None
    result_schema: dict[str, Any] | None = None
    browser_settings: dict[str, Any] | None = None
    pause_when: str | None = None
    pause_offset: float | None = None
    result: dict[str, Any] | None = None
    cause: list[str] | None = None
    partial: str | None = None
    resumed_at: float | None = None
    resume_task: str | None = None
    stopped_at: float | None = None
    trace: list[Any] | None = None
    variables: dict[str, str] = field(
        default_factory=dict, repr=False, compare=False, metadata=MEMORY_ONLY
    )

    @property
    def start(self) -> float:
        return self.created + self.pending_s

    @property
    def pause_at(self) -> float | None:
        return None if self.pause_offset is None else self.start + self.pause_offset

    @property
    def planned_end(self) -> float:
        """When the run finishes by itself (infinity while it waits in a pause)."""
        if self.pause_offset is None:
            return self.start + self.run_s
        if self.resumed_at is None:
            return INF
        return self.resumed_at + (self.run_s - self.pause_offset)

    def state(self, now: float) -> RunState:
        start = self.start
        if self.stopped_at is not None and self.stopped_at <= now:
            started = start if start <= self.stopped_at else None
            return RunState("STOPPED", started, self.stopped_at, self.stopped_at)
        if now < start:
            return RunState("PENDING", None, None, self.created)
        pause_at = self.pause_at
        if pause_at is not None and self.resumed_at is None and now >= pause_at:
            return RunState("PAUSED", start, None, pause_at)
        end = self.planned_end
        if now < end:
            return RunState("RUNNING", start, None, self.resumed_at or start)
        return RunState(self.outcome, start, end, end)

    def wall_time(self, offset: float) -> float | None:
        """When the agent reaches ``offset`` seconds of active work (None: not yet known)."""
        if self.pause_offset is None or offset < self.pause_offset:
            return self.start + offset
        if self.resumed_at is None:
            return None
        return self.resumed_at + (offset - self.pause_offset)

    def to_wire(self, now: float) -> dict[str, Any]:
        state = self.state(now)
        out: dict[str, Any] = {
            "runId": self.run_id,
            "task": self.task,
            "status": state.status,
            "createdAt": iso(self.created),
            "updatedAt": iso(state.updated),
            "sessionId": self.session_id,
        }
        if self.agent_id is not None:
            out["agentId"] = self.agent_id
        if self.result_schema is not None:
            out["resultSchema"] = self.result_schema
        if state.started is not None:
            out["startedAt"] = iso(state.started)
        if state.ended is not None:
            out["endedAt"] = iso(state.ended)
        if state.status == "COMPLETED" and self.result is not None:
            out["result"] = self.result
        elif state.status in ("FAILED", "TIMED_OUT") and self.cause:
            out["cause"] = {"code": self.cause[0], "message": self.cause[1]}
        return out


@dataclass(slots=True, eq=False)
class AgentRecord(_Row):
    """A custom agent: a name, a system prompt and a default result schema."""

    KIND: ClassVar[str] = "agent"

    agent_id: str
    seq: int
    name: str
    created: float
    updated: float
    system_prompt: str | None = None
    result_schema: dict[str, Any] | None = None

    def to_wire(self) -> dict[str, Any]:
        out: dict[str, Any] = {"agentId": self.agent_id, "name": self.name}
        if self.system_prompt is not None:
            out["systemPrompt"] = self.system_prompt
        if self.result_schema is not None:
            out["resultSchema"] = self.result_schema
        out["createdAt"] = iso(self.created)
        out["updatedAt"] = iso(self.updated)
        return out


@dataclass(slots=True, eq=False)
class InvocationRecord(_Row):
    """One function invocation: its plan, and what the handler returned or raised."""

    KIND: ClassVar[str] = "invocation"

    invocation_id: str
    seq: int
    function_id: str
    version_id: str
    session_id: str
    created: float
    pending_s: float
    duration_s: float
    timeout_s: float
    timeout_requested_s: float | None = None  # as asked for (timeout_s is scaled by speed)
    params: dict[str, Any] | None = None
    done: bool = False
    results: Any = None
    has_results: bool = False
    error: str | None = None
    logs: list[list[Any]] = field(default_factory=list)

    @property
    def start(self) -> float:
        return self.created + self.pending_s

    @property
    def deadline(self) -> float:
        return self.start + self.timeout_s

    def state(self, now: float) -> tuple[str, float | None, list[str] | None]:
        """(status, ended, cause) at ``now``."""
        start = self.start
        if now < start:
            return "PENDING", None, None
        deadline = self.deadline
        end = start + self.duration_s
        if (not self.done or end > deadline) and now >= deadline:
            asked = self.timeout_requested_s or self.timeout_s
            message = f"The invocation exceeded its timeout of {asked:g} seconds"
            return "FAILED", deadline, ["TIMED_OUT", message]
        if not self.done or now < end:
            return "RUNNING", None, None
        if self.error is not None:
            return "FAILED", end, ["WORKLOAD_ERROR", self.error]
        return "COMPLETED", end, None

    def visible_logs(self, now: float) -> list[dict[str, Any]]:
        _status, ended, _ = self.state(now)
        horizon = now if ended is None else min(now, ended)
        return [
            {"message": message, "timestamp": stamp}
            for stamp, message in self.logs
            if stamp <= horizon * 1000.0
        ]

    def to_wire(self, now: float, *, project_id: str, region: str) -> dict[str, Any]:
        status, ended, cause = self.state(now)
        updated = (
            ended if ended is not None else (self.start if status == "RUNNING" else self.created)
        )
        out: dict[str, Any] = {
            "id": self.invocation_id,
            "projectId": project_id,
            "functionId": self.function_id,
            "versionId": self.version_id,
            "sessionId": self.session_id,
            "status": status,
            "createdAt": iso(self.created),
            "updatedAt": iso(updated),
            "startedAt": iso(self.start),
            "expiresAt": iso(self.deadline),
            "region": region,
            "params": self.params if self.params is not None else {},
        }
        if status == "COMPLETED" and self.has_results:
            out["results"] = self.results
        if ended is not None:
            out["endedAt"] = iso(ended)
        if cause is not None:
            out["cause"] = {"code": cause[0], "message": cause[1]}
        return out


SessionOwner = Literal["run", "invocation"]


@dataclass(slots=True, eq=False)
class SessionRecord(_Row):
    """A browser session: standalone, or the one behind a run or an invocation."""

    KIND: ClassVar[str] = "session"

    session_id: str
    seq: int
    created: float
    timeout_s: float
    region: str
    keep_alive: bool = False
    owner: str | None = None
    owner_id: str | None = None
    context_id: str | None = None
    user_metadata: dict[str, Any] | None = None
    settings: dict[str, Any] | None = None
    released_at: float | None = None
    proxy_bytes: int = 0
    # Set when a real browser's session ended on its own (disconnect, timeout, crash).
    end_status: str | None = None
    ended_at: float | None = None
