"""Validation of results against their schema, without raising.

Two layers, and only the exact one may condemn a result:

* a *fast* check (vectorised over arrow columns in ``_flatten``, and
  :func:`surely_conforms` here for values kept as Python objects) that can only
  *clear* a result: it answers "surely conforms" or "not sure";
* ``jsonschema`` (one compiled validator per schema, cached), run only on results the
  fast check is not sure about, or on every result when the schema uses keywords the
  fast check does not understand.  It gives the verdict and the error text.

``format: date-time`` and ``format: date`` are checked (by both layers, identically);
other formats are annotations, as JSON Schema says by default.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from jsonschema import FormatChecker
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for

from bbnb.results._schema import Arr, Leaf, Node, Obj

__all__ = [
    "DATETIME_PATTERN",
    "DATE_PATTERN",
    "errors_text",
    "from_arrow",
    "is_date",
    "is_datetime",
    "parse_datetimes",
    "surely_conforms",
    "validator",
]

_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1
DATETIME_PATTERN = r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$"
DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
_DATETIME = re.compile(DATETIME_PATTERN)
UTC_US = pd.DatetimeTZDtype("us", "UTC")
_UTC = pa.timestamp("us", tz="UTC")
_DATE = re.compile(DATE_PATTERN)
_MAX_ERRORS = 3
_MAX_ERROR_CHARS = 300


def from_arrow(dtype: Any, arr: pa.Array) -> Any:
    """``dtype.__from_arrow__(arr)``: pandas' own arrow conversion for that dtype."""
    return dtype.__from_arrow__(arr)


def is_datetime(value: object) -> bool:
    """RFC 3339 date-time (with a zone), as JSON Schema's ``date-time`` format."""
    if not isinstance(value, str):
        return True  # formats only constrain strings
    return bool(_DATETIME.fullmatch(value)) and _parses(value, DATETIME_PATTERN)


def is_date(value: object) -> bool:
    """RFC 3339 full-date, as JSON Schema's ``date`` format."""
    if not isinstance(value, str):
        return True
    return bool(_DATE.fullmatch(value)) and _parses(value, DATE_PATTERN)


def _parses(value: str, pattern: str) -> bool:
    """The same parser the columns use (so both layers agree exactly)."""
    return not bool(parse_datetimes(pa.array([value], type=pa.string()), pattern)[1][0])


def parse_datetimes(arr: pa.Array, pattern: str) -> tuple[Any, np.ndarray[Any, Any]]:
    """Parse RFC 3339 strings to ``datetime64[us, UTC]``; also which values failed.

    ``pattern`` (a regex, or ``""`` for none) must match first.  Arrow parses when it
    can (fast); otherwise pandas does.  Dates without a time are midnight UTC.
    """
    valid = np.asarray(arr.is_valid(), dtype=bool)
    if pattern and valid.any():
        shaped = pc.match_substring_regex(arr, pattern).fill_null(False)
        arr = pc.if_else(shaped, arr, pa.scalar(None, pa.string()))
        if pattern == DATETIME_PATTERN:  # RFC 3339 allows "t", "z" and a space
            arr = pc.replace_substring(pc.utf8_upper(arr), " ", "T")
    try:
        if pattern == DATE_PATTERN:
            ts = arr.cast(pa.date32()).cast(pa.timestamp("us")).cast(_UTC)
        else:
            ts = arr.cast(_UTC)
        out = from_arrow(UTC_US, ts)
    except (pa.ArrowException, ValueError):
        strings = pd.Series(from_arrow(pd.StringDtype("pyarrow"), arr), copy=False)
        parsed = pd.to_datetime(strings, format="ISO8601", utc=True, errors="coerce")
        out = pd.array(parsed.astype(UTC_US))
    failed = valid & np.asarray(pd.isna(out), dtype=bool)
    return out, failed


def _format_checker() -> FormatChecker:
    checker = FormatChecker(formats=())
    checker.checks("date-time")(is_datetime)
    checker.checks("date")(is_date)
    return checker


@lru_cache(maxsize=64)
def _validator_cached(key: str) -> Validator:
    schema = json.loads(key)
    cls = validator_for(schema)
    cls.check_schema(schema)
    result: Validator = cls(schema, format_checker=_format_checker())
    return result


def validator(schema: dict[str, Any]) -> Validator:
    """One compiled jsonschema validator per schema (cached)."""
    return _validator_cached(json.dumps(schema, sort_keys=True, default=str))


def errors_text(checker: Validator, value: Any) -> str | None:
    """``None`` when ``value`` conforms, else a short text of its first errors."""
    found = []
    for error in checker.iter_errors(value):
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
        found.append(f"{where.lstrip('.') or '(root)'}: {_short(error.message)}")
        if len(found) >= _MAX_ERRORS + 1:
            break
    if not found:
        return None
    text = "; ".join(sorted(found)[:_MAX_ERRORS])
    if len(found) > _MAX_ERRORS:
        text += "; ..."
    return text if len(text) <= _MAX_ERROR_CHARS else text[: _MAX_ERROR_CHARS - 3] + "..."


def _short(message: str) -> str:
    return message if len(message) <= 120 else message[:117] + "..."


def surely_conforms(value: Any, node: Node) -> bool:
    """True only when ``value`` certainly conforms to ``node`` (a covered schema)."""
    if value is None:
        return node.nullable
    if isinstance(node, Obj):
        if not isinstance(value, dict):
            return False
        for prop in node.props:
            if prop.name in value:
                if not surely_conforms(value[prop.name], prop.node):
                    return False
            elif prop.required:
                return False
        return True
    if isinstance(node, Arr):
        return isinstance(value, list) and all(surely_conforms(v, node.items) for v in value)
    return _leaf_ok(value, node)


def _leaf_ok(value: Any, leaf: Leaf) -> bool:
    kind = leaf.kind
    if kind == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and value.is_integer()
        )
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "string":
        return isinstance(value, str)
    if kind == "datetime":
        return isinstance(value, str) and is_datetime(value)
    if kind == "date":
        return isinstance(value, str) and is_date(value)
    if kind == "enum":
        return isinstance(value, str) and value in leaf.categories
    if leaf.check == "any":
        return True
    if leaf.check == "object":
        return isinstance(value, dict)
    return False


def int64_ok(value: int) -> bool:
    """Whether an int fits the Int64 column."""
    return _INT64_MIN <= value <= _INT64_MAX
