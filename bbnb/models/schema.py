"""Result schemas: a JSON Schema dict or a pydantic model class, checked before any request."""

from __future__ import annotations

import copy
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from pydantic import BaseModel

__all__ = ["ResultSchema", "result_schema_dict"]

ResultSchema = dict[str, Any] | type[BaseModel]
"""What a user may give as ``resultSchema``."""


def result_schema_dict(schema: Any) -> dict[str, Any]:
    """Return ``schema`` as a checked JSON Schema dict.

    A pydantic model class is converted with ``model_json_schema()`` and its local
    ``$defs`` references are inlined where they are not recursive.  A dict is checked
    against the JSON Schema 2020-12 meta-schema.  Anything else, or an invalid
    schema, raises ``ValueError`` with a message that says what to fix.
    """
    if isinstance(schema, type) and issubclass(schema, BaseModel):
        return _inline_local_refs(schema.model_json_schema())
    if not isinstance(schema, dict):
        raise ValueError(
            "a result schema must be a JSON Schema dict or a pydantic model class, "
            f"not {type(schema).__name__}"
        )
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        where = "/".join(str(part) for part in exc.absolute_path) or "(root)"
        raise ValueError(f"not a valid JSON Schema at {where}: {exc.message}") from None
    return schema


def _inline_local_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """Replace ``{"$ref": "#/$defs/X"}`` with the definition, unless X refers to itself."""
    defs: dict[str, Any] = schema.get("$defs", {})
    if not defs:
        return schema

    def resolve(node: Any, seen: frozenset[str]) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                name = ref.removeprefix("#/$defs/")
                if name in defs and name not in seen:
                    merged = {k: v for k, v in node.items() if k != "$ref"}
                    target = resolve(copy.deepcopy(defs[name]), seen | {name})
                    return {**target, **merged}
                raise _Recursive
            return {k: resolve(v, seen) for k, v in node.items() if k != "$defs"}
        if isinstance(node, list):
            return [resolve(item, seen) for item in node]
        return node

    try:
        inlined: dict[str, Any] = resolve(schema, frozenset())
    except _Recursive:
        return schema
    return inlined


class _Recursive(Exception):
    """A definition refers to itself: keep ``$defs`` as they are."""
