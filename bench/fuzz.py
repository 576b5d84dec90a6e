"""Bad input: hypothesis fuzz of every public entry point; count inputs and crashes.

Targets (each a hypothesis strategy driven for ``--examples`` inputs):

* ``models``   - every request and response model of ``bbnb.models``, built from
  arbitrary JSON (``from_wire``) and from keyword arguments drawn from the model's
  own field names and aliases; plus ``result_schema_dict``.
* ``client``   - ``bbnb.Client`` methods (runs, agents, functions, invocations,
  sessions) with arbitrary ids, tasks, params and options, against an in-process
  emulator on a manual clock (no faults, so any 5xx is the emulator's bug).
* ``magics``   - ``%bb_run`` lines and ``%%bb_run`` cell bodies in a real IPython
  ``InteractiveShell`` with ``%load_ext bbnb``, wired to the emulator.
* ``widgets``  - every value control of the ``bbnb.widgets`` forms (SessionSettings
  for each target, AgentTask, FunctionInvoke) set to arbitrary values of its type;
  errors the forms catch are read from their error boxes.
* ``http``     - the emulator's endpoints over HTTP (ASGI): any method, known and
  mangled paths, ids, query strings, raw and JSON bodies.  The emulator serves no
  OpenAPI document (checked: ``GET /openapi.json`` is a 404), so schemathesis does
  not apply; hypothesis generates the requests.
* ``seeds``    - the example bodies of Browserbase's reference pages (``tests/seeds``:
  invoke a function, run an agent) as they are, and every single-field mutation of
  them (each key removed, renamed, or its value replaced by another type, an
  out-of-range number, a nasty string...), through the models, the client and the
  emulator's HTTP API.  The unmutated bodies must be accepted everywhere.
  ``--examples`` caps the mutations tried (an evenly spread, seeded sample).

A *crash* is anything but a documented outcome: ``pydantic.ValidationError``,
``ValueError``, a ``bbnb.BBNBError`` subclass (an API error must be a 4xx),
IPython's ``UsageError`` (and the magic's one-line ``BBRunError`` for a 4xx), or an
HTTP 4xx.  Usage: ``python bench/fuzz.py [--examples 300] [--seed 1] [--target magics]``.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import json
import os
import shlex
import string
import sys
import tempfile
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent))

from _stress import parser, print_figures
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

import bbnb.models as models
from bbnb import ManualClock
from bbnb._exceptions import APIStatusError, BBNBError
from bbnb.client._client import Client
from bbnb.emulator import Emulator, EmulatorConfig

__all__ = ["TARGETS", "Tally", "main", "measure"]

# -- what counts -------------------------------------------------------------------------


@dataclass
class Tally:
    """Inputs tried and crashes (with the first few repros) of one target."""

    tried: int = 0
    ok: int = 0
    crashes: int = 0
    examples: list[str] = field(default_factory=list)
    rejections: Counter[str] = field(default_factory=Counter)

    def crash(self, what: str, exc: BaseException | None = None) -> None:
        self.crashes += 1
        if len(self.examples) < 5:
            where = ""
            if exc is not None:
                frames = traceback.extract_tb(exc.__traceback__)[-1:]
                where = f" at {frames[0].filename}:{frames[0].lineno}" if frames else ""
                what = f"{what} -> {type(exc).__name__}: {str(exc)[:200]}{where}"
            self.examples.append(what[:600])


def documented(exc: BaseException) -> bool:
    """True for the error types a user is promised (an API error only if it is a 4xx)."""
    from IPython.core.error import UsageError

    if isinstance(exc, APIStatusError):
        return 400 <= exc.status_code < 500
    if isinstance(exc, BBNBError):
        return not _wraps_5xx(exc)
    if type(exc).__name__ == "BBRunError":  # the magic's one-line display of an API error
        return not any(f" {code} " in f" {exc} " for code in ("500", "502", "503"))
    return isinstance(exc, ValidationError | ValueError | UsageError)


def _wraps_5xx(exc: BaseException) -> bool:
    cause = exc.__cause__ or exc.__context__
    return isinstance(cause, APIStatusError) and cause.status_code >= 500


def attempt(tally: Tally, label: str, call: Callable[[], Any]) -> Any:
    """Run ``call``; count it; a non-documented exception is a crash."""
    tally.tried += 1
    try:
        value = call()
    except Exception as exc:
        if not documented(exc):
            tally.crash(label, exc)
        else:
            tally.rejections[f"{type(exc).__name__}: {str(exc)[:60]}"] += 1
        return None
    tally.ok += 1
    return value


# -- strategies --------------------------------------------------------------------------

NASTY = [
    "",
    " ",
    "\x00",
    "../../etc/passwd",
    "a/b",
    "%2F",
    "?x=1",
    "#frag",
    "{{x}}",
    "%pw%",
    "$5",
    "{}",
    "[]",
    "null",
    "1e309",
    "-1",
    "0",
    "9" * 40,
    "é\u202e\ud7ff",
    "x" * 5000,
]
text = st.one_of(st.sampled_from(NASTY), st.text(max_size=60))
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=True), text
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)


def model_classes() -> list[type[BaseModel]]:
    """Every pydantic model exported by ``bbnb.models``."""
    found = []
    for name in sorted(models.__all__):
        obj = getattr(models, name)
        if inspect.isclass(obj) and issubclass(obj, BaseModel):
            found.append(obj)
    return found


def field_dicts(cls: type[BaseModel]) -> st.SearchStrategy[dict[str, Any]]:
    """Dicts keyed by the model's own field names and aliases (plus a stray key)."""
    keys: list[str] = ["stray"]
    for name, info in cls.model_fields.items():
        keys.append(name)
        if info.alias:
            keys.append(info.alias)
    return st.dictionaries(st.sampled_from(keys), json_values, max_size=6)


