"""``AgentTask``: write a task, shape its result, run it, watch it, get a DataFrame.

The form builds an ``AgentRunCreateParams`` (``.value``) from the task text, the
result-schema builder, the variables editor, ``pauseWhen``, an optional agent id and
the agent's browser settings; a live preview shows the exact body with secrets
masked.  **Run** submits it through the client (the embedded emulator when no API
key is set) and the run panel follows it to the end; the result is shown as a table
and kept as ``.result`` (the run) and ``.frame`` (the DataFrame).  While it runs a
collapsible section shows the live browser (``.live_view``), then its ``.replay``.
"""

from __future__ import annotations

import html
import json
from typing import Any

import ipywidgets as w
from pydantic import BaseModel, ValidationError

from bbnb.models import AgentRunCreateParams
from bbnb.widgets._badge import SimulatedBadge
from bbnb.widgets._cache import CachedAnswer, JournalArg, WidgetCache, mark_cached
from bbnb.widgets._client import UsesClient
from bbnb.widgets._feedback import ErrorBox, error_label, guarded, set_error
from bbnb.widgets._fields import labelled, section
from bbnb.widgets.magic_output import MagicOutput
from bbnb.widgets.magic_text import agent_magic
from bbnb.widgets.run_panel import AgentDriver, RunPanel, ShowsRunPanel
from bbnb.widgets.schema_builder import SchemaBuilder
from bbnb.widgets.settings import SessionSettings
from bbnb.widgets.variables import VariablesEditor

__all__ = ["AgentTask", "conformance_note"]


def _first_error(exc: ValidationError) -> str:
    item = exc.errors()[0]
    where = ".".join(str(p) for p in item["loc"]) or "task"
    if where == "task" and item["type"] in ("string_too_short", "missing"):
        return "task: type what the agent should do, e.g. 'Report the page title of http://shop.bbnb.test/'"
    return f"{where}: {item['msg'].removeprefix('Value error, ')}"


def conformance_note(frame: Any) -> str | None:
    """Why some answer fields are empty: which rows do not match the schema, and how."""
    if "_conforms" not in getattr(frame, "columns", ()):
        return None
    bad = frame[frame["_conforms"].eq(False).fillna(False)]
    if bad.empty:
        return None
    reasons = list(dict.fromkeys(str(e) for e in bad.get("_errors", []) if isinstance(e, str)))
    why = "; ".join(reasons[:3]) or "no details"
    rows = len(bad)
    which = "The answer does not" if rows == len(frame) else f"{rows} of {len(frame)} rows do not"
    return (
        f"{which} match the result schema: {why}. Fields that did not match are left empty; "
        "the agent's own answer is in .result (and the _raw column of .frame)."
    )


