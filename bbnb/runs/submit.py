"""Batch entry points: ``run_many``/``invoke_many`` and their async twins.

``run_many_async(client, tasks, ...)`` awaits a batch on the caller's loop (an
``AsyncClient``).  ``run_many(client, tasks, ...)`` is the synchronous twin: it runs the
same coroutine on bbnb's private loop (``bbnb.wire._sync``) and waits in 0.25 s slices,
refreshing progress from the waiting thread, so Ctrl-C is felt at once.  On Ctrl-C it
asks the batch to wind down (stop submitting; POST ``/stop`` on in-flight agent runs
unless ``on_interrupt="detach"``), then raises ``KeyboardInterrupt`` carrying the
partial ``Batch`` as ``exc.batch`` (also ``bbnb.runs.last_batch()``).  A second
Ctrl-C while winding down gives up waiting for the stops.

The journal (``journal=True``: the default file; a path or a ``Journal``; ``False``:
none) records every input before anything is sent; see ``bbnb.runs.journal``.

``runner_for_bodies`` builds the same runner from create bodies validated elsewhere
(``%bb_run`` validates its own); the caller starts and drives it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import threading
import warnings
from collections.abc import Iterable, Mapping
from typing import Any

from bbnb.models import AgentRunCreateParams, FunctionInvokeParams
from bbnb.runs._api import RunsApi
from bbnb.runs._inputs import (
    KeySpec,
    PreparedInput,
    prepare_agent_inputs,
    prepare_function_inputs,
)
from bbnb.runs._job import Job
from bbnb.runs._runner import BatchRunner
from bbnb.runs.batch import Batch
from bbnb.runs.cache import cache_mode, check_ttl
from bbnb.runs.journal import Journal, JournalUnavailableError, JournalWarning
from bbnb.runs.progress import ProgressReporter, make_progress

__all__ = [
    "DEFAULT_CONCURRENCY",
    "invoke_many",
    "invoke_many_async",
    "last_batch",
    "run_many",
    "run_many_async",
]

DEFAULT_CONCURRENCY = 25
"""Browserbase's Developer plan allows 25 concurrent sessions; ``BBNB_CONCURRENCY`` overrides."""

_last: Batch | None = None
_last_lock = threading.Lock()


def last_batch() -> Batch | None:
    """The most recent batch of this process, complete or interrupted (None before any)."""
    with _last_lock:
        return _last


def _remember(batch: Batch) -> Batch:
    global _last
    with _last_lock:
        _last = batch
    return batch


def default_concurrency() -> int:
    """``BBNB_CONCURRENCY`` if set to a positive integer, else 25."""
    raw = os.environ.get("BBNB_CONCURRENCY", "").strip()
    if raw:
        try:
            value = int(raw)
        except ValueError:
            raise ValueError(f"BBNB_CONCURRENCY={raw!r} is not an integer") from None
        if value >= 1:
            return value
    return DEFAULT_CONCURRENCY


def open_journal(journal: bool | str | os.PathLike[str] | Journal | None) -> Journal | None:
    """A ``Journal`` for ``journal=`` (True: the default file; False/None: no journal).

    A journal that cannot be written is not a reason to refuse work: one
    ``JournalWarning`` line says so, and the batch runs without one.
    """
    if journal is None or journal is False:
        return None
    if isinstance(journal, Journal):
        return journal
    try:
        return Journal() if journal is True else Journal(journal)
    except JournalUnavailableError as error:
        warnings.warn(
            f"bbnb: {error}. This batch runs without a journal: it works, but a kernel "
            "restart cannot re-attach to it.",
            JournalWarning,
            stacklevel=3,
        )
        return None


def _runner(
    client: Any,
    kind: str,
    prepared: list[PreparedInput],
    *,
    function_id: str | None,
    concurrency: int | None,
    rate_per_minute: float | None,
    timeout: float | None,
    on_interrupt: str,
    journal: bool | str | os.PathLike[str] | Journal | None,
    progress: str | ProgressReporter,
    drive_progress: bool,
    options: dict[str, Any],
    cache: bool | str = False,
    cache_ttl: float | None = None,
) -> BatchRunner:
    mode, ttl = cache_mode(cache), check_ttl(cache_ttl)
    cap = default_concurrency() if concurrency is None else concurrency
    if not isinstance(cap, int) or isinstance(cap, bool) or cap < 1:
        raise ValueError(f"concurrency must be a positive integer, got {concurrency!r}")
    reporter = make_progress(progress) if isinstance(progress, str) else progress
    jobs = [Job(p) for p in prepared]
    return BatchRunner(
        RunsApi(client),
        "agent" if kind == "agent" else "function",
        jobs,
        function_id=function_id,
        concurrency=cap,
        rate_per_minute=rate_per_minute,
        timeout=timeout,
        on_interrupt=on_interrupt,
        journal=open_journal(journal),
        progress=reporter,
        drive_progress=drive_progress,
        options={**options, "concurrency": cap, "rate_per_minute": rate_per_minute},
        cache=mode,
        cache_ttl=ttl,
    )


