"""``client.sessions``: create, inspect, list and release browser sessions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, get_args

from pydantic import RootModel

from bbnb.client._resources._common import check_choice, model_from
from bbnb.models import (
    Session,
    SessionCreateParams,
    SessionCreateResponse,
    SessionReleaseParams,
    SessionStatus,
)
from bbnb.wire._http import parse_model
from bbnb.wire._sync import run_sync

if TYPE_CHECKING:
    from bbnb.client._client import AsyncClient

__all__ = ["AsyncSessions", "Sessions"]

SESSIONS = "/v1/sessions"
SESSION = "/v1/sessions/{session_id}"

SESSION_STATUSES: tuple[str, ...] = get_args(SessionStatus)


class _SessionArray(RootModel[list[Session]]):
    """``GET /v1/sessions`` answers a bare JSON array."""


class AsyncSessions:
    """Browser sessions."""

    def __init__(self, client: AsyncClient) -> None:
        self._core = client._core

    async def create(
        self, params: SessionCreateParams | dict[str, Any] | None = None, **fields: Any
    ) -> SessionCreateResponse:
        """Start a session (never sent twice).  Fields as in ``SessionCreateParams``."""
        body: SessionCreateParams = model_from(
            SessionCreateParams, params, fields, "sessions.create"
        )
        return await self._core.request_model(
            SessionCreateResponse,
            "POST",
            SESSIONS,
            body=body.to_wire(),
            kind="create",
            find_hint="To find it, look at client.sessions.list(status='RUNNING').",
        )

    async def retrieve(self, session_id: str) -> Session:
        """One session."""
        return await self._core.request_model(
            Session, "GET", SESSION, path_params={"session_id": session_id}
        )

    async def release(self, session_id: str) -> Session:
        """End a session early (``POST /v1/sessions/{id}`` with ``REQUEST_RELEASE``)."""
        return await self._core.request_model(
            Session,
            "POST",
            SESSION,
            path_params={"session_id": session_id},
            body=SessionReleaseParams().to_wire(),
            kind="action",
        )

    async def list(self, *, status: str | None = None, q: str | None = None) -> list[Session]:
        """Sessions, optionally by status or user-metadata query (one unpaged list)."""
        params = {"status": check_choice(status, SESSION_STATUSES, "status"), "q": q}
        response = await self._core.request("GET", SESSIONS, params=params)
        wrapped = parse_model(_SessionArray, response, "GET", SESSIONS)
        return wrapped.root


class Sessions:
    """Synchronous ``client.sessions``."""

    def __init__(self, sessions: AsyncSessions) -> None:
        self._sessions = sessions

    def create(
        self, params: SessionCreateParams | dict[str, Any] | None = None, **fields: Any
    ) -> SessionCreateResponse:
        """Start a session (never sent twice)."""
        return run_sync(self._sessions.create(params, **fields))

    def retrieve(self, session_id: str) -> Session:
        """One session."""
        return run_sync(self._sessions.retrieve(session_id))

    def release(self, session_id: str) -> Session:
        """End a session early."""
        return run_sync(self._sessions.release(session_id))

    def list(self, *, status: str | None = None, q: str | None = None) -> list[Session]:
        """Sessions, optionally filtered."""
        return run_sync(self._sessions.list(status=status, q=q))
