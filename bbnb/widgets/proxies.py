"""The proxies part of the settings form: none, Browserbase's default, or a table of rules.

Each rule is a Browserbase proxy (with an optional geolocation), an external proxy
(server, username and a password held as a ``SecretStr`` in Python only), or "none"
for the domains it matches.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets as w
from pydantic import BaseModel

from bbnb.widgets._feedback import error_label, set_error
from bbnb.widgets._fields import SecretInput

__all__ = ["ProxyRow", "ProxyTable"]

RowKey = tuple[str, ...]

_MODES = [("No proxy", "none"), ("Browserbase default", "default"), ("Custom rules", "custom")]


class ProxyRow:
    """One proxy rule in the table."""

    TEXT_FIELDS: tuple[RowKey, ...] = (
        ("domain_pattern",),
        ("geolocation", "country"),
        ("geolocation", "state"),
        ("geolocation", "city"),
        ("server",),
        ("username",),
    )

    def __init__(
        self, on_change: Callable[[], None], on_remove: Callable[[ProxyRow], None]
    ) -> None:
        self.type = w.Dropdown(
            options=["browserbase", "external", "none"],
            value="browserbase",
            layout=w.Layout(width="120px"),
        )
        placeholders = {
            ("domain_pattern",): "domain pattern (optional)",
            ("geolocation", "country"): "country (US)",
            ("geolocation", "state"): "state (NY)",
            ("geolocation", "city"): "city",
            ("server",): "server http://host:port",
            ("username",): "username",
        }
        self.texts: dict[RowKey, w.Text] = {
            key: w.Text(value="", placeholder=placeholders[key], layout=w.Layout(width="150px"))
            for key in self.TEXT_FIELDS
        }
        self.password = SecretInput(placeholder="password", width="130px")
        self.errors: dict[RowKey, w.HTML] = {
            key: error_label() for key in (*self.TEXT_FIELDS, ("password",), ("type",))
        }
        self.remove = w.Button(
            description="✕", tooltip="remove this rule", layout=w.Layout(width="36px")
        )
        self.remove.on_click(lambda _b: on_remove(self))
        for control in (self.type, *self.texts.values()):
            control.observe(lambda _c: on_change(), names="value")
        self.type.observe(lambda _c: self._layout(), names="value")
        self.password.on_change(on_change)
        self.widget = w.VBox(
            layout=w.Layout(border="1px solid #ddd", padding="4px", margin="2px 0")
        )
        self.widget.add_class("bbnb-proxy-row")
        self._layout()

    def _control(self, key: RowKey) -> w.Widget:
        return self.password.widget if key == ("password",) else self.texts[key]

    def _layout(self) -> None:
        """The inputs on one line, their errors below it: a long error never moves an input."""
        kind = self.type.value
        keys: list[RowKey] = [("domain_pattern",)]
        if kind == "browserbase":
            keys += [("geolocation", k) for k in ("country", "state", "city")]
        elif kind == "external":
            keys += [("server",), ("username",), ("password",)]
        inputs = w.HBox([self.type, *(self._control(k) for k in keys), self.remove])
        errors = [self.errors[k] for k in keys]
        self.widget.children = [inputs, *errors, self.errors[("type",)]]

    def read(self) -> dict[str, Any]:
        """This rule as a request dict (snake_case keys, the password as ``SecretStr``)."""
        kind = self.type.value
        text = {key: control.value.strip() for key, control in self.texts.items()}
        rule: dict[str, Any] = {"type": kind}
        if text[("domain_pattern",)]:
            rule["domain_pattern"] = text[("domain_pattern",)]
        if kind == "browserbase":
            geo = {
                k: text[("geolocation", k)]
                for k in ("country", "state", "city")
                if text[("geolocation", k)]
            }
            if geo:
                rule["geolocation"] = geo
        elif kind == "external":
            rule["server"] = text[("server",)]
            if text[("username",)]:
                rule["username"] = text[("username",)]
            if self.password.secret is not None:
                rule["password"] = self.password.secret
        return rule

    def set_value(self, rule: BaseModel) -> None:
        """Fill the row from a proxy model."""
        data = rule.model_dump(exclude_none=True, by_alias=False)
        self.type.value = data["type"]
        for key, control in self.texts.items():
            node: Any = data
            for part in key:
                node = node.get(part) if isinstance(node, dict) else None
            control.value = "" if node is None else str(node)
        self.password.set(getattr(rule, "password", None))


class ProxyTable:
    """Proxy mode plus, for custom rules, a table of :class:`ProxyRow`."""

    def __init__(self) -> None:
        self.mode = w.ToggleButtons(options=_MODES, value="none", style={"button_width": "170px"})
        self.rows: list[ProxyRow] = []
        self.add = w.Button(
            description="Add proxy rule", icon="plus", layout=w.Layout(width="160px")
        )
        self.add.on_click(lambda _b: self.add_row())
        self.error = error_label()
        self.table = w.VBox()
        self.widget = w.VBox(
            [
                w.HBox([w.Label("Proxies", layout=w.Layout(width="150px")), self.mode]),
                self.table,
                self.error,
            ]
        )
        self._listeners: list[Callable[[], None]] = []
        self.mode.observe(lambda _c: self._changed(), names="value")
        self._render()

    def on_change(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` whenever the proxies change."""
        self._listeners.append(callback)

    def _changed(self) -> None:
        self._render()
        for listener in self._listeners:
            listener()

    def _render(self) -> None:
        if self.mode.value == "custom":
            self.table.children = [*(row.widget for row in self.rows), self.add]
        else:
            self.table.children = []

    def add_row(self) -> ProxyRow:
        """Append an empty rule (switching to custom rules) and return it."""
        row = ProxyRow(self._changed, self.remove_row)
        self.rows.append(row)
        if self.mode.value != "custom":
            self.mode.value = "custom"
        self._changed()
        return row

    def remove_row(self, row: ProxyRow) -> None:
        """Drop a rule."""
        self.rows.remove(row)
        self._changed()

    def read(self) -> tuple[Any, dict[tuple[Any, ...], str]]:
        """``(proxies for the body or None, errors)``."""
        mode = self.mode.value
        if mode == "none":
            return None, {}
        if mode == "default":
            return True, {}
        if not self.rows:
            return None, {(): "add at least one proxy rule, or choose another proxy mode"}
        return [row.read() for row in self.rows], {}

    def code_hints(self) -> dict[tuple[Any, ...], str]:
        """Plain words for country/state values that are not 2-letter codes.

        The models only warn (Browserbase's endpoint reference does not state the rule, its
        OpenAPI document does), so these hints show next to the field without blocking Run.
        """
        hints: dict[tuple[Any, ...], str] = {}
        examples = {
            "country": "a 2-letter country code such as 'US' or 'DE'",
            "state": "a 2-letter US state code such as 'NY'",
        }
        for index, row in enumerate(self.rows):
            for part, example in examples.items():
                text = row.texts[("geolocation", part)].value.strip()
                if text and not (len(text) == 2 and text.isascii() and text.isalpha()):
                    hints[(index, "geolocation", part)] = (
                        f"{part} should be {example} (Browserbase may refuse {text!r})"
                    )
        return hints

    def owns(self, key: tuple[Any, ...]) -> bool:
        """True if an error at ``key`` (``(index, *field)``) has a place in the table."""
        return bool(key) and isinstance(key[0], int) and key[0] < len(self.rows)

    def show_errors(self, errors: dict[tuple[Any, ...], str]) -> None:
        """Place each error next to its field (row-level when no field matches)."""
        for row in self.rows:
            for label in row.errors.values():
                set_error(label, None)
        leftovers: list[str] = []
        for key, message in errors.items():
            if key and isinstance(key[0], int) and key[0] < len(self.rows):
                row = self.rows[key[0]]
                field = tuple(str(part) for part in key[1:])
                set_error(row.errors.get(field, row.errors[("type",)]), message)
            else:
                leftovers.append(message)
        set_error(self.error, "; ".join(leftovers) or None)

    def set_value(self, proxies: Any) -> None:
        """Fill from a model's ``proxies`` value (None, True or a list of rules)."""
        self.rows = []
        if proxies is None or proxies is False:
            self.mode.value = "none"
        elif proxies is True:
            self.mode.value = "default"
        else:
            for rule in proxies:
                row = ProxyRow(self._changed, self.remove_row)
                row.set_value(rule)
                self.rows.append(row)
            self.mode.value = "custom"
        self._render()
