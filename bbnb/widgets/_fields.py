"""Small form building blocks: labelled rows with an error line, and a secret input.

:class:`SecretInput` is how secrets enter a widget without staying in it.  It is a
password box that syncs only on Enter/blur; the moment a value reaches the kernel it
is moved into a ``SecretStr`` held in Python and the box is emptied again, so the
value is neither in the synced widget state nor in a saved notebook.  Its
placeholder then says a value is set.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets as w
from pydantic import SecretStr

from bbnb.widgets._feedback import error_label

__all__ = ["LABEL_WIDTH", "Field", "SecretInput", "labelled", "parse_int", "section"]

LABEL_WIDTH = "150px"


def section(child: w.Widget, title: str, *, expanded: bool = False) -> w.Accordion:
    """A one-section accordion titled ``title``, closed unless ``expanded``."""
    box = w.Accordion(children=[child], selected_index=0 if expanded else None)
    box.set_title(0, title)
    return box


def labelled(label: str, control: w.Widget, *, tooltip: str = "") -> w.HBox:
    """``label  control`` on one row, the label at a fixed width."""
    text = w.Label(value=label, layout=w.Layout(width=LABEL_WIDTH, min_width=LABEL_WIDTH))
    if tooltip:
        text.tooltip = tooltip
    return w.HBox([text, control], layout=w.Layout(align_items="center"))


class Field:
    """One form control with its error line, addressed by a key path in the model."""

    def __init__(self, key: tuple[str | int, ...], control: w.Widget, label: str = "") -> None:
        self.key = key
        self.control = control
        self.error = error_label()
        parts: list[w.Widget] = [control, self.error]
        self.row = (
            labelled(label, w.HBox(parts, layout=w.Layout(align_items="center")))
            if label
            else w.HBox(parts, layout=w.Layout(align_items="center"))
        )

    def observe(self, callback: Callable[[Any], None]) -> None:
        """Call ``callback`` whenever the control's value changes."""
        self.control.observe(callback, names="value")


class SecretInput:
    """A password box whose value moves into Python (``SecretStr``) and leaves the front end."""

    SET_PLACEHOLDER = "•••••• set (type to replace)"

    def __init__(self, placeholder: str = "value", width: str = "180px") -> None:
        self._empty_placeholder = placeholder
        self._secret: SecretStr | None = None
        self.widget = w.Password(
            value="",
            placeholder=placeholder,
            continuous_update=False,
            layout=w.Layout(width=width),
        )
        self._listeners: list[Callable[[], None]] = []
        self.widget.observe(self._capture, names="value")

    def _capture(self, change: dict[str, Any]) -> None:
        value = change["new"]
        if not value:
            return
        self._secret = SecretStr(str(value))
        # Empty the synced state at once: the value now lives only in Python.
        self.widget.value = ""
        self.widget.placeholder = self.SET_PLACEHOLDER
        for listener in self._listeners:
            listener()

    def on_change(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` after a new secret was captured or the secret was cleared."""
        self._listeners.append(callback)

    @property
    def secret(self) -> SecretStr | None:
        """The captured value, or ``None`` if none was typed."""
        return self._secret

    def set(self, value: str | SecretStr | None) -> None:
        """Set (or clear) the secret from Python without it touching the widget state."""
        if isinstance(value, str):
            value = SecretStr(value)
        self._secret = value
        self.widget.placeholder = self.SET_PLACEHOLDER if value else self._empty_placeholder
        for listener in self._listeners:
            listener()


def parse_int(text: str, what: str) -> int | None:
    """``None`` for an empty box, else a whole number (``ValueError`` says what was wrong)."""
    text = text.strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{what} must be a whole number, got {text!r}") from None
