"""``SessionSettings``: a form that builds valid browser settings (session, function, agent).

Common settings come first, the rest sit in an "Advanced" accordion.  Every change
re-validates the whole body with the same pydantic model the client sends
(``SessionCreateParams``, under the function rules for ``target="function"``, or
``AgentBrowserSettings`` for ``target="agent"``); each error is shown next to its
field and a live preview shows the exact wire body with passwords masked.
Check boxes only send a key when it differs from Browserbase's documented default,
so the body stays as small as what a person would write by hand.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Literal

import ipywidgets as w
from pydantic import BaseModel, ValidationError

from bbnb.models import (
    AgentBrowserSettings,
    SessionCreateParams,
)
from bbnb.widgets._feedback import ErrorBox, guarded, set_error
from bbnb.widgets._fields import Field, parse_int, section
from bbnb.widgets.proxies import ProxyTable

__all__ = ["SessionSettings", "SettingsTarget"]

SettingsTarget = Literal["session", "function", "agent"]
Key = tuple[str | int, ...]

_ALL: frozenset[str] = frozenset({"session", "function", "agent"})
_BROWSER: frozenset[str] = frozenset({"session", "function"})
_SESSION: frozenset[str] = frozenset({"session"})

# Dropdown values are words: ipywidgets reads a value of None as "nothing selected" and
# would show a blank box instead of "default".
_TRI = [("default", "default"), ("on", "on"), ("off", "off")]
_TRI_VALUES: dict[str, bool | None] = {"default": None, "on": True, "off": False}


@dataclass(frozen=True)
class _Spec:
    """One simple field: where it goes, how it is entered, and for which targets."""

    key: Key
    label: str
    kind: str  # int | text | choice | check | tri | list | json | multi
    targets: frozenset[str]
    advanced: bool = False
    default: Any = None
    options: tuple[Any, ...] = ()
    placeholder: str = ""


def _bs(name: str) -> Key:
    return ("browser_settings", name)


_SPECS: tuple[_Spec, ...] = (
    _Spec(("timeout",), "Timeout (s)", "int", _BROWSER, placeholder="project default"),
    _Spec(
        ("region",),
        "Region",
        "choice",
        _SESSION,
        options=("", "us-west-2", "us-east-1", "eu-central-1", "ap-southeast-1"),
    ),
    _Spec((*_bs("viewport"), "width"), "Viewport width", "int", _BROWSER, placeholder="auto"),
    _Spec((*_bs("viewport"), "height"), "Viewport height", "int", _BROWSER, placeholder="auto"),
    _Spec(
        _bs("os"),
        "OS",
        "choice",
        _BROWSER,
        options=("", "windows", "mac", "linux", "mobile", "tablet"),
    ),
    _Spec(_bs("block_ads"), "Block ads", "check", _BROWSER, default=False),
    _Spec(_bs("solve_captchas"), "Solve captchas", "check", _BROWSER, default=True),
    _Spec(_bs("record_session"), "Record session", "check", _BROWSER, default=True),
    _Spec(_bs("log_session"), "Log session", "check", _BROWSER, default=True),
    _Spec(("verified",), "Verified", "check", _ALL, default=False),
    _Spec(("context", "id"), "Context id", "text", _ALL, placeholder="none"),
    _Spec(("context", "persist"), "Persist context", "check", _ALL, default=False),
    _Spec(
        _bs("allowed_domains"),
        "Allowed domains",
        "list",
        _BROWSER,
        advanced=True,
        placeholder="shop.bbnb.test, *.bbnb.test",
    ),
    _Spec(("user_metadata",), "User metadata", "json", _BROWSER, advanced=True, placeholder="{}"),
    _Spec(("keep_alive",), "Keep alive", "check", _SESSION, advanced=True, default=False),
    _Spec(("project_id",), "Project id", "text", _SESSION, advanced=True, placeholder="from key"),
    _Spec(("extension_id",), "Extension id", "text", _BROWSER, advanced=True),
    _Spec(_bs("extension_id"), "Browser extension id", "text", _BROWSER, advanced=True),
    _Spec(
        ("proxy_settings", "ca_certificates"),
        "Proxy CA certs",
        "list",
        _BROWSER,
        advanced=True,
        placeholder="certificate ids, comma-separated",
    ),
    _Spec(
        _bs("size"),
        "Browser size",
        "choice",
        _BROWSER,
        advanced=True,
        options=("", "small", "medium", "large"),
    ),
    _Spec(_bs("ignore_certificate_errors"), "Ignore cert errors", "tri", _BROWSER, advanced=True),
    _Spec(_bs("advanced_stealth"), "Advanced stealth", "tri", _BROWSER, advanced=True),
    _Spec(_bs("enable_pdf_viewer"), "PDF viewer", "tri", _BROWSER, advanced=True),
    _Spec(_bs("headful"), "Headful", "tri", _BROWSER, advanced=True),
    _Spec(_bs("enable_native_select_polyfill"), "Select polyfill", "tri", _BROWSER, advanced=True),
    _Spec(
        _bs("extensions"),
        "Extensions",
        "multi",
        _BROWSER,
        advanced=True,
        options=("onepassword", "browser-events"),
    ),
    _Spec(_bs("captcha_image_selector"), "Captcha image CSS", "text", _BROWSER, advanced=True),
    _Spec(_bs("captcha_input_selector"), "Captcha input CSS", "text", _BROWSER, advanced=True),
)


def _control(spec: _Spec) -> w.Widget:
    """The ipywidget that edits one field."""
    width = w.Layout(width="260px")
    if spec.kind in ("int", "text", "list"):
        return w.Text(value="", placeholder=spec.placeholder, layout=width)
    if spec.kind == "choice":
        return w.Dropdown(
            options=[(o or "default", o) for o in spec.options], value="", layout=width
        )
    if spec.kind == "check":
        return w.Checkbox(value=bool(spec.default), indent=False)
    if spec.kind == "tri":
        return w.Dropdown(options=_TRI, value="default", layout=w.Layout(width="120px"))
    if spec.kind == "json":
        return w.Textarea(value="", placeholder=spec.placeholder, rows=3, layout=width)
    if spec.kind == "multi":
        return w.SelectMultiple(options=list(spec.options), value=(), rows=2, layout=width)
    raise AssertionError(f"unknown field kind {spec.kind}")


def _read(spec: _Spec, control: w.Widget) -> Any:
    """The field's value for the body, or ``None`` to omit it (``ValueError`` if unreadable)."""
    value = control.value
    if spec.kind == "int":
        return parse_int(value, spec.label)
    if spec.kind in ("text", "choice"):
        return value.strip() or None if isinstance(value, str) else value
    if spec.kind == "check":
        return None if value == spec.default else bool(value)
    if spec.kind == "tri":
        return _TRI_VALUES[value]
    if spec.kind == "list":
        items = [part.strip() for part in value.split(",") if part.strip()]
        return items or None
    if spec.kind == "json":
        if not value.strip():
            return None
        try:
            data = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ValueError(
                f"{spec.label} is not valid JSON: {exc.msg} (line {exc.lineno})"
            ) from None
        if not isinstance(data, dict):
            raise ValueError(f'{spec.label} must be a JSON object such as {{"team": "data"}}')
        return data
    if spec.kind == "multi":
        return list(value) or None
    raise AssertionError(spec.kind)


