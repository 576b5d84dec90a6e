"""Observing runs in flight cheaply, and pausing between looks.

* **Looking.** With two or more agent runs in flight, one ``GET /v1/agents/runs``
  sweep (``startAt`` = the oldest in-flight run's ``createdAt``, limit 1000,
  following the cursor) observes them all, since list items carry ``result``.  A run
  the sweep misses twice is retrieved on its own.  With one left, or when a sweep
  would cost more pages than there are runs, or for 30 s after the list failed, each
  run is retrieved on its own, each on its own schedule (30% of its age, 0.5 s..10 s).
* **Pausing.** The pause between looks grows with the age of the oldest run (5% of
  it with 20 or more runs in flight, up to 30% with few, jittered, 0.1 s..10 s), so a
  2-second run is seen promptly and a 10-minute run is not polled hundreds of times.  A pause first lets creates already
  on the wire (``CreatesOnWire``) land, so virtual time never outruns them.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable, Iterator
from datetime import timedelta

from bbnb._clock import Clock
from bbnb._exceptions import APIError, NotFoundError
from bbnb.runs._api import RunsApi
from bbnb.runs._job import Job, Kind, Run

__all__ = ["AGE_FACTOR", "MAX_INTERVAL", "MIN_INTERVAL", "CreatesOnWire", "Observer"]

MIN_INTERVAL = 0.1
MAX_INTERVAL = 10.0
AGE_FACTOR = 0.05
_HANDOVER_YIELDS = 6


class CreatesOnWire:
    """How many create POSTs are waiting for their answer right now."""

    def __init__(self) -> None:
        self.count = 0
        self._idle = asyncio.Event()

    @contextlib.contextmanager
    def sending(self) -> Iterator[None]:
        """Count one create as on the wire for the duration of the block."""
        self.count += 1
        try:
            yield
        finally:
            self.count -= 1
            if self.count == 0:
                self._idle.set()

    async def landed(self, at_most: float) -> None:
        """Return once no create is on the wire, or after ``at_most`` seconds of real time."""
        if self.count > 0:
            self._idle.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._idle.wait(), timeout=at_most)


class Observer:
    """Looks at the runs of one batch in flight (see the module docstring).

    What a look finds goes to ``observed(job, run)``; a run the server no longer
    knows marks its job an error and gives its slot back through ``release(job)``.
    """

    def __init__(
        self,
        api: RunsApi,
        kind: Kind,
        clock: Clock,
        rng: random.Random,
        wire: CreatesOnWire,
        *,
        observed: Callable[[Job, Run], None],
        release: Callable[[Job], None],
    ) -> None:
        self.api = api
        self.kind: Kind = kind
        self.clock = clock
        self.rng = rng
        self.wire = wire
        self.observed = observed
        self.release = release
        self._list_ok_after = -1e18
        self._last_sweep_pages = 1

    async def nap(self, seconds: float) -> None:
        """Pause ``seconds`` on the clock, after letting creates already on the wire land.

        Freed slots are handed to the submitter first, and the nap starts once the
        POSTs they start have answered (bounded by ``seconds`` of real time), so
        virtual time never runs ahead of work that is in progress.
        """
        started = self.clock.now()
        for _ in range(_HANDOVER_YIELDS):
            await asyncio.sleep(0)
        await self.wire.landed(seconds)
        rest = seconds - (self.clock.now() - started)
        if rest > 0:
            await self.clock.sleep(rest)

    def interval(self, inflight: list[Job]) -> float:
        """Seconds to pause before the next look at ``inflight``."""
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

    async def look(self, inflight: list[Job]) -> None:
        """Observe ``inflight`` once: by one list sweep when that pays, else one by one."""
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
                    self.observed(job, run)
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
                    self.release(job)
                    return
                except APIError:
                    job.next_check = self.clock.now() + 1.0
                    return
            job.misses = 0
            self.observed(job, run)
            if job.state == "inflight":
                job.checks += 1
                age = self.clock.now() - self._age_anchor(job)
                wait = min(MAX_INTERVAL, max(0.5, 0.3 * age))
                job.next_check = self.clock.now() + wait * (0.9 + 0.2 * self.rng.random())

        await asyncio.gather(*(one(j) for j in due))
