"""What a new user trips on in the widgets: labels, errors that come and go, controls that can act."""

from __future__ import annotations

import html
import shlex
from collections.abc import Iterator
from typing import Any

import pytest

from bbnb._clock import ManualClock
from bbnb.client._client import Client
from bbnb.emulator import Emulator, EmulatorConfig
from bbnb.widgets import AgentTask, FunctionInvoke, RunMonitor, SessionSettings, magic_output

SETTLE = 30.0
"""Real seconds a test waits for a widget to settle before failing."""


def _text(value: str) -> str:
    return html.unescape(value)


@pytest.fixture
def slow_client() -> Iterator[Client]:
    """A client on an emulator whose runs take long enough (simulated) to watch them run."""
    emulator = Emulator(EmulatorConfig(seed=3, run_seconds=(400.0, 400.0)), clock=ManualClock())
    client = Client(
        api_key=emulator.config.api_key,
        base_url="http://emulator.test",
        transport=emulator.transport(),
        clock=emulator.clock,
    )
    yield client
    client.close()


@pytest.fixture
def partial_client() -> Iterator[Client]:
    """A client on an emulator whose every answer only partly matches its schema."""
    emulator = Emulator(EmulatorConfig(seed=5, partial_result_rate=1.0), clock=ManualClock())
    client = Client(
        api_key=emulator.config.api_key,
        base_url="http://emulator.test",
        transport=emulator.transport(),
        clock=emulator.clock,
    )
    yield client
    client.close()


# -- the simulated badge -----------------------------------------------------------------


def test_agent_task_run_says_it_is_simulated(widget_client: Any) -> None:
    """A run from the form shows a SIMULATED badge that says what is simulated."""
    form = AgentTask("Find the title of example.com", client=widget_client)
    form.run()
    form.wait(SETTLE)
    badge = _text(form.badge.widget.value)
    assert "SIMULATED" in badge
    assert "no cloud" in badge and "rule-based" in badge
    assert form.badge.widget.layout.display != "none"


def test_default_client_badge_is_shown_before_any_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """With no key set, the forms say up front that they will run on the emulator."""
    monkeypatch.delenv("BROWSERBASE_API_KEY", raising=False)
    monkeypatch.delenv("BROWSERBASE_BASE_URL", raising=False)
    for form in (AgentTask(), FunctionInvoke("page-title")):
        assert "SIMULATED" in form.badge.widget.value


def test_real_key_hides_the_badge(monkeypatch: pytest.MonkeyPatch) -> None:
    """With a Browserbase key the badge is hidden (nothing is simulated)."""
    monkeypatch.setenv("BROWSERBASE_API_KEY", "bb_live_BADGE_TEST")
    monkeypatch.delenv("BROWSERBASE_BASE_URL", raising=False)
    form = AgentTask()
    assert form.badge.widget.value == ""
    assert form.badge.widget.layout.display == "none"


def test_monitor_shows_the_badge(widget_client: Any) -> None:
    """RunMonitor labels a simulated batch too."""
    batch = widget_client.agents.run_many(["title of a", "title of b"], progress="none")
    monitor = RunMonitor(batch, client=widget_client)
    assert "SIMULATED" in monitor.badge.widget.value


# -- errors that come and go -------------------------------------------------------------


def test_empty_agent_task_is_quiet_until_run() -> None:
    """An empty task shows no error until the person presses Run; then it says what to do."""
    form = AgentTask()
    assert form.task_error.value == ""
    assert form.box.widget.value == ""
    form.run_button.click()
    assert "type what the agent should do" in _text(form.task_error.value)
    assert "String should have at least 1 character" not in _text(form.box.widget.value)
    assert form.box.widget.value != ""


def test_typing_then_clearing_the_task_shows_the_error() -> None:
    """Once the person has typed in the task, an empty task is an error again."""
    form = AgentTask()
    form.task.value = "x"
    form.task.value = ""
    assert "task" in _text(form.task_error.value)


def test_fixed_params_clear_the_old_error(widget_emulator: Emulator, widget_client: Any) -> None:
    """Run with bad JSON, fix it: the old error line goes away and the run completes."""
    function_id = widget_emulator.register_function("echo", lambda params, context: params)
    form = FunctionInvoke(function_id, client=widget_client)
    form.params.value = "{oops"
    form.run_button.click()
    assert "not valid JSON" in _text(form.box.widget.value)
    form.params.value = '{"url": "https://example.com"}'
    assert form.box.widget.value == ""
    form.run_button.click()
    assert form.wait(SETTLE).status == "COMPLETED"
    assert form.box.widget.value == "" and form.panel.box.widget.value == ""


def test_fixed_task_clears_the_old_error(widget_client: Any) -> None:
    """Run with an empty task, then type one: the error lines are cleared."""
    form = AgentTask(client=widget_client)
    form.run_button.click()
    assert form.box.widget.value != ""
    form.task.value = "Find the title of example.com"
    assert form.box.widget.value == "" and form.task_error.value == ""


def test_unknown_function_leaves_the_form_ready(widget_client: Any) -> None:
    """An unknown function id: one error line, a status that is not SUBMITTING, Run works again."""
    form = FunctionInvoke("page_title", client=widget_client)
    form.run_button.click()
    assert form.errors, "the error was kept"
    assert "SUBMITTING" not in form.panel.status.value
    assert "NOT STARTED" in form.panel.status.value
    assert form.panel.wait(0), "the panel is settled, so Run may be pressed again"
    form.run_button.click()
    assert "already in progress" not in form.box.widget.value
    assert len(form.errors) == 2


# -- controls that can act -----------------------------------------------------------------


