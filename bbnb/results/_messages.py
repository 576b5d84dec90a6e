"""``messages_frame``: an agent's transcript, one row per message part.

Accepted input:

* a list of messages (``Message`` models or wire dicts ``{id, createdAt, message}``),
  or a ``MessagesPage`` (its ``data``) — the run id is then ``run_id=`` (or NA);
* a mapping ``{run (id or run object): messages}``;
* an iterable of ``(run or run id, messages)`` pairs.

Columns: ``run_id``, ``message_id``, ``created_at`` (``datetime64[us, UTC]``),
``role``, ``part`` (index within the message), ``type``, ``tool_call_id``,
``tool_name``, ``input`` and ``output`` (JSON text), ``text``, ``media_type``.  A
message whose content is plain text is one ``text`` part; one with no parts is one
row with NA part columns.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from bbnb.results._columns import json_text, text_array
from bbnb.results._validate import UTC_US

__all__ = ["MESSAGE_COLUMNS", "messages_frame"]

MESSAGE_COLUMNS = (
    "run_id",
    "message_id",
    "created_at",
    "role",
    "part",
    "type",
    "tool_call_id",
    "tool_name",
    "input",
    "output",
    "text",
    "media_type",
)
_PART_FIELDS = (
    ("type", "type", "type"),
    ("tool_call_id", "toolCallId", "tool_call_id"),
    ("tool_name", "toolName", "tool_name"),
    ("text", "text", "text"),
    ("media_type", "mediaType", "media_type"),
)


def messages_frame(runs_or_messages: Any, *, run_id: str | None = None) -> pd.DataFrame:
    """One row per message part (see the module docstring for inputs and columns)."""
    rows: dict[str, list[Any]] = {name: [] for name in MESSAGE_COLUMNS}
    for rid, messages in _groups(runs_or_messages, run_id):
        for message in messages:
            _add_message(rows, rid, message)
    data: dict[str, Any] = {}
    for name in MESSAGE_COLUMNS:
        values = rows[name]
        if name == "created_at":
            data[name] = _times(values)
        elif name == "part":
            data[name] = pd.array(values, dtype="Int64")
        elif name in ("input", "output"):
            data[name] = json_text(values)
        else:
            data[name] = text_array(values)
    frame = pd.DataFrame(data, copy=False)
    frame.attrs["bbnb"] = {"kind": "messages"}
    return frame


def _groups(source: Any, run_id: str | None) -> Iterable[tuple[str | None, Iterable[Any]]]:
    """(run id, messages) groups from any accepted input shape."""
    if isinstance(source, Mapping) and not _is_message(source):
        if "data" in source and isinstance(source["data"], list):
            return [(run_id, source["data"])]
        return [(_run_id(k), v) for k, v in source.items()]
    data = getattr(source, "data", None)
    if isinstance(data, list) and not isinstance(source, list):
        return [(run_id, data)]
    items = list(source)
    if items and all(isinstance(x, tuple) and len(x) == 2 for x in items):
        return [(_run_id(k), v) for k, v in items]
    for item in items:
        if not _is_message(item):
            raise TypeError(
                "messages_frame() takes messages, a {run_id: messages} mapping or "
                f"(run_id, messages) pairs; got an item of type {type(item).__name__}"
            )
    return [(run_id, items)]


def _is_message(obj: Any) -> bool:
    if isinstance(obj, Mapping):
        return "message" in obj and "id" in obj
    return hasattr(obj, "message") and hasattr(obj, "id")


def _run_id(run: Any) -> str | None:
    if run is None or isinstance(run, str):
        return run
    for attr in ("run_id", "id"):
        value = getattr(run, attr, None)
        if isinstance(value, str):
            return value
    if isinstance(run, Mapping):
        value = run.get("runId", run.get("id"))
        return value if isinstance(value, str) else None
    return str(run)


def _get(obj: Any, wire: str, attr: str) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(wire, obj.get(attr))
    return getattr(obj, attr, None)


def _add_message(rows: dict[str, list[Any]], rid: str | None, message: Any) -> None:
    body = _get(message, "message", "message")
    role = _get(body, "role", "role") if body is not None else None
    content = _get(body, "content", "content") if body is not None else None
    if isinstance(content, str):
        parts: list[Any] = [{"type": "text", "text": content}]
    elif isinstance(content, list):
        parts = content
    else:
        parts = []
    head = {
        "run_id": rid,
        "message_id": _get(message, "id", "id"),
        "created_at": _get(message, "createdAt", "created_at"),
        "role": role,
    }
    for index, part in enumerate(parts or [None]):
        for name, value in head.items():
            rows[name].append(value)
        rows["part"].append(None if part is None else index)
        for name, wire, attr in _PART_FIELDS:
            rows[name].append(None if part is None else _get(part, wire, attr))
        rows["input"].append(None if part is None else _get(part, "input", "input"))
        rows["output"].append(None if part is None else _get(part, "output", "output"))


def _times(values: list[Any]) -> Any:
    strings = [v.isoformat() if hasattr(v, "isoformat") else v for v in values]
    parsed = pd.to_datetime(pd.Series(strings, dtype=object), utc=True, format="ISO8601")
    return pd.array(parsed).astype(UTC_US)
