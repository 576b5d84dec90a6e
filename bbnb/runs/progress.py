"""Showing a batch while it runs: one compact widget in a notebook, one text line elsewhere.

``progress="auto"`` picks the widget when a live Jupyter frontend is attached to this
kernel (an ipykernel shell with comm support, started by a Jupyter server, which sets
``JPY_SESSION_NAME``; VS Code sets ``VSCODE_PID``), and text otherwise: under nbclient,
in a terminal, in a script.  Text is one line rewritten with ``\\r`` on a TTY and
periodic plain lines when the stream is not a TTY (so logs and saved notebooks stay
short).  ``BBNB_PROGRESS`` (``widget``/``text``/``none``) overrides ``auto``.

Reporters are driven by whoever waits for the batch: they never start threads, never
print from a worker; the widget is only updated by setting traits.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, TextIO

__all__ = [
    "NullProgress",
    "ProgressMode",
    "ProgressReporter",
    "ProgressState",
    "TextProgress",
    "WidgetProgress",
    "make_progress",
]

ProgressMode = Literal["auto", "widget", "text", "none"]
_MODES = ("auto", "widget", "text", "none")
_ORDER = ("COMPLETED", "FAILED", "TIMED_OUT", "STOPPED", "PAUSED", "RUNNING", "PENDING")


@dataclass
class ProgressState:
    """What a reporter shows: counts per status, time, and a note such as rate limiting."""

    label: str
    total: int
    started: float
    now: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)
    queued: int = 0
    done: int = 0
    errors: int = 0
    note: str = ""
    finished: bool = False
    #: Runs already over when this runner first looked (an attach): not counted in ``rate``.
    done_before: int | None = None

    @property
    def elapsed(self) -> float:
        """Seconds since this runner started (on the batch's clock); an attach counts from
        the attach, not from the original submit."""
        return max(0.0, self.now - self.started)

    @property
    def rate(self) -> float:
        """Runs finished per second while this runner watched."""
        finished_here = self.done - (self.done_before or 0)
        return finished_here / self.elapsed if self.elapsed > 0 else 0.0

    def line(self) -> str:
        """The one-line summary, e.g. ``batch-1: 40/100 [COMPLETED 38 FAILED 2 ...]``."""
        parts = [f"{name} {self.counts[name]}" for name in _ORDER if self.counts.get(name)]
        parts += [f"{n} {c}" for n, c in sorted(self.counts.items()) if n not in _ORDER and c]
        if self.errors:
            parts.append(f"not submitted {self.errors}")
        if self.queued:
            parts.append(f"queued {self.queued}")
        text = f"{self.label}: {self.done}/{self.total} done"
        if parts:
            text += " [" + " · ".join(parts) + "]"
        text += f" {self.elapsed:.1f}s · {self.rate:.2f} runs/s"
        if self.note:
            text += f" · {self.note}"
        return text


class ProgressReporter(Protocol):
    """Something that renders a ``ProgressState``."""

    def update(self, state: ProgressState) -> None:
        """Show the latest state (reporters throttle themselves)."""
        ...

    def close(self, state: ProgressState) -> None:
        """Show the final state."""
        ...


class NullProgress:
    """Shows nothing."""

    def update(self, state: ProgressState) -> None:
        """Do nothing."""

    def close(self, state: ProgressState) -> None:
        """Do nothing."""


class TextProgress:
    """One line rewritten in place on a TTY; a plain line every ``every`` seconds otherwise."""

    def __init__(
        self, stream: TextIO | None = None, *, tty: bool | None = None, every: float = 10.0
    ) -> None:
        self._stream = stream
        self._tty = tty
        self._every = every
        self._last = -1e18
        self._width = 0

    @property
    def stream(self) -> TextIO:
        """Where lines go: given, else stdout in a Jupyter kernel, else ``sys.stderr``.

        A kernel shows stderr as an error (a pink box); progress is not an error.
        """
        if self._stream is not None:
            return self._stream
        return sys.stdout if _in_kernel() else sys.stderr

    def _is_tty(self) -> bool:
        if self._tty is not None:
            return self._tty
        isatty = getattr(self.stream, "isatty", None)
        return bool(isatty()) if callable(isatty) else False

    def update(self, state: ProgressState) -> None:
        """Write the line if enough real time has passed since the last one."""
        tick = time.monotonic()
        interval = 0.1 if self._is_tty() else self._every
        if tick - self._last < interval:
            return
        self._last = tick
        self._write(state.line(), final=False)

    def close(self, state: ProgressState) -> None:
        """Write the final line and end it."""
        self._write(state.line(), final=True)

    def _write(self, line: str, *, final: bool) -> None:
        if self._is_tty():
            pad = " " * max(0, self._width - len(line))
            self._width = len(line)
            self.stream.write("\r" + line + pad + ("\n" if final else ""))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()


class WidgetProgress:
    """An ipywidgets bar plus an HTML label, updated by setting traits only."""

    def __init__(self, *, display: bool = True) -> None:
        import ipywidgets

        self.bar = ipywidgets.IntProgress(
            value=0, min=0, max=1, bar_style="info", layout=ipywidgets.Layout(width="160px")
        )
        self.label = ipywidgets.HTML(value="starting…")
        self.box = ipywidgets.HBox(
            [self.bar, self.label], layout=ipywidgets.Layout(flex_flow="row wrap")
        )
        self._last = -1e18
        if display:
            from IPython.display import display as show

            show(self.box)  # type: ignore[no-untyped-call]

    def update(self, state: ProgressState) -> None:
        """Set the bar and label traits (at most ten times a second)."""
        tick = time.monotonic()
        if tick - self._last < 0.1:
            return
        self._last = tick
        self._apply(state)

    def close(self, state: ProgressState) -> None:
        """Set the final traits: green when nothing failed, orange when some runs did,
        red only when none succeeded (a few failures in a big batch are normal)."""
        self._apply(state)
        failed = state.errors + sum(
            state.counts.get(s, 0) for s in ("FAILED", "TIMED_OUT", "STOPPED")
        )
        if not failed:
            self.bar.bar_style = "success"
        elif state.counts.get("COMPLETED", 0):
            self.bar.bar_style = "warning"
        else:
            self.bar.bar_style = "danger"

    def _apply(self, state: ProgressState) -> None:
        import html

        self.bar.max = max(1, state.total)
        self.bar.value = min(state.done, state.total)
        self.bar.bar_style = "warning" if state.note else "info"
        # Each part stays whole ("0.54 runs/s", "interrupted"): lines break between parts.
        parts = state.line().split(" · ")
        self.label.value = (
            "<code>"
            + " · ".join(
                f"<span style='white-space:nowrap'>{html.escape(part)}</span>" for part in parts
            )
            + "</code>"
        )


def _in_kernel() -> bool:
    """True inside a Jupyter kernel (where stderr is drawn as an error)."""
    if "IPython" not in sys.modules:
        return False
    from IPython import get_ipython

    return type(get_ipython()).__name__ == "ZMQInteractiveShell"


def live_notebook() -> bool:
    """True inside an ipykernel with comm support that a Jupyter frontend is attached to."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell: Any = get_ipython()
    if shell is None or type(shell).__name__ != "ZMQInteractiveShell":
        return False
    if getattr(shell, "kernel", None) is None:
        return False
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        return False
    return bool(os.environ.get("JPY_SESSION_NAME") or os.environ.get("VSCODE_PID"))


def make_progress(mode: str, *, stream: TextIO | None = None) -> ProgressReporter:
    """A reporter for ``progress=`` (``"auto"``, ``"widget"``, ``"text"``, ``"none"``)."""
    if mode not in _MODES:
        raise ValueError(f"progress={mode!r} is not one of {', '.join(map(repr, _MODES))}")
    if mode == "auto":
        forced = os.environ.get("BBNB_PROGRESS", "").strip().lower()
        if forced in ("widget", "text", "none"):
            mode = forced
        else:
            mode = "widget" if live_notebook() else "text"
    if mode == "none":
        return NullProgress()
    if mode == "widget":
        return WidgetProgress()
    return TextProgress(stream)
