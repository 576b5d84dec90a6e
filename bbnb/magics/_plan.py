"""What a ``%bb_run`` line or cell asks for, before anything is sent.

The magic's pure half: one-line errors, checks of option values, and the plans
(request bodies per input row) that ``bbnb.magics.BBMagic`` executes or, with
``--dry-run``, prints.  Nothing here talks to the network or to a shell.
"""

from __future__ import annotations

import argparse
import difflib
import json
import keyword
import shlex
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError
from pydantic import BaseModel, ValidationError

from bbnb.magics._display import plural
from bbnb.magics._templating import NO_ROW, TemplateError, render, render_params
from bbnb.models import (
    AgentBrowserSettings,
    AgentRunCreateParams,
    BrowserSettings,
    FunctionInvokeParams,
    SessionCreateParams,
    result_schema_dict,
)

if TYPE_CHECKING:
    pass

KINDS = ("agent", "function", "fn", "attach", "stop", "history")
LAST = "_bb_last"
DRY_RUN_SHOWN = 50
"""At most this many request bodies are printed by ``--dry-run``; the rest are counted."""

AGENT_PATH = "/v1/agents/runs"
INVOKE_PATH = "/v1/functions/{function_id}/invoke"


# -- errors the notebook shows as one line ---------------------------------------------


class BBRunError(Exception):
    """An API or run error, shown by IPython as one line instead of a traceback."""

    def __init__(self, line: str) -> None:
        super().__init__(line)
        self.line = line

    def _render_traceback_(self) -> list[str]:
        return [self.line]


class BBRunInterrupted(KeyboardInterrupt):
    """Ctrl-C during ``%bb_run``: says what was kept, then stops "Run all" like any interrupt."""

    def __init__(self, line: str) -> None:
        super().__init__(line)
        self.line = line

    def _render_traceback_(self) -> list[str]:
        return [self.line]


def describe_api_error(error: BaseException) -> str:
    """One line for an API error: status, Browserbase's message and the run id when known."""
    status = getattr(error, "status_code", None)
    body = getattr(error, "body", None)
    message = getattr(body, "message", None) or getattr(error, "message", None) or str(error)
    reason = getattr(body, "error", None)
    run = getattr(error, "run", None) or getattr(error, "last_seen", None)
    run_id = getattr(run, "id", None)
    parts = [type(error).__name__]
    if status is not None:
        parts.append(f"{status}{' ' + reason if reason else ''}")
    text = f"bbnb: {' '.join(parts)}: {message}"
    if run_id:
        text += f" (run {run_id})"
    hint = getattr(error, "find_hint", None)
    if hint:
        text += f"; {hint}"
    return " ".join(text.split())


# -- the argument parser ------------------------------------------------------------------


def identifier(value: str) -> str:
    if not value.isidentifier() or keyword.iskeyword(value):
        raise argparse.ArgumentTypeError(f"{value!r} is not a Python variable name")
    return value


def positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {number}")
    return number


