"""``%bb_run`` / ``%%bb_run``: Browserbase from a notebook cell.

Load with ``%load_ext bbnb``.  One magic, line or cell, with a KIND and options on the
magic line only (the cell body is the task text for agents, the JSON params for
functions)::

    %bb_run agent "Find the title of https://example.com" -o titles
    %%bb_run agent --schema-var Product --foreach companies --concurrency 10
    Find the cheapest product on {{row.domain}} and report its name and price.

The magic is thin: it parses what was typed into the same calls a Python user makes
(``bbnb.runs.run_many`` / ``invoke_many``, ``bbnb.runs.attach``/``history``) and turns
what comes back into a DataFrame with ``bbnb.results.to_frame``.  User mistakes raise
``UsageError`` (one line, no traceback); API errors show one line with the status,
Browserbase's message and the run id (``%config BBMagic.short_errors = False`` for
the full traceback).  ``_bb_last`` always holds the latest result, including the
partial result of a batch that failed or was interrupted.

Configuration (traitlets): ``%config BBMagic.poll_interval = 2`` and likewise
``max_concurrency``, ``progress``, ``on_interrupt``, ``short_errors``, ``base_url``.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import difflib
import hashlib
import json
import keyword
import os
import shlex
import sys
import time
from collections import Counter
from collections.abc import Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from IPython.core import magic_arguments as _magic_arguments
from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class, no_var_expand
from pydantic import BaseModel, ValidationError
from traitlets import Bool, Enum, Float, Int, Unicode, observe
from traitlets.config.configurable import Configurable

from bbnb._sync import private_loop
from bbnb._templating import NO_ROW, TemplateError, render, render_params
from bbnb.models import (
    AgentBrowserSettings,
    AgentRunCreateParams,
    BrowserSettings,
    FunctionInvokeParams,
    SessionCreateParams,
    result_schema_dict,
)

if TYPE_CHECKING:
    import pandas as pd
    from IPython.core.interactiveshell import InteractiveShell

__all__ = [
    "KINDS",
    "BBMagic",
    "BBRunError",
    "BBRunInterrupted",
    "load_ipython_extension",
    "parse_magic_line",
    "unload_ipython_extension",
]

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


def _identifier(value: str) -> str:
    if not value.isidentifier() or keyword.iskeyword(value):
        raise argparse.ArgumentTypeError(f"{value!r} is not a Python variable name")
    return value


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {number}")
    return number


def _seconds(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of seconds") from None
    if not number > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds, got {value}")
    return number


def _name_value(value: str) -> tuple[str, str]:
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


def _usage(message: str) -> UsageError:
    return UsageError(" ".join(message.split()))


def _lookup(namespace: Mapping[str, Any], name: str, option: str) -> Any:
    if name in namespace:
        return namespace[name]
    close = difflib.get_close_matches(name, [n for n in namespace if not n.startswith("_")], n=3)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise _usage(f"{option} {name}: no variable {name!r} in the notebook.{hint}")


def _load_json(text: str, option: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise _usage(
            f"{option} is not valid JSON ({error.msg} at line {error.lineno} column "
            f"{error.colno}); in a magic line wrap it in single quotes: {option} '{{\"a\": 1}}'"
        ) from None


def _validation_message(error: ValidationError) -> str:
    first = error.errors()[0]
    loc = ".".join(str(part) for part in first.get("loc", ()))
    message = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
    return f"{loc}: {message}" if loc else message


def _schema(args: argparse.Namespace, namespace: Mapping[str, Any]) -> dict[str, Any] | None:
    if args.schema_var and args.schema:
        raise _usage("give either --schema-var or --schema, not both")
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
        raise _usage(f"{where}: {error}") from None


def _settings_value(value: Any) -> Any:
    """A settings widget gives its ``.value``; models and dicts are used as they are."""
    if isinstance(value, BaseModel | dict):
        return value
    if hasattr(value, "value") and hasattr(value, "to_magic"):
        try:
            return value.value
        except ValueError as error:
            raise _usage(f"--settings-var: {error}") from None
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
    raise _usage(f"--settings-var {args.settings_var}: {message}")


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
        raise _usage(
            f"--foreach {name}: expected a list, tuple, dict, Series or DataFrame, got "
            f"{type(value).__name__}"
        )
    if not pairs:
        raise _usage(f"--foreach {name} is empty: nothing to run")
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
            raise _usage(f"--var {name}: {error}") from None
    return out


def _rows_for(
    args: argparse.Namespace, namespace: Mapping[str, Any]
) -> tuple[bool, list[tuple[Any, Any]]]:
    if args.foreach:
        return True, foreach_rows(_lookup(namespace, args.foreach, "--foreach"), args.foreach)
    if args.concurrency is not None:
        raise _usage("--concurrency only applies with --foreach NAME")
    return False, [(0, NO_ROW)]


def plan_agent(args: argparse.Namespace, cell: str | None, namespace: Mapping[str, Any]) -> Plan:
    """Validate an agent cell into request bodies (nothing is sent)."""
    _reject(args, "agent", ("params", "params_var"))
    line_task = " ".join(args.words).strip()
    if cell is not None and cell.strip() and line_task:
        raise _usage(
            "the task is given twice: put it on the magic line or in the cell body, not both"
        )
    template = (cell if cell is not None and cell.strip() else line_task).strip()
    if not template:
        raise _usage(
            'no task: write it after "%bb_run agent" (in quotes) or in the cell body '
            "of %%bb_run agent"
        )
    schema = _schema(args, namespace)
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
            raise _usage(f"{error}{_row_label(batch, key)}") from None
        if first is None:
            try:
                first = AgentRunCreateParams.model_validate({**fields, "task": task})
            except ValidationError as error:
                raise _usage(f"{_validation_message(error)}{_row_label(batch, key)}") from None
            body = first
        elif not task.strip():
            raise _usage(f"task: the task is blank{_row_label(batch, key)}")
        else:
            # Only the task differs from the first, fully validated body (the schema is
            # checked once, not once per row).
            body = first.model_copy(update={"task": task})
        requests.append(Request(key, body))
    return Plan("agent", requests, schema=schema, template=template, batch=batch)


def _row_label(batch: bool, key: Any) -> str:
    return f" (in --foreach row {key!r})" if batch else ""


def _reject(args: argparse.Namespace, kind: str, names: Iterable[str]) -> None:
    for name in names:
        if getattr(args, name):
            option = "--" + name.replace("_", "-")
            raise _usage(f"{option} does not apply to %bb_run {kind}")


def plan_function(args: argparse.Namespace, cell: str | None, namespace: Mapping[str, Any]) -> Plan:
    """Validate a function cell into invoke bodies (nothing is sent)."""
    _reject(args, "function", ("agent_id", "pause_when", "var"))
    if not args.words:
        raise _usage("which function? %bb_run function FUNCTION_ID [--params JSON]")
    if len(args.words) > 1:
        raise _usage(
            f"%bb_run function takes one FUNCTION_ID, got {len(args.words)} words "
            f"({' '.join(args.words)!r}); quote --params JSON in single quotes"
        )
    template = _params_template(args, cell, namespace)
    schema = _schema(args, namespace)
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
            raise _usage(f"{_validation_message(error)}{_row_label(batch, key)}") from None
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
        raise _usage(f"params are given twice ({' and '.join(sources)}); use one")
    if args.params_var:
        value = _lookup(namespace, args.params_var, "--params-var")
    elif args.params is not None:
        value = _load_json(args.params, "--params")
    elif cell is not None and cell.strip():
        value = _load_json(cell, "the cell body (function params)")
    else:
        return None
    if not isinstance(value, dict):
        raise _usage(
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
        raise _usage(
            f"--foreach row {key!r} is a {type(row).__name__}, not a dict of params; give a "
            'params template such as --params \'{"url": "{{row}}"}\''
        )
    try:
        return render_params(template, namespace, row)
    except TemplateError as error:
        raise _usage(f"{error}{_row_label(batch, key)}") from None


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
    counts = ", ".join(f"{status} {n}" for status, n in sorted(statuses.items())) or "none"
    head = f"{name}: " if name else ""
    return f"{head}{rows} rows × {columns} columns · runs: {counts} · {elapsed:.1f} s"  # noqa: RUF001


def split_line(line: str) -> list[str]:
    """The magic line as argv (POSIX shell quoting), or ``UsageError`` on unbalanced quotes."""
    try:
        return shlex.split(line, posix=True)
    except ValueError as error:
        raise _usage(
            f'cannot split the magic line ({error}); quote the task ("...") or put it in the '
            "cell body with %%bb_run"
        ) from None


# -- the magic ---------------------------------------------------------------------------


ClientFactory = Callable[["BBMagic"], Any]
_F = TypeVar("_F", bound=Callable[..., Any])
_T = TypeVar("_T")
# IPython's magic_arguments decorators are untyped; give them their real shape once.
argument: Callable[..., Callable[[_F], _F]] = _magic_arguments.argument
magic_arguments: Callable[[], Callable[[_F], _F]] = _magic_arguments.magic_arguments


def _api_env() -> tuple[str, str]:
    """A fingerprint of the API settings in the environment (the key is hashed, not kept)."""
    key = os.environ.get("BROWSERBASE_API_KEY", "")
    digest = hashlib.sha256(key.encode()).hexdigest() if key else ""
    return digest, os.environ.get("BROWSERBASE_BASE_URL", "")


@magics_class
class BBMagic(Magics, Configurable):
    """The ``%bb_run`` magic and its configuration (``%config BBMagic``)."""

    poll_interval = Float(
        1.0,
        config=True,
        help=(
            "Seconds between status checks when waiting on a single run (the client's "
            "wait(), e.g. %bb_run attach RUN_ID); batches pace their own checks by run age."
        ),
    )
    max_concurrency = Int(
        16,
        config=True,
        help="Default and upper bound of runs in flight at once for --foreach.",
    )
    progress = Enum(
        ["auto", "widget", "text", "none"],
        "auto",
        config=True,
        help="How batches show progress: auto, widget, text or none.",
    )
    on_interrupt = Enum(
        ["stop", "detach"],
        "stop",
        config=True,
        help="On Ctrl-C: stop the runs in flight (stop) or leave them running (detach).",
    )
    short_errors = Bool(
        True, config=True, help="Show API errors as one line (False: the full traceback)."
    )
    base_url = Unicode(
        None,
        allow_none=True,
        config=True,
        help="API base URL (default: BROWSERBASE_BASE_URL, Browserbase, or the embedded emulator).",
    )

    def __init__(self, shell: InteractiveShell | None = None, **kwargs: Any) -> None:
        # Set before traitlets loads config (which may fire the observers below).
        self.client_factory: ClientFactory | None = None
        self._client: Any = None
        self._owns_client = False
        self._env_seen: tuple[str, str] = _api_env()
        super().__init__(shell=shell, **kwargs)

    # -- the client ----------------------------------------------------------------------

    @observe("base_url", "poll_interval")
    def _settings_changed(self, _change: Any) -> None:
        self.close()

    def client(self) -> Any:
        """The client used by the magic, created on first use and then reused.

        A magic-made client is made again when ``BROWSERBASE_API_KEY`` or
        ``BROWSERBASE_BASE_URL`` changed since, so setting a key after a simulated run
        switches the next ``%bb_run`` to Browserbase.
        """
        if self._owns_client and self._client is not None and self._env_seen != _api_env():
            self.close()
        if self._client is None:
            self._env_seen = _api_env()
            if self.client_factory is not None:
                self._client, self._owns_client = self.client_factory(self), False
            else:
                self._client, self._owns_client = self._default_client(), True
        return self._client

    def _default_client(self) -> Any:
        from bbnb._client import Client

        try:
            return Client(base_url=self.base_url or None, poll_interval=self.poll_interval)
        except ValueError as error:  # ConfigurationError is a ValueError
            raise _usage(f"bbnb cannot connect: {error}") from None

    def close(self) -> None:
        """Close the client if the magic created it (the next ``%bb_run`` makes a new one)."""
        client, self._client = self._client, None
        if client is not None and self._owns_client:
            client.close()

    # -- the magic -----------------------------------------------------------------------

    @no_var_expand
    @magic_arguments()
    @argument(
        "kind",
        metavar="KIND",
        help="agent | function (alias fn) | attach ID | stop ID | history",
    )
    @argument(
        "words",
        nargs="*",
        metavar="ARG",
        help="the task (agent, line form), FUNCTION_ID (function) or ID (attach, stop)",
    )
    @argument("-o", "--out", type=_identifier, metavar="NAME", help="store the result in NAME")
    @argument(
        "--schema-var", metavar="NAME", help="result schema: a JSON Schema dict or pydantic model"
    )
    @argument("--schema", metavar="JSON", help="result schema as JSON text")
    @argument(
        "--settings-var",
        metavar="NAME",
        help="SessionCreateParams, AgentBrowserSettings, a dict or a SessionSettings widget",
    )
    @argument(
        "--var",
        action="append",
        type=_name_value,
        metavar="NAME=VALUE",
        help="agent variable used as %%NAME%% in the task (repeatable; VALUE may be {{var}})",
    )
    @argument("--agent-id", metavar="ID", help="run this custom agent")
    @argument("--pause-when", metavar="TEXT", help="when the agent should pause for input")
    @argument("--params", metavar="JSON", help="function params as a JSON object")
    @argument("--params-var", metavar="NAME", help="function params from a dict variable")
    @argument("--foreach", metavar="NAME", help="one run per element / row of a list or DataFrame")
    @argument("--concurrency", type=_positive_int, metavar="N", help="runs in flight at once")
    @argument("--timeout", type=_seconds, metavar="SECONDS", help="stop waiting after this long")
    @argument("--no-wait", action="store_true", help="submit and return at once")
    @argument("--progress", choices=["auto", "widget", "text", "none"], help="progress display")
    @argument("--on-interrupt", choices=["stop", "detach"], help="what Ctrl-C does to runs")
    @argument("--raw", action="store_true", help="return run objects instead of a DataFrame")
    @argument("--dry-run", action="store_true", help="print the request bodies; send nothing")
    @line_cell_magic
    def bb_run(self, line: str, cell: str | None = None) -> Any:
        """Run Browserbase agents or functions and get a DataFrame back.

        Line form puts the task (agent) on the magic line; cell form takes the task text
        (agent) or the JSON params (function) from the cell body.  Options go on the
        magic line only.  ``{{name}}`` in the task or params is replaced by the notebook
        variable ``name`` (``{{name.key}}``, ``{{row.column}}`` with --foreach);
        ``\\{{...}}`` keeps literal braces; JSON braces, ``$`` and ``%name%`` stay as
        they are.

        Returns a DataFrame (one row per run or per result item, provenance columns
        starting with ``_``) unless --raw; with ``-o NAME`` the result is stored in
        NAME, a one-line summary is printed and nothing is returned.  ``_bb_last``
        always holds the latest result, even after an error or Ctrl-C.

        Examples::

            %load_ext bbnb

            %bb_run agent "What is the title of https://example.com?"

            df = %bb_run agent "List the top 5 stories on news.ycombinator.com" --schema-var Stories

            %%bb_run agent -o prices --schema-var Product --foreach shops --concurrency 8
            Find the cheapest laptop on {{row.url}} under $1,000 and give name and price.

            %%bb_run agent --var password={{pw}} --pause-when "a one-time code is needed"
            Log in to https://example.com as demo with password %password%.

            %%bb_run function 3f2a... --foreach urls
            {"url": "{{row}}", "depth": 2}

            %bb_run fn 3f2a... --params '{"url": "https://example.com"}' --raw
            %bb_run agent "Long task" --no-wait -o handle   # returns at once
            %bb_run attach batch-20260101-abc           # collect it later
            %bb_run stop 0b9c...
            %bb_run history
            %bb_run agent "Price of {{item}}" --dry-run  # print bodies, send nothing

            %config BBMagic.max_concurrency = 32
            %config BBMagic.on_interrupt = 'detach'
        """
        args = parse_magic_line(line)
        kind = "function" if args.kind == "fn" else args.kind
        handler = getattr(self, f"_do_{kind}")
        result: Any = handler(args, cell)
        return result

    # -- KINDs ---------------------------------------------------------------------------

    @property
    def namespace(self) -> dict[str, Any]:
        """The notebook's variables."""
        return self.shell.user_ns if self.shell is not None else {}

    def _do_agent(self, args: argparse.Namespace, cell: str | None) -> Any:
        return self._run_plan(args, plan_agent(args, cell, self.namespace))

    def _do_function(self, args: argparse.Namespace, cell: str | None) -> Any:
        return self._run_plan(args, plan_function(args, cell, self.namespace))

    def _do_attach(self, args: argparse.Namespace, cell: str | None) -> Any:
        from bbnb.runs import attach

        target = self._single_id(args, cell, "attach")
        _reject(args, "attach", _RUN_ONLY_OPTIONS)
        schema = _schema(args, self.namespace)
        started = time.monotonic()
        progress, on_interrupt = self._progress(args), self._on_interrupt(args)
        try:
            found = self._guard(
                lambda: attach(
                    target, client=self.client(), progress=progress, on_interrupt=on_interrupt
                )
            )
        except KeyError as error:
            raise _usage(str(error.args[0]) if error.args else str(error)) from None
        except KeyboardInterrupt as interrupt:
            partial = getattr(interrupt, "batch", None)
            self._interrupted(args, partial, schema, None, started, on_interrupt)
        return self._finish(args, found, schema, None, started, batch=_is_batch(found))

    def _do_stop(self, args: argparse.Namespace, cell: str | None) -> Any:
        target = self._single_id(args, cell, "stop")
        _reject(args, "stop", _RUN_ONLY_OPTIONS)
        started = time.monotonic()
        ids = self._batch_run_ids(target) or [target]
        stopped = [self._stop_one(run_id) for run_id in ids]
        runs = [run for run in stopped if run is not None]
        if not runs:
            self._publish(args, None, None)
            return None
        return self._finish(args, runs if len(ids) > 1 else runs[0], None, None, started)

    def _batch_run_ids(self, target: str) -> list[str]:
        """The unfinished agent run ids of a journal batch named ``target`` (else [])."""
        from bbnb.runs import Journal

        journal = Journal()
        try:
            if journal.batch(target) is None:
                return []
            return [
                row.remote_id
                for row in journal.runs(target)
                if row.remote_id and row.kind == "agent" and row.state != "done"
            ]
        finally:
            journal.close()

    def _stop_one(self, run_id: str) -> Any:
        from bbnb._exceptions import ConflictError

        client = self.client()

        def stop() -> tuple[Any, bool]:
            try:
                return client.agents.runs.stop(run_id), True
            except ConflictError:
                return client.agents.runs.retrieve(run_id), False

        run, requested = self._guard(stop)
        if requested:
            print(f"bbnb: stop requested for run {run_id} (status now {run.status})")
        else:
            print(f"bbnb: run {run_id} had already ended ({run.status}); nothing to stop")
        return run

    def _do_history(self, args: argparse.Namespace, cell: str | None) -> Any:
        from bbnb.runs import history

        if args.words or (cell is not None and cell.strip()):
            raise _usage("%bb_run history takes no arguments and no cell body")
        _reject(args, "history", (*_RUN_ONLY_OPTIONS, "schema", "schema_var", "raw"))
        frame = history()
        rows, columns = frame.shape
        return self._publish(args, frame, f"{args.out}: {rows} rows × {columns} columns")  # noqa: RUF001

    def _single_id(self, args: argparse.Namespace, cell: str | None, kind: str) -> str:
        if cell is not None and cell.strip():
            raise _usage(f"%%bb_run {kind} takes no cell body")
        if len(args.words) != 1:
            raise _usage(
                f"%bb_run {kind} needs exactly one ID, e.g. %bb_run {kind} RUN_OR_BATCH_ID"
            )
        return str(args.words[0])

    def _run_plan(self, args: argparse.Namespace, plan: Plan) -> Any:
        if args.dry_run:
            print(dry_run_text(plan))
            return None
        started = time.monotonic()
        concurrency = self._concurrency(args, plan)
        on_interrupt = self._on_interrupt(args) if not args.no_wait else "detach"
        runner = self._runner(args, plan, concurrency, on_interrupt)
        try:
            if args.no_wait:
                batch = self._guard(lambda: drive(runner, _submit_only(runner)))
            else:
                batch = self._guard(lambda: drive(runner, runner.run()))
        except KeyboardInterrupt as interrupt:
            partial = getattr(interrupt, "batch", None) or runner.batch()
            self._interrupted(args, partial, plan.schema, plan, started, on_interrupt)
        return self._finish(args, batch, plan.schema, plan, started, batch=plan.batch)

    def _concurrency(self, args: argparse.Namespace, plan: Plan) -> int:
        wanted = args.concurrency or self.max_concurrency
        if wanted > self.max_concurrency:
            print(
                f"bbnb: --concurrency {wanted} is above BBMagic.max_concurrency "
                f"({self.max_concurrency}); using {self.max_concurrency}",
                file=sys.stderr,
            )
        return max(1, min(wanted, self.max_concurrency, len(plan.requests)))

    def _progress(self, args: argparse.Namespace) -> str:
        return str(args.progress or self.progress)

    def _on_interrupt(self, args: argparse.Namespace) -> str:
        return str(args.on_interrupt or self.on_interrupt)

    def _runner(
        self, args: argparse.Namespace, plan: Plan, concurrency: int, on_interrupt: str
    ) -> Any:
        from bbnb.runs._inputs import PreparedInput
        from bbnb.runs.submit import _runner

        prepared = [
            PreparedInput(index, request.key, request.key, request.body)
            for index, request in enumerate(plan.requests)
        ]
        return _runner(
            self.client(),
            plan.kind,
            prepared,
            function_id=plan.function_id,
            concurrency=concurrency,
            rate_per_minute=None,
            timeout=args.timeout,
            on_interrupt=on_interrupt,
            journal=True,
            progress=self._progress(args),
            drive_progress=False,
            options={"template": plan.template, "source": "%bb_run"},
        )

    def _guard(self, call: Callable[[], _T]) -> _T:
        """Run ``call``; API errors become one line (``BBRunError``) unless short_errors is off."""
        from bbnb._exceptions import APIError, RunError, WaitTimeoutError

        try:
            return call()
        except (APIError, RunError, WaitTimeoutError) as error:
            if not self.short_errors:
                raise
            line = describe_api_error(error)
        raise BBRunError(line)

    def _frame(self, found: Any, schema: dict[str, Any] | None, plan: Plan | None) -> pd.DataFrame:
        from bbnb.results import to_frame

        frame = to_frame(found, schema) if found is not None else to_frame([], schema)
        if plan is not None and plan.template is not None:
            frame.attrs["task_template" if plan.kind == "agent" else "params_template"] = (
                plan.template
            )
        batch_id = getattr(found, "id", None) if _is_batch(found) else None
        if batch_id:
            frame.attrs["batch_id"] = batch_id
            frame.attrs["simulated"] = bool(getattr(found, "simulated", False))
        return frame

    def _value(
        self, args: argparse.Namespace, found: Any, schema: dict[str, Any] | None, plan: Plan | None
    ) -> Any:
        """What the cell gives back: the run objects with --raw, else a DataFrame."""
        if args.raw:
            if _is_batch(found) and plan is not None and not plan.batch:
                runs = list(found)
                return runs[0] if runs else found
            return found
        return self._frame(found, schema, plan)

    def _finish(
        self,
        args: argparse.Namespace,
        found: Any,
        schema: dict[str, Any] | None,
        plan: Plan | None,
        started: float,
        *,
        batch: bool = False,
    ) -> Any:
        value = self._value(args, found, schema, plan)
        statuses = _statuses(found)
        frame = value if hasattr(value, "shape") else self._frame(found, schema, plan)
        notes = _notes(found, args)
        unsent = _unsent_line(found)
        line = summary_line(args.out, frame, statuses, time.monotonic() - started)
        result = self._publish(args, value, line)
        for note in notes:
            print(note, file=sys.stderr)
        if unsent is not None:
            if not self.short_errors:
                from bbnb._exceptions import BBNBError

                raise BBNBError(unsent)
            raise BBRunError(unsent)
        return result

    def _interrupted(
        self,
        args: argparse.Namespace,
        partial: Any,
        schema: dict[str, Any] | None,
        plan: Plan | None,
        started: float,
        on_interrupt: str,
    ) -> None:
        """Keep the partial result in ``_bb_last`` (and ``-o NAME``), then stop the cell."""
        value = self._value(args, partial, schema, plan) if partial is not None else None
        self.namespace[LAST] = value
        if args.out:
            self.namespace[args.out] = value
        statuses = _statuses(partial)
        done = sum(n for status, n in statuses.items() if status in _FINAL)
        total = len(partial) if _is_batch(partial) else 1
        action = "stopped" if on_interrupt == "stop" else "left running (detached)"
        batch_id = getattr(partial, "id", None)
        again = f"; %bb_run attach {batch_id} collects the rest" if batch_id else ""
        where = f"_bb_last{' and ' + args.out if args.out else ''}"
        raise BBRunInterrupted(
            f"Interrupted after {time.monotonic() - started:.1f} s: {done} of {total} runs "
            f"finished, runs in flight {action}; partial result in {where}{again}"
        ) from None

    def _publish(self, args: argparse.Namespace, value: Any, line: str | None) -> Any:
        """Store ``value`` in ``_bb_last`` (and ``-o NAME``); return it unless ``-o`` was given."""
        self.namespace[LAST] = value
        if args.out:
            self.namespace[args.out] = value
            if line:
                print(line)
            return None
        return value


