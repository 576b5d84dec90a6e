"""HTTP routes for session recordings: replays (HLS) and recording downloads (MP4).

Shapes as Browserbase's: ``GET /v1/sessions/{id}/replays`` lists the pages, each
``url`` the address of its HLS playlist (``GET /v1/sessions/{id}/replays/{pageId}``);
``POST``/``GET /v1/sessions/{id}/recording/downloads`` request and report per-page
MP4s (409 while the session runs, 422 when ``recordSession`` was false).  Video
segments and MP4s are served like a CDN's signed URLs, outside ``/v1`` and without
the API key: ``/media/recordings/...?expires=...&sig=...`` (HMAC with a key made
when the routes are built, so URLs die with the emulator).

One route is the emulator's own (Browserbase answers 404): ``GET
/v1/sessions/{id}/screencast?after=N&timeoutMs=T[&pageId=P]`` long-polls the session's
newest picture (of one page, or of whichever changed last) (``image/jpeg`` with ``x-bb-frame-seq``, ``x-bb-frame-time``,
``x-bb-page-id``), answers 204 when none came in time and 410 once the session has
ended, so a notebook kernel can show the live browser without reaching its port.

The frames come from a ``RecordingSource`` (``bbnb.emulator.recording.FrameStore``);
the session facts (exists, ended, ``recordSession``) from the emulator service.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import math
import re
import secrets
from collections.abc import Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, Protocol

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bbnb.emulator.inputs import query_int
from bbnb.emulator.recording import LatestFrame, RecordedPage, SessionRecording
from bbnb.emulator.wire import ApiError, echo, iso, json_response
from bbnb.models import HlsPlaylist, HlsSegment

if TYPE_CHECKING:
    from bbnb.emulator.records import SessionRecord
    from bbnb.emulator.service import EmulatorService

__all__ = ["MediaSigner", "RecordingSource", "routes"]

PLAYLIST_TYPE = "application/vnd.apple.mpegurl"
SCREENCAST_MAX_WAIT_MS = 10_000
_IDLE_POLL = 0.05
MEDIA_TTL = 3600.0
_PAGE_ID = re.compile(r"^\d{1,3}$")


class RecordingSource(Protocol):
    """Where the recorded frames are: a session's recording, and a worker for MP4s."""

    def recording(self, session_id: str) -> SessionRecording | None:
        """The session's recording, or None if nothing was recorded."""
        ...

    def submit_mp4(self, job: Callable[[], bytes]) -> Future[bytes]:
        """Run an MP4 assembly off the event loop."""
        ...


class MediaSigner:
    """Signed, expiring media URLs (like a CDN's), checked without the API key."""

    def __init__(self, key: bytes | None = None) -> None:
        self._key = key if key is not None else secrets.token_bytes(32)

    def __repr__(self) -> str:
        return "MediaSigner()"

    def _mac(self, path: str, expires: int) -> str:
        return hmac.new(self._key, f"{path}|{expires}".encode(), hashlib.sha256).hexdigest()[:32]

    def sign(self, path: str, now: float) -> str:
        """``path`` with ``expires`` and ``sig`` query parameters."""
        expires = int(now + MEDIA_TTL)
        return f"{path}?expires={expires}&sig={self._mac(path, expires)}"

    def check(self, request: Request, now: float) -> None:
        """``ApiError`` 403 unless the request carries a valid, unexpired signature."""
        raw_expires = request.query_params.get("expires", "")
        sig = request.query_params.get("sig", "")
        if not raw_expires.isdigit() or not sig:
            raise ApiError(403, "media URL is not signed; take it from the replay or downloads API")
        expires = int(raw_expires)
        if not hmac.compare_digest(self._mac(request.url.path, expires), sig):
            raise ApiError(403, "media URL signature does not match; take a fresh URL from the API")
        if now > expires:
            raise ApiError(403, "media URL has expired; take a fresh URL from the API")


