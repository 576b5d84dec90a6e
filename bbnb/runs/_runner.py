"""The engine of a batch: submit under limits, observe cheaply, never create twice.

One ``BatchRunner`` drives one batch on one event loop and journals every step:

* **Submitting.** Inputs go out in order, each after taking a concurrency slot
  (``ConcurrencyLimiter``) and a creation token (``CreationBucket``).  The journal
  row becomes ``submitting`` before the POST.  A 429 slows the whole batch down; a
  refused create (4xx) is recorded against its input; a create whose outcome is
  unknown (lost answer, 5xx, timeout) is *reconciled* (``bbnb.runs._reconcile``):
  a run the server made for it is adopted; when none turns up within a grace
  period, the input is sent again.
* **Observing.** While runs are in flight they are looked at (``bbnb.runs._observe``:
  one list sweep for many agent runs, one GET each otherwise), with pauses that grow
  with their age, until every input has its answer or the ``timeout`` passes.
* **Stopping early.** ``interrupt()`` (Ctrl-C) stops submitting, waits for POSTs
  already on the wire, then POSTs ``/stop`` for in-flight agent runs unless
  ``on_interrupt="detach"``.  Everything received so far stays in the ``Batch``.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import Counter
from typing import Any, Literal

from pydantic import ValidationError

from bbnb._exceptions import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    ConflictError,
    CreateOutcomeUnknownError,
    InternalServerError,
    RateLimitError,
)
from bbnb.models import AgentRun, AgentRunCreateParams, FunctionInvokeParams, Invocation
from bbnb.runs._api import RunsApi
from bbnb.runs._job import Job, Kind, Run, settled
from bbnb.runs._observe import MIN_INTERVAL, CreatesOnWire, Observer
from bbnb.runs._reconcile import Reconciler, ServerTime
from bbnb.runs._secrets import mask_request, scrub
from bbnb.runs.batch import Batch, BatchItem, BatchStats
from bbnb.runs.cache import DEFAULT_TTL, CacheMode, request_key, server_of
from bbnb.runs.journal import Journal
from bbnb.runs.limits import ConcurrencyLimiter, CreationBucket
from bbnb.runs.progress import NullProgress, ProgressReporter, ProgressState

__all__ = ["BatchRunner", "new_batch_id"]

RATE_NOTE = "rate-limited, slowing down"
MAX_CONNECT_ATTEMPTS = 8
STOP_CONCURRENCY = 20


def new_batch_id() -> str:
    """A fresh, readable batch id."""
    return f"batch-{uuid.uuid4().hex[:12]}"


class BatchRunner:
    """Runs one batch (see the module docstring)."""

    def __init__(
        self,
        api: RunsApi,
        kind: Kind,
        jobs: list[Job],
        *,
        batch_id: str | None = None,
        function_id: str | None = None,
        concurrency: int = 25,
        rate_per_minute: float | None = None,
        timeout: float | None = None,
        on_interrupt: str = "stop",
        journal: Journal | None = None,
        progress: ProgressReporter | None = None,
        drive_progress: bool = True,
        options: dict[str, Any] | None = None,
        new_batch: bool = True,
        rng: random.Random | None = None,
        cache: CacheMode = "off",
        cache_ttl: float = DEFAULT_TTL,
    ) -> None:
        if on_interrupt not in ("stop", "detach"):
            raise ValueError(f"on_interrupt must be 'stop' or 'detach', got {on_interrupt!r}")
        if timeout is not None and timeout <= 0:
            raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
        self.api = api
        self.kind: Kind = kind
        self.jobs = jobs
        self.batch_id = batch_id or new_batch_id()
        self.function_id = function_id
        self.clock = api.clock
        self.limiter = ConcurrencyLimiter(concurrency, self.clock)
        self.bucket = CreationBucket(rate_per_minute, self.clock, rng=rng)
        self.timeout = timeout
        self.on_interrupt = on_interrupt
        self.journal = journal
        self.progress: ProgressReporter = progress or NullProgress()
        self.drive_progress = drive_progress
        self.options = options or {}
        self.new_batch = new_batch
        self.cache: CacheMode = cache if journal is not None else "off"
        self.cache_ttl = cache_ttl
        self._cache_server = server_of(api.base_url, api.key_hash)
        self._cache_now: float | None = None
        self.rng = rng or random.Random()
        self.stats = BatchStats(total=len(jobs))
        self.interrupted = False
        self.timed_out = False
        self._stop_event = asyncio.Event()
        self._owner: dict[str, Job] = {}
        self._posts: set[asyncio.Task[None]] = set()
        self._wire = CreatesOnWire()
        self._rate_note_until = -1e18
        self._server_time = ServerTime(self.clock)
        self._reconciler = Reconciler(
            api,
            kind,
            jobs,
            function_id=function_id,
            journal=journal,
            owners=self._owner,
            stats=self.stats,
            server_time=self._server_time,
            interrupted=lambda: self.interrupted,
        )
        self._observer = Observer(
            api,
            kind,
            self.clock,
            self.rng,
            self._wire,
            observed=self._observed,
            release=self._free,
        )
        self._started = self.clock.now()
        self.state = ProgressState(label=self.batch_id, total=len(jobs), started=self._started)
        for job in jobs:
            if job.run is not None:
                self._owner[job.run.id] = job
            if not job.masked:
                job.masked, job.secrets = mask_request(job.prepared.body.to_wire())

    # -- public -------------------------------------------------------------------------

    def interrupt(self) -> None:
        """Stop submitting and wind down (call on the runner's loop)."""
        self.interrupted = True
        self._stop_event.set()

    def batch(self) -> Batch:
        """The batch as it stands now (complete or partial)."""
        items = [
            BatchItem(
                index=j.index,
                key=j.prepared.key,
                input=j.prepared.input,
                run=j.run,
                error=j.error or _unsettled_note(j, self.batch_id),
                cached_at=j.cached_at,
            )
            for j in self.jobs
        ]
        requests, creates = self.api.http_requests()
        self.stats.requests = requests
        self.stats.create_requests = creates
        self.stats.created = sum(1 for j in self.jobs if j.run is not None and j.cached_at is None)
        self.stats.cached = sum(1 for j in self.jobs if j.cached_at is not None)
        self.stats.elapsed = self.clock.now() - self._started
        self.stats.rate_limited = self.bucket.rate_limited
        return Batch(
            self.batch_id,
            self.kind,
            items,
            stats=self.stats,
            interrupted=self.interrupted,
            simulated=self.api.simulated,
            cache=self.cache,
            cache_now=self._cache_now,
        )

    async def run(self) -> Batch:
        """Submit and observe until every input has a final answer (or we are stopped)."""
        self._begin_journal()
        for job in self.jobs:
            if job.state == "inflight":
                self.limiter.in_use += 1
                job.holds_slot = True
        watching = asyncio.ensure_future(self._observe())
        try:
            await self._submit_all()
            await watching
        except asyncio.CancelledError:
            self.interrupt()
            watching.cancel()
            await self._wind_down()
            raise
        finally:
            if not watching.done():
                watching.cancel()
        if self.interrupted:
            await self._wind_down()
        else:
            self._journal_batch_state("timed_out" if self.timed_out else "done")
        if self.cache != "off" and self.journal is not None:
            self.journal.cache_evict()
        self._refresh(final=True)
        return self.batch()

    # -- journal ------------------------------------------------------------------------

    def _begin_journal(self) -> None:
        if self.journal is None:
            return
        if self.new_batch:
            self.journal.start_batch(
                self.batch_id,
                kind=self.kind,
                total=len(self.jobs),
                function_id=self.function_id,
                base_url=self.api.base_url,
                key_hash=self.api.key_hash,
                options=self.options,
            )
            self.journal.record_queued(
                self.batch_id,
                [(j.index, j.prepared.key, j.masked, bool(j.secrets)) for j in self.jobs],
                kind=self.kind,
                function_id=self.function_id,
            )
            self._answer_from_cache(self.journal)
        else:
            self.journal.set_batch_state(self.batch_id, "running")

    # -- the result cache (bbnb.runs.cache) -----------------------------------------------

    def _answer_from_cache(self, journal: Journal) -> None:
        """Key every input; with ``cache="use"`` give each a fresh cached answer if one exists."""
        if self.cache == "off":
            return
        answers: list[tuple[int, str, str, dict[str, Any]]] = []
        salt = journal.cache_salt()
        self._cache_now = self._server_time.local_wall()
        since = self._cache_now - self.cache_ttl
        for job in self.jobs:
            if job.state != "queued" or job.unsendable:
                continue
            body = job.prepared.body.to_wire()
            job.cache_key = request_key(self.kind, self.function_id, body, salt)
            if self.cache != "use":
                continue
            hit = journal.cache_get(self._cache_server, job.cache_key, since=since)
            if hit is None or hit.kind != self.kind:
                continue
            run = _run_model(self.kind, hit.run)
            if run is None:
                continue
            job.run, job.state, job.cached_at = run, "done", hit.completed_at
            answers.append((job.index, run.id, str(run.status), hit.run))
        if answers:
            journal.record_cached(self.batch_id, answers)

    def _remember_answer(self, job: Job, run: Run, wire: dict[str, Any]) -> None:
        """Keep a COMPLETED answer in the cache under its request's key."""
        if self.journal is None or job.cache_key is None or job.cached_at is not None:
            return
        if run.status != "COMPLETED":
            return
        self.journal.cache_put(
            self._cache_server,
            job.cache_key,
            kind=self.kind,
            remote_id=run.id,
            run=wire,
            completed_at=self._server_time.local_wall(),
        )

    def _journal_batch_state(self, state: str) -> None:
        if self.journal is not None:
            self.journal.set_batch_state(self.batch_id, state)

    # -- time ---------------------------------------------------------------------------

    def _deadline_passed(self) -> bool:
        return self.timeout is not None and self.clock.now() - self._started >= self.timeout

    # -- submitting -----------------------------------------------------------------------

    async def _submit_all(self) -> None:
        for job in self.jobs:
            if job.state == "queued" and job.unsendable:
                self._reject(job, job.unsendable, "abandoned")
                continue
            if job.state not in ("queued", "unknown"):
                continue
            if self._stopping():
                break
            await self._acquire(job)
            if self._stopping():
                await self._release(job)
                break
            self._spawn_post(job)
        stop = asyncio.ensure_future(self._stop_event.wait())
        try:
            while self._posts and not self.interrupted:
                await asyncio.wait({*self._posts, stop}, return_when="FIRST_COMPLETED")
        finally:
            stop.cancel()

    def _stopping(self) -> bool:
        if self._deadline_passed():
            self.timed_out = True
        return self.interrupted or self.timed_out

    async def _acquire(self, job: Job) -> None:
        if job.holds_slot:
            return
        if self.limiter.try_acquire():
            job.holds_slot = True
            return
        acquire = asyncio.ensure_future(self.limiter.acquire())
        stop = asyncio.ensure_future(self._stop_event.wait())
        try:
            while not acquire.done():
                await asyncio.wait({acquire, stop}, timeout=0.5, return_when="FIRST_COMPLETED")
                if stop.done() and not acquire.done():
                    acquire.cancel()
                    return
        finally:
            stop.cancel()
        if acquire.done() and not acquire.cancelled():
            job.holds_slot = True

    async def _release(self, job: Job) -> None:
        self._free(job)

    def _free(self, job: Job) -> None:
        if job.holds_slot:
            job.holds_slot = False
            self.limiter.release()

    def _spawn_post(self, job: Job) -> None:
        task = asyncio.ensure_future(self._post(job))
        self._posts.add(task)
        task.add_done_callback(self._posts.discard)

    async def _post(self, job: Job) -> None:
        """Create the run for ``job`` (or adopt the one a lost answer created)."""
        connect_failures = 0
        try:
            if job.state == "unknown":
                run = await self._reconciler.reconcile(job, job.submitted_wall)
                if run is not None:
                    self._register_created(job, run)
                    return
                if self.interrupted:
                    await self._release(job)
                    return
                if job.unsendable:
                    self._reject(job, job.unsendable, "abandoned")
                    await self._release(job)
                    return
                self.stats.resubmitted += 1
            while True:
                if self.interrupted:
                    job.state = "queued"
                    await self._release(job)
                    return
                if not job.holds_slot:
                    await self._acquire(job)
                    if not job.holds_slot:
                        job.state = "queued"
                        return
                await self.bucket.take()
                if self.interrupted:
                    job.state = "queued"
                    await self._release(job)
                    return
                job.state = "posting"
                job.submitted_wall = self._server_time.local_wall()
                self._journal_submitting(job)
                try:
                    run = await self._on_wire(job)
                except RateLimitError as exc:
                    self._on_rate_limited(exc)
                    job.state = "queued"
                    await self._release(job)
                    continue
                except (CreateOutcomeUnknownError, APITimeoutError, InternalServerError):
                    job.state = "unknown"
                    run = await self._reconciler.reconcile(job, job.submitted_wall)
                    if run is None:
                        if self.interrupted:
                            await self._release(job)
                            return
                        self.stats.resubmitted += 1
                        continue
                except APIConnectionError as exc:
                    # The client only raises this plain class for a create it provably never sent.
                    connect_failures += 1
                    if connect_failures >= MAX_CONNECT_ATTEMPTS:
                        self._reject(job, f"could not connect to the API: {exc}", "abandoned")
                        await self._release(job)
                        return
                    job.state = "queued"
                    await self.clock.sleep(min(0.5 * 2**connect_failures, 8.0))
                    continue
                except APIStatusError as exc:
                    self._reject(job, f"create refused ({exc.status_code}): {exc}", "rejected")
                    await self._release(job)
                    return
                self.bucket.on_success()
                self._register_created(job, run)
                return
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug or an unexpected error must not lose the batch
            self._reject(job, f"{type(exc).__name__}: {exc}", "rejected")
            await self._release(job)

    async def _on_wire(self, job: Job) -> Run:
        with self._wire.sending():
            return await self._create(job)

    async def _create(self, job: Job) -> Run:
        body = job.prepared.body
        if isinstance(body, AgentRunCreateParams):
            return await self.api.create_run(body)
        assert isinstance(body, FunctionInvokeParams) and self.function_id is not None
        return await self.api.invoke(self.function_id, body)

    def _journal_submitting(self, job: Job) -> None:
        if self.journal is not None:
            self.journal.record_submitting(
                self.batch_id,
                job.index,
                key=job.prepared.key,
                kind=self.kind,
                request=job.masked,
                needs_secrets=bool(job.secrets),
                function_id=self.function_id,
                submitted_at=job.submitted_wall,
            )

    def _reject(self, job: Job, message: str, state: Literal["rejected", "abandoned"]) -> None:
        job.state = "error"
        job.error = scrub(message, job.secrets)
        if self.journal is not None:
            self.journal.record_error(
                self.batch_id,
                job.index,
                state=state,
                error=job.error,
            )

    def _on_rate_limited(self, exc: RateLimitError) -> None:
        self.limiter.on_rate_limited()
        pause = self.bucket.on_rate_limited(exc.retry_after)
        self._rate_note_until = self.clock.now() + max(pause, 5.0)

    def _register_created(self, job: Job, run: Run) -> None:
        previous = self._owner.get(run.id)
        if previous is not None and previous is not job:
            # We adopted this run for another input by mistake (same task, its own
            # answer was still on the way): it belongs to ``job``; the other goes again.
            previous.run = None
            previous.adopted = False
            previous.state = "queued"
            self._spawn_post(previous)
        self._owner[run.id] = job
        self._server_time.learn(run)
        job.run = run
        job.state = "inflight"
        job.since = job.next_check = self.clock.now()
        if self.journal is not None:
            self.journal.record_created(
                self.batch_id,
                job.index,
                remote_id=run.id,
                status=str(run.status),
                server_created_at=run.created_at.isoformat(),
            )
        if settled(run):
            self._finish(job, run)

    # -- observing ------------------------------------------------------------------------

    def _inflight(self) -> list[Job]:
        return [j for j in self.jobs if j.state == "inflight"]

    async def _observe(self) -> None:
        while True:
            self.limiter.poke()
            inflight = self._inflight()
            if self.interrupted:
                return
            if not inflight:
                if (
                    not self._posts
                    and not any(j.state in ("unknown", "posting") for j in self.jobs)
                    and (self._stopping() or not self._pending_queued())
                ):
                    return
                self._refresh()
                await self._observer.nap(MIN_INTERVAL)
                continue
            if self._deadline_passed():
                self.timed_out = True
                self._stop_event.set()
                return
            await self._observer.look(inflight)
            self._refresh()
            inflight = self._inflight()
            if inflight or self._posts:
                await self._observer.nap(self._observer.interval(inflight))

    def _pending_queued(self) -> bool:
        return any(j.state == "queued" for j in self.jobs)

    def _observed(self, job: Job, run: Run) -> None:
        if job.state != "inflight":
            return
        job.misses = 0
        old = job.run.status if job.run is not None else None
        job.run = run
        if settled(run):
            self._finish(job, run)
        elif old != run.status and self.journal is not None:
            self.journal.record_status(self.batch_id, job.index, str(run.status))

    def _finish(self, job: Job, run: Run) -> None:
        job.run = run
        job.state = "done"
        if self.journal is not None:
            wire = scrub(run.to_wire(), job.secrets)
            cause = run.cause.to_wire() if run.cause is not None else None
            self.journal.record_final(
                self.batch_id, job.index, status=str(run.status), run=wire, cause=cause
            )
            self._remember_answer(job, run, wire)
        self._free(job)

    # -- winding down -----------------------------------------------------------------------

    async def _wind_down(self) -> None:
        """After an interrupt: let POSTs land, stop in-flight agent runs, record the state."""
        if self._posts:
            await asyncio.wait(list(self._posts), timeout=15.0)
            for task in list(self._posts):
                task.cancel()  # its journal row stays "submitting": attach reconciles it
        if self.kind == "agent" and self.on_interrupt == "stop":
            sem = asyncio.Semaphore(STOP_CONCURRENCY)

            async def stop(job: Job) -> None:
                assert job.run is not None
                async with sem:
                    try:
                        run = await self.api.stop_run(job.run.id)
                        self.stats.stopped += 1
                    except ConflictError:
                        # It ended between our last look and the stop: keep how it ended.
                        try:
                            run = await self.api.retrieve_run(job.run.id)
                        except APIError:
                            return
                    except APIError:
                        return
                if settled(run):
                    self._finish(job, run)
                else:
                    job.run = run
                    if self.journal is not None:
                        self.journal.record_status(self.batch_id, job.index, str(run.status))

            targets = [j for j in self._inflight() if j.run is not None]
            if targets:
                await asyncio.wait([asyncio.ensure_future(stop(j)) for j in targets], timeout=15.0)
        self._journal_batch_state("detached" if self.on_interrupt == "detach" else "interrupted")
        self._refresh(final=True)

    # -- progress ---------------------------------------------------------------------------

    def render(self, *, final: bool = False) -> None:
        """Show the latest state (called by whoever waits: the sync caller's thread)."""
        if final:
            self.progress.close(self.state)
        else:
            self.progress.update(self.state)

    def _refresh(self, *, final: bool = False) -> None:
        counts = Counter(str(j.run.status) for j in self.jobs if j.run is not None)
        state = self.state
        state.now = self.clock.now()
        state.counts = dict(counts)
        state.queued = sum(1 for j in self.jobs if j.state in ("queued", "unknown", "posting"))
        state.errors = sum(1 for j in self.jobs if j.state == "error" and j.run is None)
        state.done = sum(1 for j in self.jobs if j.state in ("done", "error"))
        if state.done_before is None:  # first look: what was already over (an attach)
            state.done_before = state.done
        limited = state.now < self._rate_note_until or self.bucket.is_paused()
        if self.interrupted:
            state.note = "interrupted"
        elif limited:
            state.note = RATE_NOTE
        else:
            state.note = ""
        state.finished = final
        if not self.drive_progress:
            return
        if final:
            self.progress.close(state)
        else:
            self.progress.update(state)


def _unsettled_note(job: Job, batch_id: str) -> str | None:
    if job.state == "unknown" and job.run is None:
        return (
            "the create was sent but its answer was lost; "
            f"bbnb.attach({batch_id!r}) will find the run or prove it was never created"
        )
    return None


def _run_model(kind: Kind, wire: dict[str, Any]) -> Run | None:
    """A cached answer as a run model (None if it no longer validates)."""
    try:
        return AgentRun.from_wire(wire) if kind == "agent" else Invocation.from_wire(wire)
    except ValidationError:
        return None
