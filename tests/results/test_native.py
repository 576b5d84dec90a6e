"""The C extractor itself: its buffers, flags, fallbacks, bad specs and reference counts."""

from __future__ import annotations

import datetime as dt
import json
import sys
from typing import Any
from unittest import mock

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bbnb.results import _native, to_frame


@pytest.fixture(autouse=True)
def built(monkeypatch: pytest.MonkeyPatch) -> Any:
    """The extension (CI builds it; a missing build is a failure, not a skip)."""
    monkeypatch.delenv("BBNB_NO_SPEEDUPS", raising=False)
    assert _native.module is not None, (
        "bbnb.results._speedups is not built: install a C compiler and reinstall "
        '(python -m pip install -e ".[dev]")'
    )
    return _native.module


def leaf(code: int, index: int) -> tuple[int, int, int]:
    return (0, code, index)


def obj(*props: tuple[str, Any, bool, bool]) -> tuple[Any, ...]:
    return (1, tuple(props))


FLAT = obj(
    ("i", leaf(_native.INT, 0), False, False),
    ("f", leaf(_native.FLOAT, 1), False, False),
    ("b", leaf(_native.BOOL, 2), False, False),
    ("s", leaf(_native.STR, 3), False, False),
)
FLAT_CODES = [_native.INT, _native.FLOAT, _native.BOOL, _native.STR]
FLAT_TYPES = [pa.int64(), pa.float64(), pa.bool_(), pa.string()]

OPTIONAL = st.none() | st.just(...)  # null, or the key left out
RECORD = st.fixed_dictionaries(
    {},
    optional={
        "i": st.integers(-(2**63), 2**63 - 1) | OPTIONAL,
        "f": st.floats(allow_nan=False) | st.integers(-(2**53), 2**53) | OPTIONAL,
        "b": st.booleans() | OPTIONAL,
        "s": st.text() | OPTIONAL,
    },
).map(lambda d: {k: v for k, v in d.items() if v is not ...})


@settings(max_examples=200, deadline=None)
@given(st.lists(RECORD | st.none(), max_size=40))
def test_columns_equal_arrows_own_conversion(records: list[Any]) -> None:
    """Every leaf column equals ``pa.array`` of the same values (nulls, bits, offsets)."""
    # Lone surrogates cannot be UTF-8: those inputs must make it step aside.
    encodable = all(not isinstance(r, dict) or _encodable(r.get("s")) for r in records)
    out = _native.extract(records, FLAT, FLAT_CODES, False)
    if not encodable:
        assert out is None
        return
    assert out is not None
    for k, (name, typ) in enumerate(zip("ifbs", FLAT_TYPES, strict=True)):
        values = [r.get(name) if isinstance(r, dict) else None for r in records]
        expected = pa.array(values, type=typ)
        got = out.arrays[k]
        if typ == pa.string():
            got = got.cast(pa.string())
        assert got.equals(expected), name
        assert got.null_count == expected.null_count
    assert not out.flagged.any()


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            RECORD, st.dictionaries(st.text(max_size=3), st.integers(), max_size=4), st.randoms()
        ),
        max_size=30,
    ),
    st.booleans(),
)
def test_key_order_extra_keys_and_shared_key_objects(
    drawn: list[tuple[dict[str, Any], dict[str, int], Any]], via_json: bool
) -> None:
    """Keys in any order, unknown keys among them, key objects shared or not: same columns.

    The extractor remembers which key object it met at each entry position; dicts that
    reorder, add or drop keys must still be read by name.
    """
    records = []
    for record, extra, rnd in drawn:
        items = [*record.items(), *((k, v) for k, v in extra.items() if k not in "ifbs")]
        rnd.shuffle(items)
        records.append(dict(items))
    if via_json:  # one document: the parser shares one key object per distinct key
        records = json.loads(json.dumps(records))
    if not all(_encodable(r.get("s")) for r in records):
        return
    out = _native.extract(records, FLAT, FLAT_CODES, False)
    assert out is not None
    for k, (name, typ) in enumerate(zip("ifbs", FLAT_TYPES, strict=True)):
        expected = pa.array([r.get(name) for r in records], type=typ)
        got = out.arrays[k].cast(pa.string()) if typ == pa.string() else out.arrays[k]
        assert got.equals(expected), name


def test_big_dicts_and_non_text_keys_are_read_by_name() -> None:
    """More entries than the extractor remembers, or an int key: looked up by name."""
    big = {f"k{j}": j for j in range(100)} | {"i": 5, "s": "x"}
    odd: dict[Any, Any] = {1: "one", "i": 6, "s": "y", None: 0}
    out = _native.extract([big, odd, {"s": "z", "i": 7}], FLAT, FLAT_CODES, False)
    assert out is not None
    assert out.arrays[0].to_pylist() == [5, 6, 7]
    assert out.arrays[3].to_pylist() == ["x", "y", "z"]


