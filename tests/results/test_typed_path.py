"""The typed fast paths give exactly the frame the general walker gives, or step aside.

Every test runs twice: with the C extractor (``native``) and with the pyarrow typed
conversion that replaces it where the extension was not built (``arrow``).  The
reference is always the pure-Python general walker with the extension switched off.
"""

from __future__ import annotations

from typing import Any
from unittest import mock

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from bbnb.results import _native, to_frame
from bbnb.results._frame import _row_path, _schema_dict
from bbnb.results._schema import compile_plan
from bbnb.results._typed import typed_walk
from tests.results.test_properties import JSON, SCHEMAS, bounded, near_misses

PRODUCT = {
    "type": "object",
    "properties": {
        "sku": {"type": "string"},
        "price": {"type": "number"},
        "n": {"type": "integer"},
        "ok": {"type": "boolean"},
        "cur": {"type": "string", "enum": ["USD", "EUR"]},
        "rating": {"type": ["number", "null"]},
        "seen": {"type": "string", "format": "date-time"},
        "dim": {"type": "object", "properties": {"w": {"type": "number"}}, "required": ["w"]},
    },
    "required": ["sku", "price", "rating"],
}
PAGE = {
    "type": "object",
    "properties": {
        "url": {"type": "string"},
        "page": {"type": "integer"},
        "when": {"type": "string", "format": "date"},
        "products": {"type": "array", "items": PRODUCT},
    },
    "required": ["url", "products"],
}


def good(i: int) -> dict[str, Any]:
    """A conforming page result."""
    product = {
        "sku": f"s{i}",
        "price": 1.5 + i,
        "n": i,
        "ok": True,
        "cur": "USD",
        "rating": None,
        "seen": "2026-01-01T10:00:00Z",
        "dim": {"w": 2},
    }
    return {"url": f"u{i}", "page": i, "when": "2026-01-02", "products": [product, product]}


def with_product(**changes: Any) -> dict[str, Any]:
    """A page whose first product has ``changes`` applied (a value of ... deletes)."""
    page = good(1)
    first = dict(page["products"][0])
    for key, value in changes.items():
        if value is ...:
            del first[key]
        else:
            first[key] = value
    page["products"] = [first, page["products"][1]]
    return page


CASES = [
    ("conforming", [good(0), good(1)]),
    ("float-in-integer", [with_product(n=2.5)]),
    ("integral-float-in-integer", [with_product(n=2.0)]),
    ("bool-in-integer", [with_product(n=True)]),
    ("bool-in-number", [with_product(price=False)]),
    ("zero-and-one-numbers", [with_product(price=1, n=0), with_product(price=0.0, n=1)]),
    ("big-int", [with_product(n=2**60)]),
    ("huge-int", [with_product(n=2**70)]),
    ("nan-in-integer", [with_product(n=float("nan"))]),
    ("string-in-number", [with_product(price="12")]),
    ("tuple-for-object", [with_product(dim=(2,))]),
    ("tuple-for-row-array", [{**good(0), "products": tuple(good(0)["products"])}]),
    ("string-for-row-array", [{**good(0), "products": "none"}]),
    ("tuple-element", [{**good(0), "products": [("s", 1.0)]}]),
    ("null-element", [{**good(0), "products": [None, good(0)["products"][0]]}]),
    ("missing-required", [with_product(rating=...)]),
    ("null-required-not-nullable", [with_product(sku=None)]),
    ("null-optional", [with_product(n=None)]),
    ("missing-optional", [with_product(n=...)]),
    ("enum-miss", [with_product(cur="JPY")]),
    ("bad-date-time", [with_product(seen="soon")]),
    ("bad-date", [{**good(0), "when": "2026-02-30"}]),
    ("extra-keys", [{**with_product(extra=1), "more": [1, 2]}]),
    ("empty-and-missing-rows", [{**good(0), "products": []}, {"url": "x"}, good(2)]),
    ("null-result", [good(0), None]),
    ("list-result", [good(0), [1, 2]]),
    ("dict-subclass", [type("D", (dict,), {})(good(0))]),
    ("list-subclass", [{**good(0), "products": type("L", (list,), {})(good(0)["products"])}]),
    ("str-subclass", [with_product(sku=type("S", (str,), {})("s"))]),
    ("int-subclass", [with_product(n=type("I", (int,), {})(3))]),
    ("non-ascii-text", [with_product(sku="café ☕ 日本語", cur="EUR")]),
    ("lone-surrogate", [with_product(sku="\ud800")]),
    ("int64-bounds", [with_product(n=2**63 - 1), with_product(n=-(2**63))]),
    ("beyond-int64", [with_product(n=2**63)]),
    ("big-int-in-number", [with_product(price=2**70)]),
    ("overflowing-int-in-number", [with_product(price=10**400)]),
    ("nan-and-inf-in-number", [with_product(price=float("nan")), with_product(price=float("inf"))]),
    ("one-in-boolean", [with_product(ok=1)]),
    ("null-row-array", [{**good(0), "products": None}, good(1)]),
    ("null-nested-object", [with_product(dim=None)]),
    ("null-page-fields", [{**good(0), "url": None, "page": None}]),
    ("many-rows", [good(i) for i in range(40)]),
]


