"""``client.agents`` and ``client.agents.runs``: custom agents and agent runs.

Each resource exists twice: ``Async*`` holds the implementation; the sync class
of the same name without the prefix runs those coroutines on bbnb's private loop
through ``run_sync`` and iterates list endpoints page by page.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any, get_args

from bbnb.client._resources._common import (
    check_choice,
    check_limit,
    iso_time,
    model_from,
    recent_bound,
    wait_until_settled,
)
from bbnb.models import (
    Agent,
    AgentBrowserSettings,
    AgentCreateParams,
    AgentList,
    AgentRun,
    AgentRunCreateParams,
    AgentRunList,
    AgentUpdateParams,
    Message,
    MessagesPage,
    ResultSchema,
    ResumeParams,
    RunStatus,
)
from bbnb.runs.submit import run_many, run_many_async
from bbnb.wire._pagination import CursorPager, Query, SincePager, aiterate, iterate
from bbnb.wire._polling import PollPolicy
from bbnb.wire._sync import run_sync

if TYPE_CHECKING:
    from bbnb.client._client import AsyncClient, Client

__all__ = ["Agents", "AsyncAgents", "AsyncRuns", "Runs"]

RUNS = "/v1/agents/runs"
RUN = "/v1/agents/runs/{run_id}"
RUN_MESSAGES = "/v1/agents/runs/{run_id}/messages"
RUN_STOP = "/v1/agents/runs/{run_id}/stop"
RUN_RESUME = "/v1/agents/runs/{run_id}/resume"
AGENTS = "/v1/agents"
AGENT = "/v1/agents/{agent_id}"

RUN_STATUSES: tuple[str, ...] = get_args(RunStatus)
MESSAGE_PAGE_SIZE = 100


def _run_id(run_or_id: AgentRun | str) -> str:
    return run_or_id.run_id if isinstance(run_or_id, AgentRun) else run_or_id


def _settled(run: AgentRun) -> bool:
    return run.is_terminal or run.needs_input


def _describe_wait(run: AgentRun | None, timeout: float) -> str:
    if run is None:
        return f"gave up after {timeout:g} s without seeing the run"
    return (
        f"Run {run.run_id!r} is still {run.status} after waiting {timeout:g} s; it keeps going "
        f"on the server.  Wait again with client.agents.runs.wait({run.run_id!r}) or stop it "
        f"with client.agents.runs.stop({run.run_id!r})"
    )


def _run_create_hint(sent: datetime) -> str:
    start = sent.strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        "To find it, list runs created since then and match the task: "
        f"[r for r in client.agents.runs.list(start_at={start!r}) if r.task == task]"
    )


class AsyncRuns:
    """Agent runs: create, inspect, page through, stop, resume and wait."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client
        self._core = client._core

    async def create(
        self,
        task: str | None = None,
        *,
        agent_id: str | None = None,
        result_schema: ResultSchema | None = None,
        browser_settings: AgentBrowserSettings | dict[str, Any] | None = None,
        variables: dict[str, Any] | None = None,
        pause_when: str | None = None,
        params: AgentRunCreateParams | dict[str, Any] | None = None,
    ) -> AgentRun:
        """Start a run (``POST /v1/agents/runs``); it is never sent twice."""
        body: AgentRunCreateParams = model_from(
            AgentRunCreateParams,
            params,
            {
                "task": task,
                "agent_id": agent_id,
                "result_schema": result_schema,
                "browser_settings": browser_settings,
                "variables": variables,
                "pause_when": pause_when,
            },
            "agents.runs.create",
        )
        return await self._core.request_model(
            AgentRun,
            "POST",
            RUNS,
            body=body.to_wire(),
            kind="create",
            find_hint=_run_create_hint(recent_bound()),
        )

    async def retrieve(self, run_id: str) -> AgentRun:
        """The run as it is now."""
        return await self._core.request_model(AgentRun, "GET", RUN, path_params={"run_id": run_id})

    def _list_query(
        self,
        status: str | None,
        agent_id: str | None,
        start_at: datetime | str | None,
        end_at: datetime | str | None,
        limit: int | None,
        cursor: str | None = None,
    ) -> Query:
        return {
            "status": check_choice(status, RUN_STATUSES, "status"),
            "agentId": agent_id,
            "startAt": iso_time(start_at, "start_at"),
            "endAt": iso_time(end_at, "end_at"),
            "limit": check_limit(limit, 1, 1000),
            "cursor": cursor,
        }

    async def _fetch_list(self, query: Query) -> AgentRunList:
        return await self._core.request_model(AgentRunList, "GET", RUNS, params=query)

    async def list_page(
        self,
        *,
        status: str | None = None,
        agent_id: str | None = None,
        start_at: datetime | str | None = None,
        end_at: datetime | str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> AgentRunList:
        """One page of runs; pass its ``next_cursor`` as ``cursor`` for the next."""
        return await self._fetch_list(
            self._list_query(status, agent_id, start_at, end_at, limit, cursor)
        )

    def _list_pager(
        self,
        status: str | None,
        agent_id: str | None,
        start_at: datetime | str | None,
        end_at: datetime | str | None,
        limit: int | None,
    ) -> CursorPager[AgentRun]:
        return CursorPager(self._list_query(status, agent_id, start_at, end_at, limit))

    def list(
        self,
        *,
        status: str | None = None,
        agent_id: str | None = None,
        start_at: datetime | str | None = None,
        end_at: datetime | str | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[AgentRun]:
        """Every matching run over all pages (``limit`` is the page size), fetched lazily."""
        pager = self._list_pager(status, agent_id, start_at, end_at, limit)
        return aiterate(self._fetch_list, pager)

    def _messages_query(
        self, run_id: str, since: str | None, limit: int | None, all: bool
    ) -> tuple[Query, int]:
        size = check_limit(limit, 1, 100) or MESSAGE_PAGE_SIZE
        return {"runId": run_id, "since": since, "limit": size, "all": all or None}, size

    async def _fetch_messages(self, query: Query) -> MessagesPage:
        params = {k: v for k, v in query.items() if k != "runId"}
        return await self._core.request_model(
            MessagesPage,
            "GET",
            RUN_MESSAGES,
            path_params={"run_id": query["runId"]},
            params=params,
        )

    async def messages_page(
        self, run_id: str, *, since: str | None = None, limit: int | None = None, all: bool = False
    ) -> MessagesPage:
        """One page of a run's transcript, oldest first, after message id ``since``."""
        query, _ = self._messages_query(run_id, since, limit, all)
        return await self._fetch_messages(query)

    def messages(
        self, run_id: str, *, since: str | None = None, limit: int | None = None, all: bool = False
    ) -> AsyncIterator[Message]:
        """Every message after ``since`` (all of them by default), page by page."""
        query, size = self._messages_query(run_id, since, limit, all)
        return aiterate(self._fetch_messages, SincePager(query, size))

    async def stop(self, run_id: str) -> AgentRun:
        """Ask the run to stop (then poll for STOPPED); a finished run: ``ConflictError``."""
        return await self._core.request_model(
            AgentRun, "POST", RUN_STOP, path_params={"run_id": run_id}, kind="action"
        )

    async def resume(
        self, run_id: str, task: str, variables: dict[str, Any] | None = None
    ) -> AgentRun:
        """Answer a PAUSED run; it goes back to RUNNING.  Other states give ``ConflictError``."""
        body = ResumeParams.model_validate(
            {"task": task, **({"variables": variables} if variables is not None else {})}
        )
        return await self._core.request_model(
            AgentRun,
            "POST",
            RUN_RESUME,
            path_params={"run_id": run_id},
            body=body.to_wire(),
            kind="action",
        )

    async def wait(
        self,
        run_or_id: AgentRun | str,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - a deadline on the client's clock
        raise_on_failure: bool = False,
        poll: float | PollPolicy | None = None,
    ) -> AgentRun:
        """Poll until the run is terminal or PAUSED, and return it.

        ``timeout`` (seconds, default none) raises ``WaitTimeoutError`` holding the last
        run seen; the run itself goes on.  ``raise_on_failure=True`` turns FAILED,
        TIMED_OUT and STOPPED into ``RunFailedError``/``RunTimedOutError``/``RunStoppedError``.
        A run object that is already terminal or PAUSED is returned as is, without a request.
        """
        run_id = _run_id(run_or_id)
        first = run_or_id if isinstance(run_or_id, AgentRun) else None
        return await wait_until_settled(
            self._client,
            lambda: self.retrieve(run_id),
            _settled,
            first=first,
            timeout=timeout,
            poll=poll,
            describe=_describe_wait,
            raise_on_failure=raise_on_failure,
        )


class AsyncAgents:
    """Custom agents (``client.agents``), their runs (``.runs``) and the one-line ``run()``."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client
        self._core = client._core
        self.runs = AsyncRuns(client)

    async def create(
        self,
        name: str | None = None,
        *,
        system_prompt: str | None = None,
        result_schema: ResultSchema | None = None,
        params: AgentCreateParams | dict[str, Any] | None = None,
    ) -> Agent:
        """Create a custom agent (``POST /v1/agents``)."""
        body: AgentCreateParams = model_from(
            AgentCreateParams,
            params,
            {"name": name, "system_prompt": system_prompt, "result_schema": result_schema},
            "agents.create",
        )
        start = recent_bound().strftime("%Y-%m-%dT%H:%M:%SZ")
        return await self._core.request_model(
            Agent,
            "POST",
            AGENTS,
            body=body.to_wire(),
            kind="create",
            find_hint=f"To find it, look at client.agents.list(start_at={start!r}).",
        )

    async def retrieve(self, agent_id: str) -> Agent:
        """One agent."""
        return await self._core.request_model(
            Agent, "GET", AGENT, path_params={"agent_id": agent_id}
        )

    async def update(
        self,
        agent_id: str,
        *,
        name: str | None = None,
        system_prompt: str | None = None,
        result_schema: ResultSchema | None = None,
        params: AgentUpdateParams | dict[str, Any] | None = None,
    ) -> Agent:
        """Change some fields of an agent (``PATCH``); the others stay as they are."""
        body: AgentUpdateParams = model_from(
            AgentUpdateParams,
            params,
            {"name": name, "system_prompt": system_prompt, "result_schema": result_schema},
            "agents.update",
        )
        return await self._core.request_model(
            Agent, "PATCH", AGENT, path_params={"agent_id": agent_id}, body=body.to_wire()
        )

    async def delete(self, agent_id: str) -> None:
        """Delete an agent (idempotent; runs that used it are unaffected)."""
        await self._core.request("DELETE", AGENT, path_params={"agent_id": agent_id})

    def _list_query(
        self,
        start_at: datetime | str | None,
        end_at: datetime | str | None,
        limit: int | None,
        cursor: str | None = None,
    ) -> Query:
        return {
            "startAt": iso_time(start_at, "start_at"),
            "endAt": iso_time(end_at, "end_at"),
            "limit": check_limit(limit, 1, 1000),
            "cursor": cursor,
        }

    async def _fetch_list(self, query: Query) -> AgentList:
        return await self._core.request_model(AgentList, "GET", AGENTS, params=query)

    async def list_page(
        self,
        *,
        start_at: datetime | str | None = None,
        end_at: datetime | str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> AgentList:
        """One page of agents."""
        return await self._fetch_list(self._list_query(start_at, end_at, limit, cursor))

    def list(
        self,
        *,
        start_at: datetime | str | None = None,
        end_at: datetime | str | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[Agent]:
        """Every agent over all pages, fetched lazily."""
        pager: CursorPager[Agent] = CursorPager(self._list_query(start_at, end_at, limit))
        return aiterate(self._fetch_list, pager)

    async def run(
        self,
        task: str | None = None,
        *,
        wait: bool = True,
        timeout: float | None = None,  # noqa: ASYNC109 - a deadline on the client's clock
        raise_on_failure: bool = False,
        agent_id: str | None = None,
        result_schema: ResultSchema | None = None,
        browser_settings: AgentBrowserSettings | dict[str, Any] | None = None,
        variables: dict[str, Any] | None = None,
        pause_when: str | None = None,
        params: AgentRunCreateParams | dict[str, Any] | None = None,
    ) -> AgentRun:
        """Create a run and (by default) wait for it: the one-line path.

        Returns the run whatever its end (check ``run.status``); pass
        ``raise_on_failure=True`` to get a ``RunError`` instead of a failed run.
        """
        run = await self.runs.create(
            task,
            agent_id=agent_id,
            result_schema=result_schema,
            browser_settings=browser_settings,
            variables=variables,
            pause_when=pause_when,
            params=params,
        )
        if not wait:
            return run
        return await self.runs.wait(run, timeout=timeout, raise_on_failure=raise_on_failure)

    async def run_many(self, *args: Any, **kwargs: Any) -> Any:
        """Many runs at once; see ``bbnb.runs.run_many_async`` for the arguments."""
        return await run_many_async(self._client, *args, **kwargs)


class Runs:
    """Synchronous ``client.agents.runs`` (see ``AsyncRuns`` for the documentation)."""

    def __init__(self, runs: AsyncRuns) -> None:
        self._runs = runs

    def create(
        self,
        task: str | None = None,
        *,
        agent_id: str | None = None,
        result_schema: ResultSchema | None = None,
        browser_settings: AgentBrowserSettings | dict[str, Any] | None = None,
        variables: dict[str, Any] | None = None,
        pause_when: str | None = None,
        params: AgentRunCreateParams | dict[str, Any] | None = None,
    ) -> AgentRun:
        """Start a run (never sent twice)."""
        return run_sync(
            self._runs.create(
                task,
                agent_id=agent_id,
                result_schema=result_schema,
                browser_settings=browser_settings,
                variables=variables,
                pause_when=pause_when,
                params=params,
            )
        )

    def retrieve(self, run_id: str) -> AgentRun:
        """The run as it is now."""
        return run_sync(self._runs.retrieve(run_id))

    def list_page(
        self,
        *,
        status: str | None = None,
        agent_id: str | None = None,
        start_at: datetime | str | None = None,
        end_at: datetime | str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> AgentRunList:
        """One page of runs."""
        return run_sync(
            self._runs.list_page(
                status=status,
                agent_id=agent_id,
                start_at=start_at,
                end_at=end_at,
                limit=limit,
                cursor=cursor,
            )
        )

    def list(
        self,
        *,
        status: str | None = None,
        agent_id: str | None = None,
        start_at: datetime | str | None = None,
        end_at: datetime | str | None = None,
        limit: int | None = None,
    ) -> Iterator[AgentRun]:
        """Every matching run over all pages, fetched lazily."""
        pager = self._runs._list_pager(status, agent_id, start_at, end_at, limit)
        return iterate(self._runs._fetch_list, pager)

    def messages_page(
        self, run_id: str, *, since: str | None = None, limit: int | None = None, all: bool = False
    ) -> MessagesPage:
        """One page of a run's transcript."""
        return run_sync(self._runs.messages_page(run_id, since=since, limit=limit, all=all))

    def messages(
        self, run_id: str, *, since: str | None = None, limit: int | None = None, all: bool = False
    ) -> Iterator[Message]:
        """Every message after ``since``, page by page."""
        query, size = self._runs._messages_query(run_id, since, limit, all)
        return iterate(self._runs._fetch_messages, SincePager(query, size))

    def stop(self, run_id: str) -> AgentRun:
        """Ask the run to stop."""
        return run_sync(self._runs.stop(run_id))

    def resume(self, run_id: str, task: str, variables: dict[str, Any] | None = None) -> AgentRun:
        """Answer a PAUSED run."""
        return run_sync(self._runs.resume(run_id, task, variables))

    def wait(
        self,
        run_or_id: AgentRun | str,
        *,
        timeout: float | None = None,
        raise_on_failure: bool = False,
        poll: float | PollPolicy | None = None,
    ) -> AgentRun:
        """Poll until terminal or PAUSED (Ctrl-C stops waiting, not the run)."""
        return run_sync(
            self._runs.wait(
                run_or_id, timeout=timeout, raise_on_failure=raise_on_failure, poll=poll
            )
        )


class Agents:
    """Synchronous ``client.agents`` (see ``AsyncAgents`` for the documentation)."""

    def __init__(self, agents: AsyncAgents, client: Client) -> None:
        self._agents = agents
        self._client = client
        self.runs = Runs(agents.runs)

    def create(
        self,
        name: str | None = None,
        *,
        system_prompt: str | None = None,
        result_schema: ResultSchema | None = None,
        params: AgentCreateParams | dict[str, Any] | None = None,
    ) -> Agent:
        """Create a custom agent."""
        return run_sync(
            self._agents.create(
                name, system_prompt=system_prompt, result_schema=result_schema, params=params
            )
        )

    def retrieve(self, agent_id: str) -> Agent:
        """One agent."""
        return run_sync(self._agents.retrieve(agent_id))

    def update(
        self,
        agent_id: str,
        *,
        name: str | None = None,
        system_prompt: str | None = None,
        result_schema: ResultSchema | None = None,
        params: AgentUpdateParams | dict[str, Any] | None = None,
    ) -> Agent:
        """Change some fields of an agent."""
        return run_sync(
            self._agents.update(
                agent_id,
                name=name,
                system_prompt=system_prompt,
                result_schema=result_schema,
                params=params,
            )
        )

    def delete(self, agent_id: str) -> None:
        """Delete an agent."""
        run_sync(self._agents.delete(agent_id))

    def list_page(
        self,
        *,
        start_at: datetime | str | None = None,
        end_at: datetime | str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> AgentList:
        """One page of agents."""
        return run_sync(
            self._agents.list_page(start_at=start_at, end_at=end_at, limit=limit, cursor=cursor)
        )

    def list(
        self,
        *,
        start_at: datetime | str | None = None,
        end_at: datetime | str | None = None,
        limit: int | None = None,
    ) -> Iterator[Agent]:
        """Every agent over all pages, fetched lazily."""
        pager: CursorPager[Agent] = CursorPager(self._agents._list_query(start_at, end_at, limit))
        return iterate(self._agents._fetch_list, pager)

    def run(
        self,
        task: str | None = None,
        *,
        wait: bool = True,
        timeout: float | None = None,
        raise_on_failure: bool = False,
        agent_id: str | None = None,
        result_schema: ResultSchema | None = None,
        browser_settings: AgentBrowserSettings | dict[str, Any] | None = None,
        variables: dict[str, Any] | None = None,
        pause_when: str | None = None,
        params: AgentRunCreateParams | dict[str, Any] | None = None,
    ) -> AgentRun:
        """Create a run and (by default) wait for it; returns the run whatever its end."""
        return run_sync(
            self._agents.run(
                task,
                wait=wait,
                timeout=timeout,
                raise_on_failure=raise_on_failure,
                agent_id=agent_id,
                result_schema=result_schema,
                browser_settings=browser_settings,
                variables=variables,
                pause_when=pause_when,
                params=params,
            )
        )

    def run_many(self, *args: Any, **kwargs: Any) -> Any:
        """Many runs at once; see ``bbnb.runs.run_many`` for the arguments."""
        return run_many(self._client, *args, **kwargs)
