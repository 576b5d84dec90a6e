"""The run panel: Run, live status, the latest step, Stop, Resume, and the result table.

The panel talks to Browserbase through a small *driver* (one for agent runs, one for
function invocations) and waits in a background thread.  That thread only sets
widget traits (``HTML.value``, ``Button.disabled`` ...); it never prints or displays,
so updates reach the browser safely.  Every error, in a click handler or in the
thread, is caught and shown as one line in the panel.

With ``live=True`` (the default) a collapsible *Live browser* section shows the run's
session (``LiveView``) from its first picture on, and the session's ``Replay`` once
the run is done (hidden when nothing was recorded, as for simulated sessions); both
end with the panel (``close()``).  ``wait(timeout)`` lets code
and tests block on an ``Event`` until the panel has settled.
"""

from __future__ import annotations

import html
import threading
from collections.abc import Callable
from typing import Any, Protocol

import ipywidgets as w

from bbnb._clock import SystemClock
from bbnb.widgets._feedback import ErrorBox, guarded, one_line
from bbnb.widgets.live_view import LiveView
from bbnb.widgets.replay import Replay, part_text
from bbnb.wire._sync import run_sync

__all__ = ["AgentDriver", "Driver", "FunctionDriver", "RunPanel", "ShowsRunPanel", "step_text"]

_STATUS_COLOURS = {
    "PENDING": "#6b7280",
    "RUNNING": "#1d4ed8",
    "PAUSED": "#b45309",
    "COMPLETED": "#15803d",
    "FAILED": "#b00020",
    "STOPPED": "#6b7280",
    "TIMED_OUT": "#b00020",
}
_TEXT_LIMIT = 200
_TABLE_STYLE = (
    "<style>.bbnb-result-table{border-collapse:collapse;font-size:12px;margin-top:4px}"
    ".bbnb-result-table th,.bbnb-result-table td{border:1px solid #e5e7eb;padding:3px 8px;"
    "text-align:left}.bbnb-result-table thead th{background:#f3f4f6}"
    ".bbnb-result-table tbody tr:nth-child(even){background:#fafafa}</style>"
)


