"""to_frame options and inputs: rows, lists, sep, strict, names, models, batches."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pydantic
import pytest

from bbnb.models import AgentRun, Invocation
from bbnb.results import PROVENANCE_COLUMNS, ResultValidationError, to_frame

TAGGED = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "dims": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"k": {"type": "string"}, "v": {"type": "integer"}},
            },
        },
    },
}
TAGGED_RESULTS = [
    {"name": "a", "tags": ["x", "y"], "dims": [{"k": "w", "v": 1}]},
    {"name": "b", "tags": [], "dims": []},
]


def test_lists_keep_json_and_explode(make_run: Any) -> None:
    """lists='keep' keeps Python lists, 'json' gives JSON text, 'explode' gives rows."""
    runs = [make_run(r) for r in TAGGED_RESULTS]
    kept = to_frame(runs, TAGGED, rows=None)
    assert kept["tags"].tolist() == [["x", "y"], []]
    assert str(kept["tags"].dtype) == "object"
    as_json = to_frame(runs, TAGGED, rows=None, lists="json")
    assert as_json["tags"].tolist() == ['["x", "y"]', "[]"]
    exploded = to_frame(runs, TAGGED, rows=None, lists="explode")
    assert exploded["tags"].tolist()[:2] == ["x", "y"]
    assert str(exploded["tags"].dtype) == "string"
    assert exploded["dims.v"].dtype == "Int64"
    assert len(exploded) == 3  # a: 2 tags x 1 dim; b: one NA row
    assert exploded["name"].tolist() == ["a", "a", "b"]


def test_rows_auto_with_two_arrays_is_one_row_per_run(make_run: Any) -> None:
    """Two candidate arrays of objects: rows='auto' keeps one row per result."""
    schema = {
        "type": "object",
        "properties": {
            "a": {"type": "array", "items": {"type": "object", "properties": {"y": {}}}},
            "b": {"type": "array", "items": {"type": "object", "properties": {"x": {}}}},
        },
    }
    df = to_frame([make_run({"a": [{"y": 0}], "b": [{"x": 1}, {"x": 2}]})], schema)
    assert len(df) == 1
    assert df.attrs["bbnb"]["rows"] is None


def test_rows_path_chooses_the_array(make_run: Any) -> None:
    """rows='dims' explodes that array; other arrays follow lists=."""
    df = to_frame([make_run(r) for r in TAGGED_RESULTS], TAGGED, rows="dims")
    assert df["dims.k"].tolist()[0] == "w"
    assert len(df) == 2


def test_rows_path_that_is_not_an_array_is_a_clear_error(make_run: Any) -> None:
    """A rows path that names no array says which arrays exist."""
    with pytest.raises(ValueError, match=r"rows='name'.*'tags', 'dims'"):
        to_frame([make_run(TAGGED_RESULTS[0])], TAGGED, rows="name")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"lists": "flat"}, "lists must be one of"), ({"sep": ""}, "sep must be")],
    ids=["bad-lists", "empty-sep"],
)
def test_bad_options_are_clear_errors(kwargs: dict[str, Any], message: str) -> None:
    """Bad option values raise errors naming the option."""
    with pytest.raises(ValueError, match=message):
        to_frame([{"a": 1}], **kwargs)


def test_sep(make_run: Any) -> None:
    """sep joins nested names."""
    schema = {"type": "object", "properties": {"a": {"type": "object", "properties": {"b": {}}}}}
    df = to_frame([make_run({"a": {"b": 1}})], schema, sep="__")
    assert "a__b" in df.columns


def test_strict_raises_with_the_first_error(make_run: Any) -> None:
    """strict=True raises ResultValidationError naming the run and the error."""
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}}
    runs = [make_run({"n": 1}), make_run({"n": "x"})]
    with pytest.raises(ResultValidationError, match=r"1 of 2 .*run-1.*'x' is not of type"):
        to_frame(runs, schema, strict=True)
    assert len(to_frame(runs[:1], schema, strict=True)) == 1


def test_data_column_named_like_provenance_is_renamed(make_run: Any) -> None:
    """A data key '_id' becomes 'result._id'; provenance keeps '_id'."""
    schema = {"type": "object", "properties": {"_id": {"type": "string"}}}
    df = to_frame([make_run({"_id": "mine"})], schema)
    assert df["result._id"].tolist() == ["mine"]
    assert df["_id"].tolist() == ["run-0"]
    assert set(PROVENANCE_COLUMNS) <= set(df.columns)


def test_names_that_repeat_get_a_suffix() -> None:
    """A key containing sep that equals a nested name gets a ~2 suffix, losing nothing."""
    schema = {
        "type": "object",
        "properties": {
            "a.b": {"type": "integer"},
            "a": {"type": "object", "properties": {"b": {}}},
        },
    }
    df = to_frame([{"a.b": 1, "a": {"b": 2}}], schema)
    assert df["a.b"].tolist() == [1]
    assert df["a.b~2"].tolist() == ["2"]


def test_models_and_wire_dicts_agree(make_run: Any) -> None:
    """AgentRun models give the same frame as their wire dicts."""
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}}
    wire = [make_run({"output": {"n": 1}, "summary": "s"}, resultSchema=schema), make_run({"n": 2})]
    models = [AgentRun.from_wire(w) for w in wire]
    a = to_frame(wire)
    b = to_frame(models)
    pd.testing.assert_frame_equal(a, b)
    assert a["n"].tolist() == [1, 2]
    assert a.attrs["bbnb"]["schema"] == schema  # the runs' own resultSchema


def test_invocation_model(make_invocation: Any) -> None:
    """Invocation models are read through their attributes."""
    inv = Invocation.from_wire(make_invocation({"a": 1}, endedAt="2026-01-01T10:00:03Z"))
    df = to_frame(inv)
    assert df["a"].tolist() == [1]
    assert df["_duration_s"].tolist() == [2.0]


class Batch:
    """A stand-in for bbnb.runs.Batch: only iter_keyed()."""

    def __init__(self, pairs: list[tuple[Any, Any]]) -> None:
        self.pairs = pairs

    def iter_keyed(self) -> Iterator[tuple[Any, Any]]:
        """Yield (key, run) pairs."""
        return iter(self.pairs)


def test_batch_keys_become_key_column(make_run: Any) -> None:
    """Objects with iter_keyed() give their keys in _key."""
    batch = Batch([("alpha", make_run({"n": 1})), ("beta", make_run({"n": 2}))])
    df = to_frame(batch, {"type": "object", "properties": {"n": {"type": "integer"}}})
    assert df["_key"].tolist() == ["alpha", "beta"]
    assert str(df["_key"].dtype) == "string"


def test_pydantic_schema(make_run: Any) -> None:
    """A pydantic model class works as the schema, nested models and Optional included."""

    class Item(pydantic.BaseModel):
        name: str
        price: float | None = None

    class Page(pydantic.BaseModel):
        items: list[Item]

    df = to_frame([make_run({"items": [{"name": "a", "price": None}, {"name": "b"}]})], Page)
    assert df["items.name"].tolist() == ["a", "b"]
    assert str(df["items.price"].dtype) == "Float64"
    assert df["_conforms"].all()


def test_invalid_schema_is_a_clear_error() -> None:
    """A schema that is not valid JSON Schema raises ValueError naming where."""
    with pytest.raises(ValueError, match="not a valid JSON Schema"):
        to_frame([{"a": 1}], {"type": "banana"})


def test_uncovered_keywords_fall_back_to_jsonschema(make_run: Any) -> None:
    """Keywords the fast check does not know (minimum) are still enforced."""
    schema = {"type": "object", "properties": {"n": {"type": "integer", "minimum": 0}}}
    df = to_frame([make_run({"n": 1}), make_run({"n": -1})], schema)
    assert df["_conforms"].tolist() == [True, False]
    assert "less than the minimum" in df["_errors"].iloc[1]


def test_no_schema_infers_columns() -> None:
    """Without any schema, columns and dtypes are inferred; _conforms is NA."""
    df = to_frame([{"a": 1, "b": {"c": 1.5}}, {"a": 2, "b": {"c": 2}, "d": "x"}])
    assert str(df["a"].dtype) == "Int64"
    assert str(df["b.c"].dtype) == "Float64"
    assert df["d"].tolist()[1] == "x"
    assert df["_conforms"].isna().all()
    assert df.attrs["bbnb"]["inferred_schema"]["properties"]["a"] == {"type": "integer"}


def test_no_schema_mixed_types_become_json_text() -> None:
    """Values of mixed types under one key are JSON text without losing any."""
    df = to_frame([{"a": 1}, {"a": "x"}, {"a": [1]}])
    assert df["a"].tolist() == ["1", '"x"', "[1]"]


def test_attrs_carry_request_context(make_run: Any) -> None:
    """df.attrs['bbnb'] holds kind, schema, task and the row path."""
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}}
    df = to_frame([make_run({"n": 1})], schema, task="count {{thing}}")
    meta = df.attrs["bbnb"]
    assert meta["kind"] == "agent_run"
    assert meta["schema"] == schema
    assert meta["task"] == "count {{thing}}"
    assert to_frame([make_run({"n": 1})], schema).attrs["bbnb"]["task"] == "find things"
    json.dumps(meta)  # plain data


def test_raw_values_of_wrong_object_shape(make_run: Any) -> None:
    """A list where an object should be is NA everywhere below and kept raw."""
    schema = {"type": "object", "properties": {"a": {"type": "object", "properties": {"b": {}}}}}
    df = to_frame([make_run({"a": [1, 2]})], schema)
    assert json.loads(df["_raw"].iloc[0]) == {"a": [1, 2]}
    assert df["_conforms"].tolist() == [False]
