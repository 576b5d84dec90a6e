"""The fast check never clears a result that jsonschema rejects (targeted near misses)."""

from __future__ import annotations

from typing import Any

import pytest

from bbnb.results import to_frame
from bbnb.results._schema import validation_schema
from bbnb.results._validate import errors_text, is_date, is_datetime, validator


def obj(props: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    """An object schema."""
    return {"type": "object", "properties": props, "required": required or []}


ROWS = obj({"items": {"type": "array", "items": obj({"n": {"type": "integer"}})}})
NEAR_MISSES = [
    ("float-in-integer", obj({"n": {"type": "integer"}}), [{"n": 1}, {"n": 2.5}], False),
    ("integral-float-is-integer", obj({"n": {"type": "integer"}}), [{"n": 1.0}], True),
    ("bool-in-integer", obj({"n": {"type": "integer"}}), [{"n": True}], False),
    ("bool-in-number", obj({"x": {"type": "number"}}), [{"x": True}], False),
    ("int-in-boolean", obj({"x": {"type": "boolean"}}), [{"x": 1}], False),
    ("dict-in-string", obj({"s": {"type": "string"}}), [{"s": {"a": 1}}], False),
    (
        "string-for-array",
        obj({"t": {"type": "array", "items": {"type": "string"}}}),
        [{"t": "abc"}],
        False,
    ),
    ("missing-required", obj({"a": {"type": "string"}, "b": {}}, ["a"]), [{"b": 1}], False),
    ("null-not-nullable", obj({"a": {"type": "string"}}), [{"a": None}], False),
    ("missing-optional", obj({"a": {"type": "string"}}), [{}], True),
    ("missing-nullable-required", obj({"a": {"type": ["string", "null"]}}, ["a"]), [{}], False),
    (
        "null-nullable-required",
        obj({"a": {"type": ["string", "null"]}}, ["a"]),
        [{"a": None}],
        True,
    ),
    ("enum-miss", obj({"c": {"enum": ["x", "y"]}}), [{"c": "w"}], False),
    (
        "bad-date-time",
        obj({"t": {"type": "string", "format": "date-time"}}),
        [{"t": "soon"}],
        False,
    ),
    ("null-item-in-rows", ROWS, [{"items": [{"n": 1}, None]}], False),
    ("string-for-row-array", ROWS, [{"items": "nope"}], False),
    ("list-for-object", obj({"o": obj({"k": {}})}), [{"o": [1]}], False),
    ("big-int-conforms", obj({"n": {"type": "integer"}}), [{"n": 2**70}], True),
    ("root-null", obj({"a": {}}), [None], None),
]


@pytest.mark.parametrize(
    ("schema", "results", "want"),
    [c[1:] for c in NEAR_MISSES],
    ids=[c[0] for c in NEAR_MISSES],
)
def test_near_misses_match_jsonschema(
    schema: dict[str, Any], results: list[Any], want: Any
) -> None:
    """Each near miss gets the verdict jsonschema gives, whichever path decided it."""
    runs = [{"runId": f"r{i}", "status": "COMPLETED", "result": r} for i, r in enumerate(results)]
    df = to_frame(runs, schema)
    verdict = df.groupby("_id", sort=False)["_conforms"].first().iloc[-1]
    if want is None:
        assert verdict is not True and verdict is not False
        return
    assert bool(verdict) is want
    checker = validator(validation_schema(schema))
    assert (errors_text(checker, results[-1]) is None) is want


def test_big_int_is_na_but_kept_raw() -> None:
    """An integer beyond Int64 conforms but cannot be stored: NA with the raw value kept."""
    df = to_frame([{"n": 2**70}], {"type": "object", "properties": {"n": {"type": "integer"}}})
    assert df["n"].isna().all()
    assert df["_raw"].iloc[0] == '{"n": 1180591620717411303424}'


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("2026-01-01T10:00:00Z", True),
        ("2026-01-01t10:00:00.123+05:30", True),
        ("2026-01-01 10:00:00Z", True),
        ("2026-01-01T10:00:00", False),
        ("2026-02-30T10:00:00Z", False),
        ("2026-01-01T10:00:00Z\n", False),
    ],
    ids=["utc", "lowercase-offset", "space", "no-zone", "impossible", "trailing-newline"],
)
def test_date_time_format(text: str, ok: bool) -> None:
    """date-time follows RFC 3339: a zone is required and the date must exist."""
    assert is_datetime(text) is ok


def test_date_format() -> None:
    """date is a full RFC 3339 date."""
    assert is_date("2026-01-31")
    assert not is_date("2026-01-32")
    assert not is_date("2026-01-31T00:00:00Z")


def test_errors_text_is_short() -> None:
    """Error text lists at most three errors and stays short."""
    schema = obj({k: {"type": "integer"} for k in "abcdef"})
    text = errors_text(validator(schema), dict.fromkeys("abcdef", "x" * 500))
    assert text is not None
    assert text.endswith("...") and len(text) <= 300


@pytest.mark.parametrize(
    ("schema", "results", "want"),
    [c[1:] for c in NEAR_MISSES if c[3] is not None],
    ids=[c[0] for c in NEAR_MISSES if c[3] is not None],
)
def test_near_misses_in_a_later_chunk(
    monkeypatch: pytest.MonkeyPatch, schema: dict[str, Any], results: list[Any], want: bool
) -> None:
    """A near miss walked in a later chunk is still charged to its own result."""
    import bbnb.results._flatten as flatten

    monkeypatch.setattr(flatten, "CHUNK", 2)
    pad: Any = {"items": [{"n": 1}, {"n": 2}]} if schema is ROWS else {}
    if schema.get("required"):
        pad = {"a": "x"}
    padding = [pad] * 3
    runs = [
        {"runId": f"r{i}", "status": "COMPLETED", "result": r}
        for i, r in enumerate([*padding, *results])
    ]
    verdicts = to_frame(runs, schema).groupby("_id", sort=False)["_conforms"].first()
    assert verdicts.iloc[: len(padding)].tolist() == [True] * len(padding)
    assert bool(verdicts.iloc[-1]) is want
