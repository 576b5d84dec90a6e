"""What a batch returns: every input with its key, its run (or why it has none), and stats.

``Batch`` iterates the runs that exist (agent runs or function invocations), in input
order.  ``items`` keeps every input, including those never submitted; ``failures``
are the items that did not end COMPLETED; ``iter_keyed()`` yields ``(key, run)`` for
``bbnb.results.to_frame``, which ``to_frame()`` calls (imported lazily, so the runs
layer does not need the results layer to work).
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Union

from bbnb.models import AgentRun, Invocation

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Batch", "BatchItem", "BatchStats", "RunLike", "age_text"]

RunLike = Union[AgentRun, Invocation]  # noqa: UP007 (used at runtime in isinstance-free code)


@dataclass
class BatchItem:
    """One input of a batch: its key, what was asked, the run (if any) and any error."""

    index: int
    key: Any
    input: Any = field(repr=False)
    run: RunLike | None = None
    error: str | None = None
    cached_at: float | None = None
    """Set when the run came from the result cache: when it had completed (epoch seconds)."""

    @property
    def cached(self) -> bool:
        """True when the answer came from the result cache, not a new run."""
        return self.cached_at is not None

    @property
    def status(self) -> str:
        """The run's status, ``NOT_SUBMITTED`` if the create was refused, else ``QUEUED``."""
        if self.run is not None:
            return str(self.run.status)
        return "NOT_SUBMITTED" if self.error else "QUEUED"

    @property
    def ok(self) -> bool:
        """True when the run ended COMPLETED."""
        return self.run is not None and self.run.status == "COMPLETED"

    @property
    def id(self) -> str | None:
        """The run or invocation id, once known."""
        return self.run.id if self.run is not None else None


@dataclass
class BatchStats:
    """Counters of one batch; HTTP counts are requests this batch sent (retries included)."""

    total: int = 0
    created: int = 0
    requests: int = 0
    create_requests: int = 0
    rate_limited: int = 0
    reconciled: int = 0
    resubmitted: int = 0
    stopped: int = 0
    cached: int = 0
    elapsed: float = 0.0

    @property
    def requests_per_run(self) -> float:
        """HTTP requests per created run, not counting the creates themselves."""
        return (self.requests - self.create_requests) / max(1, self.created)

    def as_dict(self) -> dict[str, Any]:
        """The counters plus ``requests_per_run``."""
        return {
            "total": self.total,
            "created": self.created,
            "requests": self.requests,
            "create_requests": self.create_requests,
            "requests_per_run": round(self.requests_per_run, 3),
            "rate_limited": self.rate_limited,
            "reconciled": self.reconciled,
            "resubmitted": self.resubmitted,
            "stopped": self.stopped,
            "cached": self.cached,
            "elapsed": round(self.elapsed, 3),
        }