_FINAL = frozenset({"COMPLETED", "FAILED", "STOPPED", "TIMED_OUT"})
_RUN_ONLY_OPTIONS = (
    "settings_var",
    "var",
    "agent_id",
    "pause_when",
    "params",
    "params_var",
    "foreach",
    "concurrency",
    "timeout",
    "no_wait",
    "dry_run",
)


def _is_batch(found: Any) -> bool:
    return hasattr(found, "iter_keyed") and hasattr(found, "items")


def _runs_of(found: Any) -> list[Any]:
    if found is None:
        return []
    if _is_batch(found):
        return list(found)
    if isinstance(found, list):
        return found
    return [found]


def _statuses(found: Any) -> dict[str, int]:
    if _is_batch(found):
        return dict(found.counts)
    return dict(Counter(str(run.status) for run in _runs_of(found)))


def _notes(found: Any, args: argparse.Namespace) -> list[str]:
    """Lines about runs that need attention: paused, still running, or submitted only."""
    runs = _runs_of(found)
    notes = [
        f"bbnb: run {run.id} is PAUSED and waits for input; resume it with "
        f"client.agents.runs.resume({run.id!r}, task='...')"
        for run in runs
        if getattr(run, "needs_input", False)
    ]
    waiting = [run for run in runs if not run.is_terminal and not run.needs_input]
    batch_id = getattr(found, "id", None) if _is_batch(found) else None
    queued = (
        sum(1 for item in found.items if item.run is None and not item.error) if batch_id else 0
    )
    if (waiting or queued) and batch_id:
        why = "submitted without waiting" if args.no_wait else "still running"
        left = f"{len(waiting)} run(s) {why}"
        if queued:
            left += f", {queued} input(s) not yet submitted"
        notes.append(f"bbnb: {left}; collect them with %bb_run attach {batch_id}")
    return notes


