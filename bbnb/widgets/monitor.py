"""``RunMonitor``: a live view of a batch: a bar, counts per status, a table, Stop-all.

The monitor refreshes the runs that are still in progress from a background thread
(``client.agents.runs.retrieve`` / ``client.functions.invocations.retrieve``), writes
the fresh runs back into the batch's items and only sets widget traits.  **Stop all**
asks every agent run still in progress to stop (a run that finished meanwhile
answers 409, which is not an error here); Browserbase cannot stop invocations.
"""

from __future__ import annotations

import html
import threading
from collections import Counter
from typing import Any

import ipywidgets as w

from bbnb._clock import SystemClock
from bbnb.widgets._badge import SimulatedBadge
from bbnb.widgets._feedback import ErrorBox, guarded
from bbnb.wire._sync import run_sync

__all__ = ["RunMonitor"]

_FINISHED = frozenset({"COMPLETED", "FAILED", "STOPPED", "TIMED_OUT", "NOT_SUBMITTED"})
_TABLE_ROWS = 200


class RunMonitor(w.VBox):  # type: ignore[misc]
    """Watch ``batch`` (a ``bbnb.runs.Batch``) until every run has finished."""

    def __init__(
        self, batch: Any, *, client: Any = None, poll_interval: float = 2.0, watch: bool = True
    ) -> None:
        if not hasattr(batch, "items") or not hasattr(batch, "kind"):
            raise TypeError(f"RunMonitor needs a bbnb Batch, got {type(batch).__name__}")
        self.batch = batch
        self._client = client
        self.poll_interval = poll_interval
        self.box = ErrorBox()
        self.bar = w.IntProgress(value=0, min=0, max=max(1, len(batch.items)), bar_style="info")
        self.counts = w.HTML(value="")
        self.table = w.HTML(value="")
        self.table.add_class("bbnb-monitor-table")
        self.stop_button = w.Button(description="Stop all", icon="stop", button_style="danger")
        self.stop_button.on_click(guarded(self.box)(lambda _b: self.stop_all()))
        simulated = getattr(batch, "simulated", None)
        self.badge = SimulatedBadge(
            client, simulated=simulated if isinstance(simulated, bool) else None
        )
        super().__init__(
            children=[
                w.HTML(f"<b>Batch {html.escape(str(batch.id))}</b> ({batch.kind})"),
                self.badge.widget,
                w.HBox([self.bar, self.counts, self.stop_button]),
                self.box.widget,
                self.table,
            ]
        )
        self.add_class("bbnb-run-monitor")
        self._settled = threading.Event()
        self._cancel = threading.Event()
        self.render()
        if watch and not self.finished:
            threading.Thread(target=self._loop, name="bbnb-monitor", daemon=True).start()
        else:
            self._settled.set()

    @property
    def client(self) -> Any:
        """The client used to refresh and stop runs (a default ``bbnb.Client()``)."""
        if self._client is None:
            from bbnb.client._client import Client

            self._client = Client()
        return self._client

    @property
    def finished(self) -> bool:
        """True when every item has reached a final status."""
        return all(item.status in _FINISHED for item in self.batch.items)

    def render(self) -> None:
        """Set the bar, counts and table traits from the batch as it is now."""
        items = self.batch.items
        counts = Counter(item.status for item in items)
        done = sum(n for status, n in counts.items() if status in _FINISHED)
        self.bar.max = max(1, len(items))
        self.bar.value = done
        failed = sum(counts.get(s, 0) for s in ("FAILED", "TIMED_OUT", "NOT_SUBMITTED"))
        if done == len(items):
            self.bar.bar_style = "danger" if failed else "success"
        # Stop all can only act on agent runs still in progress: hide it otherwise.
        can_stop = self.batch.kind == "agent" and done < len(items)
        self.stop_button.disabled = not can_stop
        self.stop_button.layout.display = "" if can_stop else "none"
        self.counts.value = (
            " · ".join(
                f"<span class='bbnb-count'>{html.escape(s)} {n}</span>"
                for s, n in sorted(counts.items())
                if n
            )
            + f" <span style='color:#6b7280'>({done}/{len(items)} done)</span>"
        )
        rows = []
        for item in items[:_TABLE_ROWS]:
            run = item.run
            duration = getattr(run, "duration", None) if run is not None else None
            rows.append(
                "<tr>"
                f"<td>{html.escape(str(item.key))}</td>"
                f"<td><code style='white-space:nowrap'>{html.escape(item.id or '')}</code></td>"
                f"<td>{html.escape(item.status)}</td>"
                f"<td>{'' if duration is None else f'{duration:.1f} s'}</td>"
                f"<td>{html.escape(item.error or '')}</td>"
                "</tr>"
            )
        more = len(items) - _TABLE_ROWS
        tail = f"<div>… and {more} more</div>" if more > 0 else ""
        self.table.value = (
            "<table class='bbnb-monitor'><thead><tr><th>key</th><th>id</th><th>status</th>"
            "<th>duration</th><th>error</th></tr></thead><tbody>"
            + "".join(rows)
            + "</tbody></table>"
            + tail
        )

    def refresh(self) -> None:
        """Fetch every run still in progress once and re-render."""
        for item in self.batch.items:
            if item.run is None or item.status in _FINISHED:
                continue
            if self.batch.kind == "agent":
                item.run = self.client.agents.runs.retrieve(item.run.id)
            else:
                item.run = self.client.functions.invocations.retrieve(item.run.id)
        self.render()

    def stop_all(self) -> int:
        """Ask every agent run in progress to stop; returns how many were asked."""
        if self.batch.kind != "agent":
            raise RuntimeError("Browserbase cannot stop function invocations; they end by timeout")
        from bbnb._exceptions import ConflictError

        asked = 0
        for item in self.batch.items:
            if item.run is None or item.status in _FINISHED:
                continue
            try:
                item.run = self.client.agents.runs.stop(item.run.id)
                asked += 1
            except ConflictError:
                continue  # it finished meanwhile
        self.render()
        if self._settled.is_set() and not self.finished:
            self._settled.clear()
            threading.Thread(target=self._loop, name="bbnb-monitor", daemon=True).start()
        return asked

    def wait(self, timeout: float) -> bool:
        """Block until every run has finished (or the watch failed); False on timeout."""
        return self._settled.wait(timeout)

    def _loop(self) -> None:
        try:
            while not self._cancel.is_set() and not self.finished:
                self._pause()
                self.refresh()
        except Exception as exc:
            self.box.show(exc)
        finally:
            self._settled.set()

    def _pause(self) -> None:
        clock = getattr(self.client, "clock", None)
        if clock is None or isinstance(clock, SystemClock):
            self._cancel.wait(self.poll_interval)
        else:
            run_sync(clock.sleep(self.poll_interval))

    def close_watch(self) -> None:
        """Stop refreshing (the runs continue)."""
        self._cancel.set()
