"""``to_frame``: results in, one typed, validated DataFrame out."""

from __future__ import annotations

import copy
import json
from functools import lru_cache
from itertools import chain
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from bbnb.results._columns import (
    STRING,
    UTC_US,
    json_text,
    object_array,
    text_array,
    text_arrow,
    typed_array,
)
from bbnb.results._flatten import Column, IntArray, Path, expand, is_arange, take, walk
from bbnb.results._infer import infer_schema
from bbnb.results._items import FAILED_STATUSES, Items, as_list, as_time, read_items
from bbnb.results._schema import Arr, Leaf, Node, Obj, Plan, compile_plan
from bbnb.results._typed import typed_walk
from bbnb.results._validate import errors_text, from_arrow, validator

__all__ = ["PROVENANCE_COLUMNS", "ResultValidationError", "to_frame"]

PROVENANCE_COLUMNS = (
    "_key",
    "_id",
    "_status",
    "_task",
    "_session_id",
    "_created_at",
    "_started_at",
    "_ended_at",
    "_duration_s",
    "_cause_code",
    "_cause_message",
    "_summary",
    "_steps_taken",
    "_task_duration",
    "_conforms",
    "_errors",
    "_raw",
)
_STATUSES = ("PENDING", "RUNNING", "PAUSED", "COMPLETED", "FAILED", "STOPPED", "TIMED_OUT")
_LISTS = ("keep", "json", "explode")

Lists = Literal["keep", "json", "explode"]


class ResultValidationError(ValueError):
    """``to_frame(..., strict=True)`` found results that do not match the schema."""


def to_frame(
    items: Any,
    schema: Any = None,
    *,
    rows: str | None = "auto",
    lists: Lists = "keep",
    sep: str = ".",
    strict: bool = False,
    drop_failed: bool = False,
    drop_empty: bool = False,
    task: str | None = None,
) -> pd.DataFrame:
    """Turn runs, invocations, a batch or bare results into one typed DataFrame.

    Args:
        items: an ``AgentRun``/``Invocation`` (model or wire dict), a list of them,
            bare result values, or a batch (anything with ``iter_keyed()``).
        schema: a JSON Schema dict or pydantic model class.  Defaults to the runs' own
            ``resultSchema``; without one the columns are inferred from the data and
            ``_conforms`` is NA.
        rows: ``"auto"`` (one row per element of the one array of objects at the root
            or directly under it, else one row per result), a dotted path to an array,
            or ``None`` for one row per result.
        lists: other arrays: ``"keep"`` (Python lists), ``"json"`` (JSON text) or
            ``"explode"`` (one row per element, one after the other).
        sep: joins nested names (``page.title``).
        strict: raise :class:`ResultValidationError` if any result does not conform.
        drop_failed: leave out runs that FAILED, were STOPPED or TIMED_OUT.
        drop_empty: leave out the NA row of a result whose row array is ``[]``.
        task: the task template, recorded in ``df.attrs["bbnb"]["task"]``.
    """
    _check_options(rows, lists, sep)
    found = read_items(items)
    given = _schema_dict(schema) if schema is not None else found.schema
    validate = given is not None
    plan = compile_plan(given if given is not None else infer_schema(found.payloads))
    row_path = _row_path(plan.root, rows)
    check = validate and plan.covered
    walked = typed_walk(found.payloads, plan.root, row_path=row_path, check=check) or walk(
        found.payloads, plan.root, row_path=row_path, check=check
    )
    conforms, errors = _verdicts(found, plan, walked.flagged, validate)
    if strict:
        _raise_if_invalid(found, conforms, errors)

    n = len(found.payloads)
    if walked.lengths is not None and walked.empty is not None:
        parent, elem = expand(walked.lengths, walked.empty, drop_empty)
    else:
        parent, elem = np.arange(n, dtype=np.int64), np.arange(n, dtype=np.int64)
    if drop_failed:
        failed = np.array(
            [s in FAILED_STATUSES for s in as_list(found.prov["_status"])], dtype=bool
        )
        keep = ~failed[parent]
        parent, elem = parent[keep], elem[keep]

    raw_rows = _raw_rows(walked.raw, parent, elem, len(walked.columns) and n)
    same = {0: is_arange(parent), 1: is_arange(elem)}  # take() may keep those columns
    cols: list[Column] = [
        Column(
            c.path,
            0,
            take(c.data, parent if c.level == 0 else elem, identity=same[c.level]),
            c.node,
            c.is_list,
        )
        for c in walked.columns
    ]
    cols, parent, raw_rows = _lists(cols, parent, raw_rows, lists, drop_empty)

    data: dict[str, Any] = {}
    name_of: dict[Path, str] = {}
    for col in cols:
        name = _unique(_rename(_name(col.path, sep)), data)
        name_of.setdefault(col.path, name)
        data[name] = col.data
    prov = _provenance(found, conforms, errors)
    for name, values in prov.items():
        data[name] = take(values, parent, identity=same[0])
    data["_raw"] = (
        json_text(
            [
                None if r is None else {name_of.get(k, _name(k, sep)): v for k, v in r.items()}
                for r in raw_rows
            ]
            if walked.raw
            else []
        )
        if walked.raw
        else from_arrow(STRING, pa.nulls(len(parent), type=pa.string()))
    )
    frame = pd.DataFrame(data, copy=False)
    frame.attrs["bbnb"] = {
        "kind": found.kind,
        "schema": given,
        "inferred_schema": None if validate else plan.schema,
        "task": task if task is not None else _one(found.tasks),
        "rows": None if row_path is None else ".".join(row_path),
        "lists": lists,
        "items": n,
        "nonconforming": int((conforms == False).sum()),  # noqa: E712
    }
    return frame


