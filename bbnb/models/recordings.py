"""Recordings of a session: per-page replays (HLS) and MP4 recording downloads.

Shapes of ``/v1/sessions/{id}/replays`` and ``/v1/sessions/{id}/recording/downloads``
as Browserbase's OpenAPI and the official SDK (1.22.0) give them.  A replay page's
``url`` is the address of that page's HLS playlist.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from bbnb.models._base import ResponseModel

__all__ = [
    "HlsPlaylist",
    "HlsSegment",
    "RecordingDownload",
    "RecordingDownloadList",
    "RecordingDownloadStatus",
    "ReplayPage",
    "SessionReplay",
]

RecordingDownloadStatus = Literal["NOT_REQUESTED", "PENDING", "COMPLETED", "FAILED"]


class ReplayPage(ResponseModel):
    """One recorded page (tab): its playlist URL and when it was recorded (epoch ms)."""

    page_id: str
    url: str
    start_time_ms: int
    end_time_ms: int


class SessionReplay(ResponseModel):
    """``GET /v1/sessions/{id}/replays``: every recorded page of a session."""

    page_count: int
    pages: list[ReplayPage]


class RecordingDownload(ResponseModel):
    """One page's MP4: its assembly state and, once ``COMPLETED``, a short-lived URL."""

    page_id: str
    status: RecordingDownloadStatus
    completed_at: datetime | None = None
    download_url: str | None = None


class RecordingDownloadList(ResponseModel):
    """``GET``/``POST /v1/sessions/{id}/recording/downloads``: one entry per page."""

    downloads: list[RecordingDownload]


@dataclass(frozen=True, slots=True)
class HlsSegment:
    """One media segment of an HLS playlist: its URI and duration in seconds."""

    uri: str
    duration: float


@dataclass(frozen=True, slots=True)
class HlsPlaylist:
    """An HLS VOD media playlist (RFC 8216), the subset a replay uses.

    ``init_uri`` is the ``EXT-X-MAP`` initialisation section (fragmented MP4), or None for
    MPEG-TS segments.  ``parse`` reads one; ``render`` writes one.
    """

    segments: tuple[HlsSegment, ...]
    target_duration: int
    init_uri: str | None = None
    version: int = 7

    @property
    def duration(self) -> float:
        """Total length in seconds."""
        return sum(segment.duration for segment in self.segments)

    @classmethod
    def parse(cls, text: str) -> HlsPlaylist:
        """Read a media playlist; ``ValueError`` saying what is wrong if it is not one."""
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        if not lines or lines[0] != "#EXTM3U":
            raise ValueError("not an HLS playlist: the first line must be #EXTM3U")
        segments: list[HlsSegment] = []
        target, init, version = 0, None, 3
        pending: float | None = None
        for line in lines[1:]:
            if line.startswith("#EXTINF:"):
                try:
                    pending = float(line[len("#EXTINF:") :].split(",", 1)[0])
                except ValueError:
                    raise ValueError(f"bad segment duration in HLS playlist: {line!r}") from None
            elif line.startswith("#EXT-X-TARGETDURATION:"):
                target = int(line.split(":", 1)[1])
            elif line.startswith("#EXT-X-VERSION:"):
                version = int(line.split(":", 1)[1])
            elif line.startswith("#EXT-X-MAP:"):
                match = re.search(r'URI="([^"]+)"', line)
                if match is None:
                    raise ValueError(f"EXT-X-MAP without a URI in HLS playlist: {line!r}")
                init = match.group(1)
            elif line.startswith("#EXT-X-STREAM-INF"):
                raise ValueError("this is a multivariant playlist; open one of its media playlists")
            elif not line.startswith("#"):
                if pending is None:
                    raise ValueError(f"segment {line!r} has no #EXTINF duration before it")
                segments.append(HlsSegment(line, pending))
                pending = None
        return cls(tuple(segments), target, init, version)

    def render(self) -> str:
        """The playlist text (``#EXT-X-ENDLIST`` included: a replay is complete)."""
        out = [
            "#EXTM3U",
            f"#EXT-X-VERSION:{self.version}",
            f"#EXT-X-TARGETDURATION:{self.target_duration}",
            "#EXT-X-PLAYLIST-TYPE:VOD",
            "#EXT-X-MEDIA-SEQUENCE:0",
        ]
        if self.init_uri is not None:
            out.append(f'#EXT-X-MAP:URI="{self.init_uri}"')
        for segment in self.segments:
            out += [f"#EXTINF:{segment.duration:.3f},", segment.uri]
        out.append("#EXT-X-ENDLIST")
        return "\n".join(out) + "\n"
