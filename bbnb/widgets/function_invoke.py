"""``FunctionInvoke``: JSON params and session settings for a deployed function, Run, result.

The params editor checks the JSON as you type: it must be an object and at most
64 KB serialized, as Browserbase requires.  The session settings use the function
rules (timeout 60..900 s; no region, keep-alive or project).  Browserbase has no
endpoint to cancel an invocation, so there is no Stop button here.
"""

from __future__ import annotations

import html
import json
from typing import Any

import ipywidgets as w
from pydantic import ValidationError

from bbnb.models import INVOCATION_PARAMS_LIMIT, FunctionInvokeParams
from bbnb.widgets._badge import SimulatedBadge
from bbnb.widgets._cache import CachedAnswer, JournalArg, WidgetCache, mark_cached
from bbnb.widgets._client import UsesClient
from bbnb.widgets._feedback import ErrorBox, error_label, guarded, set_error
from bbnb.widgets._fields import labelled, section
from bbnb.widgets.magic_output import MagicOutput
from bbnb.widgets.magic_text import function_magic
from bbnb.widgets.run_panel import FunctionDriver, RunPanel, ShowsRunPanel
from bbnb.widgets.settings import SessionSettings

__all__ = ["FunctionInvoke"]


class FunctionInvoke(ShowsRunPanel, UsesClient, w.VBox):  # type: ignore[misc]
    """A form for one invocation of ``function_id``; the result is shown as a table."""

    def __init__(
        self,
        function_id: str,
        params: dict[str, Any] | None = None,
        *,
        client: Any = None,
        poll_interval: float = 1.0,
        live: bool = True,
        cache: bool | str = True,
        cache_ttl: float | None = None,
        journal: JournalArg = True,
    ) -> None:
        if not isinstance(function_id, str) or not function_id.strip():
            raise ValueError("FunctionInvoke needs the function's id, e.g. FunctionInvoke('fn_…')")
        self.function_id = function_id.strip()
        self._client = client
        self.box = ErrorBox()
        self.badge = SimulatedBadge(client)
        self.params = w.Textarea(
            value=json.dumps(params or {}, indent=2),
            placeholder='{"url": "http://shop.bbnb.test/"}',
            rows=6,
            layout=w.Layout(width="640px"),
        )
        self.params.add_class("bbnb-params")
        self.params_error = error_label()
        self.size = w.HTML(value="")
        self.settings = SessionSettings("function", title="Session settings for the function")
        settings_box = section(self.settings, "Session settings")
        self.preview = w.HTML(value="")
        preview_box = section(self.preview, "Request body preview")
        self.run_button = w.Button(description="Run", icon="play", button_style="primary")
        self.run_button.add_class("bbnb-run")
        self.magic_button = w.Button(description="Copy as magic", icon="clipboard")
        self.magic_button.add_class("bbnb-copy-magic")
        self.magic = MagicOutput()
        self.panel = RunPanel(poll_interval=poll_interval, live=live)
        self.panel.on_done.append(self._on_done)
        self.cache = WidgetCache(cache, cache_ttl, journal)
        self.cached: CachedAnswer | None = None
        self.panel.again_button.on_click(guarded(self.box)(lambda _b: self.run(refresh=True)))
        self.result: Any = None
        self.frame: Any = None
        on_change = guarded(self.box)(self.refresh)
        self.params.observe(lambda _c: on_change(), names="value")
        self.settings.on_change(on_change)
        self.run_button.on_click(guarded(self.box)(lambda _b: self.run()))
        self.magic_button.on_click(guarded(self.box)(lambda _b: self.show_magic()))
        super().__init__(
            children=[
                w.HTML(f"<h3 style='margin:4px 0'>Function {html.escape(self.function_id)}</h3>"),
                self.badge.widget,
                labelled("Params (JSON)", w.VBox([self.params, self.size])),
                self.params_error,
                settings_box,
                preview_box,
                w.HBox([self.run_button, self.magic_button]),
                self.box.widget,
                self.magic.widget,
                self.panel,
            ]
        )
        self.add_class("bbnb-function-invoke")
        self.refresh()

    def _params(self) -> dict[str, Any]:
        text = self.params.value.strip()
        if not text:
            return {}
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(
                f"params are not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
            ) from None
        if not isinstance(data, dict):
            raise ValueError(f"params must be a JSON object {{...}}, not {type(data).__name__}")
        return data

    @property
    def value(self) -> FunctionInvokeParams:
        """The validated invoke body (``ValueError`` says what to fix)."""
        params = self._params()
        settings = self.settings.value
        body: dict[str, Any] = {"params": params}
        if settings.to_wire():
            body["session_create_params"] = settings
        try:
            return FunctionInvokeParams.model_validate(body)
        except ValidationError as exc:
            item = exc.errors()[0]
            where = ".".join(str(p) for p in item["loc"])
            raise ValueError(f"{where}: {item['msg'].removeprefix('Value error, ')}") from None

    def refresh(self) -> None:
        """Re-validate: params error and size, and the masked preview."""
        try:
            size = len(json.dumps(self._params(), separators=(",", ":")).encode())
            self.size.value = (
                f"<span style='color:#6b7280;font-size:12px'>{size:,} of "
                f"{INVOCATION_PARAMS_LIMIT:,} bytes</span>"
            )
        except ValueError:
            self.size.value = ""
        try:
            body = self.value
        except ValueError as exc:
            message = str(exc)
            params_problem = message.startswith("param")
            set_error(self.params_error, message if params_problem else None)
            self.preview.value = html.escape(f"(not valid yet: {message})")
            return
        set_error(self.params_error, None)
        self.box.clear()  # the input is valid now: an earlier error no longer applies
        text = json.dumps(body.to_safe_dict(), indent=2)
        self.preview.value = f"<pre class='bbnb-preview' style='margin:0'>{html.escape(text)}</pre>"

    def run(self, *, refresh: bool = False) -> Any:
        """Invoke the function and follow the invocation; returns it.

        With the cache on (``cache=True``, the default) an identical invocation that
        COMPLETED on this server within ``cache_ttl`` is answered from the journal: none
        is created, the panel says so and offers **Run again** (``refresh=True``).
        """
        self.box.clear()
        body = self.value
        self.result, self.frame = None, None
        client = self.client
        self.badge.update(client)
        self.cached = self.cache.lookup(
            client, "function", self.function_id, body.to_wire(), refresh=refresh
        )
        if self.cached is not None:
            self.panel.show_cached(self.cached.run, self.cached.age, client)
            return self.cached.run
        try:
            return self.panel.start(FunctionDriver(client, self.function_id, body), client.clock)
        finally:
            self.badge.update(client)

    def wait(self, timeout: float = 60.0) -> Any:
        """Block until the invocation finishes; returns it (``TimeoutError`` if not)."""
        if not self.panel.wait(timeout):
            raise TimeoutError(f"the invocation did not finish within {timeout:g} s")
        return self.panel.item

    @property
    def errors(self) -> list[BaseException]:
        """Every error any callback of this widget hit, oldest first."""
        return [*self.box.errors, *self.panel.box.errors, *self.settings.box.errors]

    def _on_done(self, invocation: Any) -> None:
        from bbnb.results import to_frame

        self.result = invocation
        self.badge.update(self.client)
        if self.cached is None:
            self.cache.store(self.client, invocation)
        frame = to_frame(invocation)
        if self.cache.mode != "off":
            frame = mark_cached(frame, self.cached)
        self.frame = frame
        self.panel.show_frame(frame)

    def to_magic(self, settings_var: str = "bb_settings") -> str:
        """The equivalent ``%%bb_run function ID`` cell (params as the body)."""
        body = self.value
        settings = None if body.session_create_params is None else settings_var
        return function_magic(self.function_id, body.params, settings_var=settings)

    def show_magic(self, settings_var: str = "bb_settings") -> str:
        """Show the magic cell in a copyable box and bind the settings it references."""
        text = self.to_magic(settings_var)
        if self.value.session_create_params is not None:
            self.magic.bind(settings_var, self.settings.value)
        self.magic.show(text, [])
        return text

    def copy_as_magic(self, settings_var: str = "bb_settings") -> str:
        """From a cell: insert the magic as the next cell (also shown in the widget)."""
        text = self.show_magic(settings_var)
        self.magic.insert_next_cell(text)
        return text
