"""Secrets: sentinel values pushed through every path; count where they show up.

Three sentinels: an API key (the emulator is configured to accept it), an agent
variable value and an external proxy password.  They go through:

* ``reprs``    - reprs and ``str`` of clients, request models, runs, batches, frames;
* ``errors``   - exceptions and their tracebacks (wrong key, bad URL, malformed
  variables and proxies, API errors);
* ``logs``     - every log record at DEBUG (bbnb, httpx, httpcore, uvicorn), with
  tracebacks, while a real server on 127.0.0.1 answers;
* ``journal``  - the bytes of the journal files (SQLite, -wal, -shm) and of the
  emulator's ``--db`` file;
* ``widgets``  - ``get_state()`` of every widget in the AgentTask / SessionSettings /
  FunctionInvoke trees after the secrets were typed in (and a run was made);
* ``dry_run``  - what ``%bb_run ... --dry-run`` prints and returns, and a real
  ``%bb_run`` with ``--var``;
* ``notebook`` - a notebook executed by nbclient in a real kernel (the sentinels come
  from environment variables, never from the cell source), saved with nbformat.

Figure: occurrences of any sentinel, per path and in total (target 0).  The
``to_wire()`` body sent over HTTP is the one place a secret must appear; it is not
a path checked here.  Usage: ``python bench/leaks.py [--no-notebook]``.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent))

from _stress import parser, print_figures

from bbnb import ManualClock
from bbnb.client._client import Client
from bbnb.emulator import Emulator, EmulatorConfig, serve_in_thread

__all__ = ["SENTINELS", "Haystack", "main", "measure"]

SENTINELS = {
    "api_key": "bbnbSENTINELkey7f3a9c0d",
    "variable": "bbnb-SENTINEL-var-51b2e8",
    "proxy_password": "bbnb-SENTINEL-pw-c94d1a",
}
ENV = {
    "BBNB_SENTINEL_KEY": SENTINELS["api_key"],
    "BBNB_SENTINEL_VAR": SENTINELS["variable"],
    "BBNB_SENTINEL_PW": SENTINELS["proxy_password"],
}
PROXY = {
    "type": "external",
    "server": "http://proxy.example.com:8080",
    "username": "proxyuser",
    "password": SENTINELS["proxy_password"],
}


class Haystack:
    """Everything collected per path, and where each sentinel was found."""

    def __init__(self) -> None:
        self.found: dict[str, int] = {}
        self.where: list[str] = []
        self.checked: dict[str, int] = {}
        self.controls: dict[str, int] = {}
        self.notes: list[str] = []

    def add(self, path: str, label: str, data: str | bytes) -> None:
        blob = data if isinstance(data, bytes) else data.encode("utf-8", "backslashreplace")
        self.checked[path] = self.checked.get(path, 0) + 1
        hits = sum(blob.count(s.encode()) for s in SENTINELS.values())
        self.found[path] = self.found.get(path, 0) + hits
        if hits and len(self.where) < 20:
            which = [n for n, s in SENTINELS.items() if s.encode() in blob]
            self.where.append(f"{path}: {label} ({', '.join(which)})")

    def grab(self, path: str, label: str, make: Callable[[], Any]) -> Any:
        """Add ``str(make())`` (or the text of the exception it raised, with traceback)."""
        try:
            value = make()
        except Exception as exc:
            self.add("errors", f"{label} raised", _exc_text(exc))
            return None
        self.add(path, label, value if isinstance(value, bytes | str) else repr(value))
        return value

    def control(self, label: str, data: str) -> None:
        """A place the secrets *must* be (the HTTP body): proves the check can see them."""
        self.controls[label] = sum(data.count(s) for s in SENTINELS.values())

    @property
    def total(self) -> int:
        return sum(self.found.values())


def _exc_text(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc)) + repr(exc) + str(exc)


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(self.format(record) + repr(record.args))
        except Exception as exc:  # a record that cannot even format is kept raw
            self.lines.append(f"{record.msg!r} {record.args!r} ({exc!r})")


@contextlib.contextmanager
def debug_logs() -> Iterator[_Collect]:
    """Every logger at DEBUG into one handler (and nothing else)."""
    root = logging.getLogger()
    handler = _Collect()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    names = ["bbnb", "httpx", "httpcore", "uvicorn", "uvicorn.error", "uvicorn.access"]
    saved = {n: (logging.getLogger(n).level, logging.getLogger(n).propagate) for n in names}
    for name in names:
        logging.getLogger(name).setLevel(logging.DEBUG)
        logging.getLogger(name).propagate = True
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        for name, (level, propagate) in saved.items():
            logging.getLogger(name).setLevel(level)
            logging.getLogger(name).propagate = propagate


def emulator_config(db: Path, *, api_key: str = SENTINELS["api_key"]) -> EmulatorConfig:
    return EmulatorConfig(seed=11, api_key=api_key, db_path=str(db))


def _api_paths(hay: Haystack, client: Client, clock: ManualClock, work: Path) -> None:
    """Reprs, errors and journal through the public client and runs API."""
    from bbnb.models import AgentRunCreateParams, ExternalProxy, SessionCreateParams
    from bbnb.runs import history, run_many

    var, pw, key = SENTINELS["variable"], SENTINELS["proxy_password"], SENTINELS["api_key"]
    settings = {"proxies": [PROXY]}
    params = hay.grab(
        "reprs",
        "AgentRunCreateParams",
        lambda: AgentRunCreateParams(
            task="Log in with %pw%", variables={"pw": var}, browser_settings=settings
        ),
    )
    if params is not None:
        hay.control("params.to_wire()", json.dumps(params.to_wire()))
        hay.grab("reprs", "str(params)", lambda: str(params))
        hay.grab("reprs", "params.model_dump()", params.model_dump)
        hay.grab("reprs", "params.model_dump_json()", params.model_dump_json)
    hay.grab("reprs", "ExternalProxy", lambda: ExternalProxy(**PROXY))
    hay.grab("reprs", "SessionCreateParams", lambda: SessionCreateParams(proxies=[PROXY]))
    hay.grab("reprs", "repr(client)", lambda: repr(client) + str(client) + repr(vars(client)))
    hay.grab("reprs", "client.stats", lambda: repr(client.stats))
    run = hay.grab("reprs", "runs.create", lambda: client.agents.runs.create(params=params))
    if run is not None:
        done = hay.grab("reprs", "runs.wait", lambda: client.agents.runs.wait(run.id))
        hay.grab("reprs", "run json", lambda: done.model_dump_json() if done else "")
        hay.grab("reprs", "messages", lambda: list(client.agents.runs.messages(run.id, all=True)))
    journal = work / "home" / "journal.sqlite"
    batch = hay.grab(
        "reprs",
        "run_many",
        lambda: run_many(
            client,
            [f"Log in to site {i} with %pw%" for i in range(5)],
            variables={"pw": var},
            browser_settings=settings,
            journal=journal,
            progress="none",
        ),
    )
    if batch is not None:
        hay.grab("reprs", "batch html", batch._repr_html_)
        hay.grab("reprs", "batch items", lambda: repr(batch.items) + repr(batch.failures))
        hay.grab("reprs", "batch frame", lambda: batch.to_frame().to_csv())
        hay.grab("reprs", "history", lambda: history(journal).to_csv())
    # Errors that carry the secrets in their input.
    bad_inputs: list[tuple[str, Callable[[], Any]]] = [
        ("variables as a bare string", lambda: AgentRunCreateParams(task="t", variables=var)),
        (
            "variable with a stray key",
            lambda: AgentRunCreateParams(task="t", variables={"pw": {"value": var, "x": 1}}),
        ),
        (
            "variable named badly",
            lambda: AgentRunCreateParams(task="t", variables={"bad name!": var}),
        ),
        ("variable value a list", lambda: AgentRunCreateParams(task="t", variables={"pw": [var]})),
        ("proxy with a bad server", lambda: ExternalProxy(**{**PROXY, "server": "nope"})),
        ("proxy with a stray key", lambda: ExternalProxy(**{**PROXY, "port": 1})),
        ("proxy list as a dict", lambda: SessionCreateParams(proxies=PROXY)),
        ("proxy of unknown type", lambda: SessionCreateParams(proxies=[{**PROXY, "type": "x"}])),
        (
            "password as a number",
            lambda: SessionCreateParams(proxies=[{**PROXY, "password": [pw]}]),
        ),
        ("run with no task", lambda: client.agents.runs.create(task="", variables={"pw": var})),
        (
            "resume a finished run",
            lambda: client.agents.runs.resume(run.id if run else "x", "go", variables={"pw": var}),
        ),
        ("bad base URL", lambda: Client(api_key=key, base_url="ftp://nowhere")),
        (
            "api key with a newline",
            lambda: Client(api_key=key + "\n", base_url="http://127.0.0.1:9").agents.runs.retrieve(
                "x"
            ),
        ),
    ]
    for label, make in bad_inputs:
        hay.grab("errors", label, make)


def _wrong_key(hay: Haystack, base_url: str, clock: ManualClock) -> None:
    """The sentinel key sent to a server that expects another key: a 401 error."""
    with Client(api_key=SENTINELS["api_key"], base_url=base_url, clock=clock) as client:
        hay.grab("errors", "401 with the sentinel key", lambda: client.agents.runs.retrieve("x"))
        hay.grab("errors", "401 on create", lambda: client.agents.runs.create(task="t"))


def _widgets(hay: Haystack, client: Client) -> None:
    """Type the secrets into the forms the way a person would, then read every state."""
    from bbnb.widgets import AgentTask, FunctionInvoke, SessionSettings

    var, pw = SENTINELS["variable"], SENTINELS["proxy_password"]

    def type_proxy(settings: Any) -> None:
        row = settings.proxies.add_row()
        row.type.value = "external"
        row.texts[("server",)].value = PROXY["server"]
        row.texts[("username",)].value = PROXY["username"]
        row.password.widget.value = pw  # what the browser sends when the user types

    task = AgentTask("Log in with %pw%", client=client)
    row = task.variables.add_row(name="pw")
    row.value.widget.value = var
    type_proxy(task.settings)
    session = SessionSettings("session")
    type_proxy(session)
    function = FunctionInvoke("echo", client=client)
    type_proxy(function.settings)
    forms: list[tuple[str, Any]] = [
        ("AgentTask", task),
        ("SessionSettings", session),
        ("FunctionInvoke", function),
    ]
    hay.grab("widgets", "AgentTask.to_magic", task.to_magic)
    hay.grab("widgets", "AgentTask.show_magic", task.show_magic)
    hay.grab("widgets", "SessionSettings.to_magic", session.to_magic)
    hay.grab("widgets", "AgentTask.value repr", lambda: repr(task.value))
    hay.grab("widgets", "AgentTask.run", task.run)
    hay.grab("widgets", "AgentTask.wait", lambda: task.wait(timeout=30))
    for name, form in forms:
        for widget in _walk(form):
            hay.add(
                "widgets",
                f"{name}/{type(widget).__name__}",
                json.dumps(widget.get_state(), default=str),
            )
        errors = getattr(getattr(form, "box", None), "errors", [])
        hay.add("widgets", f"{name} errors", "".join(_exc_text(e) for e in errors))


def _walk(widget: Any) -> list[Any]:
    out = [widget]
    for child in getattr(widget, "children", ()) or ():
        out.extend(_walk(child))
    return out


def _magics(hay: Haystack, client: Client) -> None:
    """``--dry-run`` and a real run with ``--var``, ``--settings-var`` in a real shell."""
    from IPython.core.interactiveshell import InteractiveShell

    from bbnb.magics import BBMagic, load_ipython_extension, unload_ipython_extension

    shell = InteractiveShell.instance()
    load_ipython_extension(shell)
    magic = next(c for c in shell.configurables if isinstance(c, BBMagic))
    magic.client_factory = lambda _m: client
    shell.user_ns.update(
        {
            "secret": SENTINELS["variable"],
            "proxy_settings": {"proxies": [PROXY]},
            "sites": ["a", "b"],
        }
    )
    lines = [
        ("dry_run", "agent 'Log in with %pw%' --var pw={{secret}} --dry-run"),
        (
            "dry_run",
            "agent 'Log in with %pw%' --var pw={{secret}} --settings-var proxy_settings --dry-run",
        ),
        (
            "dry_run",
            "agent 'Log in to {{row}} with %pw%' --var pw={{secret}} --foreach sites --dry-run",
        ),
        ("dry_run", "function echo --params '{\"a\": 1}' --settings-var proxy_settings --dry-run"),
        (
            "dry_run",
            "agent 'Log in with %pw%' --var pw={{secret}} --settings-var proxy_settings --progress none",
        ),
        ("dry_run", "agent 'Log in with %pw%' --var pw={{missing}} --progress none"),
    ]
    try:
        for path, line in lines:
            out, err = io.StringIO(), io.StringIO()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                value = hay.grab(
                    path, f"%bb_run {line}", lambda line=line: shell.run_line_magic("bb_run", line)
                )
            text = out.getvalue() + err.getvalue()
            if value is not None and hasattr(value, "to_csv"):
                text += value.to_csv()
            text += repr(shell.user_ns.get("_bb_last"))
            hay.add(path, f"output of %bb_run {line}", text)
    finally:
        unload_ipython_extension(shell)


NOTEBOOK_CELLS = [
    "import os, bbnb\nfrom bbnb.emulator import EmulatorConfig, serve_in_thread\n"
    "key = os.environ['BBNB_SENTINEL_KEY']\nsecret = os.environ['BBNB_SENTINEL_VAR']\n"
    "proxy = {'type': 'external', 'server': 'http://proxy.example.com:8080', "
    "'username': 'proxyuser', 'password': os.environ['BBNB_SENTINEL_PW']}\n"
    "server = serve_in_thread(EmulatorConfig(api_key=key, run_seconds=(0.2, 0.5), "
    "run_pending_seconds=(0.05, 0.1)))\n"
    "client = bbnb.Client(api_key=key, base_url=server.base_url)\nclient",
    "from bbnb.models import AgentRunCreateParams\n"
    "params = AgentRunCreateParams(task='Log in with %pw%', variables={'pw': secret}, "
    "browser_settings={'proxies': [proxy]})\nprint(params)\nparams",
    "run = client.agents.runs.create(params=params)\nrun = client.agents.runs.wait(run.id)\nrun",
    "from bbnb.runs import run_many\nbatch = run_many(client, ['Log in to a with %pw%', "
    "'Log in to b with %pw%'], variables={'pw': secret}, browser_settings={'proxies': [proxy]}, "
    "progress='text')\nbatch",
    "batch.to_frame()",
    "%load_ext bbnb\n%config BBMagic.base_url = server.base_url",
    "os.environ['BROWSERBASE_API_KEY'] = key\n"
    "%bb_run agent 'Log in with %pw%' --var pw={{secret}} --settings-var proxy --dry-run",
    "%bb_run agent 'Log in with %pw%' --var pw={{secret}} --progress widget",
    "from bbnb.widgets import AgentTask\nform = AgentTask('Log in with %pw%', client=client)\n"
    "row = form.variables.add_row(name='pw')\nrow.value.widget.value = secret\n"
    "p = form.settings.proxies.add_row(); p.type.value = 'external'\n"
    "p.password.widget.value = proxy['password']\nform",
    "bad = bbnb.Client(api_key=key + 'x', base_url=server.base_url)\n"
    "bad.agents.runs.retrieve('nope')",
]


def _notebook(hay: Haystack, work: Path) -> None:
    """Execute a notebook in a real kernel and look at the saved file."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in NOTEBOOK_CELLS]
    for cell in nb.cells:
        if any(s in cell.source for s in SENTINELS.values()):
            raise AssertionError("a sentinel is in the cell source; the check would be void")
    saved = {
        k: os.environ.get(k)
        for k in [*ENV, "BBNB_HOME", "BROWSERBASE_API_KEY", "BROWSERBASE_BASE_URL"]
    }
    os.environ.update(ENV)
    os.environ["BBNB_HOME"] = str(work / "nb-home")
    os.environ.pop("BROWSERBASE_API_KEY", None)
    os.environ.pop("BROWSERBASE_BASE_URL", None)
    try:
        runner = NotebookClient(
            nb,
            timeout=180,
            startup_timeout=180,
            kernel_name="python3",
            allow_errors=True,
            store_widget_state=True,
            resources={"metadata": {"path": str(work)}},
        )
        runner.execute()
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    target = work / "executed.ipynb"
    nbformat.write(nb, str(target))
    hay.add("notebook", "executed.ipynb", target.read_bytes())
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    hay.checked["notebook_error_cells"] = len(errors)
    hay.notes.extend(f"{o.get('ename')}: {str(o.get('evalue'))[:120]}" for o in errors)
    for home_file in (work / "nb-home").rglob("*"):
        if home_file.is_file():
            hay.add("journal", f"notebook journal {home_file.name}", home_file.read_bytes())


