"""``LiveFollow``: the live view of a run that has no session yet (``%bb_run ... --live``).

A run gets its session some moments after it is created.  ``LiveFollow(client,
find_run)`` asks ``find_run()`` (the run as its waiter last saw it, or None before it
was created) every ``interval`` seconds from a background thread; once the run has a
session it shows that session's ``LiveView`` inside itself.  An agent run that still
has no ``session_id`` is re-read through ``client.agents.runs.retrieve``.  ``stop()``
ends every thread and keeps the last picture on screen; ``close()`` also closes the
widget.
"""

from __future__ import annotations

import html
import threading
from collections.abc import Callable
from typing import Any

import ipywidgets as w

from bbnb.widgets._feedback import ErrorBox
from bbnb.widgets.live_view import LiveView

__all__ = ["LiveFollow"]


class LiveFollow(w.VBox):  # type: ignore[misc]
    """Wait for a run's session, then show it live; stop with the run."""

    def __init__(self, client: Any, find_run: Callable[[], Any], *, interval: float = 0.5) -> None:
        if interval <= 0:
            raise ValueError(f"interval must be > 0 seconds, got {interval!r}")
        self.client = client
        self.find_run = find_run
        self.interval = interval
        self.box = ErrorBox()
        self.status = w.HTML(value=self._note("Live view: waiting for the run's browser…"))
        self.view: LiveView | None = None
        self._cancel = threading.Event()
        self._lock = threading.Lock()
        super().__init__(children=[self.status, self.box.widget])
        self.add_class("bbnb-live-follow")
        self._thread = threading.Thread(target=self._wait, name="bbnb-live-follow", daemon=True)
        self._thread.start()

    @staticmethod
    def _note(text: str) -> str:
        return f"<span style='color:#6b7280;font-size:12px'>{html.escape(text)}</span>"

    def _session_id(self) -> str | None:
        run = self.find_run()
        if run is None:
            return None
        if getattr(run, "is_terminal", False):  # answered from the cache, or already over
            self._cancel.set()
            self.status.value = self._note("Live view: the run has ended (see its replay).")
            return None
        session_id = getattr(run, "session_id", None)
        if not session_id and getattr(run, "run_id", None):
            session_id = self.client.agents.runs.retrieve(run.run_id).session_id
        return session_id if isinstance(session_id, str) and session_id else None

    def _wait(self) -> None:
        while not self._cancel.is_set():
            try:
                session_id = self._session_id()
            except Exception as exc:
                self.box.show(exc)
                return
            if session_id is not None:
                with self._lock:
                    if self._cancel.is_set():
                        return
                    try:
                        self.view = LiveView(session_id, client=self.client)
                    except Exception as exc:
                        self.box.show(exc)
                        return
                    self.children = [self.view, self.box.widget]
                return
            self._cancel.wait(self.interval)

    @property
    def running(self) -> bool:
        """True while waiting for the session or pulling its pictures."""
        view = self.view
        return self._thread.is_alive() or (view is not None and view.running)

    def stop(self) -> None:
        """End the threads; the last picture stays on screen."""
        if not hasattr(self, "_thread"):  # __init__ refused its arguments
            return
        self._cancel.set()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        with self._lock:
            view = self.view
        if view is not None:
            view.stop()
        elif not self.box.errors and "ended" not in self.status.value:
            self.status.value = self._note("Live view: the run ended before its browser showed.")

    def close(self) -> None:
        """Stop, then close the widget and its live view."""
        self.stop()
        if self.view is not None:
            self.view.close()
        super().close()
