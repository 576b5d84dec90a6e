"""Read what ``to_frame`` was given: runs, invocations, bare results or a batch.

Accepted items, each one result:

* an ``AgentRun`` (model or wire dict with ``runId`` and ``status``): the result is
  ``result["output"]`` when ``result`` has an ``output`` key, else ``result``;
  ``summary``, ``stepsTaken`` and ``taskDuration`` beside ``output`` become provenance;
* an ``Invocation`` (model or wire dict with ``functionId`` and ``status``): ``results``;
* anything else: a bare result value (a dict, list, scalar or ``None``).

``items`` may be one item (a model or a dict), a list/tuple/iterable of items, or an
object with ``iter_keyed()`` yielding ``(key, item)`` (a batch).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import repeat
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from bbnb.results import _native

__all__ = ["FAILED_STATUSES", "Items", "as_list", "read_items"]

FAILED_STATUSES = frozenset({"FAILED", "STOPPED", "TIMED_OUT"})

_RUN_FIELDS = (
    ("_id", "runId", "run_id"),
    ("_status", "status", "status"),
    ("_task", "task", "task"),
    ("_session_id", "sessionId", "session_id"),
    ("_created_at", "createdAt", "created_at"),
    ("_started_at", "startedAt", "started_at"),
    ("_ended_at", "endedAt", "ended_at"),
)
_INVOCATION_FIELDS = (
    ("_id", "id", "id"),
    ("_status", "status", "status"),
    ("_task", None, None),
    ("_session_id", "sessionId", "session_id"),
    ("_created_at", "createdAt", "created_at"),
    ("_started_at", "startedAt", "started_at"),
    ("_ended_at", "endedAt", "ended_at"),
)
_EXTRA = (
    ("_summary", "summary"),
    ("_steps_taken", "stepsTaken"),
    ("_task_duration", "taskDuration"),
)
PROVENANCE_FIELDS = (
    "_id",
    "_status",
    "_task",
    "_session_id",
    "_created_at",
    "_started_at",
    "_ended_at",
    "_cause_code",
    "_cause_message",
    "_summary",
    "_steps_taken",
    "_task_duration",
)


@dataclass
class Items:
    """The results to flatten and their provenance, column-wise."""

    payloads: list[Any]
    has_result: list[bool]
    keys: Sequence[Any]
    prov: dict[str, Any]  # name -> list of values, or an arrow array of them
    kinds: set[str] = field(default_factory=set)
    schema: dict[str, Any] | None = None
    tasks: set[str] = field(default_factory=set)

    @property
    def kind(self) -> str:
        """``agent_run``, ``invocation``, ``result`` or ``mixed``."""
        if len(self.kinds) == 1:
            return next(iter(self.kinds))
        return "mixed" if self.kinds else "result"


def read_items(items: Any) -> Items:
    """Normalise ``items`` into :class:`Items`."""
    objs, keys = _keyed(items)
    if objs and type(objs[0]) is dict and "runId" in objs[0]:
        fast = _native_runs(objs, keys)
        if fast is not None:
            return fast
        try:  # wire-shaped agent runs, the common bulk case
            ids = list(map(dict.get, objs, repeat("runId")))
            statuses = list(map(dict.get, objs, repeat("status")))
        except TypeError:  # not all dicts
            pass
        else:
            if None not in ids and None not in statuses:
                return _wire_runs(objs, keys, {"_id": ids, "_status": statuses})
    return _generic(objs, keys)


# The run fields as a C extractor spec: every field a string, ``cause`` an object, and
# ``result`` taken as it is (an ``ANY`` leaf) with its ``output`` and runner metadata.
# A missing ``output`` in a dict result is "flagged": that result is not wrapped.
_CAUSE_FIELDS = (("_cause_code", "code"), ("_cause_message", "message"))
_NATIVE_NAMES = [
    *(name for name, _, _ in _RUN_FIELDS),
    *(name for name, _ in _CAUSE_FIELDS),
    "output",
    *(name for name, _ in _EXTRA),
    "result",
]
_NATIVE_CODES = [_native.STR] * (len(_RUN_FIELDS) + len(_CAUSE_FIELDS)) + [_native.ANY] * (
    2 + len(_EXTRA)
)


def _leaf(name: str) -> tuple[int, int, int]:
    return (0, _NATIVE_CODES[_NATIVE_NAMES.index(name)], _NATIVE_NAMES.index(name))


_NATIVE_SPEC = (
    1,
    (
        *((wire, _leaf(name), False, False) for name, wire, _ in _RUN_FIELDS),
        (
            "cause",
            (1, tuple((wire, _leaf(name), False, False) for name, wire in _CAUSE_FIELDS)),
            False,
            False,
        ),
        (
            "result",
            (
                1,
                (
                    ("output", _leaf("output"), True, False),
                    *((wire, _leaf(name), False, False) for name, wire in _EXTRA),
                ),
                _leaf("result"),
            ),
            False,
            False,
        ),
    ),
)


def _native_runs(runs: list[Any], keys: Sequence[Any]) -> Items | None:
    """Wire-shaped agent runs read by the C extractor in one pass (no Python per run).

    ``None`` when the extractor is not available, a run field is not a string (or
    null), a run lacks its id or status, or a result is neither an object nor null:
    :func:`_wire_runs` and :func:`_generic` handle those.
    """
    out = _native.extract(runs, _NATIVE_SPEC, _NATIVE_CODES, False)
    if out is None:
        return None
    got = dict(zip(_NATIVE_NAMES, out.arrays, strict=True))
    if got["_id"].null_count or got["_status"].null_count:
        return None
    n = len(runs)
    fields = len(_RUN_FIELDS) + len(_CAUSE_FIELDS)  # the string leaves, in spec order
    prov: dict[str, Any] = {name: got[name] for name in _NATIVE_NAMES[:fields]}
    results: list[Any] = got["result"]
    has_result = [x is not None for x in results] if None in results else [True] * n
    wrapped = np.asarray(has_result, dtype=bool) & ~out.flagged  # a dict with "output"
    if wrapped.all():
        payloads: list[Any] = got["output"]
        for name, _ in _EXTRA:
            prov[name] = got[name]
    elif not wrapped.any():
        payloads = results
        for name, _ in _EXTRA:
            prov[name] = [None] * n
    else:
        flags = wrapped.tolist()
        payloads = [o if w else r for o, r, w in zip(got["output"], results, flags, strict=True)]
        for name, _ in _EXTRA:
            prov[name] = [v if w else None for v, w in zip(got[name], flags, strict=True)]
    return Items(
        payloads=payloads,
        has_result=has_result,
        keys=keys,
        prov=prov,
        kinds={"agent_run"},
        schema=_first_schema(r.get("resultSchema") for r in runs),
        tasks=_distinct(prov["_task"]),
    )


def as_list(values: Any) -> list[Any]:
    """A provenance column as a list (it may be held as an arrow array)."""
    return values.to_pylist() if isinstance(values, pa.Array) else list(values)


def _keyed(items: Any) -> tuple[list[Any], Sequence[Any]]:
    """The items and their keys (batch keys, else positions)."""
    if hasattr(items, "iter_keyed"):
        pairs = list(items.iter_keyed())
        return [o for _, o in pairs], [k for k, _ in pairs]
    if isinstance(items, dict) or _kind(items) != "result" or isinstance(items, str | bytes):
        return [items], range(1)
    if isinstance(items, list):
        return items, range(len(items))
    if isinstance(items, Iterable):
        objs = list(items)
        return objs, range(len(objs))
    return [items], range(1)


def _kind(obj: Any) -> str:
    if isinstance(obj, dict):
        if "status" in obj and "runId" in obj:
            return "agent_run"
        if "status" in obj and "functionId" in obj:
            return "invocation"
        return "result"
    if hasattr(obj, "run_id") and hasattr(obj, "status"):
        return "agent_run"
    if hasattr(obj, "function_id") and hasattr(obj, "status"):
        return "invocation"
    return "result"


def _wire_runs(
    runs: list[dict[str, Any]], keys: Sequence[Any], known: dict[str, list[Any]]
) -> Items:
    """The fast path: a list of wire-shaped agent-run dicts (column-wise, C-level passes).

    ``known`` holds provenance columns already read (by name).
    """
    n = len(runs)
    prov: dict[str, list[Any]] = {}
    for name, wire, _ in _RUN_FIELDS:
        prov[name] = known[name] if name in known else list(map(dict.get, runs, repeat(wire)))
    causes = list(map(dict.get, runs, repeat("cause")))
    if causes.count(None) == n:
        prov["_cause_code"] = [None] * n
        prov["_cause_message"] = [None] * n
    else:
        prov["_cause_code"] = [c.get("code") if isinstance(c, dict) else None for c in causes]
        prov["_cause_message"] = [c.get("message") if isinstance(c, dict) else None for c in causes]
    results: list[Any] = list(map(dict.get, runs, repeat("result")))
    if set(map(type, results)) == {dict} and not any(
        map(dict.__contains__, results, repeat("output"))
    ):  # all plain results: nothing to unwrap
        payloads, has_result = results, [True] * n
        for name, _ in _EXTRA:
            prov[name] = [None] * n
    else:
        wrapped = [type(x) is dict and "output" in x for x in results]
        payloads = [
            x["output"] if w and x is not None else x for x, w in zip(results, wrapped, strict=True)
        ]
        for name, wire in _EXTRA:
            if any(wrapped):
                prov[name] = [
                    x.get(wire) if w and x is not None else None
                    for x, w in zip(results, wrapped, strict=True)
                ]
            else:
                prov[name] = [None] * n
        has_result = [x is not None for x in results]
    return Items(
        payloads=payloads,
        has_result=has_result,
        keys=keys,
        prov=prov,
        kinds={"agent_run"},
        schema=_first_schema(r.get("resultSchema") for r in runs),
        tasks=_distinct(prov["_task"]),
    )


def _distinct(values: Any) -> set[str]:
    if isinstance(values, pa.Array):
        return {v for v in pc.unique(values).to_pylist() if v is not None}
    return set(values) - {None}


def _generic(objs: list[Any], keys: Sequence[Any]) -> Items:
    """Any mix of models, wire dicts and bare results, item by item."""
    prov: dict[str, list[Any]] = {name: [] for name in PROVENANCE_FIELDS}
    payloads: list[Any] = []
    has_result: list[bool] = []
    kinds: set[str] = set()
    schemas: list[Any] = []
    for obj in objs:
        kind = _kind(obj)
        kinds.add(kind)
        if kind == "result":
            payloads.append(obj)
            has_result.append(obj is not None)
            for name in PROVENANCE_FIELDS:
                prov[name].append(None)
            continue
        fields = _RUN_FIELDS if kind == "agent_run" else _INVOCATION_FIELDS
        get = _getter(obj)
        for name, wire, attr in fields:
            prov[name].append(get(wire, attr) if wire else None)
        cause = get("cause", "cause")
        prov["_cause_code"].append(_sub(cause, "code"))
        prov["_cause_message"].append(_sub(cause, "message"))
        if kind == "agent_run":
            result = get("result", "result")
            schemas.append(get("resultSchema", "result_schema"))
            wrapped = isinstance(result, dict) and "output" in result
            payloads.append(result["output"] if wrapped else result)
            for name, wire in _EXTRA:
                prov[name].append(result.get(wire) if wrapped else None)
        else:
            result = get("results", "results")
            payloads.append(result)
            for name, _ in _EXTRA:
                prov[name].append(None)
        has_result.append(result is not None)
    for name in ("_status",):
        prov[name] = [getattr(s, "value", s) for s in prov[name]]
    return Items(
        payloads=payloads,
        has_result=has_result,
        keys=keys,
        prov=prov,
        kinds=kinds,
        schema=_first_schema(schemas),
        tasks={t for t in prov["_task"] if isinstance(t, str)},
    )


def _getter(obj: Any) -> Any:
    if isinstance(obj, dict):
        return lambda wire, attr: obj.get(wire, obj.get(attr))
    return lambda wire, attr: getattr(obj, attr, None)


def _sub(cause: Any, name: str) -> Any:
    if cause is None:
        return None
    if isinstance(cause, dict):
        return cause.get(name)
    return getattr(cause, name, None)


def _first_schema(schemas: Iterable[Any]) -> dict[str, Any] | None:
    for schema in schemas:
        if isinstance(schema, dict) and schema:
            return schema
    return None


def as_time(value: Any) -> Any:
    """Pass datetimes and ISO strings through (parsed later, column-wise)."""
    return value.isoformat() if isinstance(value, datetime) else value
