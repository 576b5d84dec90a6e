"""Infer a JSON Schema from the data when no schema is given or known.

Arrow's type inference is tried first (it runs in C++); when the values mix types it
cannot reconcile, a Python pass merges the shapes.  Rules: only ints is an
``integer``, ints and floats a ``number``, objects merge their keys in first-seen
order, and any other mix of types (say strings and numbers) becomes ``{}`` — a column
of JSON text.  Dates are not guessed: strings stay strings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

__all__ = ["infer_schema"]


def infer_schema(values: list[Any]) -> dict[str, Any]:
    """A JSON Schema describing ``values`` (one per result)."""
    try:
        return _from_arrow(pa.array(values).type)
    except (pa.ArrowException, OverflowError, TypeError, ValueError):
        shape = _Shape()
        for value in values:
            shape.add(value)
        return shape.schema()


def _from_arrow(typ: pa.DataType) -> dict[str, Any]:
    if pa.types.is_struct(typ):
        props = {typ.field(i).name: _from_arrow(typ.field(i).type) for i in range(typ.num_fields)}
        return {"type": "object", "properties": props}
    if pa.types.is_list(typ) or pa.types.is_large_list(typ):
        return {"type": "array", "items": _from_arrow(typ.value_type)}
    if pa.types.is_boolean(typ):
        return {"type": "boolean"}
    if pa.types.is_integer(typ):
        return {"type": "integer"}
    if pa.types.is_floating(typ):
        return {"type": "number"}
    if pa.types.is_string(typ) or pa.types.is_large_string(typ):
        return {"type": "string"}
    return {}


@dataclass
class _Shape:
    kinds: set[str] = field(default_factory=set)
    props: dict[str, _Shape] = field(default_factory=dict)
    items: _Shape | None = None

    def add(self, value: Any) -> None:
        if value is None:
            return
        if isinstance(value, dict):
            self.kinds.add("object")
            for key, sub in value.items():
                self.props.setdefault(str(key), _Shape()).add(sub)
        elif isinstance(value, list):
            self.kinds.add("array")
            if self.items is None:
                self.items = _Shape()
            for sub in value:
                self.items.add(sub)
        elif isinstance(value, bool):
            self.kinds.add("boolean")
        elif isinstance(value, int):
            self.kinds.add("integer")
        elif isinstance(value, float):
            self.kinds.add("number")
        elif isinstance(value, str):
            self.kinds.add("string")
        else:
            self.kinds.add("other")

    def schema(self) -> dict[str, Any]:
        kinds = self.kinds
        if kinds == {"object"}:
            return {"type": "object", "properties": {k: s.schema() for k, s in self.props.items()}}
        if kinds == {"array"}:
            return {"type": "array", "items": self.items.schema() if self.items else {}}
        if kinds == {"integer", "number"}:
            return {"type": "number"}
        if len(kinds) == 1 and "other" not in kinds:
            return {"type": next(iter(kinds))}
        return {}