def _check_options(rows: Any, lists: Any, sep: Any) -> None:
    if rows is not None and not isinstance(rows, str):
        raise TypeError(f"rows must be 'auto', a dotted path or None, not {rows!r}")
    if lists not in _LISTS:
        raise ValueError(f"lists must be one of {', '.join(map(repr, _LISTS))}, not {lists!r}")
    if not isinstance(sep, str) or not sep:
        raise ValueError(f"sep must be a non-empty string, not {sep!r}")


def _schema_dict(schema: Any) -> dict[str, Any]:
    """The schema as a checked JSON Schema dict (checked once per distinct schema)."""
    key = schema if isinstance(schema, type) else json.dumps(schema, default=str)
    return copy.deepcopy(_checked_schema(key))


@lru_cache(maxsize=64)
def _checked_schema(key: Any) -> dict[str, Any]:
    from bbnb.models import result_schema_dict

    return result_schema_dict(key if isinstance(key, type) else json.loads(key))


def _row_path(root: Node, rows: str | None) -> Path | None:
    """Which array gives the rows (see ``to_frame``'s ``rows``)."""
    if rows is None:
        return None
    if rows == "auto":
        if isinstance(root, Arr):
            return () if isinstance(root.items, Obj) else None
        if isinstance(root, Obj):
            found = [
                (p.name,)
                for p in root.props
                if isinstance(p.node, Arr) and isinstance(p.node.items, Obj)
            ]
            return found[0] if len(found) == 1 else None
        return None
    path = tuple(rows.split(".")) if rows else ()
    node: Node = root
    for name in path:
        props = {p.name: p.node for p in node.props} if isinstance(node, Obj) else {}
        if name not in props:
            break
        node = props[name]
    else:
        if isinstance(node, Arr):
            return path
    raise ValueError(
        f"rows={rows!r} does not name an array of the result; arrays reachable through "
        f"objects: {', '.join(repr(p) for p in _arrays(root)) or 'none'} "
        "(or use rows='auto' or rows=None)"
    )


def _arrays(node: Node, path: Path = ()) -> list[str]:
    if isinstance(node, Arr):
        return [".".join(path)]
    if isinstance(node, Obj):
        return [a for p in node.props for a in _arrays(p.node, (*path, p.name))]
    return []


