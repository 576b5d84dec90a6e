"""The few API calls the runs layer makes, in one place, counted.

Everything goes through an ``AsyncClient``; a sync ``Client`` is unwrapped to the
``AsyncClient`` it drives.  ``requests``/``creates`` count the calls made here;
``http_requests()`` reads the client's own counters (retries included) when it has them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from bbnb._clock import Clock, SystemClock
from bbnb.models import (
    AgentRun,
    AgentRunCreateParams,
    AgentRunList,
    FunctionInvokeParams,
    Invocation,
    InvocationList,
)
from bbnb.wire._retry import report_rate_limits

__all__ = ["RunsApi", "async_client_of"]


def async_client_of(client: Any) -> Any:
    """The ``AsyncClient`` behind ``client`` (itself when it is one)."""
    for name in ("_async", "_async_client", "async_client", "_aclient"):
        inner = getattr(client, name, None)
        if inner is not None and hasattr(inner, "agents"):
            return inner
    return client


class RunsApi:
    """Thin, counted wrappers over the client calls a batch needs."""

    def __init__(self, client: Any) -> None:
        self.client = async_client_of(client)
        self.requests = 0
        self.creates = 0
        stats = getattr(self.client, "stats", None)
        self._snapshot = self._total(stats)

    @property
    def clock(self) -> Clock:
        """The client's clock (real time when it has none)."""
        clock = getattr(self.client, "clock", None)
        return clock if clock is not None else SystemClock()

    @property
    def simulated(self) -> bool:
        """True when the client talks to the emulator."""
        return bool(getattr(self.client, "simulated", False))

    @property
    def base_url(self) -> str | None:
        """The API base URL, for the journal."""
        url = getattr(self.client, "base_url", None)
        return str(url) if url is not None else None

    @property
    def key_hash(self) -> str | None:
        """The fingerprint of the client's API key (``bbnb.runs.journal.key_hash``), if known."""
        value = getattr(self.client, "key_hash", None)
        return value if isinstance(value, str) else None

    @staticmethod
    def _total(stats: Any) -> int | None:
        total = getattr(stats, "total", None)
        return int(total) if isinstance(total, int) else None

    def http_requests(self) -> tuple[int, int]:
        """``(all requests, create requests)`` since this object was made."""
        stats = getattr(self.client, "stats", None)
        now = self._total(stats)
        if now is None or self._snapshot is None:
            return self.requests, self.creates
        count = getattr(stats, "count", None)
        creates = self.creates
        if callable(count):
            creates = int(count("POST", "/v1/agents/runs")) + int(
                count("POST", "/v1/functions/{function_id}/invoke")
            )
            creates -= self._create_base
        return now - self._snapshot, max(creates, self.creates)

    @property
    def _create_base(self) -> int:
        if not hasattr(self, "_cb"):
            stats = getattr(self.client, "stats", None)
            count = getattr(stats, "count", None)
            self._cb = 0
            if callable(count):
                self._cb = int(count("POST", "/v1/agents/runs")) + int(
                    count("POST", "/v1/functions/{function_id}/invoke")
                )
        return self._cb

    # -- agent runs ---------------------------------------------------------------------

    async def create_run(self, body: AgentRunCreateParams) -> AgentRun:
        """``POST /v1/agents/runs`` (never resent by the client on an ambiguous failure)."""
        self.requests += 1
        self.creates += 1
        with report_rate_limits():  # the batch paces itself on a 429
            run: AgentRun = await self.client.agents.runs.create(params=body)
        return run

    async def retrieve_run(self, run_id: str) -> AgentRun:
        """``GET /v1/agents/runs/{id}``."""
        self.requests += 1
        run: AgentRun = await self.client.agents.runs.retrieve(run_id)
        return run

    async def list_runs_page(
        self, *, start_at: datetime | None, cursor: str | None, limit: int = 1000
    ) -> AgentRunList:
        """One page of ``GET /v1/agents/runs?startAt=...&limit=...&cursor=...``."""
        self.requests += 1
        page: AgentRunList = await self.client.agents.runs.list_page(
            start_at=start_at, limit=limit, cursor=cursor
        )
        return page

    async def stop_run(self, run_id: str) -> AgentRun:
        """``POST /v1/agents/runs/{id}/stop``."""
        self.requests += 1
        run: AgentRun = await self.client.agents.runs.stop(run_id)
        return run

    # -- function invocations -----------------------------------------------------------

    async def invoke(self, function_id: str, body: FunctionInvokeParams) -> Invocation:
        """``POST /v1/functions/{id}/invoke`` (never resent on an ambiguous failure)."""
        self.requests += 1
        self.creates += 1
        with report_rate_limits():  # the batch paces itself on a 429
            inv: Invocation = await self.client.functions.invoke(
                function_id,
                params=body.params,
                session_create_params=body.session_create_params,
            )
        return inv

    async def retrieve_invocation(self, invocation_id: str) -> Invocation:
        """``GET /v1/functions/invocations/{id}``."""
        self.requests += 1
        inv: Invocation = await self.client.functions.invocations.retrieve(invocation_id)
        return inv

    async def function_version_ids(self, function_id: str) -> list[str]:
        """Ids of every built version of a function (all pages), newest first."""
        versions = [v async for v in self.client.functions.versions.list(function_id)]
        self.requests += max(1, (len(versions) + 99) // 100)
        versions.sort(key=lambda v: v.created_at, reverse=True)
        return [v.id for v in versions]

    async def version_invocations(self, version_id: str) -> list[Invocation]:
        """Every invocation of a function version (all pages)."""
        result = self.client.functions.versions.invocations(version_id)
        if hasattr(result, "__await__"):
            result = await result
        if isinstance(result, InvocationList):
            self.requests += 1
            return list(result.results)
        items: list[Invocation] = []
        if hasattr(result, "__aiter__"):
            async for inv in result:
                items.append(inv)
        else:
            items.extend(_iterate(result))
        self.requests += max(1, (len(items) + 99) // 100)
        return items


def _iterate(result: Any) -> Iterator[Invocation]:
    yield from result
