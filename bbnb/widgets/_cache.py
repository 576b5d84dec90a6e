"""The result cache for the widgets' single runs (the journal's, as ``%bb_run`` uses it).

``AgentTask`` and ``FunctionInvoke`` take ``cache=True`` (the default: an identical
request that COMPLETED on the same server within ``cache_ttl`` is answered from the
journal, creating no run), ``False`` (always run, store nothing) or ``"refresh"`` (run
again and store the new answer).  Keys, server identity and what is stored come from
``bbnb.runs.cache``, so a widget and a ``%bb_run`` cell share answers.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any

from bbnb.models import AgentRun, Invocation
from bbnb.runs.batch import age_text
from bbnb.runs.cache import (
    CacheMode,
    cache_mode,
    check_ttl,
    request_key,
    scrubbed_answer,
    server_of,
)
from bbnb.runs.journal import Journal
from bbnb.runs.submit import open_journal

__all__ = ["CachedAnswer", "WidgetCache", "age_text", "mark_cached"]

JournalArg = bool | str | os.PathLike[str] | Journal | None


def wall_now(client: Any) -> float:
    """Wall time (epoch seconds): the client's clock when it tells wall time, as the runs layer."""
    clock = getattr(client, "clock", None)
    now = clock.now() if clock is not None else 0.0
    return float(now) if now > 1e9 else time.time()


@dataclass(frozen=True)
class CachedAnswer:
    """A run served from the cache, when it had completed and when it was looked up."""

    run: Any
    completed_at: float
    looked_up_at: float

    @property
    def age(self) -> str:
        """How long ago the answer completed, e.g. ``"24 min ago"``."""
        return age_text(self.looked_up_at - self.completed_at)


@dataclass(frozen=True)
class _Request:
    server: str
    key: str
    kind: str
    body: dict[str, Any]


class WidgetCache:
    """Looks a widget's request up in the journal's cache and stores fresh COMPLETED answers."""

    def __init__(
        self, cache: bool | str = True, cache_ttl: float | None = None, journal: JournalArg = True
    ) -> None:
        self.mode: CacheMode = cache_mode(cache)
        self.ttl = check_ttl(cache_ttl)
        self._journal_arg = journal
        self._pending: _Request | None = None

    def _open(self) -> Journal | None:
        return open_journal(self._journal_arg)

    def _close(self, journal: Journal) -> None:
        if journal is not self._journal_arg:
            journal.close()

    def lookup(
        self,
        client: Any,
        kind: str,
        function_id: str | None,
        body: dict[str, Any],
        *,
        refresh: bool = False,
    ) -> CachedAnswer | None:
        """The cached answer to this request (revealed ``body``), or None: then run it.

        Also remembers the request, so that ``store`` keeps the run's answer under it.
        """
        self._pending = None
        mode: CacheMode = "refresh" if refresh and self.mode != "off" else self.mode
        if mode == "off":
            return None
        journal = self._open()
        if journal is None:
            return None
        try:
            request = _Request(
                server_of(getattr(client, "base_url", None), getattr(client, "key_hash", None)),
                request_key(kind, function_id, body, journal.cache_salt()),
                kind,
                body,
            )
            self._pending = request
            if mode != "use":
                return None
            now = wall_now(client)
            hit = journal.cache_get(request.server, request.key, since=now - self.ttl)
        finally:
            self._close(journal)
        if hit is None or hit.kind != kind:
            return None
        model = AgentRun if kind == "agent" else Invocation
        try:
            run = model.from_wire(hit.run)
        except ValueError:  # an answer that no longer validates is not served
            return None
        return CachedAnswer(run, hit.completed_at, now)

    def store(self, client: Any, run: Any) -> None:
        """Keep a COMPLETED answer to the pending request (secrets masked); others are not kept."""
        request, self._pending = self._pending, None
        if request is None or getattr(run, "status", None) != "COMPLETED":
            return
        journal = self._open()
        if journal is None:
            return
        try:
            journal.cache_put(
                request.server,
                request.key,
                kind=request.kind,
                remote_id=str(getattr(run, "id", "")),
                run=scrubbed_answer(request.body, run.to_wire()),
                completed_at=wall_now(client),
            )
            journal.cache_evict()
        finally:
            self._close(journal)


def mark_cached(frame: Any, cached: CachedAnswer | None) -> Any:
    """Add ``_cached`` and ``_cached_at`` to a one-run frame, as ``%bb_run`` does."""
    import pandas as pd

    at = frame.columns.get_loc("_raw") if "_raw" in frame.columns else len(frame.columns)
    assert isinstance(at, int)
    frame.insert(at, "_cached", cached is not None)
    stamp = cached.completed_at if cached is not None else float("nan")
    frame.insert(
        at + 1,
        "_cached_at",
        pd.to_datetime(
            pd.Series([stamp] * len(frame), index=frame.index, dtype="float64"), unit="s", utc=True
        ),
    )
    return frame
