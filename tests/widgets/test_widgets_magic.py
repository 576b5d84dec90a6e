"""``.to_magic()`` and "copy as magic": the text parses with the magic's own parser and
plans exactly the request the widget would send; secrets never appear in it."""

from __future__ import annotations

from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell

from bbnb.magics import parse_magic_line, plan_agent, plan_function
from bbnb.widgets import AgentTask, FunctionInvoke


def _split(cell: str) -> tuple[str, str]:
    first, _, body = cell.partition("\n")
    assert first.startswith("%%bb_run ")
    return first.removeprefix("%%bb_run "), body


def _without_descriptions(wire: dict[str, Any]) -> dict[str, Any]:
    """``--var name=value`` carries no description (a documented limit of the magic)."""
    variables = wire.get("variables")
    if variables:
        wire = {**wire, "variables": {k: {"value": v["value"]} for k, v in variables.items()}}
    return wire


def _agent_form(case: str) -> AgentTask:
    form = AgentTask("Find the cheapest laptop on example.com and report it")
    if case in ("schema", "everything"):
        item = form.schema.fields.add_field("laptops", "list of objects")
        item.children.add_field("name", "string", "model name")
        item.children.add_field("price", "number", required=False)
    if case in ("variables", "everything"):
        form.variables.add_row("user", "SENTINEL-USER-VALUE", "login")
    if case == "everything":
        form.agent_id.value = "agent_7"
        form.pause_when.value = "it needs a 2FA code"
        form.settings.field("verified").value = True
        row = form.settings.proxies.add_row()
        row.type.value = "external"
        row.texts[("server",)].value = "http://proxy.local:3128"
        row.password.set("SENTINEL-PROXY-PW")
    return form


@pytest.mark.parametrize("case", ["plain", "schema", "variables", "everything"], ids=str)
def test_agent_magic_round_trips_through_the_magic_parser(case: str) -> None:
    """Parsing the generated cell and planning it gives the widget's own request."""
    form = _agent_form(case)
    cell = form.to_magic("bb_settings")
    assert "SENTINEL" not in cell
    line, body = _split(cell)
    namespace: dict[str, Any] = {"bb_settings": form.settings.value, "user": "SENTINEL-USER-VALUE"}
    plan = plan_agent(parse_magic_line(line), body, namespace)
    assert len(plan.requests) == 1
    assert plan.requests[0].body.to_wire() == _without_descriptions(form.value.to_wire())


def test_agent_magic_can_reference_the_widget_itself() -> None:
    """--settings-var also accepts the settings widget (the magic reads its .value)."""
    form = _agent_form("everything")
    line, body = _split(form.to_magic("s"))
    plan = plan_agent(
        parse_magic_line(line), body, {"s": form.settings, "user": "SENTINEL-USER-VALUE"}
    )
    assert plan.requests[0].body.to_wire() == _without_descriptions(form.value.to_wire())


def test_function_magic_round_trips() -> None:
    """A FunctionInvoke cell plans the same invoke body."""
    form = FunctionInvoke("fn_abc", {"url": "https://example.com", "n": 3})
    form.settings.field("timeout").value = "120"
    line, body = _split(form.to_magic("cfg"))
    plan = plan_function(parse_magic_line(line), body, {"cfg": form.settings.value})
    assert plan.function_id == "fn_abc"
    assert plan.requests[0].body.to_wire() == form.value.to_wire()


def test_copy_button_shows_text_and_binds_settings() -> None:
    """The button shows a copyable cell and binds the settings variable it names."""
    shell = InteractiveShell.instance()
    form = _agent_form("everything")
    form.magic_button.click()
    assert form.errors == []
    assert form.magic.widget.layout.display == "flex"
    assert form.magic.text.value == form.to_magic("bb_settings")
    assert shell.user_ns["bb_settings"] == form.settings.value
    assert "<code>user</code>" in form.magic.note.value


def test_copy_as_magic_from_a_cell_inserts_the_next_cell() -> None:
    """Called from code, the cell text goes into IPython's set_next_input payload."""
    shell = InteractiveShell.instance()
    form = _agent_form("schema")
    text = form.copy_as_magic()
    assert shell.rl_next_input == text or any(
        p.get("text") == text for p in shell.payload_manager.read_payload()
    )
