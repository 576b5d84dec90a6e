"""The engine of a batch: submit under limits, observe cheaply, never create twice.

One ``BatchRunner`` drives one batch on one event loop:

* **Submitting.** Inputs go out in order, each after taking a concurrency slot
  (``ConcurrencyLimiter``) and a creation token (``CreationBucket``).  The journal
  row becomes ``submitting`` before the POST.  A 429 slows the whole batch down; a
  refused create (4xx) is recorded against its input; a create whose outcome is
  unknown (lost answer, 5xx, timeout) is *reconciled*: the server's list of runs
  created since just before the POST is searched for one with the same task (same
  params for functions) that no journal row and no other input claims.  Found: it
  is adopted.  Not found after a grace period: the input is sent again.
* **Observing.** With two or more agent runs in flight, one ``GET /v1/agents/runs``
  sweep (``startAt`` = the oldest in-flight run's ``createdAt``, limit 1000,
  following the cursor) observes them all, since list items carry ``result``.
  With one left, or when a sweep would cost more pages than there are runs, or when
  the list fails, each run is retrieved on its own.  The pause between looks grows
  with the age of the oldest run (about a tenth of it, jittered, 0.2 s..10 s), so a
  2-second run is seen promptly and a 10-minute run is not polled hundreds of times.
* **Stopping early.** ``interrupt()`` (Ctrl-C) stops submitting, waits for POSTs
  already on the wire, then POSTs ``/stop`` for in-flight agent runs unless
  ``on_interrupt="detach"``.  Everything received so far stays in the ``Batch``.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from bbnb._exceptions import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    ConflictError,
    CreateOutcomeUnknownError,
    InternalServerError,
    NotFoundError,
    RateLimitError,
)
from bbnb.models import AgentRun, AgentRunCreateParams, FunctionInvokeParams, Invocation
from bbnb.runs._api import RunsApi
from bbnb.runs._inputs import PreparedInput
from bbnb.runs._secrets import mask_request, scrub
from bbnb.runs.batch import Batch, BatchItem, BatchStats
from bbnb.runs.journal import Journal
from bbnb.runs.limits import ConcurrencyLimiter, CreationBucket
from bbnb.runs.progress import NullProgress, ProgressReporter, ProgressState

__all__ = ["BatchRunner", "Job", "new_batch_id"]

Kind = Literal["agent", "function"]
Run = AgentRun | Invocation
JobState = Literal["queued", "unknown", "posting", "inflight", "done", "error"]

RATE_NOTE = "rate-limited, slowing down"
MIN_INTERVAL = 0.1
MAX_INTERVAL = 10.0
AGE_FACTOR = 0.05
RECONCILE_GRACE = 10.0
RECONCILE_STEP = 2.0
MAX_CONNECT_ATTEMPTS = 8
STOP_CONCURRENCY = 20
_HANDOVER_YIELDS = 6


def new_batch_id() -> str:
    """A fresh, readable batch id."""
    return f"batch-{uuid.uuid4().hex[:12]}"


@dataclass(eq=False)
class Job:
    """One input as the runner tracks it."""

    prepared: PreparedInput
    state: JobState = "queued"
    run: Run | None = None
    error: str | None = None
    secrets: list[str] = field(default_factory=list, repr=False)
    masked: dict[str, Any] = field(default_factory=dict, repr=False)
    submitted_wall: float | None = None
    adopted: bool = False
    misses: int = 0
    next_check: float = 0.0
    checks: int = 0
    since: float | None = None
    holds_slot: bool = False
    unsendable: str | None = None
    """Why this input may not be sent (attach without its secret values), if so."""

    @property
    def index(self) -> int:
        """Position of the input."""
        return self.prepared.index

    @property
    def remote_id(self) -> str | None:
        """The run/invocation id, once known."""
        return self.run.id if self.run is not None else None


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
        self.rng = rng or random.Random()
        self.stats = BatchStats(total=len(jobs))
        self.interrupted = False
        self.timed_out = False
        self._stop_event = asyncio.Event()
        self._owner: dict[str, Job] = {}
        self._claim_lock = asyncio.Lock()
        self._posts: set[asyncio.Task[None]] = set()
        self._wire = 0
        self._wire_idle = asyncio.Event()
        self._rate_note_until = -1e18
        self._offset: float | None = None
        self._list_ok_after = -1e18
        self._last_sweep_pages = 1
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
            )
            for j in self.jobs
        ]
        requests, creates = self.api.http_requests()
        self.stats.requests = requests
        self.stats.create_requests = creates
        self.stats.created = sum(1 for j in self.jobs if j.run is not None)
        self.stats.elapsed = self.clock.now() - self._started
        self.stats.rate_limited = self.bucket.rate_limited
        return Batch(
            self.batch_id,
            self.kind,
            items,
            stats=self.stats,
            interrupted=self.interrupted,
            simulated=self.api.simulated,
        )

    async def run(self) -> Batch:
        """Submit and observe until every input has a final answer (or we are stopped)."""
        self._begin_journal()
        for job in self.jobs:
            if job.state == "inflight":
                self.limiter.in_use += 1
                job.holds_slot = True
        observer = asyncio.ensure_future(self._observe())
        try:
            await self._submit_all()
            await observer
        except asyncio.CancelledError:
            self.interrupt()
            observer.cancel()
            await self._wind_down()
            raise
        finally:
            if not observer.done():
                observer.cancel()
        if self.interrupted:
            await self._wind_down()
        else:
            self._journal_batch_state("timed_out" if self.timed_out else "done")
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
                options=self.options,
            )
            self.journal.record_queued(
                self.batch_id,
                [(j.index, j.prepared.key, j.masked, bool(j.secrets)) for j in self.jobs],
                kind=self.kind,
                function_id=self.function_id,
            )
        else:
            self.journal.set_batch_state(self.batch_id, "running")

    def _journal_batch_state(self, state: str) -> None:
        if self.journal is not None:
            self.journal.set_batch_state(self.batch_id, state)

    # -- time ---------------------------------------------------------------------------

    def _local_wall(self) -> float:
        now = self.clock.now()
        return now if now > 1e9 else time.time()

    def server_time_before(self, local_wall: float) -> float:
        """A server time (epoch seconds) no later than the server's clock at ``local_wall``.

        The offset between the clocks is learned from ``createdAt`` of answers (a lower
        bound); the margin is wide (5 min) until one answer was seen, 30 s after.
        """
        if self._offset is None:
            return local_wall - 300.0
        return local_wall + self._offset - 30.0

    def _learn_offset(self, run: Run) -> None:
        seen = run.created_at.timestamp() - self._local_wall()
        if self._offset is None or seen > self._offset:
            self._offset = seen

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
                run = await self._reconcile(job, job.submitted_wall)
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
                job.submitted_wall = self._local_wall()
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
                    run = await self._reconcile(job, job.submitted_wall)
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
        self._wire += 1
        try:
            return await self._create(job)
        finally:
            self._wire -= 1
            if self._wire == 0:
                self._wire_idle.set()

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
        self._learn_offset(run)
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
        if _settled(run):
            self._finish(job, run)

    # -- reconciling ----------------------------------------------------------------------

    async def _reconcile(self, job: Job, sent: float | None) -> Run | None:
        """Find the run a lost create made, or prove (after a grace period) there is none.

        ``sent`` is the local wall time the POST went out (from the journal on attach);
        the grace period counts from then, so a crash long ago needs no more waiting.
        """
        now_wall = self._local_wall()
        sent = now_wall if sent is None else sent
        since_wall = self.server_time_before(sent)
        deadline = self.clock.now() + max(0.0, RECONCILE_GRACE - (now_wall - sent))
        while True:
            try:
                found = await self._find_unclaimed(job, since_wall)
            except APIError:
                found = None
                if self.clock.now() >= deadline:
                    # The list is the only proof; without it, keep trying rather than guess.
                    deadline = self.clock.now() + RECONCILE_GRACE
            if found is not None:
                self.stats.reconciled += 1
                job.adopted = True
                return found
            if self.clock.now() >= deadline or self.interrupted:
                return None
            await self.clock.sleep(RECONCILE_STEP)

    async def _find_unclaimed(self, job: Job, since_wall: float) -> Run | None:
        async with self._claim_lock:
            if self.kind == "agent":
                candidates: list[Run] = [
                    r for r in await self._list_agent_runs(since_wall) if _same_agent_run(job, r)
                ]
            else:
                candidates = [
                    r for r in await self._list_invocations(since_wall) if _same_invocation(job, r)
                ]
            unowned = [r for r in candidates if r.id not in self._owner]
            if unowned and self.journal is not None:
                claimed = self.journal.claimed_ids([r.id for r in unowned])
                unowned = [r for r in unowned if r.id not in claimed]
            if not unowned:
                return None
            unowned.sort(key=lambda r: r.created_at)
            chosen = unowned[0]
            self._owner[chosen.id] = job
            return chosen

    async def _list_agent_runs(self, since_wall: float) -> list[AgentRun]:
        start_at = datetime.fromtimestamp(since_wall, UTC)
        runs: list[AgentRun] = []
        cursor: str | None = None
        while True:
            page = await self.api.list_runs_page(start_at=start_at, cursor=cursor)
            runs.extend(page.data)
            cursor = page.next_cursor
            if not cursor or not page.data:
                return runs

    async def _list_invocations(self, since_wall: float) -> list[Invocation]:
        # An invocation of this batch names its version; before any is known (a lost
        # first answer, or attach after a crash) every version of the function is
        # searched, since the server picked the version when it took the POST.
        known = self._version_id()
        if known is not None:
            version_ids = [known]
        else:
            if self.function_id is None:
                raise _NoVersion()
            version_ids = await self.api.function_version_ids(self.function_id)
        cutoff = datetime.fromtimestamp(since_wall, UTC)
        listed: list[Invocation] = []
        for version_id in version_ids:
            invocations = await self.api.version_invocations(version_id)
            listed.extend(inv for inv in invocations if inv.created_at >= cutoff)
        return listed

    def _version_id(self) -> str | None:
        for job in self.jobs:
            if isinstance(job.run, Invocation) and job.run.version_id:
                return job.run.version_id
        return None

    # -- observing ------------------------------------------------------------------------

    def _inflight(self) -> list[Job]:
        return [j for j in self.jobs if j.state == "inflight"]

    def _pending_work(self) -> bool:
        return any(j.state in ("queued", "unknown", "posting", "inflight") for j in self.jobs)

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
                await self._nap(MIN_INTERVAL)
                continue
            if self._deadline_passed():
                self.timed_out = True
                self._stop_event.set()
                return
            await self._look(inflight)
            self._refresh()
            inflight = self._inflight()
            if inflight or self._posts:
                await self._nap(self._interval(inflight))

    def _pending_queued(self) -> bool:
        return any(j.state == "queued" for j in self.jobs)

    async def _nap(self, seconds: float) -> None:
        """Pause ``seconds`` on the clock, after letting creates already on the wire land.

        Freed slots are handed to the submitter first, and the nap starts once the
        POSTs they start have answered (bounded by ``seconds`` of real time), so
        virtual time never runs ahead of work that is in progress.
        """
        started = self.clock.now()
        for _ in range(_HANDOVER_YIELDS):
            await asyncio.sleep(0)
        if self._wire > 0:
            self._wire_idle.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wire_idle.wait(), timeout=seconds)
        rest = seconds - (self.clock.now() - started)
        if rest > 0:
            await self.clock.sleep(rest)

    def _interval(self, inflight: list[Job]) -> float:
        if not inflight:
            return MIN_INTERVAL
        now = self.clock.now()
        oldest = min(self._age_anchor(j) for j in inflight)
        # One sweep serves every run in flight, so the more there are, the more often
        # it pays to look: 5% of the oldest run's age with 20+ runs, up to 30% with few.
        factor = min(0.3, max(AGE_FACTOR, 1.0 / len(inflight)))
        base = min(MAX_INTERVAL, max(MIN_INTERVAL, factor * (now - oldest)))
        return base * (0.9 + 0.2 * self.rng.random())

    def _age_anchor(self, job: Job) -> float:
        """Clock time the job was first seen in flight."""
        if job.since is None:
            job.since = self.clock.now()
        return job.since

    async def _look(self, inflight: list[Job]) -> None:
        now = self.clock.now()
        use_list = (
            self.kind == "agent"
            and len(inflight) >= 2
            and now >= self._list_ok_after
            and self._last_sweep_pages <= len(inflight)
        )
        if use_list:
            try:
                await self._sweep(inflight)
                return
            except APIError:
                self._list_ok_after = now + 30.0
        await self._retrieve_each(inflight)

    async def _sweep(self, inflight: list[Job]) -> None:
        anchor = min(j.run.created_at for j in inflight if j.run is not None)
        start_at = anchor - timedelta(milliseconds=1)
        by_id = {j.run.id: j for j in inflight if j.run is not None}
        seen: set[str] = set()
        cursor: str | None = None
        pages = 0
        while True:
            page = await self.api.list_runs_page(start_at=start_at, cursor=cursor)
            pages += 1
            for run in page.data:
                job = by_id.get(run.run_id)
                if job is not None:
                    seen.add(run.run_id)
                    self._observed(job, run)
            cursor = page.next_cursor
            if not cursor or not page.data:
                break
        self._last_sweep_pages = pages
        missing = [j for rid, j in by_id.items() if rid not in seen and j.state == "inflight"]
        stragglers = []
        for job in missing:
            job.misses += 1
            if job.misses >= 2:
                stragglers.append(job)
        if stragglers:
            await self._retrieve_each(stragglers, force=True)

    async def _retrieve_each(self, jobs: list[Job], *, force: bool = False) -> None:
        now = self.clock.now()
        due = [j for j in jobs if force or j.next_check <= now]
        sem = asyncio.Semaphore(20)

        async def one(job: Job) -> None:
            assert job.run is not None
            async with sem:
                try:
                    if self.kind == "agent":
                        run: Run = await self.api.retrieve_run(job.run.id)
                    else:
                        run = await self.api.retrieve_invocation(job.run.id)
                except NotFoundError:
                    job.error = f"{job.run.id} is no longer known to the server (404)"
                    job.state = "error"
                    await self._release(job)
                    return
                except APIError:
                    job.next_check = self.clock.now() + 1.0
                    return
            job.misses = 0
            self._observed(job, run)
            if job.state == "inflight":
                job.checks += 1
                age = self.clock.now() - self._age_anchor(job)
                wait = min(MAX_INTERVAL, max(0.5, 0.3 * age))
                job.next_check = self.clock.now() + wait * (0.9 + 0.2 * self.rng.random())

        await asyncio.gather(*(one(j) for j in due))

    def _observed(self, job: Job, run: Run) -> None:
        if job.state != "inflight":
            return
        job.misses = 0
        old = job.run.status if job.run is not None else None
        job.run = run
        if _settled(run):
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
                if _settled(run):
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


class _NoVersion(APIError):
    """No invocation of this batch is known yet, so the version to list is unknown."""

    def __init__(self) -> None:
        super().__init__(
            "cannot list invocations before one is known", method="GET", path="(version)"
        )


def _unsettled_note(job: Job, batch_id: str) -> str | None:
    if job.state == "unknown" and job.run is None:
        return (
            "the create was sent but its answer was lost; "
            f"bbnb.attach({batch_id!r}) will find the run or prove it was never created"
        )
    return None


def _settled(run: Run) -> bool:
    return bool(run.is_terminal or run.needs_input)


def _same_agent_run(job: Job, run: AgentRun) -> bool:
    body = job.prepared.body
    assert isinstance(body, AgentRunCreateParams)
    return run.task == body.task and (body.agent_id is None or run.agent_id == body.agent_id)


def _same_invocation(job: Job, inv: Invocation) -> bool:
    body = job.prepared.body
    assert isinstance(body, FunctionInvokeParams)
    return (inv.params or {}) == (body.params or {})