def _verdicts(
    found: Items, plan: Plan, flagged: np.ndarray[Any, Any], validate: bool
) -> tuple[Any, list[str | None]]:
    """``_conforms`` (nullable boolean per result) and ``_errors``."""
    n = len(found.payloads)
    has = np.fromiter(found.has_result, dtype=bool, count=n)
    errors: list[str | None] = [None] * n
    if not validate:
        return pd.array([None] * n, dtype="boolean"), errors
    ok = has.copy()
    todo = (flagged & has) if plan.covered else has
    if todo.any():
        checker = validator(plan.validation_schema)
        for i in np.flatnonzero(todo).tolist():
            text = errors_text(checker, found.payloads[i])
            if text is not None:
                ok[i] = False
                errors[i] = text
    return pd.arrays.BooleanArray(ok, ~has), errors


def _raise_if_invalid(found: Items, conforms: Any, errors: list[str | None]) -> None:
    bad = np.flatnonzero(np.asarray(conforms == False, dtype=bool))  # noqa: E712
    if bad.size:
        first = int(bad[0])
        who = as_list(found.prov["_id"])[first] or f"item {found.keys[first]!r}"
        raise ResultValidationError(
            f"{bad.size} of {len(found.payloads)} results do not match the schema; "
            f"first ({who}): {errors[first]}. Pass strict=False to get every row with "
            "_conforms and _errors columns instead."
        )


def _raw_rows(
    raw: list[tuple[int, int, Path, Any]], parent: IntArray, elem: IntArray, any_cols: int
) -> np.ndarray[Any, Any]:
    """One dict {column path: raw value} per row that had values made NA."""
    out = np.empty(len(parent), dtype=object)
    if not raw:
        return out
    inverse = np.full(int(elem.max()) + 1 if len(elem) else 0, -1, dtype=np.int64)
    inverse[elem[elem >= 0]] = np.flatnonzero(elem >= 0)
    for level, pos, path, value in raw:
        if level == 0:
            lo, hi = np.searchsorted(parent, [pos, pos + 1])
            targets = range(int(lo), int(hi))
        else:
            row = int(inverse[pos]) if pos < len(inverse) else -1
            targets = range(row, row + 1) if row >= 0 else range(0)
        for row_index in targets:
            if out[row_index] is None:
                out[row_index] = {}
            out[row_index][path] = value
    return out


def _lists(
    cols: list[Column],
    parent: IntArray,
    raw_rows: np.ndarray[Any, Any],
    lists: str,
    drop_empty: bool,
) -> tuple[list[Column], IntArray, np.ndarray[Any, Any]]:
    """Apply ``lists=`` to array columns (exploding them one after the other)."""
    if lists != "explode":
        out = [
            Column(c.path, 0, json_text(list(c.data)) if lists == "json" else c.data, c.node)
            if c.is_list
            else c
            for c in cols
        ]
        return out, parent, raw_rows
    i = 0
    while i < len(cols):
        col = cols[i]
        if not col.is_list:
            i += 1
            continue
        values = list(col.data)
        lengths = np.fromiter(
            (len(v) if isinstance(v, list) else 0 for v in values), dtype=np.int64
        )
        empty = np.fromiter((isinstance(v, list) and not v for v in values), dtype=bool)
        p2, e2 = expand(lengths, empty, drop_empty)
        elements = list(chain.from_iterable(v for v in values if isinstance(v, list)))
        assert isinstance(col.node, Arr)
        sub = walk(elements, col.node.items, row_path=None, check=False)
        new_cols = [
            Column((*col.path, *c.path), 0, take(c.data, e2), c.node, c.is_list)
            for c in sub.columns
        ]
        cols = [Column(c.path, 0, take(c.data, p2), c.node, c.is_list) for c in cols]
        cols[i : i + 1] = new_cols
        parent = parent[p2]
        raw_rows = take(raw_rows, p2)
        for _, pos, path, value in sub.raw:
            for row in np.flatnonzero(e2 == pos).tolist():
                if raw_rows[row] is None:
                    raw_rows[row] = {}
                raw_rows[row] = {**raw_rows[row], (*col.path, *path): value}
    return cols, parent, raw_rows


def _name(path: Path, sep: str) -> str:
    return sep.join(path) if path else "value"