def fuzz_models(tally: Tally, examples: int, rng_seed: int) -> None:
    classes = model_classes()

    @seed(rng_seed)
    @settings(max_examples=examples, database=None, deadline=None)
    @given(st.data())
    def one(data: st.DataObject) -> None:
        cls = data.draw(st.sampled_from(classes))
        raw = data.draw(st.one_of(json_values, field_dicts(cls)))
        attempt(tally, f"{cls.__name__}.from_wire({raw!r:.200})", lambda: cls.from_wire(raw))
        if isinstance(raw, dict):
            built = attempt(tally, f"{cls.__name__}(**{raw!r:.200})", lambda: cls(**raw))
            if built is not None:
                attempt(tally, f"{cls.__name__}(...).to_wire()", built.to_wire)
                attempt(tally, f"repr({cls.__name__}(...))", lambda: repr(built))
        attempt(tally, f"result_schema_dict({raw!r:.200})", lambda: models.result_schema_dict(raw))

    one()


# -- the client, on an in-process emulator -------------------------------------------------


def emulator_client(rng_seed: int) -> tuple[Emulator, Client, ManualClock]:
    clock = ManualClock()
    emu = Emulator(EmulatorConfig(seed=rng_seed), clock=clock)
    client = Client(
        api_key=emu.config.api_key,
        base_url="http://emulator.local",
        transport=emu.transport(),
        clock=clock,
        max_retries=0,
    )
    return emu, client, clock


CREATE_KWARGS = ["agent_id", "result_schema", "browser_settings", "variables", "pause_when"]
"""The keyword arguments of ``client.agents.runs.create`` besides ``task``."""


