"""Reconciling a create whose answer was lost: find the run it made instead of resending.

A create whose outcome is unknown (lost answer, 5xx, timeout) may have made a run.
``Reconciler.reconcile`` searches the server's list of runs created since just before
the POST for one with the same task (same params for functions) that no journal row
and no other input claims.  Found: the job adopts it.  Not found after a grace period
(``RECONCILE_GRACE``, counted from when the POST left): the caller may send again.
While the list cannot be read there is no proof either way, so it keeps trying.

"Just before the POST" is on the server's clock: ``ServerTime`` learns how far that
clock may be ahead of ours from the ``createdAt`` of answers.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime

from bbnb._clock import Clock
from bbnb._exceptions import APIError
from bbnb.models import AgentRun, AgentRunCreateParams, FunctionInvokeParams, Invocation
from bbnb.runs._api import RunsApi
from bbnb.runs._job import Job, Kind, Run
from bbnb.runs.batch import BatchStats
from bbnb.runs.journal import Journal

__all__ = ["RECONCILE_GRACE", "RECONCILE_STEP", "Reconciler", "ServerTime"]

RECONCILE_GRACE = 10.0
RECONCILE_STEP = 2.0


class ServerTime:
    """Our wall clock, and what answers taught us about the server's."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._offset: float | None = None

    def local_wall(self) -> float:
        """Local wall time (epoch seconds): the clock's own when it tells wall time."""
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

    def learn(self, run: Run) -> None:
        """Take ``run.created_at`` (just now on the server's clock) into the offset."""
        seen = run.created_at.timestamp() - self.local_wall()
        if self._offset is None or seen > self._offset:
            self._offset = seen


class Reconciler:
    """Finds the runs lost creates of one batch made (see the module docstring).

    ``owners`` maps run ids to the job that has them; the runner shares it, so a run
    adopted here is never adopted twice.  ``interrupted`` says whether to give up.
    """

    def __init__(
        self,
        api: RunsApi,
        kind: Kind,
        jobs: list[Job],
        *,
        function_id: str | None,
        journal: Journal | None,
        owners: dict[str, Job],
        stats: BatchStats,
        server_time: ServerTime,
        interrupted: Callable[[], bool],
    ) -> None:
        self.api = api
        self.kind: Kind = kind
        self.jobs = jobs
        self.function_id = function_id
        self.journal = journal
        self.owners = owners
        self.stats = stats
        self.server_time = server_time
        self.clock = server_time.clock
        self.interrupted = interrupted
        self._claim_lock = asyncio.Lock()

    async def reconcile(self, job: Job, sent: float | None) -> Run | None:
        """Find the run a lost create made, or prove (after a grace period) there is none.

        ``sent`` is the local wall time the POST went out (from the journal on attach);
        the grace period counts from then, so a crash long ago needs no more waiting.
        """
        now_wall = self.server_time.local_wall()
        sent = now_wall if sent is None else sent
        since_wall = self.server_time.server_time_before(sent)
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
            if self.clock.now() >= deadline or self.interrupted():
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
            unowned = [r for r in candidates if r.id not in self.owners]
            if unowned and self.journal is not None:
                claimed = self.journal.claimed_ids([r.id for r in unowned])
                unowned = [r for r in unowned if r.id not in claimed]
            if not unowned:
                return None
            unowned.sort(key=lambda r: r.created_at)
            chosen = unowned[0]
            self.owners[chosen.id] = job
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


class _NoVersion(APIError):
    """No invocation of this batch is known yet, so the version to list is unknown."""

    def __init__(self) -> None:
        super().__init__(
            "cannot list invocations before one is known", method="GET", path="(version)"
        )


def _same_agent_run(job: Job, run: AgentRun) -> bool:
    body = job.prepared.body
    assert isinstance(body, AgentRunCreateParams)
    return run.task == body.task and (body.agent_id is None or run.agent_id == body.agent_id)


def _same_invocation(job: Job, inv: Invocation) -> bool:
    body = job.prepared.body
    assert isinstance(body, FunctionInvokeParams)
    return (inv.params or {}) == (body.params or {})
