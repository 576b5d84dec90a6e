"""The result-schema builder: a table of fields, an equivalent JSON editor, pydantic import.

The table covers what most extraction tasks need: scalar fields, dates, lists of
scalars, nested objects and lists of objects (to any depth), each with a description
and a required flag.  The JSON tab always shows the schema the table makes; a schema
typed there that the table can express is loaded into the table, and one it cannot
(``oneOf``, ``$ref``, enums...) is kept as typed and used as is.  Every schema is
checked as JSON Schema before it is used.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import ipywidgets as w
from pydantic import BaseModel

from bbnb.models import result_schema_dict
from bbnb.widgets._feedback import ErrorBox, error_label, guarded, set_error

__all__ = ["FIELD_TYPES", "SchemaBuilder", "SchemaField", "SchemaFieldList"]

FIELD_TYPES: dict[str, dict[str, Any]] = {
    "string": {"type": "string"},
    "number": {"type": "number"},
    "integer": {"type": "integer"},
    "boolean": {"type": "boolean"},
    "date": {"type": "string", "format": "date"},
    "list of strings": {"type": "array", "items": {"type": "string"}},
    "list of numbers": {"type": "array", "items": {"type": "number"}},
    "object": {"type": "object"},
    "list of objects": {"type": "array", "items": {"type": "object"}},
}
_NESTED = ("object", "list of objects")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class SchemaField:
    """One row: name, type, description, required; objects hold a nested field list."""

    def __init__(
        self, on_change: Callable[[], None], on_remove: Callable[[SchemaField], None], depth: int
    ) -> None:
        self.name = w.Text(value="", placeholder="field name", layout=w.Layout(width="160px"))
        self.type = w.Dropdown(
            options=list(FIELD_TYPES), value="string", layout=w.Layout(width="140px")
        )
        self.description = w.Text(
            value="", placeholder="description (helps the agent)", layout=w.Layout(width="260px")
        )
        self.required = w.Checkbox(
            value=True, description="required", indent=False, layout=w.Layout(width="90px")
        )
        self.remove = w.Button(
            description="✕", tooltip="remove this field", layout=w.Layout(width="36px")
        )
        self.error = error_label()
        self.children = SchemaFieldList(on_change, depth + 1)
        self.kept: dict[str, Any] = {}  # keys the table does not edit but keeps (title)
        self.remove.on_click(lambda _b: on_remove(self))
        for control in (self.name, self.type, self.description, self.required):
            control.observe(lambda _c: on_change(), names="value")
        self.type.observe(lambda _c: self._layout(), names="value")
        self.widget = w.VBox()
        self.widget.add_class("bbnb-schema-field")
        self._layout()

    def _layout(self) -> None:
        row = w.HBox(
            [self.name, self.type, self.description, self.required, self.remove, self.error]
        )
        nested = self.type.value in _NESTED
        self.widget.children = [row, self.children.widget] if nested else [row]

    def to_schema(self) -> dict[str, Any]:
        """This field as a JSON Schema fragment."""
        kind = self.type.value
        schema: dict[str, Any] = json.loads(json.dumps(FIELD_TYPES[kind]))
        schema.update(self.kept)
        if self.description.value.strip():
            schema["description"] = self.description.value.strip()
        if kind == "object":
            schema.update(self.children.to_object())
        elif kind == "list of objects":
            schema["items"] = self.children.to_object()
        return schema

    def check(self, seen: set[str]) -> str | None:
        """The problem with this row's name, if any (duplicates checked against ``seen``)."""
        name = self.name.value.strip()
        if not name:
            return "give the field a name"
        if not _NAME.match(name):
            return f"{name!r}: use letters, digits and '_' (it becomes a column name)"
        if name in seen:
            return f"{name!r} is used twice"
        seen.add(name)
        return None