def test_function_invoke_never_shows_stop(widget_emulator: Emulator, widget_client: Any) -> None:
    """Browserbase cannot stop an invocation, so FunctionInvoke shows no Stop button."""
    function_id = widget_emulator.register_function("echo", lambda params, context: params)
    form = FunctionInvoke(function_id, client=widget_client)
    assert form.panel.stop_button.layout.display == "none"
    form.run()
    form.wait(SETTLE)
    assert form.panel.stop_button.layout.display == "none"


def test_agent_stop_shows_only_while_running(slow_client: Client) -> None:
    """Stop is hidden when idle, shown while the run is in progress, hidden after it ends."""
    form = AgentTask("Crawl every page of example.com", client=slow_client, poll_interval=0.5)
    assert form.panel.stop_button.layout.display == "none"
    form.run()
    assert form.panel.stop_button.layout.display != "none"
    assert not form.panel.stop_button.disabled
    form.panel.stop_button.click()
    assert form.wait(SETTLE).status == "STOPPED"
    assert form.panel.stop_button.layout.display == "none"


def test_stop_all_is_hidden_once_every_run_is_done(widget_client: Any) -> None:
    """RunMonitor's Stop all disappears when nothing is left to stop."""
    batch = widget_client.agents.run_many(["title of a", "title of b"], progress="none")
    monitor = RunMonitor(batch, client=widget_client)
    assert monitor.wait(SETTLE)
    assert monitor.stop_button.layout.display == "none"
    assert monitor.stop_button.disabled
    assert "(2/2 done)" in monitor.counts.value
    assert "<code style='white-space:nowrap'>" in monitor.table.value, "ids never wrap"


# -- copy as magic -------------------------------------------------------------------------


def test_copy_as_magic_quotes_readably_and_offers_the_clipboard() -> None:
    """The magic text has no shell-quote soup, and the button copies exactly that text."""
    form = AgentTask("Report the top story of news.example")
    form.schema.fields.add_field("title", "string", "the story's title")
    form.pause_when.value = "it asks for the user's password"
    form.magic_button.click()
    text = form.magic.text.value
    assert "'\"'\"'" not in text
    assert '"it asks for the user\'s password"' in text
    assert "the story\\u0027s title" in text
    assert form.magic.widget.layout.display == "flex"
    assert magic_output.clipboard_button(text) == form.magic.copy.value
    assert html.escape(text) in form.magic.copy.value
    assert "navigator.clipboard.writeText" in _text(form.magic.copy.value)
    words = shlex.split(text.partition("\n")[0])
    assert "it asks for the user's password" in words


# -- session settings ----------------------------------------------------------------------


def test_viewport_needs_both_sizes() -> None:
    """A viewport with a bad width and no height says to set both, not 'Field required'."""
    form = SessionSettings()
    form.field("browser_settings", "viewport", "width").value = "-5"
    form.field("browser_settings", "viewport", "height").value = ""
    assert "Field required" not in " ".join(form.errors.values())
    assert "set both width and height" in form.error_for("browser_settings", "viewport", "height")
    assert form.error_for("browser_settings", "viewport", "width")


def test_country_error_names_a_country_and_keeps_columns_still() -> None:
    """USA: the error asks for a country code (not 'NY'); the country cell keeps its width."""
    form = SessionSettings()
    row = form.proxies.add_row()
    row.texts[("geolocation", "country")].value = "USA"
    message = _text(row.errors[("geolocation", "country")].value)
    assert "country code" in message and "'NY'" not in message
    inputs = row.widget.children[0]
    assert row.errors[("geolocation", "country")] in row.widget.children[1:], "below the inputs"
    assert all(not isinstance(child, type(row.errors[("type",)])) for child in inputs.children)
    assert row.texts[("geolocation", "state")] in inputs.children


def test_all_errors_show_at_once() -> None:
    """A bad timeout does not hide the proxy's country error: both show together."""
    form = SessionSettings("function")
    form.field("timeout").value = "30"
    row = form.proxies.add_row()
    row.texts[("geolocation", "country")].value = "USA"
    assert form.error_for("timeout")
    assert "country code" in _text(row.errors[("geolocation", "country")].value)
    form.field("browser_settings", "viewport", "width").value = "wide"
    assert form.error_for("browser_settings", "viewport", "width")
    assert form.error_for("timeout")
    assert "country code" in _text(row.errors[("geolocation", "country")].value)


@pytest.mark.parametrize(
    "name",
    [
        "ignore_certificate_errors",
        "advanced_stealth",
        "enable_pdf_viewer",
        "enable_native_select_polyfill",
    ],
    ids=str,
)
def test_tri_state_dropdowns_show_default(name: str) -> None:
    """The on/off/default dropdowns show 'default' rather than a blank box, and send nothing."""
    form = SessionSettings()
    control = form.field("browser_settings", name)
    assert control.label == "default"
    assert form.safe_body() == {}
    form.set_value({"browser_settings": {name: True}})
    assert control.label == "on"
    form.set_value({})
    assert control.label == "default"


# -- a non-conforming answer ---------------------------------------------------------------


def test_non_conforming_answer_is_explained_in_the_form(partial_client: Client) -> None:
    """An answer that only partly matches the schema says so in the widget: which fields, why."""
    form = AgentTask(
        "Report the top story of news.example: title, points, comments", client=partial_client
    )
    form.schema.fields.add_field("title", "string", "the story's title")
    form.schema.fields.add_field("points", "integer", "points")
    form.run()
    assert form.wait(SETTLE).status == "COMPLETED"
    assert form.frame is not None
    assert not bool(form.frame["_conforms"].all())
    note = _text(form.panel.note.value)
    assert "does not match the result schema" in note or "do not match the result schema" in note
    errors = " ".join(str(e) for e in form.frame["_errors"].dropna())
    assert errors and errors.split(";")[0].strip()[:20] in note
