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
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

from IPython.core import magic_arguments as _magic_arguments
from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class, no_var_expand
from traitlets import Bool, Enum, Float, Int, Unicode, observe
from traitlets.config.configurable import Configurable

from bbnb.magics._display import (
    answer_bundle,
    history_batches,
    history_runs,
    plural,
    tidy_frame,
)
from bbnb.magics._plan import (
    KINDS,
    LAST,
    BBRunError,
    BBRunInterrupted,
    Plan,
    Request,
    agent_settings,
    describe_api_error,
    dry_run_text,
    foreach_rows,
    function_settings,
    identifier,
    name_value,
    plan_agent,
    plan_function,
    positive_int,
    reject_options,
    schema_of,
    seconds_value,
    split_line,
    summary_line,
    usage_error,
)
from bbnb.wire._sync import private_loop

if TYPE_CHECKING:
    import pandas as pd
    from IPython.core.interactiveshell import InteractiveShell

__all__ = [
    "KINDS",
    "BBMagic",
    "BBRunError",
    "BBRunInterrupted",
    "Plan",
    "Request",
    "agent_settings",
    "describe_api_error",
    "dry_run_text",
    "foreach_rows",
    "function_settings",
    "load_ipython_extension",
    "parse_magic_line",
    "plan_agent",
    "plan_function",
    "split_line",
    "summary_line",
    "unload_ipython_extension",
]


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
    cache = Bool(
        True,
        config=True,
        help=(
            "Answer a request identical to one that COMPLETED on the same server within "
            "cache_ttl from the journal, creating no run (--refresh runs it again)."
        ),
    )
    cache_ttl = Float(24 * 3600.0, config=True, help="Seconds a cached answer is served (24 h).")
    base_url = Unicode(
        None,
        allow_none=True,
        config=True,
        help="API base URL (default: BROWSERBASE_BASE_URL, Browserbase, or the embedded emulator).",
    )

    def __init__(self, shell: InteractiveShell | None = None, **kwargs: Any) -> None:
        # Set before traitlets loads config (which may fire the observers below).
        self.client_factory: ClientFactory | None = None
        #: ``(client, find_run) -> widget with stop()``: the ``--live`` view (set by
        #: ``%load_ext bbnb``, which may import the widgets; this layer may not).
        self.live_view_factory: Callable[[Any, Callable[[], Any]], Any] | None = None
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
        from bbnb.client._client import Client

        try:
            return Client(base_url=self.base_url or None, poll_interval=self.poll_interval)
        except ValueError as error:  # ConfigurationError is a ValueError
            raise usage_error(f"bbnb cannot connect: {error}") from None

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
        help="the task (agent, line form), FUNCTION_ID (function), ID (attach, stop) or BATCH_ID (history)",
    )
    @argument("-o", "--out", type=identifier, metavar="NAME", help="store the result in NAME")
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
        type=name_value,
        metavar="NAME=VALUE",
        help="agent variable used as %%NAME%% in the task (repeatable; VALUE may be {{var}})",
    )
    @argument("--agent-id", metavar="ID", help="run this custom agent")
    @argument("--pause-when", metavar="TEXT", help="when the agent should pause for input")
    @argument("--params", metavar="JSON", help="function params as a JSON object")
    @argument("--params-var", metavar="NAME", help="function params from a dict variable")
    @argument("--foreach", metavar="NAME", help="one run per element / row of a list or DataFrame")
    @argument("--concurrency", type=positive_int, metavar="N", help="runs in flight at once")
    @argument(
        "--timeout", type=seconds_value, metavar="SECONDS", help="stop waiting after this long"
    )
    @argument("--no-wait", action="store_true", help="submit and return at once")
    @argument("--progress", choices=["auto", "widget", "text", "none"], help="progress display")
    @argument("--on-interrupt", choices=["stop", "detach"], help="what Ctrl-C does to runs")
    @argument("--raw", action="store_true", help="return run objects instead of a DataFrame")
    @argument("--dry-run", action="store_true", help="print the request bodies; send nothing")
    @argument("--refresh", action="store_true", help="run again although the answer is cached")
    @argument("--live", action="store_true", help="show the run's browser live (a single run)")
    @line_cell_magic
    def bb_run(self, line: str, cell: str | None = None) -> Any:
        """Run Browserbase agents or functions and get a DataFrame back.

        Line form puts the task (agent) on the magic line; cell form takes the task text
        (agent) or the JSON params (function) from the cell body.  Options go on the
        magic line only.  {{name}} in the task or params is replaced by the notebook
        variable name ({{name.key}}, and {{row.column}} with --foreach); \\{{...}} keeps
        literal braces; JSON braces, $ and %name% stay as they are.

        Returns a DataFrame (one row per run or per result item; provenance columns
        start with _) unless --raw.  With -o NAME the result is stored in NAME, a
        one-line summary is printed and nothing is returned.  _bb_last always holds the
        latest result, even after an error or Ctrl-C.

        Examples:

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
            %bb_run history                             # one row per batch
            %bb_run history batch-20260101-abc          # the runs of one batch
            %bb_run agent "Price of {{item}}" --dry-run  # print bodies, send nothing

            %config BBMagic.max_concurrency = 32
            %config BBMagic.on_interrupt = 'detach'

        An identical request that COMPLETED on the same server within
        BBMagic.cache_ttl (24 h) is answered from the journal: no run is created and
        rows say _cached.  --refresh runs again; %config BBMagic.cache = False
        turns the cache off.
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
        reject_options(args, "attach", _RUN_ONLY_OPTIONS)
        schema = schema_of(args, self.namespace)
        started = time.monotonic()
        progress, on_interrupt = self._progress(args), self._on_interrupt(args)
        try:
            found = self._guard(
                lambda: attach(
                    target, client_factory=self.client, progress=progress, on_interrupt=on_interrupt
                )
            )
        except LookupError as error:  # unknown id (KeyError), or RunUnavailableError
            raise usage_error(str(error.args[0]) if error.args else str(error)) from None
        except KeyboardInterrupt as interrupt:
            partial = getattr(interrupt, "batch", None)
            self._interrupted(args, partial, schema, None, started, on_interrupt)
        return self._finish(args, found, schema, None, started, batch=_is_batch(found))

    def _do_stop(self, args: argparse.Namespace, cell: str | None) -> Any:
        target = self._single_id(args, cell, "stop")
        reject_options(args, "stop", _RUN_ONLY_OPTIONS)
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

        if len(args.words) > 1 or (cell is not None and cell.strip()):
            raise usage_error(
                "%bb_run history takes at most one BATCH_ID and no cell body, e.g. "
                "%bb_run history, then %bb_run history BATCH_ID for its runs"
            )
        reject_options(args, "history", (*_RUN_ONLY_OPTIONS, "schema", "schema_var", "raw"))
        if args.words:
            batch_id = str(args.words[0])
            runs = history(batch_id=batch_id)
            if len(runs) == 0:
                raise usage_error(
                    f"no batch {batch_id!r} in the journal; %bb_run history lists the batches"
                )
            frame = history_runs(runs)
        else:
            frame = history_batches(history())
        rows, columns = frame.shape
        return self._publish(
            args,
            frame,
            f"{args.out}: {plural(rows, 'row')} × {plural(columns, 'column')}",  # noqa: RUF001
        )

    def _single_id(self, args: argparse.Namespace, cell: str | None, kind: str) -> str:
        if cell is not None and cell.strip():
            raise usage_error(f"%%bb_run {kind} takes no cell body")
        if len(args.words) != 1:
            raise usage_error(
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
        self._live_check(args, plan)
        runner = self._runner(args, plan, concurrency, on_interrupt)
        live = self._live(args, runner)  # shown under the progress line
        try:
            if args.no_wait:
                batch = self._guard(lambda: drive(runner, _submit_only(runner)))
            else:
                batch = self._guard(lambda: drive(runner, runner.run()))
        except KeyboardInterrupt as interrupt:
            partial = getattr(interrupt, "batch", None) or runner.batch()
            self._interrupted(args, partial, plan.schema, plan, started, on_interrupt)
        finally:
            if live is not None:
                live.stop()
        return self._finish(args, batch, plan.schema, plan, started, batch=plan.batch)

    def _live_check(self, args: argparse.Namespace, plan: Plan) -> None:
        if not args.live:
            return
        if len(plan.requests) != 1 or args.no_wait:
            raise usage_error(
                "--live shows the browser of a single run that the magic waits for; drop "
                "--foreach/--no-wait, or watch a batch with bbnb.widgets.RunMonitor"
            )
        if self.live_view_factory is None:
            raise usage_error("--live needs the widgets: load the magic with %load_ext bbnb")

    def _live(self, args: argparse.Namespace, runner: Any) -> Any:
        """``--live``: display the run's live view (made by ``live_view_factory``)."""
        if not args.live or self.live_view_factory is None:
            return None
        job = runner.jobs[0]
        view = self.live_view_factory(self.client(), lambda: job.run)
        from IPython.display import display

        display(view)  # type: ignore[no-untyped-call]
        return view

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
        from bbnb.runs.submit import runner_for_bodies

        return runner_for_bodies(
            self.client(),
            plan.kind,
            [(request.key, request.body) for request in plan.requests],
            function_id=plan.function_id,
            concurrency=concurrency,
            timeout=args.timeout,
            on_interrupt=on_interrupt,
            progress=self._progress(args),
            options={"template": plan.template, "source": "%bb_run"},
            cache=("refresh" if args.refresh else True) if self.cache else False,
            cache_ttl=self.cache_ttl,
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

        frame: pd.DataFrame = tidy_frame(
            to_frame(found, schema) if found is not None else to_frame([], schema)
        )
        if plan is not None and plan.template is not None:
            frame.attrs["task_template" if plan.kind == "agent" else "params_template"] = (
                plan.template
            )
        batch_id = getattr(found, "id", None) if _is_batch(found) else None
        if hasattr(found, "mark_cached"):
            frame = found.mark_cached(frame)
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
        cached = found.cache_summary() if hasattr(found, "cache_summary") else None
        if cached:
            cached += " · --refresh to run again"
            line += f" · {cached}"
            if not args.out:
                notes.insert(0, f"bbnb: {cached}")
        self._show_answer(args, frame, schema, plan)
        result = self._publish(args, value, line)
        for note in notes:
            print(note, file=sys.stderr)
        if unsent is not None:
            if not self.short_errors:
                from bbnb._exceptions import BBNBError

                raise BBNBError(unsent)
            raise BBRunError(unsent)
        return result

    def _show_answer(
        self, args: argparse.Namespace, frame: Any, schema: dict[str, Any] | None, plan: Plan | None
    ) -> None:
        """A single agent run without a schema: show its answer in full above the table."""
        if args.out or args.raw or schema is not None or plan is None:
            return
        if plan.kind != "agent" or plan.batch or "value" not in frame.columns or len(frame) != 1:
            return
        answer = frame["value"].iloc[0]
        if isinstance(answer, str) and answer:
            from IPython.display import display

            display(answer_bundle(answer), raw=True)  # type: ignore[no-untyped-call]

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


def _plain_help(doc: str | None) -> str | None:
    """``%bb_run?`` as plain text: IPython's usage block starts with reST's ``::``."""
    return None if doc is None else doc.replace("::\n\n  %", "Usage:\n\n  %", 1)


BBMagic.bb_run.__doc__ = _plain_help(BBMagic.bb_run.__doc__)

_FINAL = frozenset({"COMPLETED", "FAILED", "STOPPED", "TIMED_OUT"})
_RUN_ONLY_OPTIONS = (
    "refresh",
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
        raise usage_error(
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
        raise usage_error(
            "%bb_run needs a KIND: agent, function (fn), attach ID, stop ID or history"
        )
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
            return usage_error(f"unknown option {unknown}.{hint} See %bb_run? for every option")
        return usage_error(
            f"unexpected words {' '.join(words)!r}; quote the task as one argument "
            '("...") or put it in the cell body'
        )
    return usage_error(f"{message} (see %bb_run? for help)")


def _shell_of(ipython: Any) -> InteractiveShell:
    return ipython  # type: ignore[no-any-return]


def load_ipython_extension(
    ipython: Any, *, live_view: Callable[[Any, Callable[[], Any]], Any] | None = None
) -> None:
    """Register ``%bb_run`` and make ``%config BBMagic`` work (``%load_ext bbnb``).

    ``live_view`` makes ``--live``'s view (``bbnb.load_ipython_extension`` passes it).
    """
    shell = _shell_of(ipython)
    for existing in list(shell.configurables):
        if isinstance(existing, BBMagic):
            if live_view is not None:
                existing.live_view_factory = live_view
            return
    magic = BBMagic(shell=shell, parent=shell)
    magic.live_view_factory = live_view
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
