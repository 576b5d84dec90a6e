"""The agent variables editor: name, value (secret), description; the agent sees ``%name%``.

Values are typed into password boxes and moved into ``SecretStr`` in Python as soon
as they reach the kernel; the boxes are emptied so no value stays in the widget
state or in a saved notebook.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import ipywidgets as w
from pydantic import SecretStr

from bbnb.widgets._feedback import error_label, set_error
from bbnb.widgets._fields import SecretInput

__all__ = ["VariableRow", "VariablesEditor"]

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


class VariableRow:
    """One variable."""

    def __init__(
        self, on_change: Callable[[], None], on_remove: Callable[[VariableRow], None]
    ) -> None:
        self.name = w.Text(value="", placeholder="name", layout=w.Layout(width="150px"))
        self.value = SecretInput(placeholder="value (hidden)")
        self.description = w.Text(
            value="", placeholder="description (optional)", layout=w.Layout(width="240px")
        )
        self.remove = w.Button(
            description="✕", tooltip="remove this variable", layout=w.Layout(width="36px")
        )
        self.error = error_label()
        self.remove.on_click(lambda _b: on_remove(self))
        for control in (self.name, self.description):
            control.observe(lambda _c: on_change(), names="value")
        self.value.on_change(on_change)
        self.widget = w.HBox(
            [self.name, self.value.widget, self.description, self.remove, self.error]
        )
        self.widget.add_class("bbnb-variable-row")

    def check(self, seen: set[str]) -> str | None:
        """The problem with this row, if any."""
        name = self.name.value.strip()
        if not name:
            return "give the variable a name"
        if not _NAME.match(name):
            return f"{name!r} cannot be a %name% placeholder: use letters, digits, '_', '.', '-'"
        if name in seen:
            return f"{name!r} is used twice"
        seen.add(name)
        if self.value.secret is None:
            return f"type a value for {name!r} (press Enter)"
        return None


class VariablesEditor(w.VBox):  # type: ignore[misc]
    """A table of variables; ``.variables`` is ``{name: {"value": SecretStr, ...}}``."""

    def __init__(self) -> None:
        self.rows: list[VariableRow] = []
        self.add = w.Button(description="Add variable", icon="plus", layout=w.Layout(width="170px"))
        self.add.add_class("bbnb-add-variable")
        self.add.on_click(lambda _b: self.add_row())
        self.table = w.VBox()
        self._listeners: list[Callable[[], None]] = []
        super().__init__(
            children=[
                w.HTML(
                    "<b>Variables</b> (the task refers to them as <code>%name%</code>; values stay hidden)"
                ),
                self.table,
                self.add,
            ]
        )
        self.add_class("bbnb-variables")

    def on_change(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` whenever a variable changes."""
        self._listeners.append(callback)

    def _changed(self) -> None:
        self.table.children = [row.widget for row in self.rows]
        for listener in self._listeners:
            listener()

    def add_row(
        self, name: str = "", value: str | SecretStr | None = None, description: str = ""
    ) -> VariableRow:
        """Append a variable (a value given here never touches the widget state)."""
        row = VariableRow(self._changed, self.remove_row)
        row.name.value = name
        row.description.value = description
        if value is not None:
            row.value.set(value)
        self.rows.append(row)
        self._changed()
        return row

    def remove_row(self, row: VariableRow) -> None:
        """Drop a variable."""
        self.rows.remove(row)
        self._changed()

    def check(self) -> int:
        """Show problems next to each row; return how many there are."""
        seen: set[str] = set()
        problems = 0
        for row in self.rows:
            message = row.check(seen)
            set_error(row.error, message)
            problems += message is not None
        return problems

    @property
    def variables(self) -> dict[str, dict[str, Any]] | None:
        """The variables for the request, or None when there are none."""
        if self.check():
            raise ValueError("fix the variables: each needs a unique name and a value")
        out: dict[str, dict[str, Any]] = {}
        for row in self.rows:
            item: dict[str, Any] = {"value": row.value.secret}
            if row.description.value.strip():
                item["description"] = row.description.value.strip()
            out[row.name.value.strip()] = item
        return out or None
