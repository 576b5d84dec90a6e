"""``client.functions``: invoke deployed functions, follow invocations, list functions.

``Async*`` classes hold the implementation; the sync classes run them through
``run_sync``.  Function lists are offset-paginated (``{data|results, total}``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

from bbnb.client._resources._common import check_limit, recent_bound, wait_until_settled
from bbnb.models import (
    Function,
    FunctionInvokeParams,
    FunctionList,
    FunctionVersion,
    Invocation,
    InvocationList,
    InvocationLogs,
    ResponseModel,
    SessionCreateParams,
)
from bbnb.runs.submit import invoke_many, invoke_many_async
from bbnb.wire._pagination import OffsetPager, Query, aiterate, iterate
from bbnb.wire._polling import PollPolicy
from bbnb.wire._sync import run_sync

if TYPE_CHECKING:
    from bbnb.client._client import AsyncClient, Client

__all__ = [
    "AsyncFunctions",
    "AsyncInvocations",
    "AsyncVersions",
    "Functions",
    "Invocations",
    "Versions",
]

FUNCTIONS = "/v1/functions"
FUNCTION = "/v1/functions/{function_id}"
INVOKE = "/v1/functions/{function_id}/invoke"
FUNCTION_VERSIONS = "/v1/functions/{function_id}/versions"
VERSION = "/v1/functions/versions/{version_id}"
VERSION_INVOCATIONS = "/v1/functions/versions/{version_id}/invocations"
INVOCATION = "/v1/functions/invocations/{invocation_id}"
INVOCATION_LOGS = "/v1/functions/invocations/{invocation_id}/logs"

#: Invocations end by themselves within their timeout (at most 900 s); wait a bit longer.
DEFAULT_INVOCATION_WAIT = 960.0


class FunctionVersionList(ResponseModel):
    """``GET /v1/functions/{id}/versions``: one page, offset-paginated."""

    results: list[FunctionVersion]
    total: int


def _settled(invocation: Invocation) -> bool:
    return invocation.is_terminal


def _describe_wait(invocation: Invocation | None, timeout: float) -> str:
    if invocation is None:
        return f"gave up after {timeout:g} s without seeing the invocation"
    return (
        f"Invocation {invocation.id!r} is still {invocation.status} after waiting {timeout:g} s; "
        "it keeps going on the server.  Wait again with "
        f"client.functions.invocations.wait({invocation.id!r})"
    )


def _invoke_hint(function_id: str) -> str:
    start = recent_bound().strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        "To find it, look for invocations created after "
        f"{start} in client.functions.versions.invocations(v.id) "
        f"for v in client.functions.versions.list({function_id!r})."
    )


def _offset_query(offset: int, limit: int | None, **extra: Any) -> Query:
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise ValueError(f"offset must be an integer >= 0, got {offset!r}")
    return {"offset": offset, "limit": check_limit(limit, 1, 100), **extra}


class AsyncInvocations:
    """``client.functions.invocations``: one invocation's state, logs and wait."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client
        self._core = client._core

    async def retrieve(self, invocation_id: str) -> Invocation:
        """The invocation as it is now (with ``cause`` once FAILED)."""
        return await self._core.request_model(
            Invocation, "GET", INVOCATION, path_params={"invocation_id": invocation_id}
        )

    async def logs(self, invocation_id: str) -> InvocationLogs:
        """Everything the handler logged."""
        return await self._core.request_model(
            InvocationLogs, "GET", INVOCATION_LOGS, path_params={"invocation_id": invocation_id}
        )

    async def wait(
        self,
        invocation_or_id: Invocation | str,
        *,
        timeout: float | None = DEFAULT_INVOCATION_WAIT,  # noqa: ASYNC109 - on the client's clock
        raise_on_failure: bool = False,
        poll: float | PollPolicy | None = None,
    ) -> Invocation:
        """Poll until COMPLETED or FAILED and return the invocation.

        ``timeout`` defaults to 960 s (invocations are bounded by 900 s on the
        server); ``raise_on_failure=True`` raises ``RunFailedError`` or
        ``RunTimedOutError`` for a FAILED invocation.
        """
        if isinstance(invocation_or_id, Invocation):
            invocation_id, first = invocation_or_id.id, invocation_or_id
        else:
            invocation_id, first = invocation_or_id, None
        return await wait_until_settled(
            self._client,
            lambda: self.retrieve(invocation_id),
            _settled,
            first=first,
            timeout=timeout,
            poll=poll,
            describe=_describe_wait,
            raise_on_failure=raise_on_failure,
        )