def fuzz_client(tally: Tally, examples: int, rng_seed: int) -> None:
    emu, client, clock = emulator_client(rng_seed)
    real_run = client.agents.runs.create(task="a real run for ids")
    echo = next(f.id for f in client.functions.list() if f.name == "echo")
    ids = st.one_of(text, st.sampled_from([real_run.id, echo, "echo", "fail"]))
    statuses = st.one_of(text, st.sampled_from(["PENDING", "RUNNING", "COMPLETED", "PAUSED"]))
    small = st.one_of(st.none(), st.integers(-5, 5000))

    def calls(data: st.DataObject) -> list[tuple[str, Callable[[], Any]]]:
        rid, fid, task = data.draw(ids), data.draw(ids), data.draw(text)
        extra = data.draw(st.dictionaries(st.sampled_from(CREATE_KWARGS), json_values, max_size=3))
        body = data.draw(field_dicts(models.AgentRunCreateParams))
        params = data.draw(json_values)
        session = data.draw(field_dicts(models.SessionCreateParams))
        limit, status = data.draw(small), data.draw(statuses)

        def runs_list() -> Any:
            return list(client.agents.runs.list(status=status, limit=limit))

        return [
            ("runs.create", lambda: client.agents.runs.create(task=task, **extra)),
            ("runs.create(params=)", lambda: client.agents.runs.create(params=body)),
            ("runs.retrieve", lambda: client.agents.runs.retrieve(rid)),
            ("runs.list", runs_list),
            ("runs.messages", lambda: list(client.agents.runs.messages(rid, limit=limit))),
            ("runs.stop", lambda: client.agents.runs.stop(rid)),
            ("runs.resume", lambda: client.agents.runs.resume(rid, task)),
            ("agents.retrieve", lambda: client.agents.retrieve(rid)),
            ("functions.invoke", lambda: client.functions.invoke(fid, params=params)),
            ("functions.retrieve", lambda: client.functions.retrieve(fid)),
            ("invocations.retrieve", lambda: client.functions.invocations.retrieve(rid)),
            ("invocations.logs", lambda: client.functions.invocations.logs(rid)),
            ("sessions.create", lambda: client.sessions.create(**session)),
            ("sessions.retrieve", lambda: client.sessions.retrieve(rid)),
        ]

    @seed(rng_seed)
    @settings(max_examples=examples, database=None, deadline=None)
    @given(st.data())
    def one(data: st.DataObject) -> None:
        options = calls(data)
        label, call = options[data.draw(st.integers(0, len(options) - 1))]
        attempt(tally, label, call)
        clock.advance(30)

    try:
        one()
    finally:
        client.close()
        emu.close()


# -- magics ------------------------------------------------------------------------------

WORDS = [
    "agent",
    "function",
    "fn",
    "attach",
    "stop",
    "history",
    "bogus",
    "-o",
    "out",
    "--schema",
    "--schema-var",
    "--settings-var",
    "--var",
    "pw={{secret}}",
    "a=b",
    "=",
    "--agent-id",
    "--pause-when",
    "--params",
    "--params-var",
    "--foreach",
    "rows",
    "frame",
    "nums",
    "missing",
    "--concurrency",
    "0",
    "-3",
    "2",
    "--timeout",
    "1.5",
    "nan",
    "--no-wait",
    "--progress",
    "none",
    "--on-interrupt",
    "detach",
    "--raw",
    "--dry-run",
    "--refresh",
    "'{\"a\": 1}'",
    "'{bad json'",
    '"unterminated',
    "echo",
    "Schema",
    "settings",
    "'{{row}}'",
    "'{{nope.x}}'",
    "--",
    "-",
    "\\",
]


OPTIONS: dict[str, list[str] | None] = {
    "-o": ["out", "1bad", "class"],
    "--schema": [
        shlex.quote('{"type": "object", "properties": {"t": {"type": "string"}}}'),
        "'{bad'",
    ],
    "--schema-var": ["Schema", "missing", "nums"],
    "--settings-var": ["settings", "missing", "nums"],
    "--var": ["pw={{secret}}", "a=b", "=x", "bad"],
    "--agent-id": ["nope", "''"],
    "--pause-when": ["'a code is needed'"],
    "--params": [shlex.quote('{"n": "{{row}}"}'), "'[1]'", "'{}'"],
    "--params-var": ["params", "nums", "missing"],
    "--foreach": ["nums", "rows", "frame", "missing", "secret"],
    "--concurrency": ["2", "0", "-3", "x"],
    "--timeout": ["5", "nan", "-1", "0"],
    "--no-wait": None,
    "--progress": ["none", "text", "bad"],
    "--on-interrupt": ["stop", "detach", "bad"],
    "--raw": None,
    "--dry-run": None,
    "--refresh": None,
}