class SchemaFieldList:
    """The fields of one object (the root, or a nested object / list item)."""

    def __init__(self, on_change: Callable[[], None], depth: int = 0) -> None:
        self.fields: list[SchemaField] = []
        self.kept: dict[str, Any] = {}
        self.depth = depth
        self._on_change = on_change
        label = "Add field" if depth == 0 else "Add nested field"
        self.add = w.Button(description=label, icon="plus", layout=w.Layout(width="170px"))
        self.add.add_class("bbnb-add-field" if depth == 0 else "bbnb-add-nested-field")
        self.add.on_click(lambda _b: self.add_field())
        margin = f"0 0 0 {24 if depth else 0}px"
        self.widget = w.VBox([self.add], layout=w.Layout(margin=margin))

    def _render(self) -> None:
        self.widget.children = [*(f.widget for f in self.fields), self.add]

    def add_field(
        self, name: str = "", type: str = "string", description: str = "", required: bool = True
    ) -> SchemaField:
        """Append a field and return it."""
        if type not in FIELD_TYPES:
            raise ValueError(f"unknown field type {type!r}; choose one of {', '.join(FIELD_TYPES)}")
        field = SchemaField(self._on_change, self.remove_field, self.depth)
        field.name.value, field.type.value = name, type
        field.description.value, field.required.value = description, required
        self.fields.append(field)
        self._render()
        self._on_change()
        return field

    def remove_field(self, field: SchemaField) -> None:
        """Drop a field."""
        self.fields.remove(field)
        self._render()
        self._on_change()

    def clear(self) -> None:
        """Drop every field."""
        self.fields = []
        self.kept = {}
        self._render()

    def to_object(self) -> dict[str, Any]:
        """``{"type": "object", "properties": ..., "required": [...]}`` for these fields."""
        properties = {f.name.value.strip(): f.to_schema() for f in self.fields}
        required = [f.name.value.strip() for f in self.fields if f.required.value]
        schema: dict[str, Any] = {**self.kept, "type": "object", "properties": properties}
        if required:
            schema["required"] = required
        return schema

    def check(self) -> int:
        """Show name problems next to each field; return how many there are."""
        seen: set[str] = set()
        problems = 0
        for field in self.fields:
            message = field.check(seen)
            set_error(field.error, message)
            problems += message is not None
            if field.type.value in _NESTED:
                problems += field.children.check()
        return problems

    def load(self, schema: dict[str, Any]) -> None:
        """Fill from an object schema (assumes :func:`table_can_show` said yes)."""
        self.clear()
        self.kept = {k: schema[k] for k in ("title", "description") if k in schema}
        required = set(schema.get("required", []))
        for name, sub in schema.get("properties", {}).items():
            kind = _kind_of(sub)
            assert kind is not None
            field = SchemaField(self._on_change, self.remove_field, self.depth)
            field.name.value, field.type.value = name, kind
            field.description.value = sub.get("description", "")
            field.kept = {"title": sub["title"]} if "title" in sub else {}
            field.required.value = name in required
            if kind == "object":
                field.children.load(sub)
            elif kind == "list of objects":
                field.children.load(sub["items"])
            self.fields.append(field)
        self._render()


def _kind_of(schema: Any) -> str | None:
    """Which table type ``schema`` is, or None if the table cannot express it."""
    if not isinstance(schema, dict):
        return None
    bare = {k: v for k, v in schema.items() if k not in ("description", "title")}
    for kind, shape in FIELD_TYPES.items():
        if kind in _NESTED:
            continue
        if bare == shape:
            return kind
    if bare.get("type") == "object" and table_can_show(bare):
        return "object"
    items = bare.get("items")
    if (
        bare.get("type") == "array"
        and set(bare) == {"type", "items"}
        and isinstance(items, dict)
        and items.get("type") == "object"
        and table_can_show(items)
    ):
        return "list of objects"
    return None


def table_can_show(schema: dict[str, Any]) -> bool:
    """True if ``schema`` is an object schema the field table can represent exactly."""
    if set(schema) - {"type", "properties", "required", "description", "title"}:
        return False
    if schema.get("type") != "object":
        return False
    properties = schema.get("properties", {})
    if not isinstance(properties, dict) or not all(_NAME.match(k) for k in properties):
        return False
    required = schema.get("required", [])
    if not isinstance(required, list) or not set(required) <= set(properties):
        return False
    return all(_kind_of(sub) is not None for sub in properties.values())