def _write(spec: _Spec, control: w.Widget, value: Any) -> None:
    """Show ``value`` (from a model) in the field's control."""
    if spec.kind in ("int", "text"):
        control.value = "" if value is None else str(value)
    elif spec.kind == "choice":
        control.value = value or ""
    elif spec.kind == "check":
        control.value = spec.default if value is None else bool(value)
    elif spec.kind == "tri":
        control.value = {None: "default", True: "on", False: "off"}[value]
    elif spec.kind == "list":
        control.value = ", ".join(value or [])
    elif spec.kind == "json":
        control.value = "" if value is None else json.dumps(value)
    elif spec.kind == "multi":
        control.value = tuple(value or ())


def _put(body: dict[str, Any], key: Key, value: Any) -> None:
    node = body
    for part in key[:-1]:
        node = node.setdefault(str(part), {})
    node[str(key[-1])] = value


def _get(data: dict[str, Any], key: Key) -> Any:
    node: Any = data
    for part in key:
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _message(item: Any, key: Key) -> str:
    """A pydantic error as a person would say it (a viewport needs both sizes)."""
    if item["type"] == "missing" and "viewport" in key:
        return "set both width and height (or leave both empty)"
    if item["type"] == "missing":
        return f"{key[-1] if key else 'this field'} is required here"
    return str(item["msg"]).removeprefix("Value error, ")