class AgentTask(ShowsRunPanel, UsesClient, w.VBox):  # type: ignore[misc]
    """A form for one agent run, with Run/Stop/Resume and the result as a table."""

    def __init__(
        self,
        task: str = "",
        *,
        client: Any = None,
        result_schema: dict[str, Any] | type[BaseModel] | None = None,
        poll_interval: float = 1.0,
        live: bool = True,
        cache: bool | str = True,
        cache_ttl: float | None = None,
        journal: JournalArg = True,
    ) -> None:
        self._client = client
        self.box = ErrorBox()
        self.badge = SimulatedBadge(client)
        self._touched = bool(task)  # no error under an empty task until Run or an edit
        self.task = w.Textarea(
            value=task,
            placeholder="What should the agent do? e.g. List all products in the Kitchen category on shop.bbnb.test",
            rows=3,
            layout=w.Layout(width="640px"),
        )
        self.task.add_class("bbnb-task")
        self.task_error = error_label()
        self.agent_id = w.Text(
            value="", placeholder="optional custom agent id", layout=w.Layout(width="300px")
        )
        self.pause_when = w.Text(
            value="",
            placeholder="optional: when should the agent stop and ask you?",
            layout=w.Layout(width="480px"),
        )
        self.schema = SchemaBuilder()
        self.variables = VariablesEditor()
        self.settings = SessionSettings("agent", title="Browser settings for the agent")
        settings_box = section(self.settings, "Browser settings")
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
        self._schema: dict[str, Any] | None = None
        on_change = guarded(self.box)(self.refresh)
        self.task.observe(lambda _c: self._touch(), names="value")
        for control in (self.task, self.agent_id, self.pause_when):
            control.observe(lambda _c: on_change(), names="value")
        self.schema.on_change(on_change)
        self.variables.on_change(on_change)
        self.settings.on_change(on_change)
        self.run_button.on_click(guarded(self.box)(lambda _b: self.run()))
        self.magic_button.on_click(guarded(self.box)(lambda _b: self.show_magic()))
        super().__init__(
            children=[
                w.HTML("<h3 style='margin:4px 0'>Agent task</h3>"),
                self.badge.widget,
                w.HBox([self.task, self.task_error]),
                labelled("Agent id", self.agent_id),
                labelled("Pause when", self.pause_when),
                self.schema,
                self.variables,
                settings_box,
                preview_box,
                w.HBox([self.run_button, self.magic_button]),
                self.box.widget,
                self.magic.widget,
                self.panel,
            ]
        )
        self.add_class("bbnb-agent-task")
        if result_schema is not None:
            self.schema.set_schema(result_schema)
        self.refresh()

    # -- the request -----------------------------------------------------------------

    def _body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"task": self.task.value}
        if self.agent_id.value.strip():
            body["agent_id"] = self.agent_id.value.strip()
        schema = self.schema.schema
        if schema is not None:
            body["result_schema"] = schema
        variables = self.variables.variables
        if variables:
            body["variables"] = variables
        if self.pause_when.value.strip():
            body["pause_when"] = self.pause_when.value.strip()
        settings = self.settings.value
        if settings.to_wire():
            body["browser_settings"] = settings
        return body

    @property
    def value(self) -> AgentRunCreateParams:
        """The validated run-create body (``ValueError`` says what to fix)."""
        try:
            return AgentRunCreateParams.model_validate(self._body())
        except ValidationError as exc:
            raise ValueError(_first_error(exc)) from None

    def _touch(self) -> None:
        self._touched = True

    def refresh(self) -> None:
        """Re-validate; show the task error (once touched) and the masked preview.

        A valid form clears any error an earlier Run left on screen.
        """
        try:
            params = self.value
        except ValueError as exc:
            message = str(exc)
            task_problem = message.startswith("task") and self._touched
            set_error(self.task_error, message if task_problem else None)
            self.preview.value = (
                f"<pre style='margin:0'>{html.escape('(not valid yet: ' + message + ')')}</pre>"
            )
            return
        set_error(self.task_error, None)
        self.box.clear()
        text = json.dumps(params.to_safe_dict(), indent=2)
        self.preview.value = (
            f"<pre class='bbnb-preview' style='margin:0;font-size:12px'>{html.escape(text)}</pre>"
        )

    # -- running ---------------------------------------------------------------------

    def run(self, *, refresh: bool = False) -> Any:
        """Submit the run and follow it in the panel; returns the created run.

        With the cache on (``cache=True``, the default) an identical request that
        COMPLETED on this server within ``cache_ttl`` is answered from the journal: no
        run is created, the panel says so and offers **Run again** (``refresh=True``).
        """
        self._touched = True
        self.box.clear()
        try:
            params = self.value
        except ValueError:
            self.refresh()  # show the field's error next to it too
            raise
        self.result, self.frame = None, None
        self._schema = params.result_schema
        client = self.client
        self.badge.update(client)
        self.cached = self.cache.lookup(client, "agent", None, params.to_wire(), refresh=refresh)
        if self.cached is not None:
            self.panel.show_cached(self.cached.run, self.cached.age, client)
            return self.cached.run
        try:
            return self.panel.start(AgentDriver(client, params), client.clock)
        finally:
            self.badge.update(client)

    def stop(self) -> None:
        """Stop the current run."""
        self.panel.stop()

    def resume(self, answer: str) -> None:
        """Answer the paused agent."""
        self.panel.resume(answer)

    def wait(self, timeout: float = 60.0) -> Any:
        """Block until the run finishes or pauses; returns the run (``TimeoutError`` if not)."""
        if not self.panel.wait(timeout):
            raise TimeoutError(
                f"the run did not settle within {timeout:g} s; it is still {self.panel.item.status}"
            )
        return self.panel.item

    @property
    def errors(self) -> list[BaseException]:
        """Every error any callback of this widget hit, oldest first."""
        return [
            *self.box.errors,
            *self.panel.box.errors,
            *self.schema.box.errors,
            *self.settings.box.errors,
        ]

    def _on_done(self, run: Any) -> None:
        from bbnb.results import to_frame

        self.result = run
        if self.cached is None:
            self.cache.store(self.client, run)
        frame = to_frame(run, self._schema)
        if self.cache.mode != "off":
            frame = mark_cached(frame, self.cached)
        self.frame = frame
        self.badge.update(self.client)
        self.panel.show_frame(frame)
        note = conformance_note(frame)
        if note:
            self.panel.show_note(note)

    # -- magic -----------------------------------------------------------------------

    def to_magic(self, settings_var: str = "bb_settings", *, reveal: bool = False) -> str:
        """The equivalent ``%%bb_run agent`` cell.

        Variable values appear as ``{{name}}`` templates (never the secret itself);
        ``--var`` has no place for a variable's description, so descriptions are
        not carried over.
        When browser settings are set, they are referenced as ``--settings-var
        settings_var``; bind ``task.settings.value`` to that name.
        """
        params = self.value
        settings = None if params.browser_settings is None else settings_var
        return agent_magic(params, settings_var=settings, reveal=reveal)

    def show_magic(self, settings_var: str = "bb_settings") -> str:
        """Show the magic cell in a copyable box and bind the settings it references."""
        text = self.to_magic(settings_var)
        if self.value.browser_settings is not None:
            self.magic.bind(settings_var, self.settings.value)
        self.magic.show(text, [*sorted(self.value.variables or {})])
        return text

    def copy_as_magic(self, settings_var: str = "bb_settings") -> str:
        """From a cell: insert the magic as the next cell (also shown in the widget)."""
        text = self.show_magic(settings_var)
        self.magic.insert_next_cell(text)
        return text
