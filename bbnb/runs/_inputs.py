"""Turning what a user passes to ``run_many``/``invoke_many`` into validated create bodies.

Inputs keep their keys: list position, a dict's ``"key"``, a DataFrame's index label,
or whatever ``key=`` names (a column/field, or a function of the input).  Every
input is validated before anything is sent, so a typo in row 400 fails the batch
before row 1 is submitted.

Templating is ``{{name}}`` only: braces in JSON, ``$`` in prices and Browserbase's
own ``%name%`` variable placeholders stay literal.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from bbnb.models import AgentRunCreateParams, FunctionInvokeParams

__all__ = ["PreparedInput", "prepare_agent_inputs", "prepare_function_inputs", "render_template"]

_PLACEHOLDER = re.compile(r"\{\{\s*([^{}]+?)\s*\}\}")
KeySpec = str | Callable[[Any], Any] | None


@dataclass
class PreparedInput:
    """One input ready to send: its key, the user's input, and the validated body."""

    index: int
    key: Any
    input: Any = field(repr=False)
    body: AgentRunCreateParams | FunctionInvokeParams = field(repr=False)

    @property
    def task(self) -> str | None:
        """The task text of an agent run (None for a function invocation)."""
        return self.body.task if isinstance(self.body, AgentRunCreateParams) else None


def render_template(template: str, row: Mapping[str, Any], *, where: str = "row") -> str:
    """Replace each ``{{name}}`` with ``row[name]``; unknown names fail with close matches."""

    def value_of(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in row:
            columns = [str(c) for c in row]
            close = difflib.get_close_matches(name, columns, n=3, cutoff=0.5)
            hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            raise ValueError(
                f"template placeholder {{{{{name}}}}} names no column of {where}.{hint} "
                f"Available: {', '.join(repr(c) for c in columns) or '(none)'}"
            )
        value = row[name]
        if value is None or (isinstance(value, float) and math.isnan(value)):
            raise ValueError(
                f"{where} has no value for {{{{{name}}}}} (it is empty/NaN); "
                "fill or drop such rows before running the batch"
            )
        return str(value)

    return _PLACEHOLDER.sub(value_of, template)


def _is_frame(obj: Any) -> bool:
    return type(obj).__name__ == "DataFrame" and hasattr(obj, "iterrows")


def _rows(tasks: Any, key: KeySpec) -> list[tuple[Any, Any, Mapping[str, Any] | str]]:
    """``(key, original input, row)`` for each input, keys as the user's data gives them."""
    out: list[tuple[Any, Any, Mapping[str, Any] | str]] = []
    if _is_frame(tasks):
        records = tasks.to_dict(orient="records")
        for label, record in zip(tasks.index, records, strict=True):
            row = {str(k): _scalar(v) for k, v in record.items()}
            out.append((_pick_key(label, row, key), row, row))
        return out
    if isinstance(tasks, (str, bytes)) or not isinstance(tasks, Iterable):
        raise TypeError(
            "tasks must be a list of task strings, a list of dicts of run fields, or a "
            f"pandas DataFrame with template=...; got {type(tasks).__name__}"
        )
    for position, item in enumerate(tasks):
        if isinstance(item, str):
            out.append((_pick_key(position, item, key), item, item))
        elif isinstance(item, Mapping):
            row = dict(item)
            default = row.pop("key", position)
            out.append((_pick_key(default, row, key), item, row))
        else:
            raise TypeError(
                f"input {position} is a {type(item).__name__}; each input must be a task "
                "string or a dict of run fields"
            )
    return out


def _scalar(value: Any) -> Any:
    item = getattr(value, "item", None)
    if callable(item) and not isinstance(value, (str, bytes)):
        try:
            return item()
        except (ValueError, TypeError):
            return value
    return value


def _pick_key(default: Any, row: Any, key: KeySpec) -> Any:
    if key is None:
        return _scalar(default)
    if callable(key):
        return key(row)
    if isinstance(row, Mapping) and key in row:
        return row[key]
    raise ValueError(f"key={key!r} names no field of the input {default!r}")


def _check_unique(keys: Sequence[Any]) -> None:
    seen: set[Any] = set()
    for key in keys:
        try:
            hash(key)
        except TypeError:
            raise ValueError(f"input key {key!r} is not hashable; use str/int keys") from None
        if key in seen:
            raise ValueError(
                f"two inputs share the key {key!r}; keys must be unique so every result "
                "can be matched to its input (use DataFrame.reset_index() or key=...)"
            )
        seen.add(key)


def _explain(error: ValidationError, where: str) -> ValueError:
    first = error.errors()[0]
    loc = ".".join(str(p) for p in first.get("loc", ())) or "(body)"
    return ValueError(f"{where}: {loc}: {first.get('msg', 'invalid value')}")


def prepare_agent_inputs(
    tasks: Any,
    *,
    template: str | None = None,
    key: KeySpec = None,
    common: Mapping[str, Any] | None = None,
) -> list[PreparedInput]:
    """Validate every agent input into an ``AgentRunCreateParams`` (nothing is sent)."""
    prepared: list[PreparedInput] = []
    for index, (input_key, original, row) in enumerate(_rows(tasks, key)):
        where = f"input {input_key!r}"
        fields: dict[str, Any] = dict(common or {})
        if template is not None:
            if not isinstance(row, Mapping):
                row = {"task": row}
            fields["task"] = render_template(template, row, where=where)
        elif isinstance(row, str):
            fields["task"] = row
        elif _is_frame(tasks):
            if "task" not in row:
                raise ValueError(
                    "a DataFrame needs template='... {{column}} ...' (or a 'task' column); "
                    f"its columns are {', '.join(repr(c) for c in row)}"
                )
            fields["task"] = row["task"]
        else:
            fields.update(row)
        try:
            body = AgentRunCreateParams.model_validate(fields)
        except ValidationError as exc:
            raise _explain(exc, where) from None
        prepared.append(PreparedInput(index, input_key, original, body))
    _check_unique([p.key for p in prepared])
    if not prepared:
        raise ValueError("run_many() got no inputs")
    return prepared


def prepare_function_inputs(
    params_list: Any,
    *,
    key: KeySpec = None,
    session_create_params: Any = None,
) -> list[PreparedInput]:
    """Validate every function input into a ``FunctionInvokeParams`` (nothing is sent)."""
    prepared: list[PreparedInput] = []
    if _is_frame(params_list):
        rows = _rows(params_list, key)
    elif isinstance(params_list, Iterable) and not isinstance(params_list, (str, bytes)):
        rows = []
        for position, item in enumerate(params_list):
            if item is not None and not isinstance(item, Mapping):
                raise TypeError(
                    f"params {position} is a {type(item).__name__}; each must be a dict "
                    "(the function's params) or None"
                )
            params = dict(item or {})
            rows.append((_pick_key(position, params, key), item, params))
    else:
        raise TypeError(
            "params_list must be a list of dicts or a DataFrame (one invocation per row); "
            f"got {type(params_list).__name__}"
        )
    for index, (input_key, original, row) in enumerate(rows):
        fields: dict[str, Any] = {"params": dict(row) if isinstance(row, Mapping) else row}
        if session_create_params is not None:
            fields["session_create_params"] = session_create_params
        try:
            body = FunctionInvokeParams.model_validate(fields)
        except ValidationError as exc:
            raise _explain(exc, f"input {input_key!r}") from None
        prepared.append(PreparedInput(index, input_key, original, body))
    _check_unique([p.key for p in prepared])
    if not prepared:
        raise ValueError("invoke_many() got no inputs")
    return prepared