def runner_for_bodies(
    client: Any,
    kind: str,
    bodies: Iterable[tuple[Any, AgentRunCreateParams | FunctionInvokeParams]],
    *,
    function_id: str | None,
    concurrency: int | None,
    timeout: float | None,
    on_interrupt: str,
    progress: str | ProgressReporter,
    options: Mapping[str, Any],
    cache: bool | str = False,
    cache_ttl: float | None = None,
) -> BatchRunner:
    """A batch runner, not yet started, for create bodies the caller already validated.

    Each ``(key, body)`` pair is one input, its key standing in for the input itself.
    The batch goes to the default journal with ``options`` recorded, has no creation
    rate cap, and leaves progress to the caller: whoever waits calls
    ``runner.render()``.  ``%bb_run`` uses it for the plans it builds.
    """
    prepared = [PreparedInput(index, key, key, body) for index, (key, body) in enumerate(bodies)]
    return _runner(
        client,
        kind,
        prepared,
        function_id=function_id,
        concurrency=concurrency,
        rate_per_minute=None,
        timeout=timeout,
        on_interrupt=on_interrupt,
        journal=True,
        progress=progress,
        drive_progress=False,
        options=dict(options),
        cache=cache,
        cache_ttl=cache_ttl,
    )


def _agent_runner(
    client: Any,
    tasks: Any,
    *,
    template: str | None,
    key: KeySpec,
    concurrency: int | None,
    rate_per_minute: float | None,
    timeout: float | None,
    progress: str | ProgressReporter,
    on_interrupt: str,
    journal: bool | str | os.PathLike[str] | Journal | None,
    common: Mapping[str, Any],
    drive_progress: bool,
    cache: bool | str = False,
    cache_ttl: float | None = None,
) -> BatchRunner:
    prepared = prepare_agent_inputs(tasks, template=template, key=key, common=common)
    return _runner(
        client,
        "agent",
        prepared,
        function_id=None,
        concurrency=concurrency,
        rate_per_minute=rate_per_minute,
        timeout=timeout,
        on_interrupt=on_interrupt,
        journal=journal,
        progress=progress,
        drive_progress=drive_progress,
        options={"template": template},
        cache=cache,
        cache_ttl=cache_ttl,
    )


def _function_runner(
    client: Any,
    function_id: str,
    params_list: Any,
    *,
    key: KeySpec,
    session_create_params: Any,
    concurrency: int | None,
    rate_per_minute: float | None,
    timeout: float | None,
    progress: str | ProgressReporter,
    journal: bool | str | os.PathLike[str] | Journal | None,
    drive_progress: bool,
    cache: bool | str = False,
    cache_ttl: float | None = None,
) -> BatchRunner:
    if not isinstance(function_id, str) or not function_id:
        raise ValueError(f"function_id must be a non-empty string, got {function_id!r}")
    prepared = prepare_function_inputs(
        params_list, key=key, session_create_params=session_create_params
    )
    return _runner(
        client,
        "function",
        prepared,
        function_id=function_id,
        concurrency=concurrency,
        rate_per_minute=rate_per_minute,
        timeout=timeout,
        on_interrupt="detach",
        journal=journal,
        progress=progress,
        drive_progress=drive_progress,
        options={},
        cache=cache,
        cache_ttl=cache_ttl,
    )


async def run_many_async(
    client: Any,
    tasks: Any,
    *,
    template: str | None = None,
    key: KeySpec = None,
    concurrency: int | None = None,
    rate_per_minute: float | None = None,
    timeout: float | None = None,  # noqa: ASYNC109 - a batch deadline on the client's clock
    progress: str | ProgressReporter = "auto",
    on_interrupt: str = "stop",
    journal: bool | str | os.PathLike[str] | Journal | None = True,
    cache: bool | str = False,
    cache_ttl: float | None = None,
    **common_fields: Any,
) -> Batch:
    """Run one agent task per input and wait for all of them (async; see ``run_many``)."""
    runner = _agent_runner(
        client,
        tasks,
        template=template,
        key=key,
        concurrency=concurrency,
        rate_per_minute=rate_per_minute,
        timeout=timeout,
        progress=progress,
        on_interrupt=on_interrupt,
        journal=journal,
        common=common_fields,
        drive_progress=True,
        cache=cache,
        cache_ttl=cache_ttl,
    )
    return await _drive_async(runner)


async def invoke_many_async(
    client: Any,
    function_id: str,
    params_list: Any,
    *,
    key: KeySpec = None,
    session_create_params: Any = None,
    concurrency: int | None = None,
    rate_per_minute: float | None = None,
    timeout: float | None = None,  # noqa: ASYNC109 - a batch deadline on the client's clock
    progress: str | ProgressReporter = "auto",
    journal: bool | str | os.PathLike[str] | Journal | None = True,
    cache: bool | str = False,
    cache_ttl: float | None = None,
) -> Batch:
    """Invoke a function once per params dict and wait for all (async; see ``invoke_many``)."""
    runner = _function_runner(
        client,
        function_id,
        params_list,
        key=key,
        session_create_params=session_create_params,
        concurrency=concurrency,
        rate_per_minute=rate_per_minute,
        timeout=timeout,
        progress=progress,
        journal=journal,
        drive_progress=True,
        cache=cache,
        cache_ttl=cache_ttl,
    )
    return await _drive_async(runner)


