"""Property tests: random schemas with random data (hypothesis + hypothesis-jsonschema)."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from bbnb.results import to_frame
from bbnb.results._schema import validation_schema
from bbnb.results._validate import errors_text, validator

NAMES = st.sampled_from(["a", "b", "c", "d", "e"])
LEAVES = st.sampled_from(
    [
        {"type": "string"},
        {"type": "integer"},
        {"type": "number"},
        {"type": "boolean"},
        {"type": "string", "format": "date-time"},
        {"type": "string", "format": "date"},
        {"type": "string", "enum": ["x", "y", "z"]},
        {"type": ["integer", "null"]},
        {"type": "string", "nullable": True},
        {"anyOf": [{"type": "number"}, {"type": "null"}]},
        {"type": "integer", "minimum": 0},
    ]
)


def _objects(children: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    props = st.dictionaries(NAMES, children, min_size=1, max_size=3)
    return props.flatmap(
        lambda p: st.lists(st.sampled_from(sorted(p)), unique=True).map(
            lambda req: {"type": "object", "properties": p, "required": req}
        )
    )


def _arrays(children: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    return children.map(lambda items: {"type": "array", "items": items})


SCHEMAS = st.recursive(LEAVES, lambda kids: st.one_of(_objects(kids), _arrays(kids)), max_leaves=6)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.floats(-2, 2) | st.text(max_size=3),
    lambda kids: st.lists(kids, max_size=2) | st.dictionaries(NAMES, kids, max_size=2),
    max_leaves=4,
)


def bounded(schema: Any) -> Any:
    """The same schema with small arrays, so generated data stays small."""
    out = copy.deepcopy(schema)
    if isinstance(out, dict):
        for key in ("properties",):
            if key in out:
                out[key] = {k: bounded(v) for k, v in out[key].items()}
        if "items" in out:
            out["items"] = bounded(out["items"])
            out["maxItems"] = 3
        if "anyOf" in out:
            out["anyOf"] = [bounded(s) for s in out["anyOf"]]
    return out


def row_array(schema: dict[str, Any]) -> tuple[str, ...] | None:
    """The rows='auto' array: the root, or the one array of objects under it."""

    def objects_with_props(s: Any) -> bool:
        return isinstance(s, dict) and s.get("type") == "object" and bool(s.get("properties"))

    if schema.get("type") == "array":
        return () if objects_with_props(schema["items"]) else None
    if schema.get("type") == "object":
        found = [
            (name,)
            for name, sub in schema["properties"].items()
            if sub.get("type") == "array" and objects_with_props(sub["items"])
        ]
        return found[0] if len(found) == 1 else None
    return None


def leaf_columns(schema: dict[str, Any], rows: tuple[str, ...] | None) -> set[str]:
    """Every column the schema's leaves should give (arrays other than rows are leaves)."""
    out: set[str] = set()

    def visit(s: dict[str, Any], path: tuple[str, ...]) -> None:
        if s.get("type") == "object" and s.get("properties"):
            for name, sub in s["properties"].items():
                visit(sub, (*path, name))
        elif s.get("type") == "array" and path == rows:
            visit(s["items"], path)
        else:
            out.add(".".join(path) if path else "value")

    visit(schema, ())
    return out


def expected_rows(results: list[Any], rows: tuple[str, ...] | None) -> int:
    """One row per element of the row array (one for an empty one), else one per result."""
    if rows is None:
        return len(results)
    total = 0
    for result in results:
        value = result
        for name in rows:
            value = value.get(name) if isinstance(value, dict) else None
        total += max(len(value), 1) if isinstance(value, list) else 1
    return total


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), schema=SCHEMAS)
def test_conforming_data_gives_rows_and_columns(
    data: st.DataObject, schema: dict[str, Any]
) -> None:
    """Random conforming results: no exception, expected rows, every leaf a column."""
    results = data.draw(st.lists(from_schema(bounded(schema)), min_size=1, max_size=4))
    runs = [{"runId": f"r{i}", "status": "COMPLETED", "result": r} for i, r in enumerate(results)]
    df = to_frame(runs, schema)
    rows = row_array(schema)
    assert len(df) == expected_rows(results, rows)
    assert leaf_columns(schema, rows) <= set(df.columns)
    assert df["_conforms"].all(), df["_errors"].dropna().tolist()


def positions(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place inside a JSON value (paths of keys and indexes)."""
    out = [path]
    if isinstance(value, dict):
        for key, sub in value.items():
            out += positions(sub, (*path, key))
    elif isinstance(value, list):
        for i, sub in enumerate(value):
            out += positions(sub, (*path, i))
    return out


@st.composite
def near_misses(draw: st.DrawFn, schema: dict[str, Any]) -> Any:
    """Conforming data with one place replaced by any JSON value, or one key deleted."""
    value = draw(from_schema(bounded(schema)))
    path = draw(st.sampled_from(positions(value)))
    if not path:
        return draw(st.sampled_from([2.5, True, "abc", 7, None, [], {}]) | JSON)
    holder = value
    for step in path[:-1]:
        holder = holder[step]
    if isinstance(holder, dict) and draw(st.booleans()):
        del holder[path[-1]]
    else:
        holder[path[-1]] = draw(st.sampled_from([2.5, True, "abc", 7, 1.0, None, [], {}]) | JSON)
    return value


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), schema=SCHEMAS)
def test_fast_verdict_equals_jsonschema(data: st.DataObject, schema: dict[str, Any]) -> None:
    """Whatever the data, _conforms is exactly jsonschema's verdict (the fast path is sound)."""
    value = st.one_of(from_schema(bounded(schema)), near_misses(schema), JSON)
    results = data.draw(st.lists(value, min_size=1, max_size=4))
    runs = [{"runId": f"r{i}", "status": "COMPLETED", "result": r} for i, r in enumerate(results)]
    df = to_frame(runs, schema)
    checker = validator(validation_schema(schema))
    expected = [errors_text(checker, r) is None if r is not None else None for r in results]
    got = df.groupby("_id", sort=False)["_conforms"].first()
    for i, want in enumerate(expected):
        verdict = got[f"r{i}"]
        if want is None:
            assert verdict is not True and verdict is not False
        else:
            assert bool(verdict) is want, (results[i], df["_errors"].tolist())
