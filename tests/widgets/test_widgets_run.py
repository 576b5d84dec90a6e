"""AgentTask and FunctionInvoke against the in-process emulator: Run, Stop, Pause/Resume, errors."""

from __future__ import annotations

import html
from typing import Any

import pytest

from bbnb.client._client import Client
from bbnb.emulator import Emulator, EmulatorConfig
from bbnb.widgets import AgentTask, FunctionInvoke

SETTLE = 30.0
"""Real seconds a test waits for a widget to settle before failing."""


def _two_field_task(client: Any) -> AgentTask:
    form = AgentTask("List the products on example.com", client=client)
    items = form.schema.fields.add_field("products", "list of objects")
    items.children.add_field("title", "string")
    items.children.add_field("price", "number")
    return form


def test_run_shows_result_table(widget_client: Any) -> None:
    """Clicking Run creates a run, follows it, and shows the result as a table."""
    form = _two_field_task(widget_client)
    form.run_button.click()
    run = form.wait(SETTLE)
    assert form.errors == []
    assert run.status == "COMPLETED"
    assert form.result is not None and form.result.run_id == run.run_id
    assert form.frame is not None and len(form.frame) >= 1
    assert {"products.title", "products.price"} <= set(form.frame.columns) or {
        "title",
        "price",
    } <= set(form.frame.columns)
    assert "bbnb-result-table" in form.panel.result_html.value
    assert "COMPLETED" in form.panel.status.value
    assert form.panel.step.value, "the latest agent step is shown"
    assert form.panel.stop_button.disabled


@pytest.fixture
def slow_config() -> EmulatorConfig:
    """Runs that take long enough (simulated) for a Stop to land first."""
    return EmulatorConfig(seed=3, run_seconds=(400.0, 400.0))


def test_stop_ends_the_run(slow_config: EmulatorConfig) -> None:
    """Stop, pressed while running, ends the run as STOPPED and the panel says so."""
    emulator = Emulator(slow_config, clock=_clock())
    with _client(emulator) as client:
        form = AgentTask("Crawl every page of example.com", client=client, poll_interval=0.5)
        form.run()
        form.panel.stop_button.click()
        run = form.wait(SETTLE)
        assert form.errors == []
        assert run.status == "STOPPED"
        assert "STOPPED" in form.panel.status.value


def test_pause_then_resume(widget_client: Any) -> None:
    """A run with pauseWhen pauses with the agent's question; Resume finishes it."""
    form = AgentTask("Sign in to example.com", client=widget_client)
    form.pause_when.value = "a one-time code is required"
    form.run_button.click()
    run = form.wait(SETTLE)
    assert run.status == "PAUSED", form.errors
    assert form.panel.pause_box.layout.display == "flex"
    assert "one-time code" in html.unescape(form.panel.question.value)
    form.panel.answer.value = "123456"
    form.panel.resume_button.click()
    run = form.wait(SETTLE)
    assert form.errors == []
    assert run.status == "COMPLETED"
    assert form.panel.pause_box.layout.display == "none"


def test_resume_needs_an_answer(widget_client: Any) -> None:
    """Resume with an empty answer says what to do instead of failing silently."""
    form = AgentTask("Sign in", client=widget_client)
    form.pause_when.value = "a code is needed"
    form.run()
    assert form.wait(SETTLE).status == "PAUSED"
    form.panel.resume_button.click()
    assert "type an answer" in html.unescape(form.panel.box.widget.value)
    assert isinstance(form.errors[-1], ValueError)


def test_api_error_on_run_is_shown_not_lost(widget_emulator: Emulator) -> None:
    """A rejected create (wrong key) appears as one line in the widget and in .errors."""
    with Client(
        api_key="bb_wrong_key",
        base_url="http://emulator.test",
        transport=widget_emulator.transport(),
        clock=widget_emulator.clock,
        max_retries=0,
    ) as client:
        form = AgentTask("Find the title", client=client)
        form.run_button.click()
        assert form.errors, "the error was kept"
        assert "AuthenticationError" in form.box.widget.value
        assert form.panel.item is None


def test_error_in_the_waiting_thread_is_shown(widget_client: Any) -> None:
    """An exception while polling lands in the panel instead of vanishing with the thread."""
    form = AgentTask("Find the title", client=widget_client)

    class Boom(RuntimeError):
        pass

    def broken_retrieve(run_id: str) -> Any:
        raise Boom(f"lost contact while polling {run_id}")

    form.run()
    form.panel.wait(SETTLE)  # let the first watch finish, then break polling and re-watch
    widget_client.agents.runs.retrieve = broken_retrieve
    form.panel._watch()
    assert form.panel.wait(SETTLE)
    assert any(isinstance(e, Boom) for e in form.errors)
    assert "lost contact while polling" in form.panel.box.widget.value


def test_second_run_while_running_is_refused(slow_config: EmulatorConfig) -> None:
    """Run while a run is in progress explains itself and creates nothing."""
    emulator = Emulator(slow_config, clock=_clock())
    with _client(emulator) as client:
        form = AgentTask("Crawl", client=client, poll_interval=0.5)
        form.run()
        form.run_button.click()
        assert "already in progress" in form.box.widget.value
        form.stop()
        assert form.wait(SETTLE).status == "STOPPED"


def test_function_invoke_runs_and_shows_result(
    widget_emulator: Emulator, widget_client: Any
) -> None:
    """FunctionInvoke validates params, invokes, and shows the returned rows."""
    function_id = widget_emulator.register_function(
        "prices", lambda params, context: [{"sku": s, "price": 9.5} for s in params["skus"]]
    )
    form = FunctionInvoke(function_id, {"skus": ["a", "b", "c"]}, client=widget_client)
    form.settings.field("timeout").value = "300"
    assert form.value.to_wire() == {
        "params": {"skus": ["a", "b", "c"]},
        "sessionCreateParams": {"timeout": 300},
    }
    form.run_button.click()
    invocation = form.wait(SETTLE)
    assert form.errors == []
    assert invocation.status == "COMPLETED"
    assert len(form.frame) == 3
    assert "bbnb-result-table" in form.panel.result_html.value


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("[1, 2]", "JSON object", id="not-object"),
        pytest.param("{oops", "not valid JSON", id="bad-json"),
        pytest.param('{"blob": "' + "x" * 70_000 + '"}', "64 KB", id="too-large"),
    ],
)
def test_function_params_are_checked(text: str, message: str) -> None:
    """Bad params are explained under the editor and block Run."""
    form = FunctionInvoke("fn_123")
    form.params.value = text
    assert message in html.unescape(form.params_error.value)
    form.run_button.click()
    assert message in html.unescape(form.box.widget.value)


def _clock() -> Any:
    from bbnb._clock import ManualClock

    return ManualClock()


def _client(emulator: Emulator) -> Client:
    return Client(
        api_key=emulator.config.api_key,
        base_url="http://emulator.test",
        transport=emulator.transport(),
        clock=emulator.clock,
    )


@pytest.mark.parametrize("live", [True, False], ids=["live-on", "live-off"])
def test_simulated_session_shows_no_empty_live_or_replay_section(
    widget_client: Any, live: bool
) -> None:
    """A simulated session sends no picture: the live section stays hidden, no replay error shows."""
    task = AgentTask("Find the title of example.com", client=widget_client, live=live)
    try:
        task.run()
        task.wait(30)
        assert task.result.status == "COMPLETED"
        assert task.panel.watch.layout.display == "none"
        assert task.live_view is None
        if live:
            assert task.replay is not None and task.replay.frames == []
        else:
            assert task.replay is None
        assert task.errors == []
    finally:
        task.close()
