"""Turn flat lists of raw JSON values into typed columns.

A leaf column is built in two steps: :func:`to_arrow` per chunk of values (one
``pyarrow`` conversion with type inference: when the inferred type already matches,
every value is known to have the right JSON type; only otherwise are the values checked
one by one in Python), then :func:`finish` once on the whole column.  Each step reports
the positions whose value had to become NA.

The dtypes are explicit so the result is the same on pandas 2.2 and 3.x:
integer ``Int64``, number ``Float64``, boolean ``boolean``, string
``string[pyarrow]``, date-time and date ``datetime64[us, UTC]``, enum ``category``
with the enum's categories, JSON text ``string[pyarrow]``, kept lists ``object``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from bbnb.results._schema import Leaf
from bbnb.results._validate import (
    DATE_PATTERN,
    DATETIME_PATTERN,
    UTC_US,
    from_arrow,
    int64_ok,
    parse_datetimes,
)

__all__ = [
    "STRING",
    "UTC_US",
    "arrow_kind",
    "finish",
    "json_text",
    "object_array",
    "text_array",
    "text_arrow",
    "to_arrow",
    "typed_array",
]

STRING = pd.StringDtype("pyarrow")
_INT = pd.Int64Dtype()
_FLOAT = pd.Float64Dtype()
_BOOL = pd.BooleanDtype()


def arrow_kind(leaf: Leaf) -> pa.DataType | None:
    """The arrow type carrying ``leaf`` (``None``: kept as Python values)."""
    kind = leaf.kind
    if kind == "integer" or (kind == "enum" and leaf.enum_type == "integer"):
        return pa.int64()
    if kind == "number":
        return pa.float64()
    if kind == "boolean":
        return pa.bool_()
    if kind in ("string", "datetime", "date") or (kind == "enum" and leaf.enum_type == "string"):
        return pa.string()
    return None


def to_arrow(values: Sequence[Any], typ: pa.DataType) -> tuple[pa.Array, list[int]]:
    """Arrow array of ``typ``: inferred when the JSON types already match, else checked."""
    try:
        arr = pa.array(values)
    except (pa.ArrowException, OverflowError, TypeError, ValueError):
        arr = None
    if arr is not None and _compatible(arr.type, typ):
        return (arr if arr.type == typ else arr.cast(typ)), []
    check = _CHECKS[typ.id]
    bad: list[int] = []
    clean: list[Any] = []
    append = clean.append
    for i, value in enumerate(values):
        if value is None:
            append(None)
            continue
        ok, converted = check(value)
        if not ok:
            bad.append(i)
            append(None)
        else:
            append(converted)
    return pa.array(clean, type=typ), bad


def finish(arr: pa.Array, leaf: Leaf) -> tuple[Any, list[int]]:
    """The pandas array for a whole arrow column, and positions made NA here."""
    kind = leaf.kind
    if kind == "integer":
        return from_arrow(_INT, arr), []
    if kind == "number":
        return from_arrow(_FLOAT, arr), []
    if kind == "boolean":
        return from_arrow(_BOOL, arr), []
    if kind == "string":
        return from_arrow(STRING, arr), []
    if kind in ("datetime", "date"):
        out, failed = parse_datetimes(arr, DATETIME_PATTERN if kind == "datetime" else DATE_PATTERN)
        return out, np.flatnonzero(failed).tolist()
    dtype = pd.CategoricalDtype(list(leaf.categories))
    codes = pc.index_in(arr, value_set=pa.array(list(leaf.categories), type=arr.type))
    code_np = np.asarray(codes.fill_null(-1), dtype=np.int64)
    missing = (code_np < 0) & np.asarray(arr.is_valid(), dtype=bool)
    return pd.Categorical.from_codes(code_np, dtype=dtype), np.flatnonzero(missing).tolist()


def typed_array(values: Sequence[Any], leaf: Leaf) -> tuple[Any, list[int]]:
    """Both steps at once; for leaves kept as Python values, categories or JSON text."""
    typ = arrow_kind(leaf)
    if typ is not None:
        arr, bad = to_arrow(values, typ)
        out, more = finish(arr, leaf)
        return out, sorted({*bad, *more})
    if leaf.kind == "enum":
        cats = leaf.categories
        bad = [
            i for i, v in enumerate(values) if v is not None and not any(_same(v, c) for c in cats)
        ]
        drop = set(bad)
        cleaned = [None if i in drop else v for i, v in enumerate(values)]
        return pd.Categorical(cleaned, dtype=pd.CategoricalDtype(list(cats))), bad
    return json_text(values), []


def _compatible(got: pa.DataType, want: pa.DataType) -> bool:
    """Whether an inferred type proves every value has the wanted JSON type."""
    if got == want or pa.types.is_null(got):
        return True
    if want == pa.float64():
        return bool(got == pa.int64())
    if want == pa.string():
        return bool(pa.types.is_large_string(got))
    return False


def _as_int(value: Any) -> tuple[bool, Any]:
    if isinstance(value, bool):
        return False, None
    if isinstance(value, int):
        return int64_ok(value), int(value)
    if isinstance(value, float) and value.is_integer() and int64_ok(int(value)):
        return True, int(value)
    return False, None


def _as_float(value: Any) -> tuple[bool, Any]:
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return True, float(value)
        except OverflowError:
            return False, None
    return False, None


def _as_bool(value: Any) -> tuple[bool, Any]:
    return (True, value) if isinstance(value, bool) else (False, None)


def _as_str(value: Any) -> tuple[bool, Any]:
    if not isinstance(value, str):
        return False, None
    return (True, str(value)) if _encodable(value) else (False, None)


def _encodable(text: str) -> bool:
    """Whether ``text`` is valid Unicode for arrow (no lone surrogates)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def text_arrow(values: Any) -> pa.Array:
    """Arrow strings: non-strings as JSON text, lone surrogates escaped (``\\ud800``)."""
    if isinstance(values, pa.Array):
        return values
    try:
        return pa.array(values, type=pa.string())
    except (pa.ArrowException, TypeError, ValueError):
        clean = [
            v
            if v is None or (isinstance(v, str) and _encodable(v))
            else v.encode("utf-8", "backslashreplace").decode()
            if isinstance(v, str)
            else json.dumps(v, default=str)
            for v in values
        ]
        return pa.array(clean, type=pa.string())


def text_array(values: Any) -> Any:
    """:func:`text_arrow` as a pandas ``string`` array."""
    return from_arrow(STRING, text_arrow(values))


_CHECKS = {
    pa.int64().id: _as_int,
    pa.float64().id: _as_float,
    pa.bool_().id: _as_bool,
    pa.string().id: _as_str,
}


def _same(a: Any, b: Any) -> bool:
    """JSON equality (``True`` is not ``1``)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return bool(a == b)


def json_text(values: Sequence[Any]) -> Any:
    """Values as JSON text (``string`` dtype); null stays NA."""
    if all(v is None for v in values):
        return from_arrow(STRING, pa.nulls(len(values), type=pa.string()))
    text = [None if v is None else json.dumps(v, ensure_ascii=False, default=str) for v in values]
    try:
        arr = pa.array(text, type=pa.string())
    except (pa.ArrowException, ValueError):  # lone surrogates: JSON's own escapes
        arr = pa.array([None if v is None else json.dumps(v, default=str) for v in values])
    return from_arrow(STRING, arr)


def object_array(values: Sequence[Any]) -> np.ndarray[Any, Any]:
    """Values as an ``object`` numpy array, without numpy unpacking lists."""
    out = np.empty(len(values), dtype=object)
    for i, value in enumerate(values):
        out[i] = value
    return out