def _unique(name: str, taken: dict[str, Any]) -> str:
    """Data names that repeat (``a.b`` the key vs ``a`` → ``b``) get ``~2``, ``~3``..."""
    if name not in taken:
        return name
    k = 2
    while f"{name}~{k}" in taken:
        k += 1
    return f"{name}~{k}"


def _rename(name: str) -> str:
    """A data column named like a provenance column is prefixed with ``result.``."""
    while name in PROVENANCE_COLUMNS:
        name = f"result.{name}"
    return name


def _provenance(found: Items, conforms: Any, errors: list[str | None]) -> dict[str, Any]:
    """Provenance columns, one value per result."""
    prov = found.prov
    out: dict[str, Any] = {"_key": _keys(found.keys)}
    out["_id"] = text_array(prov["_id"])
    out["_status"] = _statuses(prov["_status"])
    out["_task"] = _category(prov["_task"])
    out["_session_id"] = text_array(prov["_session_id"])
    for name in ("_created_at", "_started_at", "_ended_at"):
        out[name] = _times(prov[name])
    seconds = (pd.Series(out["_ended_at"]) - pd.Series(out["_started_at"])).dt.total_seconds()
    out["_duration_s"] = pd.array(seconds, dtype="Float64")
    out["_cause_code"] = text_array(prov["_cause_code"])
    out["_cause_message"] = text_array(prov["_cause_message"])
    out["_summary"] = text_array(prov["_summary"])
    out["_steps_taken"] = typed_array(prov["_steps_taken"], Leaf("integer"))[0]
    out["_task_duration"] = typed_array(prov["_task_duration"], Leaf("number"))[0]
    out["_conforms"] = conforms
    out["_errors"] = text_array(errors)
    return out


def _statuses(values: Any) -> Any:
    """``_status`` as a category: the seven run statuses, then any others seen."""
    if isinstance(values, pa.Array):  # strings, read by the C extractor
        seen = set(pc.unique(values).to_pylist())
    else:
        if not set(map(type, values)) <= {str, type(None)}:
            values = [getattr(s, "value", s) for s in values]
        seen = set(values)
    extra = sorted(s for s in seen - {None, *_STATUSES} if isinstance(s, str))
    cats = [*_STATUSES, *extra]
    try:
        text = values if isinstance(values, pa.Array) else pa.array(values, type=pa.string())
        codes = pc.index_in(text, value_set=pa.array(cats, type=text.type))
    except (pa.ArrowException, TypeError, ValueError):
        return pd.Categorical(values, categories=cats)
    code_np = np.asarray(codes.fill_null(-1), dtype=np.int8)
    return pd.Categorical.from_codes(code_np, dtype=pd.CategoricalDtype(cats))


def _category(values: Any) -> Any:
    """Repeated text (the task) as a category, categories in first-seen order."""
    arr = text_arrow(values).dictionary_encode()
    cats = arr.dictionary.to_pylist()
    codes = np.asarray(arr.indices.fill_null(-1), dtype=np.int64)
    return pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(cats))


def _keys(keys: Any) -> Any:
    """``_key``: ``Int64`` for positions or int keys, ``string`` for str keys, else object."""
    if isinstance(keys, range):
        return pd.array(np.arange(keys.start, keys.stop, keys.step, dtype=np.int64), dtype="Int64")
    if all(isinstance(k, int) and not isinstance(k, bool) for k in keys):
        return typed_array(keys, Leaf("integer"))[0]
    if all(isinstance(k, str) for k in keys):
        return text_array(keys)
    return object_array(keys)


def _times(values: Any) -> Any:
    """ISO strings or datetimes to ``datetime64[us, UTC]``."""
    try:
        text = values if isinstance(values, pa.Array) else pa.array(values, type=pa.string())
        return from_arrow(UTC_US, text.cast(pa.timestamp("us", tz="UTC")))
    except (pa.ArrowException, TypeError, ValueError):
        strings = [as_time(v) for v in as_list(values)]
        parsed = pd.to_datetime(
            pd.Series(strings, dtype=object), utc=True, errors="coerce", format="ISO8601"
        )
        return pd.array(parsed).astype(UTC_US)


def _one(values: set[str]) -> str | None:
    return next(iter(values)) if len(values) == 1 else None
