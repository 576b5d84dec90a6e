"""The optional C extractor (:mod:`bbnb.results._speedups`) and its arrow hand-off.

The extension is built at install time where a C compiler exists; without it (or with
``BBNB_NO_SPEEDUPS=1`` in the environment) :func:`extract` returns ``None`` and
callers take their pure-Python paths, which give the same results.

A spec (see ``_speedups.c``) describes objects, typed leaves and at most one row
array; :func:`extract` returns one arrow array per leaf (strings as ``large_string``,
the layout pandas' ``string[pyarrow]`` keeps) built on the extension's buffers without
copying, plus per-value validation flags and row-array lengths.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np
import pyarrow as pa

__all__ = ["ANY", "BOOL", "FLOAT", "INT", "STR", "Extracted", "available", "extract", "leaf_code"]

INT, FLOAT, BOOL, STR, ANY = 0, 1, 2, 3, 4  # ANY: the values themselves, as a list
_ARROW = (pa.int64(), pa.float64(), pa.bool_(), pa.large_string())
_CODES = {pa.int64(): INT, pa.float64(): FLOAT, pa.bool_(): BOOL, pa.string(): STR}


def _load() -> ModuleType | None:
    try:
        from bbnb.results import _speedups
    except ImportError:  # built without a C compiler: pure-Python paths do the work
        return None
    return _speedups


module: ModuleType | None = _load()
"""The extension, or ``None`` when it was not built (tests swap it out)."""


def available() -> bool:
    """Whether the C extractor will be used."""
    return module is not None and not os.environ.get("BBNB_NO_SPEEDUPS")


def leaf_code(typ: pa.DataType) -> int:
    """The spec code of an arrow leaf type (int64, float64, bool or string)."""
    return _CODES[typ]


@dataclass
class Extracted:
    """What one :func:`extract` call gave."""

    arrays: list[Any]  # one per leaf, in spec order: arrow arrays (ANY: a list)
    flagged: np.ndarray[Any, np.dtype[np.bool_]]  # per value: does not conform
    lengths: np.ndarray[Any, np.dtype[np.int64]]  # per value: row-array length
    empty: np.ndarray[Any, np.dtype[np.bool_]]  # per value: row array is []


def extract(
    values: list[Any], spec: tuple[Any, ...], codes: list[int], flag_null: bool
) -> Extracted | None:
    """Run the C extractor; ``None`` if it is not available or cannot vouch for ``values``.

    ``codes`` are the leaves' spec codes, in the order of their indexes in ``spec``.
    """
    if not available():
        return None
    assert module is not None
    out = module.extract(values, spec, len(codes), flag_null)
    if out is None:
        return None
    leaves, flagged, lengths, empty = out
    arrays = []
    for code, (count, nulls, valid, data, offsets) in zip(codes, leaves, strict=True):
        if code == ANY:
            arrays.append(data)
            continue
        buffers = [pa.py_buffer(valid) if nulls else None, pa.py_buffer(data)]
        if offsets is not None:
            buffers.insert(1, pa.py_buffer(offsets))
        arrays.append(pa.Array.from_buffers(_ARROW[code], count, buffers, null_count=nulls))
    return Extracted(
        arrays=arrays,
        flagged=np.frombuffer(flagged, dtype=bool),
        lengths=np.frombuffer(lengths, dtype=np.int64),
        empty=np.frombuffer(empty, dtype=bool),
    )
