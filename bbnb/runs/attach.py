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
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

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
from bbnb.runs.batch import Batch
from bbnb.runs.journal import Journal, RunRecord
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
) -> Batch | AgentRun | Invocation:
    """Re-attach to a batch (or one run) recorded in the journal; see the module docstring."""
    client = client if client is not None else _default_client()
    opened = _open(journal)
    record = opened.batch(batch_or_run_id)
    if record is None:
        row = opened.find_run(batch_or_run_id)
        if row is None:
            raise _unknown(batch_or_run_id, opened)
        from bbnb.wire._sync import run_sync

        return run_sync(_wait_one(client, row))
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
    if opened.batch(batch_or_run_id) is None:
        row = opened.find_run(batch_or_run_id)
        if row is None:
            raise _unknown(batch_or_run_id, opened)
        return await _wait_one(client, row)
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


async def _wait_one(client: Any, row: RunRecord) -> AgentRun | Invocation:
    inner = async_client_of(client)
    assert row.remote_id is not None
    if row.kind == "agent":
        run: AgentRun = await inner.agents.runs.wait(row.remote_id)
        return run
    inv: Invocation = await inner.functions.invocations.wait(row.remote_id)
    return inv


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
