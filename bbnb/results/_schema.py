"""Compile a JSON Schema into a column plan: which columns, which dtypes, which rows.

The plan is a small tree of :class:`Obj`, :class:`Arr` and :class:`Leaf` nodes.  It is
built once per schema (cached) and drives both the fast columnar build and the cheap
validation.  ``covered`` tells whether the fast validator understands every keyword in
the schema; when it does not, every result is validated with ``jsonschema`` instead.

Normalisation rules (documented in ``bbnb.results``):

* ``type: [X, "null"]``, OpenAPI ``nullable: true`` and ``anyOf``/``oneOf`` with one
  ``{"type": "null"}`` branch all mean "X or null".
* ``["integer", "number"]`` is a number; other mixes of types become a JSON-text leaf.
* ``anyOf``/``oneOf``/``allOf`` of objects merge their properties (for the columns).
* ``enum``/``const`` become a categorical leaf (``null`` members mean "nullable").
* ``format: date-time`` and ``format: date`` strings become UTC datetimes.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

__all__ = [
    "Arr",
    "Leaf",
    "LeafKind",
    "Node",
    "Obj",
    "Prop",
    "compile_plan",
    "validation_schema",
]

LeafKind = Literal["integer", "number", "boolean", "string", "datetime", "date", "enum", "json"]

_ANNOTATIONS = frozenset(
    {
        "title",
        "description",
        "default",
        "examples",
        "$schema",
        "$id",
        "$comment",
        "readOnly",
        "writeOnly",
        "deprecated",
        "nullable",
        "propertyOrdering",
        "$defs",
        "definitions",
    }
)
_JSON_TYPES = ("object", "array", "string", "integer", "number", "boolean", "null")


@dataclass(eq=False)
class Leaf:
    """A column: its value kind, whether null is allowed, and enum categories."""

    kind: LeafKind
    nullable: bool = False
    categories: tuple[Any, ...] = ()
    enum_type: Literal["string", "integer", "other"] | None = None
    check: Literal["any", "object", "null", "unknown"] = "unknown"
    """For json leaves: which values surely conform (any, any dict, only null, unsure)."""

    @property
    def arrow_ok(self) -> bool:
        """Whether the fast (arrow) path can carry this leaf."""
        if self.kind == "json":
            return False
        return not (self.kind == "enum" and self.enum_type == "other")


@dataclass(eq=False)
class Prop:
    """One property of an object: name, node and whether it is required."""

    name: str
    node: Node
    required: bool


@dataclass(eq=False)
class Obj:
    """An object: properties in schema order."""

    props: list[Prop] = field(default_factory=list)
    nullable: bool = False


@dataclass(eq=False)
class Arr:
    """An array: one node for its items."""

    items: Node
    nullable: bool = False


Node = Leaf | Obj | Arr


@dataclass(eq=False)
class Plan:
    """A compiled schema: the root node and whether the fast validator covers it."""

    root: Node
    covered: bool
    schema: dict[str, Any]
    validation_schema: dict[str, Any]


def compile_plan(schema: dict[str, Any]) -> Plan:
    """Compile ``schema`` (a JSON Schema dict) into a :class:`Plan` (cached per schema)."""
    return _compile_cached(json.dumps(schema, default=str))


@lru_cache(maxsize=64)
def _compile_cached(key: str) -> Plan:
    schema = json.loads(key)
    root = _node(schema)
    return Plan(
        root=root,
        covered=_covered(schema),
        schema=schema,
        validation_schema=validation_schema(schema),
    )


def validation_schema(schema: Any) -> Any:
    """Return ``schema`` with OpenAPI ``nullable: true`` spelled as JSON Schema."""
    if isinstance(schema, list):
        return [validation_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in ("enum", "const", "default", "examples"):
            out[key] = copy.deepcopy(value)
        elif key == "properties" and isinstance(value, dict):
            out[key] = {name: validation_schema(sub) for name, sub in value.items()}
        else:
            out[key] = validation_schema(value)
    if out.get("nullable") is True:
        kind = out.get("type")
        if isinstance(kind, str) and kind != "null":
            out["type"] = [kind, "null"]
        elif isinstance(kind, list) and "null" not in kind:
            out["type"] = [*kind, "null"]
        if isinstance(out.get("enum"), list) and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
    return out


def _node(schema: Any) -> Node:
    """Turn one (sub)schema into a plan node."""
    if not isinstance(schema, dict):
        return Leaf("json", check="any" if schema is True else "unknown")
    nullable = schema.get("nullable") is True
    if "enum" in schema or "const" in schema:
        return _with_null(_enum_leaf(schema), nullable)
    for key in ("anyOf", "oneOf"):
        if isinstance(schema.get(key), list):
            return _with_null(_union([_node(s) for s in schema[key]]), nullable)
    if isinstance(schema.get("allOf"), list):
        return _with_null(_union([_node(s) for s in schema["allOf"]], merge_all=True), nullable)
    kind = schema.get("type")
    kinds = [kind] if isinstance(kind, str) else list(kind) if isinstance(kind, list) else []
    if "null" in kinds:
        nullable = True
        kinds = [k for k in kinds if k != "null"]
    if not kinds:
        if "properties" in schema:
            kinds = ["object"]
        elif "items" in schema:
            kinds = ["array"]
        elif kind == ["null"] or kind == "null":
            return Leaf("json", nullable=True, check="null")
        else:
            anything = len(set(schema) - _ANNOTATIONS) == 0
            return Leaf("json", nullable=True, check="any" if anything else "unknown")
    if set(kinds) == {"integer", "number"}:
        kinds = ["number"]
    if len(kinds) > 1:
        return Leaf("json", nullable=nullable)
    return _with_null(_typed(kinds[0], schema), nullable)


def _typed(kind: str, schema: dict[str, Any]) -> Node:
    """A node for a single JSON type."""
    if kind == "object":
        props = schema.get("properties")
        required = schema.get("required")
        req = set(required) if isinstance(required, list) else set()
        if not isinstance(props, dict) or not props:
            free = set(schema) - _ANNOTATIONS <= {"type", "additionalProperties"}
            return Leaf("json", check="object" if free else "unknown")
        return Obj([Prop(str(name), _node(sub), name in req) for name, sub in props.items()])
    if kind == "array":
        items = schema.get("items")
        if "prefixItems" in schema or isinstance(items, list):
            return Leaf("json")
        return Arr(_node(items) if items is not None else Leaf("json", check="any"))
    if kind == "string":
        fmt = schema.get("format")
        if fmt == "date-time":
            return Leaf("datetime")
        if fmt == "date":
            return Leaf("date")
        return Leaf("string")
    if kind in ("integer", "number", "boolean"):
        return Leaf(kind)  # type: ignore[arg-type]
    return Leaf("json")


def _enum_leaf(schema: dict[str, Any]) -> Leaf:
    """A categorical leaf from ``enum`` or ``const``."""
    values = schema["enum"] if "enum" in schema else [schema["const"]]
    if not isinstance(values, list):
        return Leaf("json")
    nullable = any(v is None for v in values)
    cats: list[Any] = []
    for value in values:
        if value is not None and value not in cats:
            cats.append(value)
    if any(isinstance(v, dict | list) for v in cats):
        return Leaf("json", nullable=nullable)
    if all(isinstance(v, str) for v in cats):
        enum_type: Literal["string", "integer", "other"] = "string"
    elif all(isinstance(v, int) and not isinstance(v, bool) for v in cats):
        enum_type = "integer"
    else:
        enum_type = "other"
    return Leaf("enum", nullable=nullable, categories=tuple(cats), enum_type=enum_type)


def _union(nodes: list[Node], *, merge_all: bool = False) -> Node:
    """Merge the branches of anyOf/oneOf/allOf into one node for the columns."""
    nullable = False
    rest: list[Node] = []
    for node in nodes:
        if isinstance(node, Leaf) and node.check == "null":
            nullable = True  # a {"type": "null"} branch
            continue
        rest.append(node)
    if not rest:
        return Leaf("json", nullable=True)
    if len(rest) == 1:
        return _with_null(rest[0], nullable)
    if all(isinstance(n, Obj) for n in rest):
        merged: list[Prop] = []
        seen: dict[str, int] = {}
        for node in rest:
            assert isinstance(node, Obj)
            for prop in node.props:
                if prop.name in seen:
                    continue
                seen[prop.name] = len(merged)
                merged.append(Prop(prop.name, prop.node, merge_all and prop.required))
        return Obj(merged, nullable=nullable)
    if all(isinstance(n, Leaf) for n in rest):
        kinds = {n.kind for n in rest if isinstance(n, Leaf)}
        if kinds == {"integer", "number"}:
            return Leaf("number", nullable=nullable)
        if len(kinds) == 1 and "enum" not in kinds and "json" not in kinds:
            first = rest[0]
            assert isinstance(first, Leaf)
            return Leaf(first.kind, nullable=nullable)
    return Leaf("json", nullable=nullable)


def _with_null(node: Node, nullable: bool) -> Node:
    """Mark ``node`` nullable when ``nullable`` is true."""
    if nullable:
        node.nullable = True
    return node


def _covered(schema: Any) -> bool:
    """Whether every keyword is one the fast validator checks exactly."""
    if not isinstance(schema, dict):
        return False
    for key, value in schema.items():
        if key in _ANNOTATIONS:
            continue
        if key == "required":
            props = schema.get("properties")
            if not isinstance(value, list) or not isinstance(props, dict):
                return False
            if not all(name in props for name in value):
                return False
            continue
        if key == "type":
            kinds = value if isinstance(value, list) else [value]
            if not all(k in _JSON_TYPES for k in kinds):
                return False
            if len([k for k in kinds if k != "null"]) != 1:
                return False
        elif key == "format":
            continue
        elif key == "enum":
            if not isinstance(value, list) or not all(
                isinstance(v, str) or v is None for v in value
            ):
                return False
        elif key == "properties":
            if not isinstance(value, dict) or not all(_covered(s) for s in value.values()):
                return False
        elif key == "items":
            if not _covered(value):
                return False
        elif key == "additionalProperties":
            if value is not True and value != {}:
                return False
        elif key in ("anyOf", "oneOf"):
            if not _is_null_union(value):
                return False
        else:
            return False
    return "type" in schema or "enum" in schema or any(k in schema for k in ("anyOf", "oneOf"))


def _is_null_union(branches: Any) -> bool:
    """``[S, {"type": "null"}]`` (either order) with S covered."""
    if not isinstance(branches, list) or len(branches) != 2:
        return False
    nulls = [b for b in branches if b == {"type": "null"}]
    others = [b for b in branches if b != {"type": "null"}]
    return len(nulls) == 1 and len(others) == 1 and _covered(others[0])