def _short(text: str, limit: int = _TEXT_LIMIT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def step_text(message: Any) -> str:
    """A one-line summary of one agent message (its last meaningful part)."""
    for part in reversed(message.message.parts):
        text = None if part.type == "file" else part_text(part)  # a file alone says little
        if text:
            return _short(text)
    return ""


def pause_question(messages: list[Any]) -> str | None:
    """The paused agent's question: the last ``pause`` tool call's ``input.message``."""
    for message in reversed(messages):
        for part in reversed(message.message.parts):
            if part.type == "tool-call" and part.tool_name == "pause":
                data = part.input if isinstance(part.input, dict) else {}
                return str(data.get("message") or "The agent is waiting for your input.")
    return None


class Driver(Protocol):
    """How the panel starts, polls, stops and resumes one kind of work."""

    can_stop: bool

    def start(self) -> Any:
        """Submit the work; return the run/invocation."""
        ...

    def poll(self, item: Any) -> tuple[Any, list[str], list[Any]]:
        """``(fresh item, new step lines, new raw messages)``."""
        ...

    def stop(self, item: Any) -> Any:
        """Ask the work to stop."""
        ...

    def resume(self, item: Any, answer: str) -> Any:
        """Answer a paused run."""
        ...


class AgentDriver:
    """Agent runs: ``client.agents.runs.create/retrieve/messages/stop/resume``."""

    can_stop = True

    def __init__(self, client: Any, params: Any) -> None:
        self.client = client
        self.params = params
        self._since: str | None = None

    def start(self) -> Any:
        return self.client.agents.runs.create(params=self.params)

    def poll(self, item: Any) -> tuple[Any, list[str], list[Any]]:
        run = self.client.agents.runs.retrieve(item.run_id)
        messages = list(self.client.agents.runs.messages(run.run_id, since=self._since))
        if messages:
            self._since = messages[-1].id
        return run, [s for s in map(step_text, messages) if s], messages

    def stop(self, item: Any) -> Any:
        return self.client.agents.runs.stop(item.run_id)

    def resume(self, item: Any, answer: str) -> Any:
        return self.client.agents.runs.resume(item.run_id, answer)


class FunctionDriver:
    """Function invocations: ``client.functions.invoke`` and ``invocations.retrieve/logs``."""

    can_stop = False  # Browserbase has no endpoint to cancel an invocation.

    def __init__(self, client: Any, function_id: str, params: Any) -> None:
        self.client = client
        self.function_id = function_id
        self.params = params
        self._seen_logs = 0

    def start(self) -> Any:
        return self.client.functions.invoke(
            self.function_id,
            params=self.params.params,
            session_create_params=self.params.session_create_params,
        )

    def poll(self, item: Any) -> tuple[Any, list[str], list[Any]]:
        invocation = self.client.functions.invocations.retrieve(item.id)
        logs = self.client.functions.invocations.logs(item.id).logs
        fresh = logs[self._seen_logs :]
        self._seen_logs = len(logs)
        return invocation, [_short(log.message) for log in fresh], []

    def stop(self, item: Any) -> Any:
        raise RuntimeError("Browserbase cannot stop a function invocation; it ends by its timeout")

    def resume(self, item: Any, answer: str) -> Any:
        raise RuntimeError("function invocations never pause")


class RunPanel(w.VBox):  # type: ignore[misc]
    """Status, elapsed time, latest step, Stop, the paused question + Resume, the result."""

    def __init__(self, *, poll_interval: float = 1.0, live: bool = True) -> None:
        self.poll_interval = poll_interval
        self.live = live
        self.watch = w.Accordion(children=[w.VBox()])
        self.watch.set_title(0, "Live browser")
        self.watch.layout.display = "none"
        self.watch.add_class("bbnb-watch")
        self.live_view: LiveView | None = None
        self.replay: Replay | None = None
        self._followed: str | None = None
        self.box = ErrorBox()
        self.status = w.HTML(value="")
        self.status.add_class("bbnb-status")
        self.elapsed = w.HTML(value="")
        self.step = w.HTML(value="")
        self.step.add_class("bbnb-step")
        self.stop_button = w.Button(
            description="Stop", icon="stop", button_style="danger", disabled=True
        )
        self.stop_button.layout.display = "none"  # shown only while it can stop something
        self.question = w.HTML(value="")
        self.answer = w.Text(
            value="", placeholder="your answer to the agent", layout=w.Layout(width="420px")
        )
        self.resume_button = w.Button(description="Resume", icon="play", button_style="warning")
        self.pause_box = w.VBox([self.question, w.HBox([self.answer, self.resume_button])])
        self.pause_box.layout.display = "none"
        self.pause_box.add_class("bbnb-pause")
        self.result_html = w.HTML(value="")
        self.result_html.add_class("bbnb-result")
        self.note = w.HTML(value="")
        self.note.add_class("bbnb-note")
        self.cache_note = w.HTML(value="")
        self.cache_note.add_class("bbnb-cache-note")
        self.again_button = w.Button(description="Run again", icon="refresh")
        self.again_button.add_class("bbnb-run-again")
        self.cache_box = w.HBox(
            [self.cache_note, self.again_button], layout=w.Layout(align_items="center")
        )
        self.cache_box.layout.display = "none"  # shown only for an answer from the cache
        self.stop_button.on_click(guarded(self.box)(lambda _b: self.stop()))
        self.resume_button.on_click(guarded(self.box)(lambda _b: self.resume(self.answer.value)))
        super().__init__(
            children=[
                w.HBox(
                    [self.status, self.elapsed, self.stop_button],
                    layout=w.Layout(align_items="center"),
                ),
                self.step,
                self.pause_box,
                self.box.widget,
                self.cache_box,
                self.note,
                self.result_html,
                self.watch,
            ]
        )
        self.add_class("bbnb-run-panel")
        self.driver: Driver | None = None
        self.item: Any = None
        self.messages: list[Any] = []
        self.on_done: list[Callable[[Any], None]] = []
        self._settled = threading.Event()
        self._settled.set()
        self._cancel = threading.Event()
        self._thread: threading.Thread | None = None
        self._clock: Any = None
        self._started_at = 0.0

    # -- actions ---------------------------------------------------------------------

    def start(self, driver: Driver, clock: Any) -> Any:
        """Submit through ``driver`` and watch in a background thread; returns the new item."""
        self._clear(driver, clock)
        self._hide_cached()
        self._show_status("SUBMITTING")
        try:
            item = driver.start()
        except BaseException:
            # Nothing was created: say so and leave the form ready to run again.
            self._show_status("NOT STARTED")
            self._show_stop(False)
            raise
        self.item = item
        self._started_at = clock.now()
        self._show(item)
        self._watch()
        return item

    def _clear(self, driver: Driver | None, clock: Any) -> None:
        """Forget the last run's output and watcher before showing a new one."""
        if not self._settled.is_set():
            raise RuntimeError("a run is already in progress; stop it or wait for it first")
        self.driver, self._clock = driver, clock
        self.messages = []
        self.box.clear()
        self.result_html.value = ""
        self.note.value = ""
        self.step.value = ""
        self.elapsed.value = ""
        self.item = None
        self.pause_box.layout.display = "none"
        self._end_watch()

    def show_cached(self, item: Any, age: str, client: Any = None) -> None:
        """Show an answer from the result cache (no run was created) with a Run again button,
        and, given the ``client`` of its server, the cached run's replay while it is kept."""
        self._clear(None, None)
        self.item = item
        self._show(item)
        self.cache_note.value = (
            f"<span style='color:#1d4ed8;margin-right:8px'>from cache ({html.escape(age)}): "
            f"run {html.escape(str(getattr(item, 'id', '')))}; no new run was created</span>"
        )
        self.cache_box.layout.display = "flex"
        try:
            # The cached run's recording, while its server still keeps it; quietly none after.
            self._show_replay(item, quiet=True, client=client)
        except Exception:
            self.watch.layout.display = "none"
        self._call_done(item)

    def _hide_cached(self) -> None:
        self.cache_note.value = ""
        self.cache_box.layout.display = "none"

    def stop(self) -> None:
        """Ask the current run to stop; the watcher reports STOPPED when it lands."""
        if self.driver is None or self.item is None:
            raise RuntimeError("nothing is running")
        self._show_stop(False)
        self.item = self.driver.stop(self.item)
        self._show(self.item)
        if self._settled.is_set():  # stopped while PAUSED: watch it wind down
            self._watch()

    def resume(self, answer: str) -> None:
        """Send ``answer`` to the paused agent and watch again."""
        if self.driver is None or self.item is None or self.item.status != "PAUSED":
            raise RuntimeError("the run is not paused; nothing to resume")
        if not answer.strip():
            raise ValueError("type an answer for the agent before pressing Resume")
        self.item = self.driver.resume(self.item, answer.strip())
        self.answer.value = ""
        self.pause_box.layout.display = "none"
        self._show(self.item)
        self._watch()

    def wait(self, timeout: float) -> bool:
        """Block until the panel settles (finished, paused or failed); False on timeout."""
        return self._settled.wait(timeout)

    def close_watch(self) -> None:
        """Stop watching (the run itself continues); the live view stops too."""
        self._cancel.set()
        self._stop_live()

    def close(self) -> None:
        """Stop every thread of the panel (the run itself continues), then close it."""
        if not hasattr(self, "_cancel"):  # __init__ did not finish
            super().close()
            return
        self.close_watch()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)
        self._end_watch()
        super().close()

    # -- the live view and the replay ------------------------------------------------

    def _client(self) -> Any:
        return getattr(self.driver, "client", None)

    def _follow(self, item: Any) -> None:
        """Show the live view once the run has a session (while it still runs)."""
        session_id = getattr(item, "session_id", None)
        client = self._client()
        if not self.live or self.live_view is not None or not session_id or client is None:
            return
        if getattr(item, "is_terminal", False) or session_id == self._followed:
            return
        self._followed = session_id  # one try per session: a failure is shown, not retried
        try:
            view = LiveView(session_id, client=client)
        except Exception as exc:
            self.box.show(exc)
            return
        view.add_class("bbnb-live-in-panel")
        self.live_view = view
        self.watch.children = [view]
        self.watch.set_title(0, "Live browser")
        self.watch.selected_index = 0
        if view.mode == "iframe":  # Browserbase's own live view
            self.watch.layout.display = ""
        else:  # shown from the first picture on (a simulated session never sends one)
            view.image.observe(self._first_picture, names="value")

    def _first_picture(self, change: dict[str, Any]) -> None:
        if change["new"] and self.live_view is not None:
            self.watch.layout.display = ""

    def _stop_live(self) -> None:
        view, self.live_view = self.live_view, None
        if view is not None:
            view.close()

    def _end_watch(self) -> None:
        """Close the live view and the replay and hide the section (a new run starts)."""
        self._stop_live()
        replay, self.replay = self.replay, None
        if replay is not None:
            replay.close()
        self._followed = None
        self.watch.children = [w.VBox()]
        self.watch.layout.display = "none"

    def _show_replay(self, item: Any, *, quiet: bool = False, client: Any = None) -> None:
        """Replace the live view by the session's replay once the run is done.

        ``quiet``: show the section only if frames were found (a cached run's recording
        may be gone with its server: that is not an error)."""
        session_id = getattr(item, "session_id", None)
        client = client if client is not None else self._client()
        self._stop_live()
        if not self.live or not session_id or client is None:
            self.watch.layout.display = "none"
            return
        replay = Replay(item, client=client)
        replay.add_class("bbnb-replay-in-panel")
        self.replay = replay
        self.watch.children = [replay]
        self.watch.set_title(0, f"Replay ({len(replay.frames)} frames)")
        self.watch.selected_index = 0
        # Nothing recorded (a simulated session, recordSession off): no empty section.
        shown = bool(replay.frames) or (bool(replay.box.errors) and not quiet)
        self.watch.layout.display = "" if shown else "none"
        if not shown and quiet:
            self._end_watch()

    # -- the waiting thread ----------------------------------------------------------

    def _watch(self) -> None:
        self._settled.clear()
        self._cancel = threading.Event()
        self._thread = threading.Thread(
            target=self._loop, args=(self._cancel,), name="bbnb-widget-watch", daemon=True
        )
        self._thread.start()

    def _loop(self, cancel: threading.Event) -> None:
        try:
            assert self.driver is not None
            while not cancel.is_set():
                item, steps, messages = self.driver.poll(self.item)
                self.item = item
                self.messages.extend(messages)
                if steps:
                    self.step.value = (
                        f"<span style='color:#374151'>▶ {html.escape(steps[-1])}</span>"
                    )
                self._show(item)
                self._follow(item)
                if item.status == "PAUSED":
                    self._show_pause()
                    break
                if getattr(item, "is_terminal", False):
                    self._finish(item)
                    break
                self._pause(cancel)
        except Exception as exc:
            self._show_stop(False)
            self.box.show(exc)
        finally:
            self._settled.set()

    def _pause(self, cancel: threading.Event) -> None:
        if self._clock is None or isinstance(self._clock, SystemClock):
            cancel.wait(self.poll_interval)
        else:
            run_sync(self._clock.sleep(self.poll_interval))

    # -- display (traits only) -------------------------------------------------------

    def _show_status(self, status: str) -> None:
        colour = _STATUS_COLOURS.get(status, "#6b7280")
        self.status.value = f"<span class='bbnb-status-{status.lower()}' style='font-weight:600;color:{colour}'>{status}</span>"

    def _show(self, item: Any) -> None:
        self._show_status(str(item.status))
        if self._clock is not None:
            seconds = max(0.0, self._clock.now() - self._started_at)
            self.elapsed.value = f"<span style='color:#6b7280;margin:0 12px'>{seconds:.1f} s</span>"
        running = item.status in ("PENDING", "RUNNING", "PAUSED")
        self._show_stop(running and self.driver is not None and self.driver.can_stop)

    def _show_stop(self, can_stop: bool) -> None:
        """Show Stop only while there is something it can stop."""
        self.stop_button.disabled = not can_stop
        self.stop_button.layout.display = "" if can_stop else "none"

    def show_note(self, text: str) -> None:
        """Show a calm (amber) note about the result, e.g. why some fields are empty."""
        self.note.value = (
            "<div class='bbnb-result-note' style='color:#92400e;background:#fffbeb;"
            "border-left:3px solid #f59e0b;padding:3px 8px;font-size:12px;line-height:1.4;margin-top:4px'>"
            f"{html.escape(text)}</div>"
        )

    def _show_pause(self) -> None:
        question = pause_question(self.messages) or "The agent is waiting for your input."
        self.question.value = f"<b>The agent asks:</b> {html.escape(question)}"
        self.pause_box.layout.display = "flex"

    def _finish(self, item: Any) -> None:
        cause = getattr(item, "cause", None)
        if item.status != "COMPLETED" and cause is not None:
            self.box.message(f"{item.status}: {cause}")
        try:
            self._show_replay(item)
        except Exception as exc:
            self.box.show(exc)
        self._call_done(item)

    def _call_done(self, item: Any) -> None:
        for callback in self.on_done:
            try:
                callback(item)
            except Exception as exc:
                self.box.show(exc)

    def show_frame(self, frame: Any) -> None:
        """Render a result DataFrame as a table (data columns first, provenance last)."""
        data = [c for c in frame.columns if not str(c).startswith("_")]
        meta = [c for c in ("_status", "_duration_s") if c in frame.columns]
        view = frame[data + meta] if data else frame
        table = view.to_html(
            index=False, max_rows=50, classes="bbnb-result-table", border=0, na_rep=""
        )
        rows = len(frame)
        self.result_html.value = (
            f"{_TABLE_STYLE}<div style='margin-top:6px'><b>Result</b> ({rows} row{'s' if rows != 1 else ''})</div>"
            f"<div style='max-height:400px;overflow:auto'>{table}</div>"
        )

    def show_error_text(self, exc: BaseException) -> None:
        """Show an exception as one line."""
        self.box.message(one_line(exc))


class ShowsRunPanel:
    """What a form with a ``RunPanel`` (``self.panel``) offers: its live view, its replay,
    and a ``close()`` that stops the panel's threads before the widget closes."""

    panel: RunPanel

    @property
    def live_view(self) -> Any:
        """The running session's ``LiveView`` (None before it has a session, and once done)."""
        return self.panel.live_view

    @property
    def replay(self) -> Any:
        """The finished run's ``Replay`` (None until it is done)."""
        return self.panel.replay

    def close(self) -> None:
        """Stop the panel's threads (watcher, live view), then close the form."""
        if hasattr(self, "panel"):  # not when __init__ refused its arguments
            self.panel.close()
        super().close()  # type: ignore[misc]  # the widget class after this mixin
