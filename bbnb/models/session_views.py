"""What a session shows while and after it runs: live-view URLs, logs, uploads.

Shapes of ``/v1/sessions/{id}/debug``, ``/logs`` and ``/uploads`` as Browserbase's
OpenAPI and the official SDK (1.22.0) give them.  Replays and recordings live in
``bbnb.models.recordings``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bbnb.models._base import ResponseModel

__all__ = [
    "LivePage",
    "ScreencastFrame",
    "SessionLiveUrls",
    "SessionLog",
    "SessionLogRequest",
    "SessionLogResponse",
    "UploadResponse",
]


class LivePage(ResponseModel):
    """One open tab of a session, with the URLs that show it live."""

    id: str
    url: str
    favicon_url: str
    title: str
    debugger_url: str
    debugger_fullscreen_url: str


class SessionLiveUrls(ResponseModel):
    """``GET /v1/sessions/{id}/debug``: the live view (made for an iframe) and CDP URLs."""

    debugger_fullscreen_url: str
    debugger_url: str
    ws_url: str
    pages: list[LivePage]


class SessionLogRequest(ResponseModel):
    """The CDP request half of a log entry."""

    params: dict[str, Any]
    raw_body: str
    timestamp: int | None = None


class SessionLogResponse(ResponseModel):
    """The CDP response half of a log entry."""

    result: dict[str, Any]
    raw_body: str
    timestamp: int | None = None


class SessionLog(ResponseModel):
    """One CDP log entry of a session (``timestamp``: epoch milliseconds)."""

    method: str
    page_id: int
    session_id: str
    frame_id: str | None = None
    loader_id: str | None = None
    request: SessionLogRequest | None = None
    response: SessionLogResponse | None = None
    timestamp: int | None = None


class UploadResponse(ResponseModel):
    """``POST /v1/sessions/{id}/uploads``: what the server said about the file."""

    message: str


@dataclass(frozen=True, slots=True)
class ScreencastFrame:
    """The newest picture of an emulator session: sequence number, page, JPEG, time (epoch s)."""

    seq: int
    page_id: str
    jpeg: bytes
    t: float

    def __repr__(self) -> str:
        return f"ScreencastFrame(seq={self.seq}, page_id={self.page_id!r}, {len(self.jpeg)} bytes)"
