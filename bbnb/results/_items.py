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
        known = _native_run_fields(objs)
        if known is not None:
            return _wire_runs(objs, keys, known)
        try:  # wire-shaped agent runs, the common bulk case
            ids = list(map(dict.get, objs, repeat("runId")))
            statuses = list(map(dict.get, objs, repeat("status")))
        except TypeError:  # not all dicts
            pass
        else:
            if None not in ids and None not in statuses:
                return _wire_runs(objs, keys, {"_id": ids, "_status": statuses})
    return _generic(objs, keys)


# The run fields as a C extractor spec: every one a string, ``cause`` an object.
_CAUSE_FIELDS = (("_cause_code", "code"), ("_cause_message", "message"))
_NATIVE_NAMES = [name for name, _, _ in _RUN_FIELDS] + [name for name, _ in _CAUSE_FIELDS]
_NATIVE_SPEC = (
    1,
    (
        *((wire, (0, _native.STR, i), False, False) for i, (_, wire, _) in enumerate(_RUN_FIELDS)),
        (
            "cause",
            (
                1,
                tuple(
                    (wire, (0, _native.STR, len(_RUN_FIELDS) + i), False, False)
                    for i, (_, wire) in enumerate(_CAUSE_FIELDS)
                ),
            ),
            False,
            False,
        ),
    ),
)


def _native_run_fields(runs: list[Any]) -> dict[str, Any] | None:
    """The run fields as arrow string arrays, read by the C extractor in one pass.

    ``None`` when the extractor is not available or any field is not a string (or
    null), or any run lacks its id or status: the Python paths handle those.
    """
    out = _native.extract(runs, _NATIVE_SPEC, [_native.STR] * len(_NATIVE_NAMES), False)
    if out is None:
        return None
    known = dict(zip(_NATIVE_NAMES, out.arrays, strict=True))
    if known["_id"].null_count or known["_status"].null_count:
        return None
    return known


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
    causes = [] if "_cause_code" in known else list(map(dict.get, runs, repeat("cause")))
    if "_cause_code" in known:
        prov["_cause_code"] = known["_cause_code"]
        prov["_cause_message"] = known["_cause_message"]
    elif causes.count(None) == n:
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
