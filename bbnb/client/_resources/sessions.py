"""``client.sessions``: create, inspect, list and release browser sessions, and watch them.

``debug`` gives the live view; ``logs``, ``downloads``, ``uploads``
(``bbnb.client._resources.session_files``), ``replays`` and ``recording.downloads``
(``bbnb.client._resources.session_recordings``) hang off this resource as in the
official SDK; ``recording_downloads`` is the same object as ``recording.downloads``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, get_args

from pydantic import RootModel

from bbnb.client._resources._common import check_choice, check_limit, model_from
from bbnb.client._resources.session_files import (
    AsyncSessionDownloads,
    AsyncSessionLogs,
    AsyncSessionUploads,
    SessionDownloads,
    SessionLogs,
    SessionUploads,
)
from bbnb.client._resources.session_recordings import (
    AsyncRecording,
    AsyncSessionReplays,
    Recording,
    SessionReplays,
)
from bbnb.models import (
    ScreencastFrame,
    Session,
    SessionCreateParams,
    SessionCreateResponse,
    SessionLiveUrls,
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
DEBUG = "/v1/sessions/{session_id}/debug"
SCREENCAST = "/v1/sessions/{session_id}/screencast"
#: The emulator answers a screencast long-poll within this many seconds at most.
SCREENCAST_MAX_WAIT = 10.0
#: ``expiresIn`` of live-view URLs: up to 6 hours, like a session.
DEBUG_EXPIRY_RANGE = (1, 21_600)

SESSION_STATUSES: tuple[str, ...] = get_args(SessionStatus)


class _SessionArray(RootModel[list[Session]]):
    """``GET /v1/sessions`` answers a bare JSON array."""


class AsyncSessions:
    """Browser sessions."""

    def __init__(self, client: AsyncClient) -> None:
        self._core = client._core
        self.logs = AsyncSessionLogs(client)
        self.downloads = AsyncSessionDownloads(client)
        self.uploads = AsyncSessionUploads(client)
        self.replays = AsyncSessionReplays(client)
        self.recording = AsyncRecording(client)
        self.recording_downloads = self.recording.downloads

    async def debug(self, session_id: str, *, expires_in: int | None = None) -> SessionLiveUrls:
        """Live-view URLs: ``debuggerFullscreenUrl`` is made to be embedded in an iframe."""
        low, high = DEBUG_EXPIRY_RANGE
        params = {"expiresIn": check_limit(expires_in, low, high, "expires_in")}
        return await self._core.request_model(
            SessionLiveUrls, "GET", DEBUG, path_params={"session_id": session_id}, params=params
        )

    async def screencast(
        self,
        session_id: str,
        *,
        after: int = -1,
        timeout: float = 5.0,  # noqa: ASYNC109 - the server's long-poll wait, sent as a query
        page_id: str | None = None,
    ) -> ScreencastFrame | None:
        """The emulator's newest picture of a session after sequence ``after`` (emulator only).

        ``page_id`` picks one page (tab); without it, whichever page changed last.

        Waits on the server up to ``timeout`` seconds; None if no new picture came.  Once
        the session has ended the emulator answers 410 (``APIStatusError``).  Browserbase
        has no such endpoint; watch it with ``debug()``'s live-view URL instead.
        """
        if not 0 <= timeout <= SCREENCAST_MAX_WAIT:
            raise ValueError(f"timeout must be 0..{SCREENCAST_MAX_WAIT:g} seconds, got {timeout!r}")
        response = await self._core.request(
            "GET",
            SCREENCAST,
            path_params={"session_id": session_id},
            params={"after": after, "timeoutMs": round(timeout * 1000), "pageId": page_id},
            headers={"Accept": "image/jpeg"},
        )
        if response.status_code == 204 or not response.content:
            return None
        return ScreencastFrame(
            seq=int(response.headers.get("x-bb-frame-seq", "0")),
            page_id=response.headers.get("x-bb-page-id", "0"),
            jpeg=response.content,
            t=float(response.headers.get("x-bb-frame-time", "0")),
        )

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
        self.logs = SessionLogs(sessions.logs)
        self.downloads = SessionDownloads(sessions.downloads)
        self.uploads = SessionUploads(sessions.uploads)
        self.replays = SessionReplays(sessions.replays)
        self.recording = Recording(sessions.recording)
        self.recording_downloads = self.recording.downloads

    def debug(self, session_id: str, *, expires_in: int | None = None) -> SessionLiveUrls:
        """Live-view URLs: ``debuggerFullscreenUrl`` is made to be embedded in an iframe."""
        return run_sync(self._sessions.debug(session_id, expires_in=expires_in))

    def screencast(
        self, session_id: str, *, after: int = -1, timeout: float = 5.0, page_id: str | None = None
    ) -> ScreencastFrame | None:
        """The emulator's newest picture after ``after`` (emulator only; None if none came)."""
        return run_sync(
            self._sessions.screencast(session_id, after=after, timeout=timeout, page_id=page_id)
        )

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
