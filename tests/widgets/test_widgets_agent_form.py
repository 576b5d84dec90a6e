"""AgentTask's form without a browser or a server: task, schema, variables, preview, value."""

from __future__ import annotations

import html
import json
from typing import Any

import pytest
from pydantic import BaseModel, SecretStr

from bbnb.models import AgentRunCreateParams
from bbnb.widgets import AgentTask
from bbnb.widgets.schema_builder import SchemaBuilder


class Product(BaseModel):
    """A pydantic model used as a result schema."""

    name: str
    price: float


def test_task_with_two_fields_gives_the_expected_model() -> None:
    """Task text plus two schema fields build the documented body."""
    form = AgentTask()
    form.task.value = "List the products on example.com"
    form.schema.fields.add_field("name", "string", "product name")
    form.schema.fields.add_field("price", "number", required=False)
    expected = AgentRunCreateParams(
        task="List the products on example.com",
        result_schema={
            "type": "object",
            "properties": {
                "name": {"type": "string", "description": "product name"},
                "price": {"type": "number"},
            },
            "required": ["name"],
        },
    )
    assert form.value == expected


def test_blank_task_is_shown_next_to_the_task() -> None:
    """An empty task explains itself beside the text box."""
    form = AgentTask()
    form.task.value = "   "
    assert "task" in form.task_error.value and "bbnb-error" in form.task_error.value
    with pytest.raises(ValueError, match="task"):
        form.value  # noqa: B018
    form.task.value = "Find the title"
    assert form.task_error.value == ""


def test_full_configuration_round_trips_to_wire() -> None:
    """Agent id, pauseWhen, variables and browser settings all reach the body."""
    form = AgentTask("Log in as %user% and read the balance")
    form.agent_id.value = "agent_42"
    form.pause_when.value = "a one-time code is needed"
    row = form.variables.add_row("user", description="login name")
    row.value.widget.set_state({"value": "alice"})
    form.settings.field("verified").value = True
    form.settings.proxies.mode.value = "default"
    wire = form.value.to_wire()
    assert wire == {
        "task": "Log in as %user% and read the balance",
        "agentId": "agent_42",
        "pauseWhen": "a one-time code is needed",
        "variables": {"user": {"value": "alice", "description": "login name"}},
        "browserSettings": {"proxies": True, "verified": True},
    }


def test_variable_value_is_cleared_and_masked() -> None:
    """A typed variable value leaves the widget state and is masked in the preview."""
    form = AgentTask("Use %code%")
    row = form.variables.add_row("code")
    row.value.widget.set_state({"value": "SENTINEL-VAR-VALUE"})
    assert row.value.widget.value == ""
    assert "set" in row.value.widget.placeholder
    assert "SENTINEL-VAR-VALUE" not in json.dumps(row.value.widget.get_state())
    assert "SENTINEL-VAR-VALUE" not in form.preview.value
    assert isinstance(form.value.variables["code"].value, SecretStr)  # type: ignore[index]
    assert "SENTINEL-VAR-VALUE" not in repr(form.value)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        pytest.param("", "x", "give the variable a name", id="no-name"),
        pytest.param("bad name", "x", "cannot be a %name% placeholder", id="bad-name"),
        pytest.param("code", None, "type a value", id="no-value"),
    ],
)
def test_variable_problems_are_shown_in_the_row(name: str, value: str | None, message: str) -> None:
    """Each variable problem is named next to its row."""
    form = AgentTask("task")
    row = form.variables.add_row(name, value)
    with pytest.raises(ValueError, match="fix the variables"):
        form.value  # noqa: B018
    assert message in row.error.value


def test_schema_table_and_json_stay_equivalent() -> None:
    """Editing the table updates the JSON, and JSON the table can show fills the table."""
    builder = SchemaBuilder()
    products = builder.fields.add_field("products", "list of objects")
    products.children.add_field("title", "string")
    products.children.add_field("price", "number", required=False)
    shown = json.loads(builder.json.value)
    assert shown["properties"]["products"]["items"]["properties"]["price"] == {"type": "number"}
    edited = dict(shown)
    edited["properties"] = {**shown["properties"], "when": {"type": "string", "format": "date"}}
    builder.json.value = json.dumps(edited)
    assert [f.name.value for f in builder.fields.fields] == ["products", "when"]
    assert builder.fields.fields[1].type.value == "date"
    assert builder.schema == edited


def test_schema_json_the_table_cannot_show_is_kept() -> None:
    """A oneOf schema is used as written and the table says so."""
    builder = SchemaBuilder()
    schema = {
        "type": "object",
        "properties": {"v": {"oneOf": [{"type": "string"}, {"type": "null"}]}},
    }
    builder.json.value = json.dumps(schema)
    assert builder.fields.fields == []
    assert "cannot show" in builder.note.value
    assert builder.schema == schema


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("{not json", "not valid JSON", id="bad-json"),
        pytest.param('{"type": "objekt"}', "not a valid JSON Schema", id="bad-schema"),
    ],
)
def test_bad_schema_json_is_explained(text: str, message: str) -> None:
    """Invalid JSON or an invalid schema is named under the editor and blocks the value."""
    form = AgentTask("task")
    form.schema.json.value = text
    assert message in form.schema.json_error.value
    with pytest.raises(ValueError, match="schema"):
        form.value  # noqa: B018


@pytest.mark.parametrize(
    ("names", "message"),
    [
        pytest.param(["a", "a"], "used twice", id="duplicate"),
        pytest.param(["my field"], "letters, digits", id="space"),
        pytest.param([""], "give the field a name", id="empty"),
    ],
)
def test_bad_field_names_are_shown(names: list[str], message: str) -> None:
    """Schema field names must be unique identifiers; the row says why not."""
    builder = SchemaBuilder()
    rows = [builder.fields.add_field(n) for n in names]
    assert any(message in r.error.value for r in rows)
    with pytest.raises(ValueError, match="field names"):
        builder.schema  # noqa: B018


def test_schema_from_pydantic_model() -> None:
    """A pydantic model class loads into the table."""
    form = AgentTask("task", result_schema=Product)
    assert [f.name.value for f in form.schema.fields.fields] == ["name", "price"]
    assert (
        form.value.result_schema
        == AgentRunCreateParams(task="t", result_schema=Product).result_schema
    )


def test_import_model_by_name_from_the_namespace() -> None:
    """The Import button finds a pydantic model in the notebook namespace."""
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shell.user_ns["Product"] = Product
    builder = SchemaBuilder()
    builder.model_name.value = "Product"
    builder.import_button.click()
    assert [f.name.value for f in builder.fields.fields] == ["name", "price"]
    builder.model_name.value = "Nope"
    builder.import_button.click()
    assert "no variable named 'Nope'" in html.unescape(builder.box.widget.value)
    assert builder.box.errors and isinstance(builder.box.errors[-1], ValueError)


def test_preview_shows_exact_masked_body() -> None:
    """The preview is the wire body with secrets masked."""
    form = AgentTask("Find %q%")
    form.variables.add_row("q", "SENTINEL")
    body: dict[str, Any] = json.loads(_pre(form.preview.value))
    assert body == {"task": "Find %q%", "variables": {"q": {"value": "**********"}}}


def _pre(value: str) -> str:
    import re

    match = re.search(r"<pre[^>]*>(.*)</pre>", value, re.S)
    assert match, value
    return html.unescape(match.group(1))
