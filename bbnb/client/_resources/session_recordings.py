"""``client.sessions.replays`` and ``client.sessions.recording.downloads``: watching afterwards.

A replay is one HLS playlist per page (tab); ``replays.page_video`` joins a page's
segments into one playable stream.  Recording downloads are MP4s assembled on request:
``recording.downloads.fetch(id, to=folder)`` asks for them, waits (on the client's
clock) and saves each page's file.  Media URLs on another host (Browserbase's signed
CDN URLs) are fetched without the API key.
"""

from __future__ import annotations

import asyncio
import builtins
import os
from pathlib import Path
from typing import TYPE_CHECKING

from bbnb.models import HlsPlaylist, RecordingDownloadList, SessionReplay
from bbnb.wire._polling import PollPolicy, poll_until
from bbnb.wire._sync import run_sync

if TYPE_CHECKING:
    from bbnb.client._client import AsyncClient

__all__ = [
    "AsyncRecording",
    "AsyncRecordingDownloads",
    "AsyncSessionReplays",
    "Recording",
    "RecordingDownloads",
    "SessionReplays",
]

REPLAYS = "/v1/sessions/{session_id}/replays"
REPLAY_PAGE = "/v1/sessions/{session_id}/replays/{page_id}"
RECORDING_DOWNLOADS = "/v1/sessions/{session_id}/recording/downloads"
PLAYLIST_TYPE = "application/vnd.apple.mpegurl"


class AsyncSessionReplays:
    """Per-page replays: ``await client.sessions.replays(id)``."""

    def __init__(self, client: AsyncClient) -> None:
        self._core = client._core

    async def retrieve(self, session_id: str) -> SessionReplay:
        """Every recorded page of the session, with its playlist URL and times."""
        return await self._core.request_model(
            SessionReplay, "GET", REPLAYS, path_params={"session_id": session_id}
        )

    async def __call__(self, session_id: str) -> SessionReplay:
        """Same as ``retrieve``."""
        return await self.retrieve(session_id)

    async def retrieve_page(self, page_id: str, *, session_id: str) -> str:
        """One page's HLS playlist text (``.m3u8``)."""
        response = await self._core.request(
            "GET",
            REPLAY_PAGE,
            path_params={"session_id": session_id, "page_id": page_id},
            headers={"Accept": PLAYLIST_TYPE},
        )
        return response.text

    async def playlist(self, session_id: str, page_id: str) -> HlsPlaylist:
        """One page's playlist, parsed, with every URI made absolute."""
        response = await self._core.request(
            "GET",
            REPLAY_PAGE,
            path_params={"session_id": session_id, "page_id": page_id},
            headers={"Accept": PLAYLIST_TYPE},
        )
        base = response.request.url
        parsed = HlsPlaylist.parse(response.text)
        return HlsPlaylist(
            segments=tuple(
                type(segment)(str(base.join(segment.uri)), segment.duration)
                for segment in parsed.segments
            ),
            target_duration=parsed.target_duration,
            init_uri=None if parsed.init_uri is None else str(base.join(parsed.init_uri)),
            version=parsed.version,
        )

    async def page_video(self, session_id: str, page_id: str) -> bytes:
        """One page's video as one playable stream: the init section and every segment."""
        playlist = await self.playlist(session_id, page_id)
        uris = [playlist.init_uri] if playlist.init_uri is not None else []
        uris += [segment.uri for segment in playlist.segments]
        parts = [(await self._core.fetch_media(uri)).content for uri in uris]
        return b"".join(parts)


def existing_folder(to: str | os.PathLike[str]) -> Path:
    """``to`` as a Path if it is an existing folder, else a ``FileNotFoundError`` saying so."""
    folder = Path(to)
    if not folder.is_dir():
        raise FileNotFoundError(
            f"cannot save recordings to {str(folder)!r}: it is not an existing folder"
        )
    return folder


def _describe(last: RecordingDownloadList | None, timeout: float) -> str:
    states = ", ".join(f"page {d.page_id}: {d.status}" for d in (last.downloads if last else []))
    return (
        f"recording downloads were not ready after {timeout:g} s ({states or 'no pages'}); "
        "call fetch again later, or pass a larger timeout"
    )


