"""Flatten result values into columns, one C-speed pass per column, guided by the plan.

The walker goes down the plan, not down each value: for every property it pulls the
child values of a whole chunk of results at once (``map(dict.get, ...)`` runs in C),
so the Python work is a handful of loops per column instead of a call per value.
Leaves become arrow chunks (:mod:`bbnb.results._columns`) that are finished into
pandas arrays once at the end; chunking keeps the temporary lists small.  The one
array chosen as the row axis is expanded with numpy index arithmetic.

While walking, the fast validator marks results it is not sure about (``flagged``)
and records values that had to become NA (``raw``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import chain, repeat
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from bbnb.results._columns import arrow_kind, finish, object_array, to_arrow, typed_array
from bbnb.results._schema import Arr, Leaf, Node, Obj, Prop
from bbnb.results._validate import surely_conforms

__all__ = ["CHUNK", "Column", "Walked", "expand", "is_arange", "take", "walk"]

Path = tuple[str, ...]
IntArray = np.ndarray[Any, np.dtype[np.int64]]
BoolArray = np.ndarray[Any, np.dtype[np.bool_]]
CHUNK = 16_384


@dataclass
class Column:
    """One output column before rows are laid out."""

    path: Path
    level: int  # 0: one value per walked value; 1: one per element of the row array
    data: Any  # pandas array, or a list of raw lists for array columns
    node: Node
    is_list: bool = False


@dataclass
class _Acc:
    path: Path
    level: int
    node: Node
    is_list: bool
    chunks: list[Any] = field(default_factory=list)


@dataclass
class Walked:
    """What a walk produced."""

    columns: list[Column]
    flagged: BoolArray
    raw: list[tuple[int, int, Path, Any]] = field(default_factory=list)
    lengths: IntArray | None = None  # elements in the row array, per value
    empty: BoolArray | None = None  # row array is []


class _Walker:
    def __init__(self, n: int, row_path: Path | None, check: bool) -> None:
        self.row_path = row_path
        self.check = check
        self.flagged = np.zeros(n, dtype=bool)
        self.raw: list[tuple[int, int, Path, Any]] = []
        self.acc: dict[tuple[Path, int], _Acc] = {}
        self.lengths: list[IntArray] = []
        self.empty: list[BoolArray] = []
        self.base = [0, 0]  # offsets of this chunk's values and elements
        self.owner: IntArray = np.zeros(0, dtype=np.int64)  # element -> value (global)

    def flag(self, level: int, positions: Sequence[int]) -> None:
        if not positions:
            return
        pos = np.asarray(positions, dtype=np.int64) + self.base[level]
        self.flagged[pos if level == 0 else self.owner[pos]] = True

    def bad(self, level: int, positions: Sequence[int], values: Sequence[Any], path: Path) -> None:
        base = self.base[level]
        self.raw.extend((level, base + p, path, values[p]) for p in positions)
        self.flag(level, positions)

    def add(self, path: Path, level: int, node: Node, chunk: Any, is_list: bool = False) -> None:
        key = (path, level)
        if key not in self.acc:
            self.acc[key] = _Acc(path, level, node, is_list)
        self.acc[key].chunks.append(chunk)

    def walk(self, values: Sequence[Any], node: Node, path: Path, level: int) -> int:
        """Walk one column of values; returns how many are null (-1: not counted)."""
        if isinstance(node, Obj):
            self.obj(values, node, path, level)
        elif isinstance(node, Arr):
            if level == 0 and path == self.row_path:
                self.rows(values, node, path)
            else:
                self.list_column(values, node, path, level)
        else:
            return self.leaf(values, node, path, level)
        return -1

    def obj(self, values: Sequence[Any], node: Obj, path: Path, level: int) -> None:
        plain = True
        for prop in node.props:
            name = prop.name
            child: Sequence[Any] | None = None
            if plain:
                try:  # every value a dict: one C-level pass
                    child = list(map(dict.get, values, repeat(name)))
                except TypeError:
                    values = self.objects_only(values, path, level)
                    plain = False
            if child is None:
                child = [None if v is None else v.get(name) for v in values]
            nulls = self.walk(child, prop.node, (*path, name), level)
            if self.check and nulls != 0:
                self.nulls(values, child, prop, level)

    def objects_only(self, values: Sequence[Any], path: Path, level: int) -> list[Any]:
        """Record non-objects as wrong-typed and replace them with None."""
        wrong = [i for i, v in enumerate(values) if v is not None and not isinstance(v, dict)]
        self.bad(level, wrong, values, path)
        drop = set(wrong)
        return [None if i in drop else v for i, v in enumerate(values)]

    def nulls(self, parents: Sequence[Any], child: Sequence[Any], prop: Prop, level: int) -> None:
        """Flag missing required keys and nulls where null is not allowed."""
        nullable = prop.node.nullable
        if (nullable and not prop.required) or None not in child:
            return
        name, required = prop.name, prop.required
        wrong = []
        for i, c in enumerate(child):
            parent = parents[i]
            if c is None and parent is not None:
                missing = name not in parent
                if (missing and required) or (not missing and not nullable):
                    wrong.append(i)
        self.flag(level, wrong)

    def rows(self, values: Sequence[Any], node: Arr, path: Path) -> None:
        plain = set(map(type, values)) <= {list}
        if not plain:
            wrong = [i for i, v in enumerate(values) if v is not None and not isinstance(v, list)]
            self.bad(0, wrong, values, path)
            drop = set(wrong)
            values = [() if i in drop or v is None else v for i, v in enumerate(values)]
        n = len(values)
        lengths = np.fromiter(map(len, values), dtype=np.int64, count=n)
        self.lengths.append(lengths)
        if plain:
            self.empty.append(lengths == 0)
        else:
            self.empty.append(np.fromiter((type(v) is list and not v for v in values), bool, n))
        owner = np.repeat(np.arange(self.base[0], self.base[0] + n, dtype=np.int64), lengths)
        self.owner = np.concatenate([self.owner, owner]) if len(self.owner) else owner
        elements = list(chain.from_iterable(values))
        if self.check and not node.items.nullable and None in elements:
            self.flag(1, [i for i, e in enumerate(elements) if e is None])
        self.walk(elements, node.items, path, 1)
        self.base[1] += len(elements)

    def list_column(self, values: Sequence[Any], node: Arr, path: Path, level: int) -> None:
        wrong = [i for i, v in enumerate(values) if v is not None and not isinstance(v, list)]
        if wrong:
            self.bad(level, wrong, values, path)
            drop = set(wrong)
            values = [None if i in drop else v for i, v in enumerate(values)]
        if self.check:
            unsure = [
                i for i, v in enumerate(values) if v is not None and not surely_conforms(v, node)
            ]
            self.flag(level, unsure)
        self.add(path, level, node, list(values), is_list=True)

    def leaf(self, values: Sequence[Any], node: Leaf, path: Path, level: int) -> int:
        typ = arrow_kind(node)
        if typ is None:
            if self.check:
                unsure = [
                    i
                    for i, v in enumerate(values)
                    if v is not None and not surely_conforms(v, node)
                ]
                self.flag(level, unsure)
            self.add(path, level, node, list(values))
            return -1
        arr, wrong = to_arrow(values, typ)
        if wrong:
            self.bad(level, wrong, values, path)
        self.add(path, level, node, arr)
        return int(arr.null_count) - len(wrong)

    def columns(self) -> list[Column]:
        """Finish every column (once, on all chunks)."""
        out = []
        for acc in self.acc.values():
            node = acc.node
            if acc.is_list:
                out.append(Column(acc.path, acc.level, list(chain(*acc.chunks)), node, True))
                continue
            assert isinstance(node, Leaf)
            if arrow_kind(node) is None:
                data, wrong = typed_array(list(chain(*acc.chunks)), node)
                values: Any = None
            else:
                arr = pa.concat_arrays(acc.chunks) if len(acc.chunks) != 1 else acc.chunks[0]
                data, wrong = finish(arr, node)
                values = arr
            if wrong:
                raw = values.take(pa.array(wrong)).to_pylist() if values is not None else None
                saved, self.base = self.base, [0, 0]
                self.raw.extend(
                    (acc.level, p, acc.path, raw[k] if raw is not None else None)
                    for k, p in enumerate(wrong)
                )
                pos = np.asarray(wrong, dtype=np.int64)
                self.flagged[pos if acc.level == 0 else self.owner[pos]] = True
                self.base = saved
            out.append(Column(acc.path, acc.level, data, node))
        return out


def walk(
    values: Sequence[Any],
    node: Node,
    *,
    row_path: Path | None,
    check: bool,
    chunk: int | None = None,
) -> Walked:
    """Walk ``values`` (one per result) down ``node``; see the module docstring."""
    chunk = chunk or CHUNK
    walker = _Walker(len(values), row_path, check)
    for start in range(0, max(len(values), 1), chunk):
        part = values[start : start + chunk]
        walker.base[0] = start
        if check and not node.nullable and None in part:
            walker.flag(0, [i for i, v in enumerate(part) if v is None])
        walker.walk(part, node, (), 0)
    columns = walker.columns()
    return Walked(
        columns=columns,
        flagged=walker.flagged,
        raw=walker.raw,
        lengths=np.concatenate(walker.lengths) if walker.lengths else None,
        empty=np.concatenate(walker.empty) if walker.empty else None,
    )


_MASKED = (pd.arrays.IntegerArray, pd.arrays.FloatingArray, pd.arrays.BooleanArray)


def _all_na(data: Any, n: int) -> Any:
    """An all-NA array like ``data`` (masked or arrow string) of length ``n``."""
    if isinstance(data, _MASKED):
        values: Any = np.zeros(n, dtype=np.dtype(data.dtype.type))
        return type(data)(values, np.ones(n, dtype=bool))
    return data.dtype.__from_arrow__(pa.nulls(n, type=pa.large_string()))


def expand(lengths: IntArray, empty: BoolArray, drop_empty: bool) -> tuple[IntArray, IntArray]:
    """Row layout for exploding: (parent index per row, element index per row or -1).

    Every value gives one row per element; a value with no elements gives one row of
    NA (none when ``drop_empty`` and its array was ``[]``).
    """
    counts = np.maximum(lengths, 1)
    if drop_empty:
        counts[empty] = 0
    parent = np.repeat(np.arange(len(lengths), dtype=np.int64), counts)
    starts = np.cumsum(lengths) - lengths
    row_starts = np.cumsum(counts) - counts
    pos = np.arange(len(parent), dtype=np.int64) - row_starts[parent]
    elem = starts[parent] + pos
    elem[lengths[parent] == 0] = -1
    return parent, elem


def is_arange(index: IntArray) -> bool:
    """Whether ``index`` is ``0, 1, ..., len - 1`` (taking by it changes nothing)."""
    n = len(index)
    if n == 0:
        return True
    return int(index[0]) == 0 and int(index[-1]) == n - 1 and bool((np.diff(index) == 1).all())


def take(data: Any, index: IntArray, *, identity: bool = False) -> Any:
    """Take rows by index; ``-1`` gives NA (``None`` in object arrays).

    ``identity``: the caller knows ``index`` is :func:`is_arange` (the data is kept).
    """
    if isinstance(data, list):
        data = object_array(data)
    if identity and len(data) == len(index):
        return data
    if len(data) and isinstance(data, (*_MASKED, pd.arrays.ArrowStringArray)) and data.isna().all():
        return _all_na(data, len(index))
    if isinstance(data, np.ndarray):
        if not len(data):
            return object_array([None] * len(index))
        out = data[np.where(index < 0, 0, index)]
        out[index < 0] = None
        return out
    return data.take(index, allow_fill=True)
