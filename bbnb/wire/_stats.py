"""Request counters: how many HTTP requests a client made, by method and route.

Routes are the templates (``GET /v1/agents/runs/{run_id}``), not the concrete
paths, so counts stay small and comparable.  ``snapshot()`` freezes the counts;
subtracting two snapshots gives the requests made in between, which is how the
runs layer reports requests per run.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

__all__ = ["RequestCounts", "RequestStats"]


@dataclass(frozen=True)
class RequestCounts(Mapping[str, int]):
    """An immutable copy of the counters, keyed ``"METHOD /route/{template}"``."""

    by_route: Mapping[str, int] = field(default_factory=dict)
    retries: int = 0
    by_status: Mapping[int, int] = field(default_factory=dict)
    errors: int = 0

    def __getitem__(self, key: str) -> int:
        return self.by_route.get(key, 0)

    def __iter__(self) -> Iterator[str]:
        return iter(self.by_route)

    def __len__(self) -> int:
        return len(self.by_route)

    @property
    def total(self) -> int:
        """All HTTP attempts, retries included."""
        return sum(self.by_route.values())

    def __sub__(self, other: RequestCounts) -> RequestCounts:
        routes = Counter(self.by_route)
        routes.subtract(other.by_route)
        statuses = Counter(self.by_status)
        statuses.subtract(other.by_status)
        return RequestCounts(
            by_route={k: v for k, v in routes.items() if v},
            retries=self.retries - other.retries,
            by_status={k: v for k, v in statuses.items() if v},
            errors=self.errors - other.errors,
        )


class RequestStats:
    """Live, thread-safe counters owned by one client (``client.stats``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._routes: Counter[str] = Counter()
        self._statuses: Counter[int] = Counter()
        self._retries = 0
        self._errors = 0

    def record(self, method: str, route: str, *, status: int | None) -> None:
        """Count one attempt; ``status`` None means no response (a transport error)."""
        with self._lock:
            self._routes[f"{method} {route}"] += 1
            if status is None:
                self._errors += 1
            else:
                self._statuses[status] += 1

    def record_retry(self) -> None:
        """Count one retry (the attempt itself is counted by ``record``)."""
        with self._lock:
            self._retries += 1

    def snapshot(self) -> RequestCounts:
        """A frozen copy of the counters."""
        with self._lock:
            return RequestCounts(
                by_route=dict(self._routes),
                retries=self._retries,
                by_status=dict(self._statuses),
                errors=self._errors,
            )

    def count(self, method: str | None = None, route: str | None = None) -> int:
        """Attempts matching ``method`` and/or ``route`` (None matches all)."""
        with self._lock:
            return sum(
                n
                for key, n in self._routes.items()
                if (method is None or key.split(" ", 1)[0] == method)
                and (route is None or key.split(" ", 1)[1] == route)
            )

    @property
    def total(self) -> int:
        """All HTTP attempts so far."""
        with self._lock:
            return sum(self._routes.values())

    @property
    def retries(self) -> int:
        """Retries so far."""
        with self._lock:
            return self._retries

    def __repr__(self) -> str:
        snap = self.snapshot()
        return f"RequestStats(total={snap.total}, retries={snap.retries}, errors={snap.errors})"