def _unsent_line(found: Any) -> str | None:
    """One line when inputs could not be submitted (the API refused them)."""
    if not _is_batch(found):
        return None
    errors = [item for item in found.items if item.run is None and item.error]
    if not errors:
        return None
    first = errors[0]
    return " ".join(
        (
            f"bbnb: {len(errors)} of {len(found.items)} input(s) were not submitted; "
            f"input {first.key!r}: {first.error}"
        ).split()
    )


def drive(runner: Any, work: Coroutine[Any, Any, _T], *, slice_seconds: float = 0.25) -> _T:
    """Run a batch coroutine on bbnb's private loop, waiting in slices; safe against Ctrl-C.

    The task is started by the loop itself and its outcome copied into a future made
    before anything else, so a Ctrl-C that lands at any instant (even before the wait
    begins) still reaches the runner: it is told to wind down (stop or detach runs),
    and the ``KeyboardInterrupt`` is re-raised carrying ``.batch``, the partial batch.
    """
    loop = private_loop()
    outcome: concurrent.futures.Future[_T] = concurrent.futures.Future()

    started: list[bool] = []

    def start() -> None:
        started.append(True)
        task = loop.create_task(work)
        task.add_done_callback(lambda done: _copy_outcome(done, outcome))

    def never_started() -> None:
        # Runs after ``start`` if that was queued (the loop's queue is FIFO).
        if not started and not outcome.done():
            work.close()
            outcome.set_result(runner.batch())

    try:
        loop.call_soon_threadsafe(start)
        while True:
            finished, _ = concurrent.futures.wait([outcome], timeout=slice_seconds)
            if finished:
                runner.render(final=True)
                return outcome.result()
            runner.render()
    except KeyboardInterrupt as interrupt:
        loop.call_soon_threadsafe(runner.interrupt)
        loop.call_soon_threadsafe(never_started)
        try:
            while not outcome.done():
                concurrent.futures.wait([outcome], timeout=slice_seconds)
                runner.render()
        except KeyboardInterrupt:
            pass  # a second Ctrl-C: give up waiting for the wind-down
        done = outcome.done() and not outcome.cancelled() and outcome.exception() is None
        interrupt.batch = outcome.result() if done else runner.batch()  # type: ignore[attr-defined]
        runner.render(final=True)
        raise