def _encodable(value: Any) -> bool:
    if not isinstance(value, str):
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@pytest.mark.parametrize(
    ("record", "why"),
    [
        ({"i": True}, "bool in integer"),
        ({"i": 1.0}, "float in integer"),
        ({"i": 2**63}, "beyond int64"),
        ({"i": "1"}, "text in integer"),
        ({"f": False}, "bool in number"),
        ({"f": 10**400}, "int too big for a float"),
        ({"f": "1.5"}, "text in number"),
        ({"b": 1}, "int in boolean"),
        ({"s": 1}, "int in string"),
        ({"s": b"x"}, "bytes in string"),
        ({"s": "\udc80"}, "lone surrogate"),
        ({"s": type("S", (str,), {})("x")}, "str subclass"),
        (type("D", (dict,), {})(i=1), "dict subclass"),
        ([1], "list for an object"),
    ],
)
def test_steps_aside_for_anything_not_exactly_typed(record: Any, why: str) -> None:
    """Any value not exactly of the plan's type gives ``None`` (Python takes over)."""
    assert _native.extract([{"i": 1}, record], FLAT, FLAT_CODES, False) is None, why


ROWS_SPEC = obj(
    ("url", leaf(_native.STR, 0), True, True),  # required, not nullable
    ("note", leaf(_native.STR, 1), False, False),  # optional, nullable
    (
        "items",
        (
            2,
            obj(
                ("sku", leaf(_native.STR, 2), True, False),  # required, nullable
                ("n", leaf(_native.INT, 3), False, True),  # optional, not nullable
            ),
            True,  # null elements do not conform
        ),
        True,
        True,
    ),
)


def test_row_array_lengths_flags_and_columns() -> None:
    """Row lengths, ``[]`` marks and the flags of each way a value can fail to conform."""
    values = [
        {"url": "a", "items": [{"sku": "x", "n": 1}, {"sku": None}]},  # conforms
        {"url": "b", "items": []},  # conforms, empty
        {"items": [{"sku": "y"}]},  # url missing
        {"url": None, "items": [{"sku": "z"}]},  # url null
        {"url": "e", "items": [{"n": 2}]},  # sku missing
        {"url": "f", "items": [{"sku": "w", "n": None}]},  # n null
        {"url": "g", "items": [None]},  # null element
        {"url": "h"},  # items missing
        None,  # null result
    ]
    out = _native.extract(
        values, ROWS_SPEC, [_native.STR, _native.STR, _native.STR, _native.INT], True
    )
    assert out is not None
    assert out.lengths.tolist() == [2, 0, 1, 1, 1, 1, 1, 0, 0]
    assert out.empty.tolist() == [False, True, False, False, False, False, False, False, False]
    assert out.flagged.tolist() == [False, False, True, True, True, True, True, True, True]
    url, note, sku, n = out.arrays
    assert url.to_pylist() == ["a", "b", None, None, "e", "f", "g", "h", None]
    assert note.null_count == 9
    assert sku.to_pylist() == ["x", None, "y", "z", None, "w", None]
    assert n.to_pylist() == [1, None, None, None, 2, None, None]


def test_no_flags_without_checking() -> None:
    """With every flag off, nothing is flagged however much is missing."""
    spec = obj(("url", leaf(_native.STR, 0), False, False))
    out = _native.extract([{}, None, {"url": None}], spec, [_native.STR], False)
    assert out is not None and not out.flagged.any()


@pytest.mark.parametrize(
    ("spec", "nleaves"),
    [
        ("not a tuple", 1),
        ((7, ()), 1),
        ((0, _native.INT, 5), 1),  # leaf index out of range
        ((0, 9, 0), 1),  # unknown leaf kind
        (obj(("a", leaf(_native.INT, 0), False, False)), 2),  # leaf 1 never used
        (obj((1, leaf(_native.INT, 0), False, False)), 1),  # name not a str
        ((1, (("a",),)), 1),  # prop too short
        ((2, leaf(_native.INT, 0), False), 1),  # row items not an object
        ((2, (2, obj(), False), False), 0),  # a row array inside a row array
        (
            obj(
                ("a", leaf(_native.INT, 0), False, False), ("b", leaf(_native.INT, 0), False, False)
            ),
            1,
        ),
        ((1, (), leaf(_native.INT, 0)), 1),  # an object's self leaf must be ANY
    ],
)
def test_malformed_specs_raise_value_error(built: Any, spec: Any, nleaves: int) -> None:
    """A bad spec is a clear ``ValueError``, never a crash."""
    with pytest.raises(ValueError, match="spec"):
        built.extract([{"a": 1}], spec, nleaves, False)


def test_values_must_be_a_list(built: Any) -> None:
    with pytest.raises(TypeError):
        built.extract(({"i": 1},), FLAT, 4, False)