def error_key(loc: tuple[Any, ...]) -> Key:
    """Turn a pydantic error location into a field key (drop union and tag markers)."""
    tags = {"bool", "browserbase", "external", "none"}
    out: list[str | int] = []
    for part in loc:
        if isinstance(part, str) and ("[" in part or part in tags):
            continue
        out.append(part)
    return tuple(out)


class SessionSettings(w.VBox):  # type: ignore[misc]
    """Browser session settings as a form; ``.value`` is the validated model.

    ``target="session"`` builds a ``SessionCreateParams`` for ``POST /v1/sessions``;
    ``"function"`` the same model under the function rules (no region, keep-alive
    or project; a timeout over 900 s warns); ``"agent"`` an ``AgentBrowserSettings`` (context,
    proxies, verified).
    """

    def __init__(
        self, target: SettingsTarget = "session", *, title: str = "Session settings"
    ) -> None:
        if target not in _ALL:
            raise ValueError(f"target must be 'session', 'function' or 'agent', got {target!r}")
        self.target: SettingsTarget = target
        self.box = ErrorBox()
        self._fields: dict[Key, tuple[_Spec, Field]] = {}
        common: list[w.Widget] = []
        advanced: list[w.Widget] = []
        for spec in _SPECS:
            if target not in spec.targets:
                continue
            if target != "agent" and spec.key[0] in ("verified", "context"):
                # Sessions keep these inside browserSettings; agents at the top level.
                spec = replace(spec, key=("browser_settings", *spec.key))
            field = Field(spec.key, _control(spec), spec.label)
            field.observe(guarded(self.box)(lambda _change: self.refresh()))
            self._fields[spec.key] = (spec, field)
            (advanced if spec.advanced else common).append(field.row)
        self.proxies = ProxyTable()
        self.proxies.on_change(guarded(self.box)(self.refresh))
        common.append(self.proxies.widget)
        self.preview = w.HTML(value="", layout=w.Layout(width="100%"))
        self.general_error = w.HTML(value="")
        children: list[w.Widget] = [w.HTML(f"<b>{title}</b>"), *common]
        if advanced:
            children.append(section(w.VBox(advanced), "Advanced"))
        preview_box = section(self.preview, "Request body preview", expanded=True)
        children += [self.general_error, preview_box, self.box.widget]
        super().__init__(children=children)
        self.add_class("bbnb-settings")
        self._model: BaseModel | None = None
        self.errors: dict[Key, str] = {}
        self.general: list[str] = []
        self._listeners: list[Callable[[], None]] = []
        self.refresh()

    def on_change(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` after every change (once the form is re-validated)."""
        self._listeners.append(callback)

    # -- reading ---------------------------------------------------------------------

    def field(self, *key: str | int) -> w.Widget:
        """The control that edits ``key`` (e.g. ``field("browser_settings", "os")``)."""
        return self._fields[tuple(key)][1].control

    def error_for(self, *key: str | int) -> str:
        """The error currently shown next to ``key`` ('' when it is valid)."""
        return self.errors.get(tuple(key), "")

    def _body(self) -> tuple[dict[str, Any], dict[Key, str]]:
        """The body as typed, plus errors from fields that could not even be read."""
        body: dict[str, Any] = {}
        errors: dict[Key, str] = {}
        for key, (spec, field) in self._fields.items():
            try:
                value = _read(spec, field.control)
            except ValueError as exc:
                errors[key] = str(exc)
                continue
            if value is not None:
                _put(body, key, value)
        proxies, proxy_errors = self.proxies.read()
        errors.update({("proxies", *k): v for k, v in proxy_errors.items()})
        if proxies is not None:
            body["proxies"] = proxies
        return body, errors

    def _validate(self, body: dict[str, Any]) -> BaseModel:
        if self.target == "agent":
            return AgentBrowserSettings.model_validate(body)
        context = {"target": "function"} if self.target == "function" else None
        return SessionCreateParams.model_validate(body, context=context)

    def refresh(self) -> None:
        """Re-read every field, validate, show errors and the preview.

        Every current error is shown at once: the fields that could be read are
        validated even when another field could not be read.
        """
        body, errors = self._body()
        model: BaseModel | None = None
        general: list[str] = []
        try:
            validated = self._validate(body)
            model = None if errors else validated
        except ValidationError as exc:
            for item in exc.errors():
                key = error_key(tuple(item["loc"]))
                message = _message(item, key)
                if item["loc"][-1:] == ("bool",) and isinstance(body.get("proxies"), list):
                    continue
                target = self._owner(key)
                if target is None:
                    general.append(message)
                else:
                    errors.setdefault(target, message)
        self.errors = errors
        self.general = general
        self._model = model
        for key, (_spec, field) in self._fields.items():
            set_error(field.error, errors.get(key))
        shown = self.proxies.code_hints()
        shown.update({k[1:]: v for k, v in errors.items() if k[:1] == ("proxies",)})
        self.proxies.show_errors(shown)
        set_error(self.general_error, "; ".join(general) or None)
        self._show_preview(model, bool(errors or general))
        for listener in self._listeners:
            listener()

    def _owner(self, key: Key) -> Key | None:
        """The field key that should display an error at ``key`` (longest matching prefix)."""
        if key[:1] == ("proxies",):
            return key if self.proxies.owns(key[1:]) else ("proxies",) if len(key) == 1 else key
        for size in range(len(key), 0, -1):
            if key[:size] in self._fields:
                return key[:size]
        for known in self._fields:
            if known[: len(key)] == key:
                return known
        return None

    def _show_preview(self, model: BaseModel | None, invalid: bool) -> None:
        if model is None or invalid:
            text = "(fix the errors above to see the request body)"
        else:
            text = json.dumps(self.safe_body(), indent=2)
        self.preview.value = (
            f'<pre class="bbnb-preview" style="margin:0;font-size:12px">{html.escape(text)}</pre>'
        )

    @property
    def is_valid(self) -> bool:
        """True when the form holds a valid body."""
        return self._model is not None and not self.errors and not self.general

    @property
    def value(self) -> Any:
        """The validated model (raises ``ValueError`` listing what to fix when invalid)."""
        if self._model is None or self.errors:
            problems = [
                f"{'.'.join(map(str, k)) or 'proxies'}: {v}" for k, v in self.errors.items()
            ]
            raise ValueError(
                "the session settings are not valid: " + "; ".join(problems + self.general)
            )
        return self._model

    def safe_body(self) -> dict[str, Any]:
        """The wire body with secrets masked (what the preview shows); ``{}`` if invalid."""
        if self._model is None:
            return {}
        safe: dict[str, Any] = self._model.to_safe_dict()  # type: ignore[attr-defined]
        return safe

    def is_default(self) -> bool:
        """True when nothing was set (the body would be empty)."""
        return self.is_valid and not self.safe_body()

    # -- writing ---------------------------------------------------------------------

    def set_value(self, value: BaseModel | dict[str, Any]) -> None:
        """Fill the form from a model or a dict (validated first)."""
        # to_wire() keeps secrets (SecretStr is re-wrapped on validation).
        model = self._validate(value if isinstance(value, dict) else value.to_wire())  # type: ignore[attr-defined]
        data = model.model_dump(exclude_none=True, by_alias=False)
        for key, (spec, field) in self._fields.items():
            _write(spec, field.control, _get(data, key))
        self.proxies.set_value(getattr(model, "proxies", None))
        self.refresh()

    def to_magic(self, settings_var: str = "settings") -> str:
        """The ``%bb_run`` options for these settings ('' when they are all defaults).

        Settings travel as a variable (``--settings-var``): bind ``.value`` (or this
        widget) to ``settings_var`` in the notebook namespace.
        """
        self.value  # noqa: B018 - raises when invalid
        return "" if self.is_default() else f"--settings-var {settings_var}"
