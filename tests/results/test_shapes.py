"""to_frame over schema shapes: columns, dtypes, row counts, NA and validation."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import pytest

from bbnb.results import to_frame

PRODUCT = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "price": {"type": "number"}},
    "required": ["name"],
}

# (schema, results, expected rows, expected {column: dtype}, expected conforms)
CASES: list[tuple[str, dict[str, Any], list[Any], int, dict[str, str], list[bool]]] = [
    (
        "nested-objects",
        {
            "type": "object",
            "properties": {
                "a": {
                    "type": "object",
                    "properties": {"b": {"type": "integer"}, "c": {"type": "boolean"}},
                },
                "d": {"type": "string"},
            },
        },
        [{"a": {"b": 1, "c": True}, "d": "x"}, {"a": {"b": 2, "c": False}, "d": "y"}],
        2,
        {"a.b": "Int64", "a.c": "boolean", "d": "string"},
        [True, True],
    ),
    (
        "array-of-objects-at-root",
        {"type": "array", "items": PRODUCT},
        [[{"name": "a", "price": 1.5}, {"name": "b", "price": 2}], [{"name": "c", "price": 3}]],
        3,
        {"name": "string", "price": "Float64"},
        [True, True],
    ),
    (
        "array-of-objects-one-level-down",
        {
            "type": "object",
            "properties": {
                "page": {"type": "integer"},
                "items": {"type": "array", "items": PRODUCT},
            },
        },
        [{"page": 1, "items": [{"name": "a", "price": 1}, {"name": "b", "price": 2}]}],
        2,
        {"page": "Int64", "items.name": "string", "items.price": "Float64"},
        [True],
    ),
    (
        "array-of-scalars",
        {
            "type": "object",
            "properties": {"tags": {"type": "array", "items": {"type": "string"}}},
        },
        [{"tags": ["a", "b"]}, {"tags": []}],
        2,
        {"tags": "object"},
        [True, True],
    ),
    (
        "optional-and-missing-keys",
        {
            "type": "object",
            "properties": {"a": {"type": "integer"}, "b": {"type": "string"}},
            "required": ["a"],
        },
        [{"a": 1}, {"a": 2, "b": "x"}, {"b": "y"}],
        3,
        {"a": "Int64", "b": "string"},
        [True, True, False],
    ),
    (
        "empty-array-keeps-a-row",
        {"type": "object", "properties": {"items": {"type": "array", "items": PRODUCT}}},
        [{"items": []}, {"items": [{"name": "a"}]}],
        2,
        {"items.name": "string", "items.price": "Float64"},
        [True, True],
    ),
    (
        "enum",
        {
            "type": "object",
            "properties": {"c": {"type": "string", "enum": ["USD", "EUR"]}},
        },
        [{"c": "EUR"}, {"c": "USD"}, {"c": "JPY"}],
        3,
        {"c": "category"},
        [True, True, False],
    ),
    (
        "dates",
        {
            "type": "object",
            "properties": {
                "at": {"type": "string", "format": "date-time"},
                "on": {"type": "string", "format": "date"},
            },
        },
        [
            {"at": "2026-01-01T10:00:00Z", "on": "2026-01-02"},
            {"at": "2026-01-01T12:00:00+02:00", "on": "2026-02-30"},
        ],
        2,
        {"at": "datetime64[us, UTC]", "on": "datetime64[us, UTC]"},
        [True, False],
    ),
    (
        "oneOf-and-nullable",
        {
            "type": "object",
            "properties": {
                "a": {"oneOf": [{"type": "integer"}, {"type": "null"}]},
                "b": {"type": ["number", "null"]},
                "c": {"type": "string", "nullable": True},
                "d": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
            },
        },
        [{"a": None, "b": None, "c": None, "d": 1}, {"a": 3, "b": 1.5, "c": "x", "d": "s"}],
        2,
        {"a": "Int64", "b": "Float64", "c": "string", "d": "string"},
        [True, True],
    ),
    (
        "wrong-typed-values",
        {
            "type": "object",
            "properties": {"n": {"type": "integer"}, "ok": {"type": "boolean"}},
        },
        [{"n": 1, "ok": True}, {"n": "12 items", "ok": 1}, {"n": 2.5, "ok": False}],
        3,
        {"n": "Int64", "ok": "boolean"},
        [True, False, False],
    ),
]


@pytest.mark.parametrize(
    ("schema", "results", "n_rows", "dtypes", "conforms"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_schema_shapes(
    make_run: Any,
    schema: dict[str, Any],
    results: list[Any],
    n_rows: int,
    dtypes: dict[str, str],
    conforms: list[bool],
) -> None:
    """Each shape gives the expected rows, column dtypes and per-result verdicts."""
    runs = [make_run(r) for r in results]
    df = to_frame(runs, schema)
    assert len(df) == n_rows
    for column, dtype in dtypes.items():
        assert str(df[column].dtype) == dtype, column
    verdicts = df.groupby("_key", sort=True)["_conforms"].first().tolist()
    assert verdicts == conforms
    bad = df[df["_conforms"] == False]  # noqa: E712
    assert bad["_errors"].notna().all()
    assert df.loc[df["_conforms"] == True, "_errors"].isna().all()  # noqa: E712


def test_nested_object_values_and_order(make_run: Any) -> None:
    """Nested objects become a.b columns in schema order, data first, provenance after."""
    schema = CASES[0][1]
    df = to_frame([make_run(r) for r in CASES[0][2]], schema)
    assert list(df.columns[:3]) == ["a.b", "a.c", "d"]
    assert all(c.startswith("_") for c in df.columns[3:])
    assert df["a.b"].tolist() == [1, 2]
    assert df["d"].tolist() == ["x", "y"]


def test_sibling_scalars_copied_down(make_run: Any) -> None:
    """Scalars beside the row array repeat on every element row."""
    schema = CASES[2][1]
    df = to_frame([make_run(r) for r in CASES[2][2]], schema)
    assert df["page"].tolist() == [1, 1]
    assert df["items.name"].tolist() == ["a", "b"]
    assert df.attrs["bbnb"]["rows"] == "items"


def test_empty_array_row_is_na_and_droppable(make_run: Any) -> None:
    """An empty row array gives one NA row, or none with drop_empty=True."""
    schema, results = CASES[5][1], CASES[5][2]
    runs = [make_run(r) for r in results]
    df = to_frame(runs, schema)
    assert df["items.name"].isna().tolist() == [True, False]
    assert len(to_frame(runs, schema, drop_empty=True)) == 1


def test_enum_categories_follow_schema(make_run: Any) -> None:
    """Enum columns are categorical with the enum's categories; misses are NA and kept raw."""
    df = to_frame([make_run(r) for r in CASES[6][2]], CASES[6][1])
    assert list(df["c"].cat.categories) == ["USD", "EUR"]
    assert df["c"].isna().tolist() == [False, False, True]
    assert json.loads(df["_raw"].iloc[2]) == {"c": "JPY"}