def test_reference_counts_are_unchanged() -> None:
    """No value, key or spec is leaked or over-released, on success or fallback."""
    text, number = "".join(["sh", "ared"]), 10**12 + 7
    key_i, key_s = json.loads('["i", "s"]')
    good = [{key_i: number, key_s: text} for _ in range(50)]
    bad = [*good, {"i": True}]
    objects = (text, number, key_i, key_s, FLAT)
    before = [sys.getrefcount(o) for o in objects]
    for _ in range(3):
        assert _native.extract(good, FLAT, FLAT_CODES, False) is not None
        assert _native.extract(bad, FLAT, FLAT_CODES, False) is None
    assert [sys.getrefcount(o) for o in objects] == before


def test_a_list_changed_during_the_walk_is_left_to_python() -> None:
    """A key whose ``__eq__`` empties the row array mid-walk: no crash, Python decides."""
    rows: list[Any] = []

    class Sneaky(str):
        def __hash__(self) -> int:
            return hash("sku")

        def __eq__(self, other: object) -> bool:
            rows.clear()
            return False

    element = {Sneaky("decoy"): 1, "sku": "a"}
    rows.extend([element, {"sku": "b"}, {"sku": "c"}])
    out = _native.extract(
        [{"url": "u", "items": rows}], ROWS_SPEC, [_native.STR] * 3 + [_native.INT], False
    )
    assert out is None
    assert rows == [], "the decoy key's __eq__ must have run during the walk"


def test_switched_off_by_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BBNB_NO_SPEEDUPS", "1")
    assert not _native.available()
    assert _native.extract([{"i": 1}], FLAT, FLAT_CODES, False) is None


def run(n: int, **changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "runId": f"run-{n}",
        "status": "COMPLETED",
        "task": "find things",
        "sessionId": f"sess-{n}",
        "createdAt": "2026-01-01T10:00:00Z",
        "startedAt": "2026-01-01T10:00:01Z",
        "endedAt": "2026-01-01T10:00:31.5Z",
        "result": {"title": f"t{n}"},
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not ...}


RUN_CASES = {
    "plain": [run(0), run(1)],
    "failed-with-cause": [run(0), run(1, status="FAILED", cause={"code": "X", "message": "m"})],
    "cause-without-message": [run(0, status="FAILED", cause={"code": "X"})],
    "cause-as-text": [run(0, status="FAILED", cause="broke")],
    "datetime-objects": [run(0, createdAt=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))],
    "missing-times": [run(0, startedAt=..., endedAt=None)],
    "numeric-session": [run(0, sessionId=7)],
    "unknown-status": [run(0, status="ARCHIVED")],
    "missing-status": [run(0), run(1, status=None)],
    "surrogate-id": [run(0, runId="r\ud800")],
    "non-ascii-task": [run(0, task="trouver les prix en €")],
    "output-wrapper": [run(0, result={"output": {"title": "x"}, "summary": "s", "stepsTaken": 3})],
    "all-wrapped": [
        run(i, result={"output": {"title": f"t{i}"}, "summary": "s", "taskDuration": 2.5})
        for i in range(3)
    ],
    "some-wrapped": [
        run(0, result={"output": {"title": "x"}, "summary": "s", "stepsTaken": 3}),
        run(1, result={"title": "plain", "summary": "a data field, not provenance"}),
        run(2, result=None),
        run(3, result=...),
    ],
    "null-output": [run(0, result={"output": None, "summary": "gave up"}), run(1)],
    "odd-metadata": [run(0, result={"output": {"title": "x"}, "stepsTaken": "3", "summary": 7})],
    "no-results": [run(0, result=None), run(1, result=...)],
    "list-result": [run(0), run(1, result=["a", "b"])],
    "text-result": [run(0, result="just text")],
}


@pytest.mark.parametrize("runs", list(RUN_CASES.values()), ids=list(RUN_CASES))
def test_run_fields_match_the_python_reading(runs: list[dict[str, Any]]) -> None:
    """Provenance read by the C extractor equals the pure-Python reading, case by case."""
    schema = {"type": "object", "properties": {"title": {"type": "string"}}}
    fast = to_frame(runs, schema)
    with mock.patch.object(_native, "module", None):
        slow = to_frame(runs, schema)
    pd.testing.assert_frame_equal(fast, slow)
    assert fast.attrs == slow.attrs


@pytest.mark.parametrize(
    ("case", "native"),
    [
        ("plain", True),
        ("all-wrapped", True),
        ("some-wrapped", True),
        ("no-results", True),
        ("cause-as-text", False),
        ("list-result", False),
        ("numeric-session", False),
    ],
)
def test_which_runs_the_extractor_reads(case: str, native: bool) -> None:
    """Wrapped, unwrapped and missing results are read in C; odd shapes go to Python."""
    from bbnb.results._items import _native_runs

    runs = RUN_CASES[case]
    assert (_native_runs(runs, range(len(runs))) is not None) is native