def seconds_value(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of seconds") from None
    if not number > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds, got {value}")
    return number


def name_value(value: str) -> tuple[str, str]:
    name, sep, text = value.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(
            f"{value!r} is not name=value (e.g. --var password={{{{my_password}}}})"
        )
    return name.strip(), text


# -- what a cell asks for ----------------------------------------------------------------


@dataclass
class Request:
    """One run to create: its input key and validated body."""

    key: Any
    body: AgentRunCreateParams | FunctionInvokeParams


@dataclass
class Plan:
    """Everything a ``%bb_run agent|function`` cell asks for, validated, before any request."""

    kind: str
    requests: list[Request]
    function_id: str | None = None
    schema: dict[str, Any] | None = None
    template: str | None = None
    batch: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def path(self) -> str:
        """The API path each request goes to."""
        if self.kind == "agent":
            return AGENT_PATH
        return INVOKE_PATH.format(function_id=self.function_id)


def usage_error(message: str) -> UsageError:
    return UsageError(" ".join(message.split()))


def _lookup(namespace: Mapping[str, Any], name: str, option: str) -> Any:
    if name in namespace:
        return namespace[name]
    close = difflib.get_close_matches(name, [n for n in namespace if not n.startswith("_")], n=3)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise usage_error(f"{option} {name}: no variable {name!r} in the notebook.{hint}")


def _load_json(text: str, option: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise usage_error(
            f"{option} is not valid JSON ({error.msg} at line {error.lineno} column "
            f"{error.colno}); in a magic line wrap it in single quotes: {option} '{{\"a\": 1}}'"
        ) from None


def _validation_message(error: ValidationError) -> str:
    first = error.errors()[0]
    loc = ".".join(str(part) for part in first.get("loc", ()))
    message = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
    return f"{loc}: {message}" if loc else message


def schema_of(args: argparse.Namespace, namespace: Mapping[str, Any]) -> dict[str, Any] | None:
    if args.schema_var and args.schema:
        raise usage_error("give either --schema-var or --schema, not both")
    if args.schema_var:
        raw = _lookup(namespace, args.schema_var, "--schema-var")
        where = f"--schema-var {args.schema_var}"
    elif args.schema:
        raw = _load_json(args.schema, "--schema")
        where = "--schema"
    else:
        return None
    try:
        return result_schema_dict(raw)
    except ValueError as error:
        raise usage_error(f"{where}: {error}") from None


def _settings_value(value: Any) -> Any:
    """A settings widget gives its ``.value``; models and dicts are used as they are."""
    if isinstance(value, BaseModel | dict):
        return value
    if hasattr(value, "value") and hasattr(value, "to_magic"):
        try:
            return value.value
        except ValueError as error:
            raise usage_error(f"--settings-var: {error}") from None
    return value


_AGENT_SETTINGS = {"context", "proxies", "verified"}


def agent_settings(value: Any) -> AgentBrowserSettings:
    """Agent browser settings from an ``AgentBrowserSettings``, a ``SessionCreateParams`` or a dict.

    Agents accept only ``context``, ``proxies`` and ``verified``; anything else set in
    session settings is an error naming the keys, rather than being dropped silently.
    """
    if isinstance(value, AgentBrowserSettings):
        return value
    if isinstance(value, dict) and set(value) <= _AGENT_SETTINGS:
        return AgentBrowserSettings.model_validate(value)
    session = value if isinstance(value, SessionCreateParams) else None
    if session is None:
        session = SessionCreateParams.model_validate(value)
    browser = session.browser_settings or BrowserSettings()
    top = set(session.model_dump(exclude_none=True, by_alias=True)) - {"browserSettings", "proxies"}
    inner = {
        f"browserSettings.{k}"
        for k in browser.model_dump(exclude_none=True, by_alias=True)
        if k not in ("context", "verified")
    }
    extra = sorted(top | inner)
    if extra:
        raise ValueError(
            "agent runs accept only browserSettings.context, browserSettings.verified and "
            f"proxies; these settings also set {', '.join(extra)}"
        )
    return AgentBrowserSettings(
        context=browser.context, verified=browser.verified, proxies=session.proxies
    )


def function_settings(value: Any) -> SessionCreateParams:
    """Session settings for a function invocation, checked under the function rules."""
    if isinstance(value, AgentBrowserSettings):
        value = {
            "browserSettings": {
                k: v
                for k, v in (("context", value.context), ("verified", value.verified))
                if v is not None
            },
            "proxies": value.proxies,
        }
    if isinstance(value, SessionCreateParams):
        return value.for_function()
    if isinstance(value, dict):
        return SessionCreateParams.model_validate(
            {k: v for k, v in value.items() if v is not None}, context={"target": "function"}
        )
    raise ValueError(
        f"expected SessionCreateParams, a dict or a SessionSettings widget, got "
        f"{type(value).__name__}"
    )


def _settings(args: argparse.Namespace, namespace: Mapping[str, Any], target: str) -> Any:
    if not args.settings_var:
        return None
    value = _settings_value(_lookup(namespace, args.settings_var, "--settings-var"))
    convert: Callable[[Any], Any] = agent_settings if target == "agent" else function_settings
    try:
        return convert(value)
    except ValidationError as error:
        message = _validation_message(error)
    except ValueError as error:
        message = str(error)
    raise usage_error(f"--settings-var {args.settings_var}: {message}")


def foreach_rows(value: Any, name: str) -> list[tuple[Any, Any]]:
    """``(key, row)`` pairs for ``--foreach``: list positions, dict keys or a DataFrame's index.

    DataFrame rows become dicts of plain Python values (NaN stays NaN so templating
    can refuse it with a clear message).
    """
    pairs: list[tuple[Any, Any]]
    if hasattr(value, "iterrows") and hasattr(value, "to_dict"):
        records = value.to_dict(orient="records")
        pairs = [
            (_plain(label), {str(k): _plain(v) for k, v in row.items()})
            for label, row in zip(value.index, records, strict=True)
        ]
    elif hasattr(value, "items") and hasattr(value, "index") and hasattr(value, "dtype"):
        pairs = [(_plain(k), _plain(v)) for k, v in value.items()]
    elif isinstance(value, Mapping):
        pairs = list(value.items())
    elif isinstance(value, list | tuple | range):
        pairs = list(enumerate(value))
    else:
        raise usage_error(
            f"--foreach {name}: expected a list, tuple, dict, Series or DataFrame, got "
            f"{type(value).__name__}"
        )
    if not pairs:
        raise usage_error(f"--foreach {name} is empty: nothing to run")
    return pairs


def _plain(value: Any) -> Any:
    item = getattr(value, "item", None)
    if callable(item) and not isinstance(value, str | bytes):
        try:
            return item()
        except (TypeError, ValueError):
            return value
    return value


def _variables(args: argparse.Namespace, namespace: Mapping[str, Any]) -> dict[str, str] | None:
    if not args.var:
        return None
    out: dict[str, str] = {}
    for name, text in args.var:
        try:
            out[name] = render(text, namespace)
        except TemplateError as error:
            raise usage_error(f"--var {name}: {error}") from None
    return out


def _rows_for(
    args: argparse.Namespace, namespace: Mapping[str, Any]
) -> tuple[bool, list[tuple[Any, Any]]]:
    if args.foreach:
        return True, foreach_rows(_lookup(namespace, args.foreach, "--foreach"), args.foreach)
    if args.concurrency is not None:
        raise usage_error("--concurrency only applies with --foreach NAME")
    return False, [(0, NO_ROW)]


def plan_agent(args: argparse.Namespace, cell: str | None, namespace: Mapping[str, Any]) -> Plan:
    """Validate an agent cell into request bodies (nothing is sent)."""
    reject_options(args, "agent", ("params", "params_var"))
    line_task = " ".join(args.words).strip()
    if cell is not None and cell.strip() and line_task:
        raise usage_error(
            "the task is given twice: put it on the magic line or in the cell body, not both"
        )
    template = (cell if cell is not None and cell.strip() else line_task).strip()
    if not template:
        raise usage_error(
            'no task: write it after "%bb_run agent" (in quotes) or in the cell body '
            "of %%bb_run agent"
        )
    schema = schema_of(args, namespace)
    settings = _settings(args, namespace, "agent")
    variables = _variables(args, namespace)
    batch, rows = _rows_for(args, namespace)
    fields: dict[str, Any] = {
        name: value
        for name, value in (
            ("agent_id", args.agent_id),
            ("result_schema", schema),
            ("browser_settings", settings),
            ("variables", variables),
            ("pause_when", args.pause_when),
        )
        if value is not None
    }
    requests: list[Request] = []
    first: AgentRunCreateParams | None = None
    for key, row in rows:
        try:
            task = render(template, namespace, row)
        except TemplateError as error:
            raise usage_error(f"{error}{_row_label(batch, key)}") from None
        if first is None:
            try:
                first = AgentRunCreateParams.model_validate({**fields, "task": task})
            except ValidationError as error:
                raise usage_error(f"{_validation_message(error)}{_row_label(batch, key)}") from None
            body = first
        elif not task.strip():
            raise usage_error(f"task: the task is blank{_row_label(batch, key)}")
        else:
            # Only the task differs from the first, fully validated body (the schema is
            # checked once, not once per row).
            body = first.model_copy(update={"task": task})
        requests.append(Request(key, body))
    return Plan("agent", requests, schema=schema, template=template, batch=batch)


def _row_label(batch: bool, key: Any) -> str:
    return f" (in --foreach row {key!r})" if batch else ""


def reject_options(args: argparse.Namespace, kind: str, names: Iterable[str]) -> None:
    for name in names:
        if getattr(args, name):
            option = "--" + name.replace("_", "-")
            raise usage_error(f"{option} does not apply to %bb_run {kind}")


def plan_function(args: argparse.Namespace, cell: str | None, namespace: Mapping[str, Any]) -> Plan:
    """Validate a function cell into invoke bodies (nothing is sent)."""
    reject_options(args, "function", ("agent_id", "pause_when", "var"))
    if not args.words:
        raise usage_error("which function? %bb_run function FUNCTION_ID [--params JSON]")
    if len(args.words) > 1:
        raise usage_error(
            f"%bb_run function takes one FUNCTION_ID, got {len(args.words)} words "
            f"({' '.join(args.words)!r}); quote --params JSON in single quotes"
        )
    template = _params_template(args, cell, namespace)
    schema = schema_of(args, namespace)
    settings = _settings(args, namespace, "function")
    batch, rows = _rows_for(args, namespace)
    requests = []
    for key, row in rows:
        params = _params_for(template, row, namespace, batch, key)
        fields: dict[str, Any] = {"params": params, "session_create_params": settings}
        try:
            body = FunctionInvokeParams.model_validate(
                {k: v for k, v in fields.items() if v is not None}
            )
        except ValidationError as error:
            raise usage_error(f"{_validation_message(error)}{_row_label(batch, key)}") from None
        requests.append(Request(key, body))
    return Plan(
        "function",
        requests,
        function_id=args.words[0],
        schema=schema,
        template=None if template is None else json.dumps(template),
        batch=batch,
    )


def _params_template(
    args: argparse.Namespace, cell: str | None, namespace: Mapping[str, Any]
) -> Any:
    sources = [
        name
        for name, given in (
            ("the cell body", cell is not None and bool(cell.strip())),
            ("--params", args.params is not None),
            ("--params-var", args.params_var is not None),
        )
        if given
    ]
    if len(sources) > 1:
        raise usage_error(f"params are given twice ({' and '.join(sources)}); use one")
    if args.params_var:
        value = _lookup(namespace, args.params_var, "--params-var")
    elif args.params is not None:
        value = _load_json(args.params, "--params")
    elif cell is not None and cell.strip():
        value = _load_json(cell, "the cell body (function params)")
    else:
        return None
    if not isinstance(value, dict):
        raise usage_error(
            f'function params must be a JSON object such as {{"url": "..."}}, got '
            f"{type(value).__name__}"
        )
    return value


def _params_for(
    template: Any, row: Any, namespace: Mapping[str, Any], batch: bool, key: Any
) -> Any:
    if template is None:
        if row is NO_ROW:
            return None
        if isinstance(row, dict):
            return row
        raise usage_error(
            f"--foreach row {key!r} is a {type(row).__name__}, not a dict of params; give a "
            'params template such as --params \'{"url": "{{row}}"}\''
        )
    try:
        return render_params(template, namespace, row)
    except TemplateError as error:
        raise usage_error(f"{error}{_row_label(batch, key)}") from None


# -- output ------------------------------------------------------------------------------


def dry_run_text(plan: Plan) -> str:
    """The request bodies a plan would send, secrets masked, as printable text."""
    count = len(plan.requests)
    lines = [
        f"dry run: {count} request{'s' if count != 1 else ''} would be sent; nothing was sent."
    ]
    for request in plan.requests[:DRY_RUN_SHOWN]:
        label = f"  # input {request.key!r}" if plan.batch else ""
        lines.append(f"POST {plan.path}{label}")
        lines.append(json.dumps(request.body.to_safe_dict(), indent=2, ensure_ascii=False))
    if count > DRY_RUN_SHOWN:
        lines.append(f"... and {count - DRY_RUN_SHOWN} more requests of the same shape")
    return "\n".join(lines)


def summary_line(name: str | None, frame: Any, statuses: Mapping[str, int], elapsed: float) -> str:
    """``name: 3 rows × 7 columns · runs: COMPLETED 2, FAILED 1 · 1.2 s``."""  # noqa: RUF002
    rows, columns = getattr(frame, "shape", (0, 0))
    counts = ", ".join(f"{status} {n}" for status, n in sorted(statuses.items()) if n) or "none"
    head = f"{name}: " if name else ""
    size = f"{plural(rows, 'row')} × {plural(columns, 'column')}"  # noqa: RUF001
    return f"{head}{size} · runs: {counts} · {elapsed:.1f} s"


def split_line(line: str) -> list[str]:
    """The magic line as argv (POSIX shell quoting), or ``UsageError`` on unbalanced quotes."""
    try:
        return shlex.split(line, posix=True)
    except ValueError as error:
        raise usage_error(
            f'cannot split the magic line ({error}); quote the task ("...") or put it in the '
            "cell body with %%bb_run"
        ) from None