_RUN_OPTIONS = [
    "-o",
    "--foreach",
    "--concurrency",
    "--timeout",
    "--no-wait",
    "--progress",
    "--raw",
    "--dry-run",
    "--refresh",
]
APPLIES: dict[str, list[str]] = {
    "agent": [
        *_RUN_OPTIONS,
        "--schema",
        "--schema-var",
        "--settings-var",
        "--var",
        "--pause-when",
        "--on-interrupt",
    ],
    "function": [*_RUN_OPTIONS, "--params", "--params-var", "--settings-var"],
    "fn": [*_RUN_OPTIONS, "--params", "--params-var"],
    "attach": ["-o", "--raw", "--progress"],
    "stop": ["-o"],
    "history": ["-o"],
}
"""The options that make sense for each KIND (most lines use only these)."""


@st.composite
def magic_lines(draw: st.DrawFn) -> str:
    """A %bb_run line from the magic's own grammar, with good and bad values mixed."""
    kind = draw(st.sampled_from(["agent", "function", "fn", "attach", "stop", "history"]))
    words = [kind]
    if kind == "agent" and draw(st.booleans()):
        words.append(shlex.quote(draw(st.one_of(text, st.just("Title of {{row.url}}")))))
    elif kind in ("function", "fn"):
        words.append(draw(st.sampled_from(["echo", "fail", "missing-fn", "''"])))
    elif kind in ("attach", "stop"):
        words.append(shlex.quote(draw(text)))
    applicable = sorted(APPLIES.get(kind, OPTIONS) if draw(st.integers(0, 4)) else OPTIONS)
    for option in draw(st.lists(st.sampled_from(applicable), max_size=4, unique=True)):
        values = OPTIONS[option]
        words.append(option)
        if values is not None:
            words.append(values[0] if draw(st.integers(0, 2)) else draw(st.sampled_from(values)))
    return " ".join(words)