class AsyncVersions:
    """``client.functions.versions``: built versions of a function and their invocations."""

    def __init__(self, client: AsyncClient) -> None:
        self._core = client._core

    async def retrieve(self, version_id: str) -> FunctionVersion:
        """One version."""
        return await self._core.request_model(
            FunctionVersion, "GET", VERSION, path_params={"version_id": version_id}
        )

    async def _fetch_list(self, query: Query) -> FunctionVersionList:
        params = {k: v for k, v in query.items() if k != "functionId"}
        return await self._core.request_model(
            FunctionVersionList,
            "GET",
            FUNCTION_VERSIONS,
            path_params={"function_id": query["functionId"]},
            params=params,
        )

    def _list_pager(self, function_id: str, limit: int | None) -> OffsetPager[FunctionVersion]:
        return OffsetPager(_offset_query(0, limit, functionId=function_id), key="results")

    def list(self, function_id: str, *, limit: int | None = None) -> AsyncIterator[FunctionVersion]:
        """Every version of a function, fetched lazily (``limit`` is the page size)."""
        return aiterate(self._fetch_list, self._list_pager(function_id, limit))

    async def _fetch_invocations(self, query: Query) -> InvocationList:
        params = {k: v for k, v in query.items() if k != "versionId"}
        return await self._core.request_model(
            InvocationList,
            "GET",
            VERSION_INVOCATIONS,
            path_params={"version_id": query["versionId"]},
            params=params,
        )

    def _invocations_pager(
        self, version_id: str, status: str | None, limit: int | None
    ) -> OffsetPager[Invocation]:
        query = _offset_query(0, limit, versionId=version_id, status=status)
        return OffsetPager(query, key="results")

    async def invocations_page(
        self,
        version_id: str,
        *,
        status: str | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> InvocationList:
        """One page of a version's invocations."""
        return await self._fetch_invocations(
            _offset_query(offset, limit, versionId=version_id, status=status)
        )

    def invocations(
        self, version_id: str, *, status: str | None = None, limit: int | None = None
    ) -> AsyncIterator[Invocation]:
        """Every invocation of a version, fetched lazily."""
        return aiterate(self._fetch_invocations, self._invocations_pager(version_id, status, limit))


class AsyncFunctions:
    """``client.functions``: invoke, list and look up deployed functions."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client
        self._core = client._core
        self.invocations = AsyncInvocations(client)
        self.versions = AsyncVersions(client)

    async def invoke(
        self,
        function_id: str,
        params: dict[str, Any] | None = None,
        session_create_params: SessionCreateParams | dict[str, Any] | None = None,
        *,
        wait: bool = False,
        timeout: float | None = DEFAULT_INVOCATION_WAIT,  # noqa: ASYNC109 - on the client's clock
        raise_on_failure: bool = False,
    ) -> Invocation:
        """Start an invocation (never sent twice); with ``wait=True`` return it finished."""
        body = FunctionInvokeParams.model_validate(
            {
                key: value
                for key, value in (
                    ("params", params),
                    ("session_create_params", session_create_params),
                )
                if value is not None
            }
        )
        invocation = await self._core.request_model(
            Invocation,
            "POST",
            INVOKE,
            path_params={"function_id": function_id},
            body=body.to_wire(),
            kind="create",
            find_hint=_invoke_hint(function_id),
        )
        if not wait:
            return invocation
        return await self.invocations.wait(
            invocation, timeout=timeout, raise_on_failure=raise_on_failure
        )

    async def retrieve(self, function_id: str) -> Function:
        """One function."""
        return await self._core.request_model(
            Function, "GET", FUNCTION, path_params={"function_id": function_id}
        )

    async def _fetch_list(self, query: Query) -> FunctionList:
        return await self._core.request_model(FunctionList, "GET", FUNCTIONS, params=query)

    async def list_page(self, *, offset: int = 0, limit: int | None = None) -> FunctionList:
        """One page of functions."""
        return await self._fetch_list(_offset_query(offset, limit))

    def list(self, *, limit: int | None = None) -> AsyncIterator[Function]:
        """Every function of the project, fetched lazily (``limit`` is the page size)."""
        pager: OffsetPager[Function] = OffsetPager(_offset_query(0, limit), key="data")
        return aiterate(self._fetch_list, pager)

    async def invoke_many(self, *args: Any, **kwargs: Any) -> Any:
        """Many invocations at once; see ``bbnb.runs.invoke_many_async`` for the arguments."""
        return await invoke_many_async(self._client, *args, **kwargs)


class Invocations:
    """Synchronous ``client.functions.invocations``."""

    def __init__(self, invocations: AsyncInvocations) -> None:
        self._invocations = invocations

    def retrieve(self, invocation_id: str) -> Invocation:
        """The invocation as it is now."""
        return run_sync(self._invocations.retrieve(invocation_id))

    def logs(self, invocation_id: str) -> InvocationLogs:
        """Everything the handler logged."""
        return run_sync(self._invocations.logs(invocation_id))

    def wait(
        self,
        invocation_or_id: Invocation | str,
        *,
        timeout: float | None = DEFAULT_INVOCATION_WAIT,
        raise_on_failure: bool = False,
        poll: float | PollPolicy | None = None,
    ) -> Invocation:
        """Poll until COMPLETED or FAILED (Ctrl-C stops waiting)."""
        return run_sync(
            self._invocations.wait(
                invocation_or_id, timeout=timeout, raise_on_failure=raise_on_failure, poll=poll
            )
        )


class Versions:
    """Synchronous ``client.functions.versions``."""

    def __init__(self, versions: AsyncVersions) -> None:
        self._versions = versions

    def retrieve(self, version_id: str) -> FunctionVersion:
        """One version."""
        return run_sync(self._versions.retrieve(version_id))

    def list(self, function_id: str, *, limit: int | None = None) -> Iterator[FunctionVersion]:
        """Every version of a function, fetched lazily."""
        return iterate(self._versions._fetch_list, self._versions._list_pager(function_id, limit))

    def invocations_page(
        self,
        version_id: str,
        *,
        status: str | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> InvocationList:
        """One page of a version's invocations."""
        return run_sync(
            self._versions.invocations_page(version_id, status=status, offset=offset, limit=limit)
        )

    def invocations(
        self, version_id: str, *, status: str | None = None, limit: int | None = None
    ) -> Iterator[Invocation]:
        """Every invocation of a version, fetched lazily."""
        pager = self._versions._invocations_pager(version_id, status, limit)
        return iterate(self._versions._fetch_invocations, pager)


class Functions:
    """Synchronous ``client.functions``."""

    def __init__(self, functions: AsyncFunctions, client: Client) -> None:
        self._functions = functions
        self._client = client
        self.invocations = Invocations(functions.invocations)
        self.versions = Versions(functions.versions)

    def invoke(
        self,
        function_id: str,
        params: dict[str, Any] | None = None,
        session_create_params: SessionCreateParams | dict[str, Any] | None = None,
        *,
        wait: bool = False,
        timeout: float | None = DEFAULT_INVOCATION_WAIT,
        raise_on_failure: bool = False,
    ) -> Invocation:
        """Start an invocation (never sent twice); with ``wait=True`` return it finished."""
        return run_sync(
            self._functions.invoke(
                function_id,
                params,
                session_create_params,
                wait=wait,
                timeout=timeout,
                raise_on_failure=raise_on_failure,
            )
        )

    def retrieve(self, function_id: str) -> Function:
        """One function."""
        return run_sync(self._functions.retrieve(function_id))

    def list_page(self, *, offset: int = 0, limit: int | None = None) -> FunctionList:
        """One page of functions."""
        return run_sync(self._functions.list_page(offset=offset, limit=limit))

    def list(self, *, limit: int | None = None) -> Iterator[Function]:
        """Every function of the project, fetched lazily."""
        pager: OffsetPager[Function] = OffsetPager(_offset_query(0, limit), key="data")
        return iterate(self._functions._fetch_list, pager)

    def invoke_many(self, *args: Any, **kwargs: Any) -> Any:
        """Many invocations at once; see ``bbnb.runs.invoke_many`` for the arguments."""
        return invoke_many(self._client, *args, **kwargs)