def _file_bytes(hay: Haystack, folder: Path, label: str) -> None:
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.suffix != ".ipynb":
            hay.add("journal", f"{label} {path.name}", path.read_bytes())


def measure(*, notebook: bool = True) -> dict[str, Any]:
    """Push the sentinels through every path; occurrences per path and in total."""
    hay = Haystack()
    with tempfile.TemporaryDirectory(prefix="bbnb-leaks-") as tmp:
        work = Path(tmp)
        clock = ManualClock()
        emu = Emulator(emulator_config(work / "emulator.sqlite"), clock=clock)
        other = Emulator(emulator_config(work / "other.sqlite", api_key="another_key"), clock=clock)
        with (
            debug_logs() as logs,
            serve_in_thread(emulator=emu, log_level="debug") as server,
            serve_in_thread(emulator=other, log_level="debug") as wrong,
        ):
            with Client(
                api_key=SENTINELS["api_key"], base_url=server.base_url, clock=clock
            ) as client:
                _api_paths(hay, client, clock, work)
                _widgets(hay, client)
                _magics(hay, client)
            _wrong_key(hay, wrong.base_url, clock)
        held = [r.variables for r in emu.store.runs.order]
        hay.control("variables the emulator received (memory)", json.dumps(held))
        for line in logs.lines:
            hay.add("logs", "log record", line)
        hay.checked["log_records"] = len(logs.lines)
        _file_bytes(hay, work, "file")
        if notebook:
            _notebook(hay, work)
    return {
        "occurrences": hay.total,
        **{
            f"{path}": hay.found.get(path, 0)
            for path in ("reprs", "errors", "logs", "journal", "widgets", "dry_run", "notebook")
        },
        "checked": hay.checked,
        "positive_controls": hay.controls,
        "found_in": hay.where,
        "notebook_errors": hay.notes,
    }


def main(argv: list[str] | None = None) -> int:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--no-notebook", action="store_true", help="skip the nbclient notebook")
    args = p.parse_args(argv)
    figures = measure(notebook=not args.no_notebook)
    print_figures("secrets", figures, only_json=args.json)
    return 1 if figures["occurrences"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
