"""One input of a batch as the runner tracks it, and when its run needs no more looking at.

A ``Job`` moves through ``queued`` -> ``posting`` -> ``inflight`` -> ``done``, with
``unknown`` for a create whose answer was lost (it is reconciled, not resent) and
``error`` for an input that will get no run (refused, abandoned, or gone from the
server).  ``settled(run)`` says whether a run is finished as far as a batch cares.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from bbnb.models import AgentRun, Invocation
from bbnb.runs._inputs import PreparedInput

__all__ = ["Job", "JobState", "Kind", "Run", "settled"]

Kind = Literal["agent", "function"]
Run = AgentRun | Invocation
JobState = Literal["queued", "unknown", "posting", "inflight", "done", "error"]


@dataclass(eq=False)
class Job:
    """One input as the runner tracks it."""

    prepared: PreparedInput
    state: JobState = "queued"
    run: Run | None = None
    error: str | None = None
    secrets: list[str] = field(default_factory=list, repr=False)
    masked: dict[str, Any] = field(default_factory=dict, repr=False)
    submitted_wall: float | None = None
    adopted: bool = False
    misses: int = 0
    next_check: float = 0.0
    checks: int = 0
    since: float | None = None
    holds_slot: bool = False
    unsendable: str | None = None
    """Why this input may not be sent (attach without its secret values), if so."""
    cache_key: str | None = None
    """The request's key in the result cache (``bbnb.runs.cache``), when the cache is on."""
    cached_at: float | None = None
    """When the cached answer this input got had completed (None: not from the cache)."""

    @property
    def index(self) -> int:
        """Position of the input."""
        return self.prepared.index

    @property
    def remote_id(self) -> str | None:
        """The run/invocation id, once known."""
        return self.run.id if self.run is not None else None


def settled(run: Run) -> bool:
    """True once ``run`` ended or waits for input: looking at it again tells nothing new."""
    return bool(run.is_terminal or run.needs_input)
