"""Counters that tests and benchmarks read to prove what the emulator saw."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

__all__ = ["EmulatorStats"]


@dataclass
class EmulatorStats:
    """What happened since the emulator started (not persisted)."""

    runs_created: int = 0
    invocations_created: int = 0
    sessions_created: int = 0
    rate_limited: int = 0
    requests: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)

    @property
    def total_requests(self) -> int:
        """All HTTP requests answered (or dropped)."""
        return sum(self.requests.values())

    @property
    def faults_injected(self) -> int:
        """All injected faults, of every kind."""
        return sum(self.faults.values())

    def snapshot(self) -> dict[str, object]:
        """A plain dict copy, handy for printing and comparing."""
        return {
            "runs_created": self.runs_created,
            "invocations_created": self.invocations_created,
            "sessions_created": self.sessions_created,
            "rate_limited": self.rate_limited,
            "requests": dict(self.requests),
            "statuses": dict(self.statuses),
            "faults": dict(self.faults),
        }