def fuzz_magics(tally: Tally, examples: int, rng_seed: int) -> None:
    import pandas as pd
    from IPython.core.interactiveshell import InteractiveShell

    from bbnb.magics import BBMagic, load_ipython_extension, unload_ipython_extension

    emu, client, clock = emulator_client(rng_seed)
    shell = InteractiveShell.instance()
    load_ipython_extension(shell)
    magic = next(c for c in shell.configurables if isinstance(c, BBMagic))
    magic.client_factory = lambda _m: client
    random_lines = st.lists(
        st.one_of(st.sampled_from(WORDS), text.map(lambda s: s.replace("\n", " "))),
        min_size=0,
        max_size=8,
    ).map(" ".join)
    shell.user_ns.update(
        {
            "params": {"url": "https://p.example.com"},
            "rows": [{"url": "https://a.example.com"}, {"url": "https://b.example.com"}],
            "frame": pd.DataFrame({"url": ["https://c.example.com"], "n": [1]}),
            "nums": [1, 2],
            "secret": "fuzz-secret",
            "Schema": {"type": "object", "properties": {"title": {"type": "string"}}},
            "settings": {"proxies": True},
        }
    )
    line = st.one_of(magic_lines(), random_lines)
    body = st.one_of(
        st.none(),
        text,
        json_values.map(lambda v: json.dumps(v, default=str)),
        st.sampled_from(["Find {{row.url}} title", '{"url": "{{row}}"}', "{{", "}}"]),
    )

    @seed(rng_seed)
    @settings(
        max_examples=examples,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(line, body)
    def one(magic_line: str, cell: str | None) -> None:
        if cell is None:
            attempt(
                tally, f"%bb_run {magic_line}", lambda: shell.run_line_magic("bb_run", magic_line)
            )
        else:
            attempt(
                tally,
                f"%%bb_run {magic_line}\\n{cell[:200]}",
                lambda: shell.run_cell_magic("bb_run", magic_line, cell),
            )
        clock.advance(30)

    try:
        one()
        tally.examples.extend([] if emu.stats.runs_created else ["(no run was ever created)"])
    finally:
        unload_ipython_extension(shell)
        client.close()
        emu.close()


# -- widgets -----------------------------------------------------------------------------


def walk(widget: Any) -> list[Any]:
    """Every widget in a tree (children of boxes and accordions)."""
    out = [widget]
    for child in getattr(widget, "children", ()) or ():
        out.extend(walk(child))
    return out


def value_strategy(control: Any) -> st.SearchStrategy[Any] | None:
    import ipywidgets as w

    if isinstance(control, w.Button | w.HTML | w.Label | w.Output):
        return None
    if isinstance(control, w.Checkbox | w.ToggleButton):
        return st.booleans()
    if isinstance(control, w.Dropdown | w.ToggleButtons | w.RadioButtons | w.Select):
        values = [v for _label, v in control._options_full] if control.options else []
        return st.sampled_from(values) if values else None
    if isinstance(control, w.IntText | w.BoundedIntText | w.IntSlider):
        return st.integers(-(2**40), 2**40)
    if isinstance(control, w.FloatText | w.BoundedFloatText | w.FloatSlider):
        return st.floats(allow_nan=False, allow_infinity=False, width=32)
    if isinstance(control, w.Text | w.Textarea | w.Password | w.Combobox):
        return st.one_of(
            text,
            json_values.map(lambda v: json.dumps(v, default=str)),
            st.sampled_from(["60", "900", "21600", "us-east-1", "1920", "x,y", "true"]),
        )
    return None


def forms(client: Client) -> list[tuple[str, Any]]:
    from bbnb.widgets import AgentTask, FunctionInvoke, SessionSettings

    return [
        ("SessionSettings(session)", SessionSettings("session")),
        ("SessionSettings(function)", SessionSettings("function")),
        ("SessionSettings(agent)", SessionSettings("agent")),
        ("AgentTask", AgentTask("find a title", client=client)),
        ("FunctionInvoke", FunctionInvoke("echo", client=client)),
    ]


def _grow(form: Any) -> None:
    """Add a row to every editable table (variables, proxies, schema fields)."""
    for widget in walk(form):
        desc = str(getattr(widget, "description", "") or "")
        if type(widget).__name__ == "Button" and desc.lower().startswith(("add", "+")):
            widget.click()


def fuzz_widgets(tally: Tally, examples: int, rng_seed: int) -> None:
    from traitlets import TraitError

    emu, client, _clock = emulator_client(rng_seed)
    built = forms(client)
    for _name, form in built:
        _grow(form)
        _grow(form)
    targets: list[tuple[str, Any, Any, st.SearchStrategy[Any]]] = []
    for name, form in built:
        for control in walk(form):
            strategy = value_strategy(control)
            if strategy is not None and control.has_trait("value"):
                label = f"{name}.{type(control).__name__}({getattr(control, 'description', '')!r})"
                targets.append((label, form, control, strategy))

    def box_errors(form: Any) -> list[BaseException]:
        boxes = [getattr(form, "box", None)]
        boxes += [getattr(form, "settings", None) and form.settings.box]
        return [e for b in boxes if b is not None for e in b.errors]

    @seed(rng_seed)
    @settings(max_examples=examples, database=None, deadline=None)
    @given(st.data())
    def one(data: st.DataObject) -> None:
        label, form, control, strategy = data.draw(st.sampled_from(targets))
        value = data.draw(strategy)
        before = len(box_errors(form))
        tally.tried += 1
        try:
            control.value = value
        except TraitError:
            return  # the trait refused a value of the wrong shape: the control's own check
        except Exception as exc:
            if not documented(exc):
                tally.crash(f"{label}.value = {value!r:.200}", exc)
            return
        caught = box_errors(form)[before:]
        for exc in caught:
            if not documented(exc):
                tally.crash(f"{label}.value = {value!r:.200} (caught by the form)", exc)
        if not caught:
            tally.ok += 1
        if hasattr(type(form), "value"):
            attempt(tally, f"{label} then form.value", lambda: form.value)

    try:
        one()
    finally:
        client.close()
        emu.close()


# -- the emulator over HTTP --------------------------------------------------------------

PATHS = [
    "/",
    "/openapi.json",
    "/v1",
    "/v1/agents",
    "/v1/agents/{id}",
    "/v1/agents/runs",
    "/v1/agents/runs/{id}",
    "/v1/agents/runs/{id}/messages",
    "/v1/agents/runs/{id}/stop",
    "/v1/agents/runs/{id}/resume",
    "/v1/functions",
    "/v1/functions/{id}",
    "/v1/functions/{id}/versions",
    "/v1/functions/{id}/invoke",
    "/v1/functions/invocations/{id}",
    "/v1/functions/invocations/{id}/logs",
    "/v1/functions/versions/{id}",
    "/v1/functions/versions/{id}/invocations",
    "/v1/sessions",
    "/v1/sessions/{id}",
]
QUERY_KEYS = [
    "limit",
    "cursor",
    "status",
    "startAt",
    "endAt",
    "agentId",
    "since",
    "all",
    "offset",
    "q",
    "x",
]


def fuzz_http(tally: Tally, examples: int, rng_seed: int) -> None:
    from starlette.testclient import TestClient

    clock = ManualClock()
    emu = Emulator(EmulatorConfig(seed=rng_seed), clock=clock)
    api = TestClient(emu.app, raise_server_exceptions=False)
    key = {"X-BB-API-Key": emu.config.api_key}
    run_id = api.post("/v1/agents/runs", json={"task": "seed run"}, headers=key).json()["runId"]
    safe = string.ascii_letters + string.digits + "-_.~%"
    ids = st.one_of(
        st.sampled_from([run_id, "echo", "fail", "sleep"]),
        text.map(lambda s: quote(s, safe="")),
        st.text(alphabet=safe, max_size=40),
    )
    query = st.dictionaries(st.sampled_from(QUERY_KEYS), text, max_size=4)
    good = st.one_of(
        st.builds(lambda t: {"task": t}, text),
        st.builds(lambda v: {"params": v}, st.dictionaries(st.text(max_size=8), json_values)),
        st.builds(lambda n: {"name": n}, text),
        st.builds(lambda t: {"timeout": t}, st.integers(0, 30000)),
        st.just({"status": "REQUEST_RELEASE"}),
    )
    bodies = st.one_of(
        st.none(),
        good.map(lambda d: json.dumps(d).encode()),
        st.binary(max_size=300),
        json_values.map(lambda v: json.dumps(v, default=str).encode()),
        st.builds(
            lambda d: json.dumps(d, default=str).encode(),
            st.one_of(
                field_dicts(models.AgentRunCreateParams),
                field_dicts(models.SessionCreateParams),
                field_dicts(models.FunctionInvokeParams),
                field_dicts(models.ResumeParams),
                field_dicts(models.AgentCreateParams),
            ),
        ),
    )

    @seed(rng_seed)
    @settings(max_examples=examples, database=None, deadline=None)
    @given(
        st.sampled_from(["GET", "POST", "PATCH", "DELETE", "PUT"]),
        st.sampled_from(PATHS),
        ids,
        query,
        bodies,
        st.sampled_from(["application/json", "application/json", "text/plain", None]),
        st.integers(0, 9).map(lambda n: n > 0),
    )
    def one(
        method: str,
        path: str,
        ident: str,
        params: dict[str, str],
        body: bytes | None,
        ctype: str | None,
        with_key: bool,
    ) -> None:
        url = path.replace("{id}", ident)
        headers = dict(key) if with_key else {}
        if ctype:
            headers["content-type"] = ctype
        label = f"{method} {url} ?{params!r:.100} body={body!r:.120}"
        tally.tried += 1
        try:
            response = api.request(method, url, params=params, content=body, headers=headers)
        except Exception as exc:
            tally.crash(label, exc)
            return
        if response.status_code >= 500:
            tally.crash(f"{label} -> HTTP {response.status_code} {response.text[:200]}")
        elif response.status_code >= 400:
            try:
                payload = response.json()
                assert {"statusCode", "error", "message"} <= set(payload)
            except Exception:
                tally.crash(f"{label} -> HTTP {response.status_code} without an error body")
        else:
            tally.ok += 1
        clock.advance(5)

    try:
        one()
    finally:
        api.close()
        emu.close()


# -- the reference pages' own bodies and their single-field mutations --------------------

SEEDS = Path(__file__).resolve().parents[1] / "tests" / "seeds"
_MISSING = object()
REPLACEMENTS: list[Any] = [
    None,
    "",
    "<string>",
    "x" * 5000,
    "\x00\ud800",
    0,
    -1,
    59,
    21_601,
    2**70,
    1.5,
    True,
    [],
    [None],
    {},
    {"stray": 1},
]


def seed_bodies() -> dict[str, dict[str, Any]]:
    """The ``--data`` bodies of the reference pages, by page name."""
    return {p.stem: json.loads(p.read_text()) for p in sorted(SEEDS.glob("*.json"))}


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path in ``value`` (dict keys and list positions), parents before children."""
    out: list[tuple[Any, ...]] = []
    items: list[tuple[Any, Any]] = []
    if isinstance(value, dict):
        items = list(value.items())
    elif isinstance(value, list):
        items = list(enumerate(value))
    for key, child in items:
        out.append((*prefix, key))
        out.extend(_paths(child, (*prefix, key)))
    return out


def _mutated(body: dict[str, Any], path: tuple[Any, ...], how: str, new: Any) -> dict[str, Any]:
    copy = json.loads(json.dumps(body))
    parent = copy
    for key in path[:-1]:
        parent = parent[key]
    last = path[-1]
    if how == "drop":
        del parent[last]
    elif how == "rename":
        parent[f"{last}_"] = parent.pop(last)
    else:
        parent[last] = new
    return copy


def seed_mutations() -> list[tuple[str, str, dict[str, Any]]]:
    """``(page, label, body)``: each page's body, then every single-field mutation of it."""
    out: list[tuple[str, str, dict[str, Any]]] = []
    for page, body in seed_bodies().items():
        out.append((page, "as published", body))
        for path in _paths(body):
            where = "/".join(map(str, path))
            if isinstance(path[-1], str):
                out.append((page, f"drop {where}", _mutated(body, path, "drop", None)))
                out.append((page, f"rename {where}", _mutated(body, path, "rename", None)))
            for new in REPLACEMENTS:
                label = f"{where} = {json.dumps(new)[:40]}"
                out.append((page, label, _mutated(body, path, "set", new)))
    return out


def fuzz_seeds(tally: Tally, examples: int, rng_seed: int) -> None:
    import random
    import warnings

    from starlette.testclient import TestClient

    emu, client, clock = emulator_client(rng_seed)
    api = TestClient(emu.app, raise_server_exceptions=False)
    key = {"X-BB-API-Key": emu.config.api_key}
    agent_id = client.agents.create(name="seed agent").agent_id
    every = seed_mutations()
    published = [m for m in every if m[1] == "as published"]
    mutations = [m for m in every if m[1] != "as published"]
    random.Random(rng_seed).shuffle(mutations)
    chosen = published + mutations[: max(examples - len(published), 0)]

    def send(page: str, body: dict[str, Any]) -> Any:
        if page == "run-an-agent":
            return client.agents.runs.create(params=body)
        return client.functions.invoke("echo", body.get("params"), body.get("sessionCreateParams"))

    def post(page: str, body: dict[str, Any]) -> Any:
        url = "/v1/agents/runs" if page == "run-an-agent" else "/v1/functions/echo/invoke"
        return api.post(url, content=json.dumps(body).encode(), headers=key)

    model = {"run-an-agent": models.AgentRunCreateParams}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", models.ApiRuleWarning)
            for page, label, body in chosen:
                if page == "run-an-agent" and body.get("agentId") == "<string>":
                    body = {**body, "agentId": agent_id}  # a real agent: test the body, not a 404
                what = f"{page}: {label}"
                cls = model.get(page, models.FunctionInvokeParams)
                before = tally.crashes
                attempt(tally, f"{what} (model)", functools.partial(cls.from_wire, body))
                attempt(tally, f"{what} (client)", functools.partial(send, page, body))
                tally.tried += 1
                response = post(page, body)
                if response.status_code >= 500:
                    tally.crash(
                        f"{what} (http) -> HTTP {response.status_code} {response.text[:200]}"
                    )
                elif response.status_code >= 400:
                    if {"statusCode", "error", "message"} > set(response.json()):
                        tally.crash(
                            f"{what} (http) -> HTTP {response.status_code} without an error body"
                        )
                else:
                    tally.ok += 1
                if label == "as published" and (
                    tally.crashes > before or response.status_code >= 400
                ):
                    tally.crash(
                        f"{what} was refused ({response.status_code}): {response.text[:200]}"
                    )
                clock.advance(30)
    finally:
        api.close()
        client.close()
        emu.close()


TARGETS: dict[str, Callable[[Tally, int, int], None]] = {
    "models": fuzz_models,
    "client": fuzz_client,
    "magics": fuzz_magics,
    "widgets": fuzz_widgets,
    "http": fuzz_http,
    "seeds": fuzz_seeds,
}


def measure(examples: int, rng_seed: int, targets: list[str] | None = None) -> dict[str, Any]:
    """Fuzz each target with ``examples`` inputs; the tallies per target and in total."""
    chosen = targets or list(TARGETS)
    results: dict[str, Tally] = {}
    with tempfile.TemporaryDirectory(prefix="bbnb-fuzz-") as home:
        old = os.environ.get("BBNB_HOME")
        os.environ["BBNB_HOME"] = home
        try:
            for name in chosen:
                tally = Tally()
                TARGETS[name](tally, examples, rng_seed)
                results[name] = tally
        finally:
            if old is None:
                os.environ.pop("BBNB_HOME", None)
            else:
                os.environ["BBNB_HOME"] = old
    return {
        "inputs_tried": sum(t.tried for t in results.values()),
        "crashes": sum(t.crashes for t in results.values()),
        **{f"{n}_tried": t.tried for n, t in results.items()},
        **{f"{n}_accepted": t.ok for n, t in results.items()},
        **{f"{n}_crashes": t.crashes for n, t in results.items()},
        "crash_examples": {n: t.examples for n, t in results.items() if t.examples},
        "top_rejections": {n: t.rejections.most_common(3) for n, t in results.items()},
    }


def main(argv: list[str] | None = None) -> int:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--examples", type=int, default=300, help="hypothesis examples per target")
    p.add_argument("--target", action="append", choices=sorted(TARGETS), help="only these")
    args = p.parse_args(argv)
    figures = measure(args.examples, args.seed, args.target)
    print_figures("bad input (fuzz)", figures, only_json=args.json)
    return 1 if figures["crashes"] else 0


if __name__ == "__main__":
    asyncio.set_event_loop_policy(None)
    raise SystemExit(main())