async def _drive_async(runner: BatchRunner) -> Batch:
    try:
        batch = await runner.run()
    except asyncio.CancelledError:
        _remember(runner.batch())
        raise
    return _remember(batch)


def run_many(
    client: Any,
    tasks: Any,
    *,
    template: str | None = None,
    key: KeySpec = None,
    concurrency: int | None = None,
    rate_per_minute: float | None = None,
    timeout: float | None = None,
    progress: str | ProgressReporter = "auto",
    on_interrupt: str = "stop",
    journal: bool | str | os.PathLike[str] | Journal | None = True,
    cache: bool | str = False,
    cache_ttl: float | None = None,
    **common_fields: Any,
) -> Batch:
    """Run one agent task per input and wait for all of them; returns a ``Batch``.

    ``tasks``: a list of task strings, a list of dicts of run fields (``"key"`` names
    the input), or a DataFrame with ``template="... {{column}} ..."``.  Other keyword
    arguments (``result_schema=``, ``agent_id=``, ``variables=``...) apply to every run.
    ``concurrency`` caps runs in flight (default 25 or ``BBNB_CONCURRENCY``),
    ``rate_per_minute`` caps session creations, ``timeout`` is a batch deadline in
    seconds (runs still going are left running and stay in the journal).
    ``cache=True`` answers inputs identical to a run that COMPLETED on this server
    within ``cache_ttl`` seconds (default 24 h) from the journal, creating no run;
    ``"refresh"`` runs them again and stores the new answers; ``False`` (the default
    in Python; ``%bb_run`` caches by default) neither reads nor writes the cache.
    See ``bbnb.runs.cache``.
    """
    runner = _agent_runner(
        client,
        tasks,
        template=template,
        key=key,
        concurrency=concurrency,
        rate_per_minute=rate_per_minute,
        timeout=timeout,
        progress=progress,
        on_interrupt=on_interrupt,
        journal=journal,
        common=common_fields,
        drive_progress=False,
        cache=cache,
        cache_ttl=cache_ttl,
    )
    return drive_sync(runner)


def invoke_many(
    client: Any,
    function_id: str,
    params_list: Any,
    *,
    key: KeySpec = None,
    session_create_params: Any = None,
    concurrency: int | None = None,
    rate_per_minute: float | None = None,
    timeout: float | None = None,
    progress: str | ProgressReporter = "auto",
    journal: bool | str | os.PathLike[str] | Journal | None = True,
    cache: bool | str = False,
    cache_ttl: float | None = None,
) -> Batch:
    """Invoke ``function_id`` once per params dict (or DataFrame row); returns a ``Batch``.

    Invocations cannot be cancelled (the API has no endpoint), so Ctrl-C stops
    submitting and leaves the running ones to finish; ``bbnb.attach`` collects them.
    ``cache``/``cache_ttl`` as in ``run_many``.
    """
    runner = _function_runner(
        client,
        function_id,
        params_list,
        key=key,
        session_create_params=session_create_params,
        concurrency=concurrency,
        rate_per_minute=rate_per_minute,
        timeout=timeout,
        progress=progress,
        journal=journal,
        drive_progress=False,
        cache=cache,
        cache_ttl=cache_ttl,
    )
    return drive_sync(runner)


def drive_sync(runner: BatchRunner, *, slice_seconds: float = 0.25) -> Batch:
    """Run ``runner`` on bbnb's private loop; wait in slices; handle Ctrl-C (see module doc)."""
    from bbnb.wire._sync import private_loop

    loop = private_loop()
    if threading.current_thread().name == "bbnb-event-loop":
        raise RuntimeError(
            "run_many() was called on bbnb's own event loop thread; await run_many_async() instead"
        )
    future: concurrent.futures.Future[Batch] | None = None
    try:
        # Scheduling sits inside the try: a Ctrl-C that lands right after it must still
        # wind the batch down, or it would keep running unseen.
        future = asyncio.run_coroutine_threadsafe(runner.run(), loop)
        while True:
            try:
                batch = future.result(timeout=slice_seconds)
                break
            except concurrent.futures.TimeoutError:
                runner.render()
    except KeyboardInterrupt as interrupt:
        loop.call_soon_threadsafe(runner.interrupt)
        try:
            while future is not None and not future.done():
                runner.render()
                concurrent.futures.wait([future], timeout=slice_seconds)
        except KeyboardInterrupt:
            if future is not None:
                loop.call_soon_threadsafe(future.cancel)
        partial = runner.batch()
        if (
            future is not None
            and future.done()
            and not future.cancelled()
            and future.exception() is None
        ):
            partial = future.result()
        runner.render(final=True)
        interrupt.batch = _remember(partial)  # type: ignore[attr-defined]
        raise
    runner.render(final=True)
    return _remember(batch)