def test_dates_parse_to_utc(make_run: Any) -> None:
    """date-time with an offset is converted to UTC; an impossible date is NaT and kept raw."""
    df = to_frame([make_run(r) for r in CASES[7][2]], CASES[7][1])
    assert df["at"].iloc[1] == pd.Timestamp("2026-01-01T10:00:00Z")
    assert pd.isna(df["on"].iloc[1])
    assert json.loads(df["_raw"].iloc[1]) == {"on": "2026-02-30"}


def test_wrong_types_become_na_and_stay_findable(make_run: Any) -> None:
    """Wrong-typed values are NA in typed columns; _raw holds them as JSON."""
    df = to_frame([make_run(r) for r in CASES[9][2]], CASES[9][1])
    assert df["n"].isna().tolist() == [False, True, True]
    assert json.loads(df["_raw"].iloc[1]) == {"n": "12 items", "ok": 1}
    assert json.loads(df["_raw"].iloc[2]) == {"n": 2.5}
    assert "is not of type 'integer'" in df["_errors"].iloc[1]


def test_union_of_types_is_json_text(make_run: Any) -> None:
    """A property that may be a string or an integer is kept as JSON text."""
    df = to_frame([make_run(r) for r in CASES[8][2]], CASES[8][1])
    assert df["d"].tolist() == ["1", '"s"']


def test_output_wrapper_is_unwrapped(make_run: Any) -> None:
    """result.output is the data; summary, stepsTaken and taskDuration become provenance."""
    schema = {"type": "object", "properties": {"x": {"type": "integer"}}}
    run = make_run({"output": {"x": 5}, "summary": "done", "stepsTaken": 4, "taskDuration": 9.5})
    df = to_frame(run, schema)
    assert df["x"].tolist() == [5]
    assert df["_summary"].tolist() == ["done"]
    assert df["_steps_taken"].tolist() == [4]
    assert df["_task_duration"].tolist() == [9.5]
    assert bool(df["_conforms"].iloc[0])


INVOCATION_CASES = [
    ("list", [{"a": 1}, {"a": 2}], 2, {"a": [1, 2]}),
    ("scalar", 42, 1, {"value": [42]}),
    ("object", {"a": 1, "b": "x"}, 1, {"a": [1], "b": ["x"]}),
    ("null", None, 1, {"value": [None]}),
]


@pytest.mark.parametrize(
    ("results", "n_rows", "columns"),
    [c[1:] for c in INVOCATION_CASES],
    ids=[c[0] for c in INVOCATION_CASES],
)
def test_invocation_results(
    make_invocation: Any, results: Any, n_rows: int, columns: dict[str, list[Any]]
) -> None:
    """Invocation results that are a list, a scalar, an object or null all give rows."""
    df = to_frame([make_invocation(results)])
    assert len(df) == n_rows
    assert df.attrs["bbnb"]["kind"] == "invocation"
    for column, values in columns.items():
        got = [None if pd.isna(v) else v for v in df[column].tolist()]
        assert got == values
    assert df["_id"].tolist() == ["inv-1"] * n_rows
    assert df["_duration_s"].isna().all()  # no endedAt given


def test_failed_runs_are_rows_with_cause(make_run: Any) -> None:
    """Failed, stopped and timed-out runs appear with their cause unless drop_failed."""
    schema = CASES[0][1]
    runs = [
        make_run({"a": {"b": 1}, "d": "x"}),
        make_run(status="FAILED", cause={"code": "RUNNER_HEARTBEAT_LOST", "message": "lost"}),
        make_run(status="TIMED_OUT"),
    ]
    df = to_frame(runs, schema)
    assert len(df) == 3
    assert df["_status"].tolist() == ["COMPLETED", "FAILED", "TIMED_OUT"]
    assert df["_cause_code"].tolist()[1] == "RUNNER_HEARTBEAT_LOST"
    assert df["_conforms"].isna().tolist() == [False, True, True]
    assert len(to_frame(runs, schema, drop_failed=True)) == 1


def test_provenance_values(make_run: Any) -> None:
    """Provenance columns carry ids, times and the duration in seconds."""
    df = to_frame(
        [make_run({"x": 1})], {"type": "object", "properties": {"x": {"type": "integer"}}}
    )
    row = df.iloc[0]
    assert row["_id"] == "run-0"
    assert row["_session_id"] == "sess-0"
    assert row["_duration_s"] == 30.5
    assert str(df["_created_at"].dtype) == "datetime64[us, UTC]"
    assert str(df["_status"].dtype) == "category"