class SchemaBuilder(w.VBox):  # type: ignore[misc]
    """Result schema as a table of fields, as JSON, or imported from a pydantic model."""

    def __init__(self) -> None:
        self.box = ErrorBox()
        self.fields = SchemaFieldList(guarded(self.box)(self._table_changed))
        self.json = w.Textarea(
            value="",
            placeholder='{"type": "object", "properties": {...}}',
            continuous_update=False,
            rows=10,
            layout=w.Layout(width="100%"),
        )
        self.json.add_class("bbnb-schema-json")
        self.json_error = error_label()
        self.json.observe(guarded(self.box)(self._json_changed), names="value")
        self.model_name = w.Text(
            value="",
            placeholder="pydantic model name in the notebook",
            layout=w.Layout(width="260px"),
        )
        self.import_button = w.Button(description="Import model", icon="download")
        self.import_button.on_click(
            guarded(self.box)(lambda _b: self.import_from_namespace(self.model_name.value))
        )
        self.note = w.HTML(value="")
        self.tabs = w.Tab(children=[self.fields.widget, w.VBox([self.json, self.json_error])])
        self.tabs.set_title(0, "Fields")
        self.tabs.set_title(1, "JSON")
        super().__init__(
            children=[
                w.HTML("<b>Result schema</b> (optional: the columns you want back)"),
                self.tabs,
                w.HBox([self.model_name, self.import_button]),
                self.note,
                self.box.widget,
            ]
        )
        self.add_class("bbnb-schema")
        self._json_schema: dict[str, Any] | None = None  # set when JSON is the source
        self._listeners: list[Callable[[], None]] = []
        self._syncing = False

    def on_change(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` whenever the schema changes."""
        self._listeners.append(callback)

    def _notify(self) -> None:
        for listener in self._listeners:
            listener()

    def _table_changed(self) -> None:
        if self._syncing:
            return
        self._json_schema = None
        self.note.value = ""
        problems = self.fields.check()
        schema = self.fields.to_object() if self.fields.fields else None
        self._syncing = True
        try:
            self.json.value = "" if schema is None else json.dumps(schema, indent=2)
        finally:
            self._syncing = False
        set_error(self.json_error, None if not problems else "fix the field names in the table")
        self._notify()

    def _json_changed(self, _change: Any = None) -> None:
        if self._syncing:
            return
        text = self.json.value.strip()
        if not text:
            self._json_schema = None
            self._syncing = True
            try:
                self.fields.clear()
            finally:
                self._syncing = False
            set_error(self.json_error, None)
            self._notify()
            return
        try:
            schema = result_schema_dict(json.loads(text))
        except json.JSONDecodeError as exc:
            set_error(
                self.json_error,
                f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})",
            )
            self._notify()
            return
        except ValueError as exc:
            set_error(self.json_error, str(exc))
            self._notify()
            return
        set_error(self.json_error, None)
        self._load(schema)

    def _load(self, schema: dict[str, Any]) -> None:
        self._syncing = True
        try:
            if table_can_show(schema):
                self._json_schema = None
                self.fields.load(schema)
                self.note.value = ""
            else:
                self._json_schema = schema
                self.fields.clear()
                self.note.value = (
                    "<i>This schema uses features the field table cannot show; "
                    "it is used exactly as written in the JSON tab.</i>"
                )
            self.json.value = json.dumps(schema, indent=2)
        finally:
            self._syncing = False
        self._notify()

    def set_schema(self, schema: dict[str, Any] | type[BaseModel] | None) -> None:
        """Load a JSON Schema dict or a pydantic model class (``None`` clears)."""
        if schema is None:
            self.json.value = ""
            return
        self._load(result_schema_dict(schema))

    def import_from_namespace(self, name: str) -> None:
        """Import the pydantic model bound to ``name`` in the notebook's namespace."""
        name = name.strip()
        from IPython import get_ipython

        shell = get_ipython()
        namespace = shell.user_ns if shell is not None else {}
        if name not in namespace:
            raise ValueError(
                f"no variable named {name!r} in the notebook; define the pydantic model first"
            )
        model = namespace[name]
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            raise ValueError(f"{name!r} is a {type(model).__name__}, not a pydantic model class")
        self.set_schema(model)

    @property
    def error(self) -> str | None:
        """What is wrong with the schema as entered, or None."""
        if self.fields.check():
            return "fix the result schema's field names"
        message = self.json_error.value
        return "the result schema JSON is not valid" if message else None

    @property
    def schema(self) -> dict[str, Any] | None:
        """The schema to send, or None when none was given (raises ``ValueError`` if invalid)."""
        if self.error:
            raise ValueError(self.error)
        if self._json_schema is not None:
            return self._json_schema
        if not self.fields.fields:
            return None
        return result_schema_dict(self.fields.to_object())
