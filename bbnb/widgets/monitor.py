"""``RunMonitor``: a live view of a batch: a bar, counts per status, a table, Stop-all.

The monitor refreshes the runs that are still in progress from a background thread
(``client.agents.runs.retrieve`` / ``client.functions.invocations.retrieve``), writes
the fresh runs back into the batch's items and only sets widget traits.  **Stop all**
asks every agent run still in progress to stop (a run that finished meanwhile
answers 409, which is not an error here); Browserbase cannot stop invocations.

Up to ``thumbnails`` sessions still in flight (3 by default, 0 for none) are shown as
small live pictures (``LiveView(thumbnail=True)``); a thumbnail closes when its run
finishes, and every one closes with the watch (``close_watch()``, ``close()``).
"""

from __future__ import annotations

import html
import threading
from collections import Counter
from typing import Any

import ipywidgets as w

from bbnb._clock import SystemClock
from bbnb.widgets._badge import SimulatedBadge
from bbnb.widgets._client import UsesClient
from bbnb.widgets._feedback import ErrorBox, guarded
from bbnb.widgets.live_view import LiveView
from bbnb.wire._sync import run_sync

__all__ = ["RunMonitor"]

_FINISHED = frozenset({"COMPLETED", "FAILED", "STOPPED", "TIMED_OUT", "NOT_SUBMITTED"})
_TABLE_ROWS = 200


class RunMonitor(UsesClient, w.VBox):  # type: ignore[misc]
    """Watch ``batch`` (a ``bbnb.runs.Batch``) until every run has finished."""

    def __init__(
        self,
        batch: Any,
        *,
        client: Any = None,
        poll_interval: float = 2.0,
        watch: bool = True,
        thumbnails: int = 3,
    ) -> None:
        if not hasattr(batch, "items") or not hasattr(batch, "kind"):
            raise TypeError(f"RunMonitor needs a bbnb Batch, got {type(batch).__name__}")
        self.batch = batch
        self._client = client
        self.poll_interval = poll_interval
        if thumbnails < 0:
            raise ValueError(f"thumbnails must be 0 or more, got {thumbnails!r}")
        self.max_thumbnails = thumbnails
        #: Live thumbnails of in-flight sessions, by session id.
        self.thumbnails: dict[str, LiveView] = {}
        self.thumbs = w.HBox(layout=w.Layout(flex_flow="row wrap", display="none"))
        self.thumbs.add_class("bbnb-monitor-thumbs")
        self._thumb_failed: set[str] = set()
        self._thumb_lock = threading.Lock()
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
                self.thumbs,
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
        self.update_thumbnails()

    def update_thumbnails(self) -> None:
        """Show the first few in-flight sessions live; close those whose run finished."""
        with self._thumb_lock:
            if not self._cancel.is_set():
                self._update_thumbnails()

    def _update_thumbnails(self) -> None:
        flying = [
            sid
            for item in self.batch.items
            if item.run is not None
            and item.status not in _FINISHED
            and isinstance(sid := getattr(item.run, "session_id", None), str)
            and sid
        ]
        keep = [sid for sid in flying if sid not in self._thumb_failed][: self.max_thumbnails]
        for sid in [s for s in self.thumbnails if s not in keep]:
            self.thumbnails.pop(sid).close()
        for sid in keep:
            if sid not in self.thumbnails:
                try:
                    self.thumbnails[sid] = LiveView(
                        sid, client=self.client, max_fps=2.0, thumbnail=True
                    )
                except Exception as exc:
                    self._thumb_failed.add(sid)
                    self.box.show(exc)
        views = list(self.thumbnails.values())
        if list(self.thumbs.children) != views:
            self.thumbs.children = views
        self.thumbs.layout.display = "flex" if views else "none"

    def _close_thumbnails(self) -> None:
        with self._thumb_lock:
            views, self.thumbnails = list(self.thumbnails.values()), {}
            self.thumbs.children = []
            self.thumbs.layout.display = "none"
        for view in views:
            view.close()

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
            self._close_thumbnails()
            self._settled.set()

    def _pause(self) -> None:
        clock = getattr(self.client, "clock", None)
        if clock is None or isinstance(clock, SystemClock):
            self._cancel.wait(self.poll_interval)
        else:
            run_sync(clock.sleep(self.poll_interval))

    def close_watch(self) -> None:
        """Stop refreshing and the thumbnails (the runs continue)."""
        self._cancel.set()
        self._close_thumbnails()

    def close(self) -> None:
        """Stop every thread of the monitor, then close it."""
        if hasattr(self, "_cancel"):  # not when __init__ refused its arguments
            self.close_watch()
        super().close()
