"""Shared feedback helpers: error lines next to fields, and callbacks that never lose errors.

Every widget callback (a click, a field change, the waiting thread) runs inside
:func:`guarded`: an exception is turned into one readable line in the widget's error
box and kept in ``errors`` for code and tests, instead of vanishing into the browser
console.  Errors are shown by setting a trait (``HTML.value``), so this is safe from
the thread that waits for a run.
"""

from __future__ import annotations

import functools
import html
import threading
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

import ipywidgets as w

__all__ = ["ErrorBox", "error_label", "guarded", "one_line", "set_error"]

P = ParamSpec("P")
R = TypeVar("R")

_ERROR_STYLE = "color:#b00020;font-size:12px;line-height:1.3"


def one_line(exc: BaseException) -> str:
    """A short, single-line description of an exception for a person (no traceback)."""
    text = str(exc).strip() or type(exc).__name__
    first = " ".join(text.split())
    name = type(exc).__name__
    if type(exc) is ValueError or first.startswith(name):
        return first  # a user mistake, already worded for a person
    return f"{name}: {first}"


def error_label() -> w.HTML:
    """An empty error line to place next to a field."""
    return w.HTML(value="", layout=w.Layout(margin="0 0 0 8px"))


def set_error(label: w.HTML, message: str | None) -> None:
    """Show ``message`` (escaped, red) in ``label``, or clear it when ``None``."""
    label.value = (
        ""
        if not message
        else f'<span class="bbnb-error" style="{_ERROR_STYLE}">{html.escape(message)}</span>'
    )


class ErrorBox:
    """The widget-level error area: the latest error shown, every error kept."""

    def __init__(self) -> None:
        self.widget = w.HTML(value="")
        self.errors: list[BaseException] = []
        self._lock = threading.Lock()

    def show(self, exc: BaseException) -> None:
        """Record ``exc`` and show it as one line."""
        with self._lock:
            self.errors.append(exc)
        set_error(self.widget, one_line(exc))

    def message(self, text: str) -> None:
        """Show a plain error message that did not come from an exception."""
        set_error(self.widget, text)

    def clear(self) -> None:
        """Hide the current message (recorded errors are kept)."""
        set_error(self.widget, None)


def guarded(box: ErrorBox) -> Callable[[Callable[P, R]], Callable[P, R | None]]:
    """Decorate a callback so that any exception lands in ``box`` instead of being lost."""

    def decorate(func: Callable[P, R]) -> Callable[P, R | None]:
        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R | None:
            try:
                return func(*args, **kwargs)
            except Exception as exc:
                box.show(exc)
                return None

        return wrapper

    return decorate


def call_guarded(box: ErrorBox, func: Callable[..., Any], *args: Any) -> Any:
    """Call ``func(*args)``, sending any exception to ``box``."""
    return guarded(box)(func)(*args)