def _copy_outcome(task: asyncio.Task[_T], outcome: concurrent.futures.Future[_T]) -> None:
    if task.cancelled():
        outcome.cancel()
    elif (error := task.exception()) is not None:
        outcome.set_exception(error)
    else:
        outcome.set_result(task.result())


async def _submit_only(runner: Any) -> Any:
    """Run the batch until every input that may be sent now has a run id, then detach.

    Inputs beyond the concurrency cap stay queued in the journal; ``attach``
    submits them later.  Runs keep going on the server.
    """
    task = asyncio.ensure_future(runner.run())
    while not task.done():
        if _submitted(runner):
            runner.interrupt()
            break
        await asyncio.sleep(0.002)
    return await task


def _submitted(runner: Any) -> bool:
    full = runner.limiter.in_use >= runner.limiter.limit
    return all(
        job.state in ("inflight", "done", "error") or (job.state == "queued" and full)
        for job in runner.jobs
    )


def _kind_check(args: argparse.Namespace) -> None:
    if args.kind not in KINDS:
        close = difflib.get_close_matches(args.kind, KINDS, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise _usage(
            f"unknown KIND {args.kind!r}.{hint} Use agent, function (fn), attach ID, stop ID "
            "or history (see %bb_run?)"
        )


def parse_magic_line(line: str) -> argparse.Namespace:
    """Parse a ``%bb_run`` line into options (the same parser the magic uses).

    Raises ``UsageError`` with one line on a mistake.  Exported so that widgets can
    round-trip their ``.to_magic()`` text.
    """
    parser: argparse.ArgumentParser = getattr(BBMagic.bb_run, "parser")  # noqa: B009
    argv = split_line(line.strip())
    if not argv:
        raise _usage("%bb_run needs a KIND: agent, function (fn), attach ID, stop ID or history")
    try:
        args: argparse.Namespace = parser.parse_intermixed_args(argv)
    except UsageError as error:
        raise _explain_usage(parser, str(error)) from None
    _kind_check(args)
    return args


def _explain_usage(parser: argparse.ArgumentParser, message: str) -> UsageError:
    """argparse's message, with the closest option named for an unknown one."""
    if message.startswith("unrecognized arguments:"):
        words = message.removeprefix("unrecognized arguments:").split()
        unknown = next((w for w in words if w.startswith("-")), None)
        if unknown is not None:
            options = [o for action in parser._actions for o in action.option_strings]
            close = difflib.get_close_matches(unknown.split("=")[0], options, n=2, cutoff=0.7)
            hint = f" Did you mean {' or '.join(close)}?" if close else ""
            return _usage(f"unknown option {unknown}.{hint} See %bb_run? for every option")
        return _usage(
            f"unexpected words {' '.join(words)!r}; quote the task as one argument "
            '("...") or put it in the cell body'
        )
    return _usage(f"{message} (see %bb_run? for help)")


def _shell_of(ipython: Any) -> InteractiveShell:
    return ipython  # type: ignore[no-any-return]


def load_ipython_extension(ipython: Any) -> None:
    """Register ``%bb_run`` and make ``%config BBMagic`` work (``%load_ext bbnb``)."""
    shell = _shell_of(ipython)
    for existing in list(shell.configurables):
        if isinstance(existing, BBMagic):
            return
    magic = BBMagic(shell=shell, parent=shell)
    shell.register_magics(magic)
    configurables: list[Any] = shell.configurables
    if magic not in configurables:  # IPython 9 adds it; older versions did not
        configurables.append(magic)


def unload_ipython_extension(ipython: Any) -> None:
    """Remove ``%bb_run`` and close the client the magic created (``%unload_ext bbnb``)."""
    shell = _shell_of(ipython)
    for magic in {id(c): c for c in shell.configurables if isinstance(c, BBMagic)}.values():
        magic.close()
    shell.configurables[:] = [c for c in shell.configurables if not isinstance(c, BBMagic)]
    for table in ("line", "cell"):
        shell.magics_manager.magics[table].pop("bb_run", None)
    shell.magics_manager.registry.pop("BBMagic", None)
