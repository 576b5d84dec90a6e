"""Picking a batch back up after a kernel restart or a crash, from the journal alone.

``attach(batch_id)`` rebuilds the batch from its journal rows and finishes it:

* rows with a final status come back as they were recorded;
* rows with a run id are observed again until they settle (nothing is re-sent);
* ``submitting`` rows (the POST may or may not have reached the server) are
  reconciled against the server's list of runs created around that time with the
  same task (invocations: same params) that no journal row claims; found means
  adopted, not found after the grace period means provably never created, and only
  then is the input sent;
* ``queued`` rows (no POST was ever sent) are sent.

Secrets are never in the journal.  An input whose body held agent variable values
(or an external proxy password) can be reconciled without them, but cannot be
re-sent without them: pass ``variables={"name": "value"}`` to ``attach``; any input
still missing a value is reported in the batch as not submitted, with the names it
needs, rather than sent with a mask in place of the secret.

``attach(run_id)`` waits for that one run (or invocation) and returns it.

The journal answers whatever it can without the network: a run it holds finished is
returned as recorded, and a batch whose every input is settled is rebuilt from it
(no client is made, so no emulator starts).  Anything else is asked of the server the
batch ran on (its base URL and key hash are in the journal), and only of that one:
a client that talks to another server, or a server that is gone or no longer knows
the run, gives one ``RunUnavailableError`` line saying so and what can be done.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from bbnb._exceptions import APIConnectionError, NotFoundError, RunUnavailableError
from bbnb.models import (
    AgentRun,
    AgentRunCreateParams,
    FunctionInvokeParams,
    Invocation,
)
from bbnb.runs._api import RunsApi, async_client_of
from bbnb.runs._inputs import PreparedInput
from bbnb.runs._job import Job
from bbnb.runs._runner import BatchRunner
from bbnb.runs._secrets import fill_variables
from bbnb.runs.batch import Batch, BatchItem, BatchStats
from bbnb.runs.journal import BatchRecord, Journal, RunRecord
from bbnb.runs.progress import ProgressReporter, make_progress
from bbnb.runs.submit import _remember, default_concurrency, drive_sync, open_journal

__all__ = ["attach", "attach_async", "history", "set_default_client_factory"]

JournalArg = bool | str | os.PathLike[str] | Journal | None


def history(journal: JournalArg = True, *, batch_id: str | None = None) -> Any:
    """Past batches and runs from the journal as a DataFrame (one row per run, newest first)."""
    opened = open_journal(True if journal is None else journal)
    if opened is None:
        raise ValueError("history() needs a journal; pass journal=True or a path")
    return opened.history(batch_id)


_client_factory: Callable[[], Any] | None = None


def set_default_client_factory(factory: Callable[[], Any]) -> None:
    """Tell ``attach`` how to make a client when none is given.

    The facade (``bbnb.client``) registers ``Client`` here when it is imported, so this
    layer never imports the layer above it.
    """
    global _client_factory
    _client_factory = factory


class _Lazy:
    """A client not made yet: ``attach`` calls the factory only if it needs the network."""

    def __init__(self, factory: Callable[[], Any]) -> None:
        self.factory = factory


def _resolve(client: Any) -> Any:
    if isinstance(client, _Lazy):
        return client.factory()
    return client if client is not None else _default_client()


def _default_client() -> Any:
    if _client_factory is None:
        raise RuntimeError("attach() needs a client; pass client=bbnb.Client(...)")
    return _client_factory()


def attach(
    batch_or_run_id: str,
    *,
    client: Any = None,
    journal: JournalArg = True,
    variables: Mapping[str, str] | None = None,
    concurrency: int | None = None,
    progress: str | ProgressReporter = "auto",
    on_interrupt: str = "stop",
    client_factory: Callable[[], Any] | None = None,
) -> Batch | AgentRun | Invocation:
    """Re-attach to a batch (or one run) recorded in the journal; see the module docstring.

    ``client_factory`` makes the client only when the journal alone cannot answer
    (``client=`` wins; without either, ``bbnb.Client()``).
    """
    if client is None and client_factory is not None:
        client = _Lazy(client_factory)
    opened = _open(journal)
    record = opened.batch(batch_or_run_id)
    if record is None:
        row = opened.find_run(batch_or_run_id)
        if row is None:
            raise _unknown(batch_or_run_id, opened)
        finished = _finished(row)
        if finished is not None:
            return finished
        client = _resolve(client)
        _check_server(client, opened.batch(row.batch_id), row.remote_id or batch_or_run_id)
        from bbnb.wire._sync import run_sync

        return run_sync(_wait_one(client, row, opened.batch(row.batch_id)))
    settled = _settled_batch(opened, record)
    if settled is not None:
        return settled
    client = _resolve(client)
    _check_server(client, record, batch_or_run_id)
    runner = _build(
        client,
        opened,
        batch_or_run_id,
        variables=variables,
        concurrency=concurrency,
        progress=make_progress(progress) if isinstance(progress, str) else progress,
        on_interrupt=on_interrupt,
        drive_progress=False,
    )
    return drive_sync(runner)


async def attach_async(
    batch_or_run_id: str,
    *,
    client: Any,
    journal: JournalArg = True,
    variables: Mapping[str, str] | None = None,
    concurrency: int | None = None,
    progress: str | ProgressReporter = "auto",
    on_interrupt: str = "stop",
) -> Batch | AgentRun | Invocation:
    """``attach`` for ``await``-ing code (with an ``AsyncClient``)."""
    opened = _open(journal)
    record = opened.batch(batch_or_run_id)
    if record is None:
        row = opened.find_run(batch_or_run_id)
        if row is None:
            raise _unknown(batch_or_run_id, opened)
        finished = _finished(row)
        if finished is not None:
            return finished
        _check_server(client, opened.batch(row.batch_id), row.remote_id or batch_or_run_id)
        return await _wait_one(client, row, opened.batch(row.batch_id))
    settled = _settled_batch(opened, record)
    if settled is not None:
        return settled
    _check_server(client, record, batch_or_run_id)
    runner = _build(
        client,
        opened,
        batch_or_run_id,
        variables=variables,
        concurrency=concurrency,
        progress=make_progress(progress) if isinstance(progress, str) else progress,
        on_interrupt=on_interrupt,
        drive_progress=True,
    )
    return _remember(await runner.run())


def _open(journal: JournalArg) -> Journal:
    opened = open_journal(True if journal is None else journal)
    if opened is None:
        raise ValueError("attach() reads the journal; pass journal=True or a path")
    return opened


def _unknown(ident: str, journal: Journal) -> KeyError:
    recent = [b.batch_id for b in journal.batches()[:5]]
    hint = f" Recent batches: {', '.join(recent)}." if recent else " The journal is empty."
    return KeyError(
        f"no batch or run with id {ident!r} in the journal {journal.path}.{hint} "
        "See bbnb.history() for everything recorded (BBNB_HOME selects the folder)."
    )


def _finished(row: RunRecord) -> AgentRun | Invocation | None:
    """The run as the journal recorded it at its end (None if it had not ended)."""
    if row.state == "done" and row.run is not None:
        return _model(row.kind, row.run)
    return None


def _settled_batch(journal: Journal, record: BatchRecord) -> Batch | None:
    """The batch rebuilt from the journal alone, when every input has its final answer."""
    rows = journal.runs(record.batch_id)
    if any(row.state not in ("done", "rejected", "abandoned") for row in rows):
        return None
    if any(row.state == "done" and row.run is None for row in rows):
        return None
    items = [
        BatchItem(
            index=row.idx,
            key=row.key,
            input=_input_of(row),
            run=_finished(row),
            error=None if row.state == "done" else (row.error or row.state),
        )
        for row in rows
    ]
    stats = BatchStats(total=len(rows), created=sum(1 for i in items if i.run is not None))
    return _remember(
        Batch(
            record.batch_id,
            "agent" if record.kind == "agent" else "function",
            items,
            stats=stats,
            simulated=_is_loopback(record.base_url),
        )
    )


def _is_loopback(url: str | None) -> bool:
    host = urlsplit(url or "").hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _norm(url: str | None) -> str:
    return (url or "").rstrip("/")


def _check_server(client: Any, record: BatchRecord | None, ident: str) -> None:
    """Refuse to ask a server about a run another server (or key) made."""
    if record is None or not record.base_url:
        return  # a journal from before servers were recorded: nothing to compare
    inner = async_client_of(client)
    url = getattr(inner, "base_url", None)
    key = getattr(inner, "key_hash", None)
    same_url = url is None or _norm(str(url)) == _norm(record.base_url)
    same_key = record.key_hash is None or not isinstance(key, str) or key == record.key_hash
    if same_url and same_key:
        return
    what = "a different API key" if same_url else f"{_norm(str(url))}"
    raise RunUnavailableError(
        f"{ident} (batch {record.batch_id}) is not finished in the journal and belongs to "
        f"{_server_label(record)}; this client talks to {what}, and bbnb never asks one "
        f"server about another's run. {_advice(record)}"
    )


def _server_label(record: BatchRecord) -> str:
    if _is_loopback(record.base_url):
        return f"the emulator that ran at {_norm(record.base_url)}"
    return f"the server {_norm(record.base_url)}"


def _advice(record: BatchRecord) -> str:
    if _is_loopback(record.base_url):
        return (
            "An emulator's runs end with the process that started it: if that kernel is "
            "still running, attach there (or pass client=bbnb.Client(base_url="
            f"{_norm(record.base_url)!r})); otherwise run the work again."
        )
    return (
        f"Pass client=bbnb.Client(base_url={_norm(record.base_url)!r}, api_key=...) with the "
        "key it ran under."
    )


async def _wait_one(
    client: Any, row: RunRecord, record: BatchRecord | None = None
) -> AgentRun | Invocation:
    inner = async_client_of(client)
    assert row.remote_id is not None
    try:
        if row.kind == "agent":
            run: AgentRun = await inner.agents.runs.wait(row.remote_id)
            return run
        inv: Invocation = await inner.functions.invocations.wait(row.remote_id)
        return inv
    except (NotFoundError, APIConnectionError) as error:
        where = _server_label(record) if record is not None else "its server"
        happened = (
            "no longer knows it"
            if isinstance(error, NotFoundError)
            else f"cannot be reached ({type(error).__name__})"
        )
        last = f"; it was {row.status} when last recorded" if row.status else ""
        raise RunUnavailableError(
            f"{row.remote_id} (batch {row.batch_id}) is not finished in the journal{last}, and "
            f"{where} {happened}. "
            + (_advice(record) if record is not None else "Run the work again.")
        ) from None


def _build(
    client: Any,
    journal: Journal,
    batch_id: str,
    *,
    variables: Mapping[str, str] | None,
    concurrency: int | None,
    progress: ProgressReporter,
    on_interrupt: str,
    drive_progress: bool,
) -> BatchRunner:
    record = journal.batch(batch_id)
    assert record is not None
    jobs = [_job(row, dict(variables or {})) for row in journal.runs(batch_id)]
    cap = concurrency or int(record.options.get("concurrency") or default_concurrency())
    rate = record.options.get("rate_per_minute")
    return BatchRunner(
        RunsApi(client),
        "agent" if record.kind == "agent" else "function",
        jobs,
        batch_id=batch_id,
        function_id=record.function_id,
        concurrency=cap,
        rate_per_minute=float(rate) if rate else None,
        on_interrupt=on_interrupt if record.kind == "agent" else "detach",
        journal=journal,
        progress=progress,
        drive_progress=drive_progress,
        options=record.options,
        new_batch=False,
    )


def _job(row: RunRecord, variables: dict[str, str]) -> Job:
    body_wire, missing = (
        (row.request, []) if not row.needs_secrets else fill_variables(row.request, variables)
    )
    secrets = [variables[k] for k in _variable_names(row.request) if k in variables]
    body = _body(row.kind, body_wire)
    prepared = PreparedInput(row.idx, row.key, _input_of(row), body)
    job = Job(prepared, masked=row.request, secrets=secrets)
    if missing:
        job.unsendable = (
            f"never sent, and its request needs secret values the journal does not keep "
            f"({', '.join(missing)}); attach(..., variables={{...}}) with them, or run it again"
        )
    if row.state == "done" and row.run is not None:
        job.run = _model(row.kind, row.run)
        job.state = "done"
    elif row.state == "created" and row.remote_id is not None:
        job.state = "inflight"
        job.run = _placeholder(row, body)
    elif row.state == "submitting":
        job.state = "unknown"
        job.submitted_wall = row.submitted_at
    elif row.state in ("rejected", "abandoned"):
        job.state = "error"
        job.error = row.error or row.state
    return job


def _variable_names(request: dict[str, Any]) -> list[str]:
    variables = request.get("variables")
    return list(variables) if isinstance(variables, dict) else []


def _input_of(row: RunRecord) -> Any:
    if row.kind == "agent":
        return row.request.get("task")
    return row.request.get("params")


def _body(kind: str, wire: dict[str, Any]) -> AgentRunCreateParams | FunctionInvokeParams:
    if kind == "agent":
        return AgentRunCreateParams.model_validate(wire)
    return FunctionInvokeParams.model_validate(wire)


def _model(kind: str, wire: dict[str, Any]) -> AgentRun | Invocation:
    if kind == "agent":
        return AgentRun.from_wire(wire)
    return Invocation.from_wire(wire)


def _placeholder(row: RunRecord, body: Any) -> AgentRun | Invocation:
    """A stand-in run object with what the journal knows; the first look replaces it."""
    created = row.server_created_at or datetime.fromtimestamp(row.created_at, UTC).isoformat()
    status = row.status or "PENDING"
    if row.kind == "agent":
        return AgentRun.from_wire(
            {
                "runId": row.remote_id,
                "task": str(getattr(body, "task", "")),
                "status": status,
                "createdAt": created,
                "updatedAt": created,
            }
        )
    return Invocation.from_wire(
        {
            "id": row.remote_id,
            "projectId": "",
            "functionId": row.function_id or "",
            "versionId": "",
            "sessionId": "",
            "status": status,
            "createdAt": created,
            "updatedAt": created,
            "startedAt": created,
            "expiresAt": created,
        }
    )
