"""The typed fast paths, for results that fit a plan of typed leaves.

When the plan is only objects, arrow-carried leaves (integer, number, boolean, string
and the formats and enums carried as those) and at most the row array of objects,
the columns can be built without a Python pass per column.  Two ways, both finished
by the general walker's own code (:meth:`bbnb.results._flatten._Walker.columns`), so
dtypes, ``_raw`` and the validation flags come out exactly as the general walk makes
them; when either cannot vouch for the input, :func:`typed_walk` returns ``None`` and
the general walker does the work (it handles wrong-typed values with NA and ``_raw``):

1. The C extractor (:mod:`bbnb.results._speedups`, built at install time where a C
   compiler exists): one pass over all values that writes every leaf straight into
   arrow buffers and gives up on any value whose Python type is not exactly the
   plan's.  Set ``BBNB_NO_SPEEDUPS=1`` to skip it.
2. One explicit-type ``pa.array(values, type=...)`` per chunk, the columns cut out
   of the struct arrays.  Arrow's typed conversion is looser than JSON, so its
   result is trusted only after guards:

* shapes: every object value must be a ``dict`` and every row array a ``list``
  (arrow would also take tuples, strings and numpy arrays);
* integer leaves are converted as float64 (arrow truncates floats into int64), and
  any non-integral value or magnitude >= 2**53 falls back;
* a 0 or 1 in an integer or number leaf is looked up in Python: a ``bool`` (which
  arrow turns into 0/1) or any non-``int``/``float`` value falls back;
* any conversion error falls back.

Properties the schema does not name are ignored here, as by the general walker
(validation of them, if the schema restricts them, is ``jsonschema``'s job).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from itertools import chain, repeat
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from bbnb.results import _flatten as flatten
from bbnb.results import _native
from bbnb.results._columns import arrow_kind
from bbnb.results._flatten import Path, Walked, _Walker
from bbnb.results._schema import Arr, Leaf, Node, Obj

__all__ = ["typed_walk"]

_NONE = type(None)
_EXACT = 2.0**53


class _Fallback(Exception):
    """The typed path cannot vouch for this input."""


def arrow_type(node: Node, row_path: Path | None, path: Path = ()) -> pa.DataType | None:
    """The arrow type for ``node`` (integers as float64), or ``None`` if not supported."""
    if isinstance(node, Leaf):
        typ = arrow_kind(node)
        return pa.float64() if typ == pa.int64() else typ
    if isinstance(node, Obj):
        names = [p.name for p in node.props]
        if len(set(names)) != len(names):
            return None
        fields = []
        for prop in node.props:
            sub = arrow_type(prop.node, row_path, (*path, prop.name))
            if sub is None:
                return None
            fields.append(pa.field(prop.name, sub))
        return pa.struct(fields)
    if path == row_path and isinstance(node.items, Obj):
        items = arrow_type(node.items, None, path)
        return None if items is None else pa.list_(items)
    return None


class _Typed:
    def __init__(self, values: Sequence[Any], row_path: Path | None, walker: _Walker) -> None:
        self.row_path = row_path or ()
        self.walker = walker
        self.check = walker.check
        self.values = values  # this chunk's values (positions below are chunk-local)
        self.owner: Any = None  # element -> value
        self.starts: Any = None  # first element index of each value's row array

    def shapes(self, values: Sequence[Any], node: Node, path: Path, level: int) -> None:
        """Every object a dict, every row array a list (else fall back)."""
        types = set(map(type, values))
        if isinstance(node, Obj):
            if not types <= {dict, _NONE}:
                raise _Fallback
            present = [v for v in values if v is not None] if _NONE in types else values
            for prop in node.props:
                if not isinstance(prop.node, Leaf):
                    child = list(map(dict.get, present, repeat(prop.name)))
                    self.shapes(child, prop.node, (*path, prop.name), level)
        elif isinstance(node, Arr):
            if not types <= {list, _NONE}:
                raise _Fallback
            elements = chain.from_iterable(filter(None, values))
            if isinstance(node.items, Obj) and any(
                isinstance(p.node, Obj) for p in node.items.props
            ):
                self.shapes(list(elements), node.items, path, 1)
            elif not set(map(type, elements)) <= {dict, _NONE}:
                raise _Fallback

    def python(self, level: int, pos: int, path: Path) -> Any:
        """The Python value at ``pos`` of ``level`` down ``path`` (objects are dicts)."""
        if level == 0:
            value, rel = self.values[pos], path
        else:
            run = int(self.owner[pos])
            value = self.values[run]
            for name in self.row_path:
                value = value[name]
            value, rel = value[pos - int(self.starts[run])], path[len(self.row_path) :]
        for name in rel:
            if value is None:
                return None
            value = value.get(name)
        return value

    def walk(self, arr: pa.Array, node: Node, path: Path, level: int) -> None:
        if isinstance(node, Obj):
            self.obj(arr, node, path, level)
        elif isinstance(node, Arr):
            self.rows(arr, node, path)
        else:
            self.leaf(arr, node, path, level)

    def obj(self, arr: pa.StructArray, node: Obj, path: Path, level: int) -> None:
        children = arr.flatten()
        valid = None
        for prop, child in zip(node.props, children, strict=True):
            sub = (*path, prop.name)
            self.walk(child, prop.node, sub, level)
            if not self.check or (prop.node.nullable and not prop.required):
                continue
            if child.null_count == 0:
                continue
            if valid is None:
                valid = np.asarray(arr.is_valid(), dtype=bool)
            nulls = np.flatnonzero(valid & ~np.asarray(child.is_valid(), dtype=bool))
            if not prop.node.nullable and prop.required:
                self.walker.flag(level, nulls.tolist())
                continue
            wrong = []
            for i in nulls.tolist():
                missing = prop.name not in self.python(level, i, path)
                if (missing and prop.required) or (not missing and not prop.node.nullable):
                    wrong.append(i)
            self.walker.flag(level, wrong)

    def rows(self, arr: pa.ListArray, node: Arr, path: Path) -> None:
        n = len(arr)
        valid = np.asarray(arr.is_valid(), dtype=bool)
        lengths = np.asarray(pc.list_value_length(arr).fill_null(0), dtype=np.int64)
        self.walker.lengths.append(lengths)
        self.walker.empty.append(valid & (lengths == 0))
        self.owner = np.repeat(np.arange(n, dtype=np.int64), lengths)
        walker = self.walker
        owner = self.owner + walker.base[0]
        walker.owner = np.concatenate([walker.owner, owner]) if len(walker.owner) else owner
        elements = pc.list_flatten(arr)
        self.starts = np.cumsum(lengths) - lengths
        if len(elements) != int(lengths.sum()):
            raise _Fallback
        if self.check and not node.items.nullable and elements.null_count:
            missing = np.flatnonzero(~np.asarray(elements.is_valid(), dtype=bool))
            self.walker.flag(1, missing.tolist())
        self.walk(elements, node.items, path, 1)

    def leaf(self, arr: pa.Array, node: Leaf, path: Path, level: int) -> None:
        if arr.type == pa.float64():
            suspects = pc.or_(pc.equal(arr, 0.0), pc.equal(arr, 1.0)).fill_null(False)
            for i in np.flatnonzero(np.asarray(suspects, dtype=bool)).tolist():
                if type(self.python(level, i, path)) not in (int, float):
                    raise _Fallback
            if arrow_kind(node) == pa.int64():
                inexact = pc.or_(
                    pc.not_equal(pc.floor(arr), arr), pc.greater_equal(pc.abs(arr), _EXACT)
                )
                if pc.any(inexact).as_py():
                    raise _Fallback
                arr = arr.cast(pa.int64())
        self.walker.add(path, level, node, arr)


def typed_walk(
    values: Sequence[Any], node: Node, *, row_path: Path | None, check: bool
) -> Walked | None:
    """The walk of ``values`` by typed conversions, or ``None`` (use the general walk)."""
    typ = arrow_type(node, row_path)
    if not values or typ is None:
        return None
    if row_path != () and not isinstance(node, Obj):
        return None
    if _native.available():
        return _c_walk(values, node, row_path=row_path, check=check)
    if not isinstance(node, Obj):
        return None
    return _arrow_walk(values, node, typ, row_path=row_path, check=check)


def _spec(
    node: Node,
    row_path: Path | None,
    check: bool,
    leaves: list[tuple[Path, int, Leaf, int]],
    path: Path = (),
    level: int = 0,
) -> tuple[Any, ...]:
    """The C extractor's spec for ``node`` (see ``_speedups.c``).

    Collects each leaf as ``(path, level, leaf, spec code)``, in leaf-index order.
    """
    if isinstance(node, Leaf):
        typ = arrow_kind(node)
        assert typ is not None
        code = _native.leaf_code(typ)
        leaves.append((path, level, node, code))
        return (0, code, len(leaves) - 1)
    if isinstance(node, Obj):
        props = tuple(
            (
                sys.intern(prop.name),  # dict keys from literals are interned: pointer-equal
                _spec(prop.node, row_path, check, leaves, (*path, prop.name), level),
                check and prop.required,
                check and not prop.node.nullable,
            )
            for prop in node.props
        )
        return (1, props)
    assert path == row_path and isinstance(node.items, Obj)
    items = _spec(node.items, row_path, check, leaves, path, 1)
    return (2, items, check and not node.items.nullable)


def _c_walk(
    values: Sequence[Any], node: Node, *, row_path: Path | None, check: bool
) -> Walked | None:
    """The walk by the C extractor: one pass, its buffers handed to arrow uncopied."""
    leaves: list[tuple[Path, int, Leaf, int]] = []
    spec = _spec(node, row_path, check, leaves)
    codes = [code for *_, code in leaves]
    listed = values if type(values) is list else list(values)
    out = _native.extract(listed, spec, codes, check and not node.nullable)
    if out is None:
        return None
    n = len(values)
    walker = _Walker(n, row_path, check)
    walker.flagged = out.flagged
    if row_path is not None:
        walker.lengths.append(out.lengths)
        walker.empty.append(out.empty)
        walker.owner = np.repeat(np.arange(n, dtype=np.int64), out.lengths)
    for (path, level, leaf, _), arr in zip(leaves, out.arrays, strict=True):
        if len(arr) != (n if level == 0 else len(walker.owner)):
            raise AssertionError(f"C extractor: {len(arr)} values for {path}, level {level}")
        walker.add(path, level, leaf, arr)
    return Walked(
        columns=walker.columns(),
        flagged=walker.flagged,
        raw=walker.raw,
        lengths=out.lengths if row_path is not None else None,
        empty=out.empty if row_path is not None else None,
    )


def _arrow_walk(
    values: Sequence[Any], node: Obj, typ: pa.DataType, *, row_path: Path | None, check: bool
) -> Walked | None:
    """The walk by explicit-type ``pa.array`` conversions to ``typ``, or ``None``.

    Converted chunk by chunk (``CHUNK`` values at a time, as the general walk), so
    arrow's builders never hold more than one chunk's slack.
    """
    walker = _Walker(len(values), row_path, check)
    step = flatten.CHUNK
    try:
        for start in range(0, len(values), step):
            part = values[start : start + step]
            walker.base = [start, len(walker.owner)]
            typed = _Typed(part, row_path, walker)
            typed.shapes(part, node, (), 0)
            arr = pa.array(part, type=typ)
            if check and not node.nullable and arr.null_count:
                walker.flag(0, np.flatnonzero(~np.asarray(arr.is_valid(), dtype=bool)).tolist())
            typed.walk(arr, node, (), 0)
    except (_Fallback, pa.ArrowException, OverflowError, TypeError, ValueError):
        return None
    columns = walker.columns()
    return Walked(
        columns=columns,
        flagged=walker.flagged,
        raw=walker.raw,
        lengths=np.concatenate(walker.lengths) if walker.lengths else None,
        empty=np.concatenate(walker.empty) if walker.empty else None,
    )