async def newest_frame(
    recording: SessionRecording, after: int, page_id: str | None, deadline: float
) -> LatestFrame | None:
    """The newest picture after ``after``, waiting on the event loop (no thread) until
    ``deadline`` (loop time) or the recording's finish."""
    loop = asyncio.get_running_loop()
    changed = asyncio.Event()

    def wake() -> None:
        loop.call_soon_threadsafe(changed.set)

    unsubscribe = recording.subscribe(wake)
    try:
        while True:
            changed.clear()
            frame = recording.newest(after, page_id)
            remaining = deadline - loop.time()
            if frame is not None or recording.finished_at is not None or remaining <= 0:
                return frame
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), remaining)
    finally:
        unsubscribe()


def record_session_enabled(session: SessionRecord) -> bool:
    """``browserSettings.recordSession`` (default on, as on Browserbase)."""
    browser = (session.settings or {}).get("browserSettings") or {}
    return bool(browser.get("recordSession", True))


def routes(emu: EmulatorService, source: RecordingSource) -> list[Route]:
    """The recording routes bound to ``emu`` (session facts) and ``source`` (frames)."""
    signer = MediaSigner()
    completed_at: dict[tuple[str, str], float] = {}

    async def recording_of(session_id: str) -> tuple[SessionRecord, SessionRecording | None, bool]:
        """The session (404 if unknown), its recording (finished if the session ended), ended?

        An ended session whose browser is still open or closing is closed first, so what a
        caller reads is whole (its last pictures included), however soon it asks."""
        session = emu.get_session(session_id)
        await emu.live.settle(session_id)
        status, ended = emu.session_state(session, emu.now())
        recording = source.recording(session_id)
        if recording is not None and ended is not None and recording.finished_at is None:
            recording.finish(ended)
        return session, recording, status not in ("PENDING", "RUNNING")

    async def pages_of(recording: SessionRecording | None) -> list[RecordedPage]:
        return [] if recording is None else await asyncio.to_thread(recording.pages)

    def check_page_id(page_id: str) -> None:
        if not _PAGE_ID.match(page_id):
            raise ApiError(
                400, f"params/pageId must be a page number such as '0', got {echo(page_id)}"
            )

    async def replays(request: Request) -> Response:
        session_id = request.path_params["sid"]
        _, recording, _ = await recording_of(session_id)
        pages = await pages_of(recording)
        base = str(request.base_url).rstrip("/")
        return json_response(
            {
                "pageCount": len(pages),
                "pages": [
                    {
                        "pageId": page.page_id,
                        "url": f"{base}/v1/sessions/{session_id}/replays/{page.page_id}",
                        "startTimeMs": page.start_ms,
                        "endTimeMs": page.end_ms,
                    }
                    for page in pages
                ],
            }
        )

    async def one_page(session_id: str, page_id: str) -> RecordedPage:
        check_page_id(page_id)
        _, recording, _ = await recording_of(session_id)
        for page in await pages_of(recording):
            if page.page_id == page_id:
                return page
        raise ApiError(404, f"Session {echo(session_id)} has no recorded page {echo(page_id)}")

    async def playlist(request: Request) -> Response:
        session_id, page_id = request.path_params["sid"], request.path_params["page"]
        page = await one_page(session_id, page_id)
        now = emu.now()
        segments = tuple(
            HlsSegment(
                signer.sign(f"/media/recordings/{session_id}/{page_id}/{n}.ts", now),
                segment.duration,
            )
            for n, segment in enumerate(page.segments)
        )
        target = max(1, math.ceil(max(s.duration for s in segments)))
        text = HlsPlaylist(segments, target, version=3).render()
        return Response(text, media_type=PLAYLIST_TYPE)

    async def segment(request: Request) -> Response:
        signer.check(request, emu.now())
        session_id, page_id = request.path_params["sid"], request.path_params["page"]
        page = await one_page(session_id, page_id)
        index = int(request.path_params["n"])
        if index >= len(page.segments):
            raise ApiError(404, f"page {page_id} has no segment {index}")
        return Response(page.segments[index].data, media_type="video/mp2t")

    async def downloadable(session_id: str) -> SessionRecording:
        session, recording, ended = await recording_of(session_id)
        if not record_session_enabled(session):
            raise ApiError(
                422,
                f"Session {session_id} was created with recordSession: false, so there is "
                "nothing to assemble",
            )
        if not ended:
            raise ApiError(
                409,
                f"Session {session_id} has not ended; recording downloads are available only "
                "after a session completes",
            )
        if recording is None:
            raise ApiError(404, f"Session {session_id} has no recording")
        return recording

    def entry(
        session_id: str, recording: SessionRecording, page_id: str, base: str
    ) -> dict[str, Any]:
        future = recording.mp4_state(page_id)
        if future is None:
            return {"pageId": page_id, "status": "NOT_REQUESTED"}
        if not future.done():
            return {"pageId": page_id, "status": "PENDING"}
        if future.exception() is not None:
            return {"pageId": page_id, "status": "FAILED"}
        now = emu.now()
        done = completed_at.setdefault((session_id, page_id), now)
        url = signer.sign(f"/media/recordings/{session_id}/{page_id}.mp4", now)
        return {
            "pageId": page_id,
            "status": "COMPLETED",
            "completedAt": iso(done),
            "downloadUrl": base + url,
        }

    async def create_downloads(request: Request) -> Response:
        session_id = request.path_params["sid"]
        recording = await downloadable(session_id)
        pages = await pages_of(recording)
        if not pages:
            raise ApiError(404, f"Session {session_id} has no recording")
        for page in pages:
            completed_at.pop((session_id, page.page_id), None)
            recording.request_mp4(page.page_id, source.submit_mp4)
        body = [{"pageId": page.page_id, "status": "PENDING"} for page in pages]
        return json_response({"downloads": body}, 202)

    async def list_downloads(request: Request) -> Response:
        session_id = request.path_params["sid"]
        recording = await downloadable(session_id)
        pages = await pages_of(recording)
        if not pages:
            raise ApiError(404, f"Session {session_id} has no recording")
        base = str(request.base_url).rstrip("/")
        body = [entry(session_id, recording, page.page_id, base) for page in pages]
        return json_response({"downloads": body})

    async def mp4(request: Request) -> Response:
        signer.check(request, emu.now())
        session_id, page_id = request.path_params["sid"], request.path_params["page"]
        check_page_id(page_id)
        recording = source.recording(session_id)
        future = None if recording is None else recording.mp4_state(page_id)
        if future is None or not future.done() or future.exception() is not None:
            raise ApiError(404, f"no assembled MP4 for page {echo(page_id)} of this session")
        return Response(future.result(), media_type="video/mp4")

    async def screencast(request: Request) -> Response:
        session_id = request.path_params["sid"]
        after = query_int(request, "after", -1, -1, None)
        wait_ms = query_int(request, "timeoutMs", 5000, 0, SCREENCAST_MAX_WAIT_MS)
        page_id = request.query_params.get("pageId")
        if page_id is not None:
            check_page_id(page_id)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_ms / 1000
        while True:
            _, recording, ended = await recording_of(session_id)
            if recording is not None:
                frame = await newest_frame(recording, after, page_id, deadline)
                if frame is not None:
                    headers = {
                        "x-bb-frame-seq": str(frame.seq),
                        "x-bb-frame-time": f"{frame.t:.3f}",
                        "x-bb-page-id": frame.page_id,
                        "cache-control": "no-store",
                    }
                    return Response(frame.jpeg, media_type="image/jpeg", headers=headers)
                ended = ended or recording.finished_at is not None
            if ended:
                raise ApiError(410, f"Session {session_id} has ended; no more frames will come")
            if loop.time() >= deadline:
                return Response(status_code=204, headers={"cache-control": "no-store"})
            if recording is None:  # the screencast has not started yet
                await asyncio.sleep(min(_IDLE_POLL, deadline - loop.time()))

    return [
        Route("/v1/sessions/{sid}/screencast", screencast, methods=["GET"]),
        Route("/v1/sessions/{sid}/replays", replays, methods=["GET"]),
        Route("/v1/sessions/{sid}/replays/{page}", playlist, methods=["GET"]),
        Route("/v1/sessions/{sid}/recording/downloads", create_downloads, methods=["POST"]),
        Route("/v1/sessions/{sid}/recording/downloads", list_downloads, methods=["GET"]),
        Route("/media/recordings/{sid}/{page}/{n:int}.ts", segment, methods=["GET"]),
        Route("/media/recordings/{sid}/{page}.mp4", mp4, methods=["GET"]),
    ]