class AsyncRecordingDownloads:
    """MP4 recordings, one per page, assembled on request after the session ends."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client
        self._core = client._core

    async def create(self, session_id: str) -> RecordingDownloadList:
        """Ask for the MP4s (every page answers ``PENDING``); re-posting retries failures."""
        return await self._core.request_model(
            RecordingDownloadList,
            "POST",
            RECORDING_DOWNLOADS,
            path_params={"session_id": session_id},
            kind="action",
        )

    async def list(self, session_id: str) -> RecordingDownloadList:
        """Each page's state, and a short-lived URL for those ``COMPLETED``."""
        return await self._core.request_model(
            RecordingDownloadList,
            "GET",
            RECORDING_DOWNLOADS,
            path_params={"session_id": session_id},
        )

    async def fetch(
        self,
        session_id: str,
        *,
        to: str | os.PathLike[str],
        timeout: float | None = 300.0,  # noqa: ASYNC109 - a deadline on the client's clock
        poll: float | PollPolicy | None = None,
    ) -> builtins.list[Path]:
        """Request, wait for and save every page's MP4 in the folder ``to``; the saved paths.

        Files are named ``<session id>-page<page id>.mp4``.  A page whose assembly failed
        raises ``RuntimeError`` naming the page (call ``fetch`` again to retry).
        """
        folder = existing_folder(to)
        current = await self.list(session_id)
        if not current.downloads or any(
            d.status in ("NOT_REQUESTED", "FAILED") for d in current.downloads
        ):
            current = await self.create(session_id)
        done = await poll_until(
            lambda: self.list(session_id),
            lambda found: all(d.status in ("COMPLETED", "FAILED") for d in found.downloads),
            clock=self._client.clock,
            policy=self._client.poll_policy if poll is None else PollPolicy.coerce(poll),
            timeout=timeout,
            describe=_describe,
            first=current,
        )
        failed = [d.page_id for d in done.downloads if d.status == "FAILED"]
        if failed:
            raise RuntimeError(
                f"recording assembly failed for page(s) {', '.join(failed)} of session "
                f"{session_id}; call fetch again to retry"
            )
        saved: builtins.list[Path] = []
        for download in done.downloads:
            if download.download_url is None:
                raise RuntimeError(
                    f"page {download.page_id} of session {session_id} is COMPLETED but has no "
                    "downloadUrl (a bring-your-own-storage project keeps its MP4s in its bucket)"
                )
            response = await self._core.fetch_media(download.download_url, accept="video/mp4")
            target = folder / f"{session_id}-page{download.page_id}.mp4"
            await asyncio.to_thread(target.write_bytes, response.content)
            saved.append(target)
        return saved


class AsyncRecording:
    """``client.sessions.recording``: holds ``downloads`` as in the official SDK."""

    def __init__(self, client: AsyncClient) -> None:
        self.downloads = AsyncRecordingDownloads(client)


class SessionReplays:
    """Synchronous ``client.sessions.replays``."""

    def __init__(self, replays: AsyncSessionReplays) -> None:
        self._replays = replays

    def retrieve(self, session_id: str) -> SessionReplay:
        """Every recorded page of the session."""
        return run_sync(self._replays.retrieve(session_id))

    def __call__(self, session_id: str) -> SessionReplay:
        """Same as ``retrieve``."""
        return self.retrieve(session_id)

    def retrieve_page(self, page_id: str, *, session_id: str) -> str:
        """One page's HLS playlist text."""
        return run_sync(self._replays.retrieve_page(page_id, session_id=session_id))

    def playlist(self, session_id: str, page_id: str) -> HlsPlaylist:
        """One page's playlist, parsed, URIs absolute."""
        return run_sync(self._replays.playlist(session_id, page_id))

    def page_video(self, session_id: str, page_id: str) -> bytes:
        """One page's video as one playable stream."""
        return run_sync(self._replays.page_video(session_id, page_id))


class RecordingDownloads:
    """Synchronous ``client.sessions.recording.downloads``."""

    def __init__(self, downloads: AsyncRecordingDownloads) -> None:
        self._downloads = downloads

    def create(self, session_id: str) -> RecordingDownloadList:
        """Ask for the MP4s."""
        return run_sync(self._downloads.create(session_id))

    def list(self, session_id: str) -> RecordingDownloadList:
        """Each page's state."""
        return run_sync(self._downloads.list(session_id))

    def fetch(
        self,
        session_id: str,
        *,
        to: str | os.PathLike[str],
        timeout: float | None = 300.0,
        poll: float | PollPolicy | None = None,
    ) -> builtins.list[Path]:
        """Request, wait for and save every page's MP4 in the folder ``to``."""
        return run_sync(self._downloads.fetch(session_id, to=to, timeout=timeout, poll=poll))


class Recording:
    """Synchronous ``client.sessions.recording``."""

    def __init__(self, recording: AsyncRecording) -> None:
        self.downloads = RecordingDownloads(recording.downloads)