class Batch:
    """The result of ``run_many``/``invoke_many``/``attach``: runs keyed by their input."""

    def __init__(
        self,
        batch_id: str,
        kind: str,
        items: list[BatchItem],
        *,
        stats: BatchStats | None = None,
        interrupted: bool = False,
        simulated: bool = False,
        cache: str = "off",
        cache_now: float | None = None,
    ) -> None:
        self.id = batch_id
        self.kind = kind
        self.items = items
        self.stats = stats or BatchStats(total=len(items))
        self.interrupted = interrupted
        self.simulated = simulated
        #: The result cache mode this batch ran with: ``off``, ``use`` or ``refresh``.
        self.cache = cache
        #: When the cache was looked up (epoch seconds, the runner's clock).
        self.cache_now = cache_now

    def cache_summary(self) -> str | None:
        """``"12 of 12 from cache (24 min ago)"`` when some answers came from the cache."""
        stamps = [i.cached_at for i in self.items if i.cached_at is not None]
        if not stamps:
            return None
        age = f" ({age_text(self.cache_now - min(stamps))})" if self.cache_now is not None else ""
        return f"{len(stamps)} of {len(self.items)} from cache{age}"

    def mark_cached(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Add ``_cached`` and ``_cached_at`` (by ``_id``) when the batch used the cache."""
        if self.cache == "off" or "_id" not in frame.columns or "_cached" in frame.columns:
            return frame
        import pandas as pd

        when = {i.id: i.cached_at for i in self.items if i.cached_at is not None and i.id}
        at = frame.columns.get_loc("_raw") if "_raw" in frame.columns else len(frame.columns)
        assert isinstance(at, int)
        frame.insert(at, "_cached", frame["_id"].map(lambda i: i in when).astype(bool))
        stamps = [when.get(i) for i in frame["_id"]]
        frame.insert(
            at + 1,
            "_cached_at",
            pd.to_datetime(
                pd.Series(stamps, index=frame.index, dtype="float64"), unit="s", utc=True
            ),
        )
        return frame

    def __iter__(self) -> Iterator[RunLike]:
        return (item.run for item in self.items if item.run is not None)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, key: Any) -> BatchItem:
        """The item whose input key is ``key``."""
        for item in self.items:
            if item.key == key:
                return item
        raise KeyError(f"no input with key {key!r} in batch {self.id}")

    @property
    def runs(self) -> list[RunLike]:
        """The runs that exist, in input order."""
        return list(self)

    def iter_keyed(self) -> Iterator[tuple[Any, RunLike]]:
        """``(input key, run)`` for every input that has a run."""
        for item in self.items:
            if item.run is not None:
                yield item.key, item.run

    @property
    def failures(self) -> list[BatchItem]:
        """Items that did not end COMPLETED (failed, timed out, stopped, never submitted...)."""
        return [item for item in self.items if not item.ok]

    @property
    def counts(self) -> dict[str, int]:
        """How many items are in each status."""
        return dict(Counter(item.status for item in self.items))

    def to_frame(self, **kwargs: Any) -> pd.DataFrame:
        """The runs as a typed DataFrame (``bbnb.results.to_frame(self, **kwargs)``)."""
        from bbnb.results import to_frame

        frame: pd.DataFrame = self.mark_cached(to_frame(self, **kwargs))
        return frame

    def summary(self) -> str:
        """One line: id, counts, stats."""
        counts = ", ".join(f"{k} {v}" for k, v in sorted(self.counts.items()))
        flag = " (interrupted)" if self.interrupted else ""
        sim = " [simulated]" if self.simulated else ""
        return (
            f"Batch {self.id}{flag}{sim}: {len(self.items)} {self.kind} inputs; {counts}; "
            f"{self.stats.requests_per_run:.2f} requests/run besides creates"
        )

    def __repr__(self) -> str:
        return f"<{self.summary()}>"

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{html.escape(k)}</td><td>{v}</td></tr>"
            for k, v in sorted(self.counts.items())
        )
        fails = self.failures[:5]
        fail_rows = "".join(
            f"<tr><td>{html.escape(repr(f.key))}</td><td>{html.escape(f.status)}</td>"
            f"<td>{html.escape(_why(f))}</td></tr>"
            for f in fails
        )
        more = len(self.failures) - len(fails)
        parts = [
            f"<div><b>Batch {html.escape(self.id)}</b>"
            + (" <i>(interrupted)</i>" if self.interrupted else "")
            + (" <i>simulated</i>" if self.simulated else "")
            + f" — {len(self.items)} {html.escape(self.kind)} inputs, "
            f"{self.stats.elapsed:.1f}s, {self.stats.requests_per_run:.2f} requests/run"
            " besides creates</div>",
            f"<table><tr><th>status</th><th>count</th></tr>{rows}</table>",
        ]
        if fails:
            parts.append(
                "<table><tr><th>key</th><th>status</th><th>why</th></tr>"
                f"{fail_rows}</table>" + (f"<div>… and {more} more</div>" if more > 0 else "")
            )
        parts.append(
            "<div><code>.to_frame()</code> for a DataFrame, "
            "<code>.failures</code> for what went wrong</div>"
        )
        return "".join(parts)


def _why(item: BatchItem) -> str:
    if item.error:
        return item.error
    cause = getattr(item.run, "cause", None)
    if cause is not None:
        return f"{cause.code}: {cause.message or ''}".strip()
    return ""


def age_text(seconds: float) -> str:
    """``"40 s ago"``, ``"24 min ago"``, ``"5 h ago"``, ``"3 days ago"``."""
    seconds = max(0.0, seconds)
    if seconds < 90:
        return f"{seconds:.0f} s ago"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min ago"
    if seconds < 36 * 3600:
        return f"{seconds / 3600:.0f} h ago"
    return f"{seconds / 86400:.0f} days ago"