@pytest.fixture(autouse=True, params=["native", "arrow"])
def typed_mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run the test with the C extractor, then with the pyarrow typed conversion."""
    monkeypatch.delenv("BBNB_NO_SPEEDUPS", raising=False)
    if request.param == "native":
        assert _native.module is not None, (
            "bbnb.results._speedups is not built: install a C compiler and reinstall "
            '(python -m pip install -e ".[dev]")'
        )
    else:
        monkeypatch.setattr(_native, "module", None)
    mode: str = request.param
    return mode


def both(runs: list[Any], schema: Any, **options: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The frame as made (typed path allowed) and with the general walker only."""
    fast = to_frame(runs, schema, **options)
    with (
        mock.patch("bbnb.results._frame.typed_walk", return_value=None),
        mock.patch.object(_native, "module", None),
    ):
        slow = to_frame(runs, schema, **options)
    return fast, slow


def assert_same(fast: pd.DataFrame, slow: pd.DataFrame) -> None:
    """Same columns, dtypes, values and attrs."""
    pd.testing.assert_frame_equal(fast, slow)
    assert fast.attrs == slow.attrs


def as_runs(results: list[Any]) -> list[dict[str, Any]]:
    """Wire-shaped completed runs around ``results``."""
    return [{"runId": f"r{i}", "status": "COMPLETED", "result": r} for i, r in enumerate(results)]


@pytest.mark.parametrize("results", [c[1] for c in CASES], ids=[c[0] for c in CASES])
@pytest.mark.parametrize("rows", ["auto", None], ids=["rows-auto", "rows-none"])
def test_typed_path_matches_general_walk(results: list[Any], rows: str | None) -> None:
    """Every tricky input gives the general walker's frame, whichever path made it."""
    assert_same(*both(as_runs(results), PAGE, rows=rows))


def test_typed_path_is_taken_for_conforming_data() -> None:
    """Plain conforming results do go through the typed path."""
    plan = compile_plan(_schema_dict(PAGE))
    walked = typed_walk(
        [good(0), good(1)], plan.root, row_path=_row_path(plan.root, "auto"), check=True
    )
    assert walked is not None and walked.lengths is not None
    assert walked.lengths.tolist() == [2, 2]


@pytest.mark.parametrize(
    "results",
    [
        [with_product(n=2.5)],
        [with_product(price=True)],
        [with_product(dim=(2,))],
        [with_product(ok=1)],
        [with_product(price="1")],
    ],
    ids=["float-in-integer", "bool-in-number", "tuple-for-object", "one-in-boolean", "text"],
)
def test_typed_path_steps_aside_for_loose_conversions(results: list[Any]) -> None:
    """Values arrow would convert loosely make the typed path decline the input."""
    plan = compile_plan(_schema_dict(PAGE))
    row_path = _row_path(plan.root, "auto")
    assert typed_walk(results, plan.root, row_path=row_path, check=True) is None


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), schema=SCHEMAS)
def test_typed_path_matches_general_walk_on_random_data(
    data: st.DataObject, schema: dict[str, Any]
) -> None:
    """Random schemas, conforming data, near misses and any JSON: identical frames."""
    value = st.one_of(from_schema(bounded(schema)), near_misses(schema), JSON)
    results = data.draw(st.lists(value, min_size=1, max_size=4))
    assert_same(*both(as_runs(results), schema))


@pytest.mark.parametrize("chunk", [1, 3], ids=["chunk-1", "chunk-3"])
def test_typed_path_in_chunks_matches_general_walk(
    monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    """Converted chunk by chunk, flags, raw values and rows still land on their results."""
    import bbnb.results._flatten as flatten

    monkeypatch.setattr(flatten, "CHUNK", chunk)
    tricky = [
        with_product(price=1, n=0),
        with_product(rating=...),
        with_product(sku=None),
        with_product(cur="JPY"),
        with_product(seen="soon"),
        {**good(0), "products": [None, good(0)["products"][0]]},
        {**good(0), "products": []},
        {"url": "x"},
        None,
    ]
    results = [r for bad in tricky for r in (good(1), bad, good(2))]
    fast, slow = both(as_runs(results), PAGE)
    assert_same(fast, slow)
    verdicts = fast.drop_duplicates("_key")["_conforms"]
    assert int(verdicts.eq(False).fillna(False).sum()) == 6
    plan = compile_plan(_schema_dict(PAGE))
    row_path = _row_path(plan.root, "auto")
    assert typed_walk(results, plan.root, row_path=row_path, check=True) is not None
