"""Session recordings: screencast frames in, per-page HLS video and MP4 downloads out.

The feeder (the real-browser code, or a test) wires in with three calls on
``emu.recordings`` (a ``FrameStore``):

- ``start(session_id, record=<recordSession>)`` when the session's screencast starts;
- ``.add_frame(target_id, jpeg, t, url=...)`` for each ``Page.screencastFrame`` (JPEG
  bytes; ``t`` = ``metadata.timestamp``, epoch seconds), before acking it;
- ``.end_page(target_id, t)`` when a tab closes, ``.finish(t)`` when the session ends
  (the routes also finish it lazily once the session reads as ended).

Pages (tabs) are numbered "0", "1", ... in the order their first frame arrives, as
Browserbase numbers them.  Every picture also feeds live views: ``wait_frame`` (the
emulator's screencast long-poll route) hands out the newest one.

Encoding (PyAV, which bundles FFmpeg): H.264 in MPEG-TS segments of about
``segment_seconds`` each, cut as frames arrive and encoded on one worker thread, so
raw JPEGs are held only for the segment being filled.  Timestamps are kept as they
came: the video has a **variable frame rate** (each frame's presentation time is its
screencast time in milliseconds since the page's first frame, strictly increasing),
and the last picture is repeated once at the page's end so the video lasts as long
as the page.  The MP4 download is the same packets remuxed (no re-encode).

Memory is bounded per session (``max_bytes``: JPEGs waiting plus encoded video); a
session that reaches it stops recording and says so (``truncated``).  At most
``max_sessions`` recordings are kept; the oldest finished ones are dropped first.
"""

from __future__ import annotations

import io
import itertools
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from fractions import Fraction

import av

__all__ = [
    "FrameStore",
    "LatestFrame",
    "PageRecording",
    "RecordedPage",
    "ScreenFrame",
    "Segment",
    "SessionRecording",
    "encode_segment",
    "remux_mp4",
]

MS = Fraction(1, 1000)
DEFAULT_SEGMENT_SECONDS = 2.0
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
DEFAULT_MAX_SESSIONS = 64
#: How long the last picture of a page stays up when the page's end is not known.
LAST_FRAME_HOLD = 0.1
_STORE_NUMBERS = itertools.count(1)
log = logging.getLogger("bbnb.emulator")
#: No B-frames: decode order is presentation order, so timestamps need no shifting.
ENCODER_OPTIONS = {"preset": "veryfast", "crf": "30", "tune": "stillimage", "bf": "0"}


@dataclass(frozen=True, slots=True)
class ScreenFrame:
    """One screencast picture: JPEG bytes and when it was shown (epoch seconds)."""

    jpeg: bytes
    t: float


@dataclass(frozen=True, slots=True)
class LatestFrame:
    """The newest picture of a session, for live views: sequence number, page, JPEG, time."""

    seq: int
    page_id: str
    jpeg: bytes
    t: float


@dataclass(frozen=True, slots=True)
class Segment:
    """Encoded video (MPEG-TS) from ``start`` up to ``end`` (epoch seconds)."""

    start: float
    end: float
    data: bytes

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.end - self.start


@dataclass(frozen=True, slots=True)
class RecordedPage:
    """What a replay lists for one page: its number, address, and time span (epoch ms)."""

    page_id: str
    url: str
    start_ms: int
    end_ms: int
    segments: tuple[Segment, ...]


def _even(n: int) -> int:
    return max(2, n - n % 2)


def _decode_jpeg(data: bytes) -> av.VideoFrame:
    codec = av.CodecContext.create("mjpeg", "r")
    frames = codec.decode(av.Packet(data))
    if not frames:
        raise ValueError("a screencast frame is not a decodable JPEG")
    frame = frames[0]
    assert isinstance(frame, av.VideoFrame)
    return frame


def encode_segment(
    frames: list[ScreenFrame], *, origin: float, size: tuple[int, int], end: float | None = None
) -> bytes:
    """H.264 MPEG-TS of ``frames`` with pts = ms since ``origin``; ``end`` repeats the last picture.

    Pictures of another size are scaled to ``size`` (even width and height).  Frames
    that are not JPEG are skipped; a segment with no decodable frame raises ``ValueError``.
    """
    width, height = size
    out_buf = io.BytesIO()
    with av.open(out_buf, "w", format="mpegts") as out:
        stream = out.add_stream("libx264", options=ENCODER_OPTIONS)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.time_base = MS
        stream.codec_context.time_base = MS
        last_pts = -1
        last: av.VideoFrame | None = None
        for shot in frames:
            try:
                picture = _decode_jpeg(shot.jpeg)
                scaled = picture.reformat(width=width, height=height, format="yuv420p")
            except (av.FFmpegError, ValueError):
                continue
            last = scaled
            last_pts = _emit(out, stream, last, max(round((shot.t - origin) * 1000), last_pts + 1))
        if last is None:
            raise ValueError("no decodable JPEG frame in this segment")
        if end is not None and round((end - origin) * 1000) > last_pts + 1:
            _emit(out, stream, last, round((end - origin) * 1000) - 1)
        for packet in stream.encode(None):
            out.mux(packet)
    return out_buf.getvalue()


def _emit(
    out: av.container.OutputContainer, stream: av.VideoStream, frame: av.VideoFrame, pts: int
) -> int:
    frame.pts, frame.time_base = pts, MS
    for packet in stream.encode(frame):
        out.mux(packet)
    return pts


def remux_mp4(ts: bytes) -> bytes:
    """The packets of an MPEG-TS stream in an MP4 file (no re-encode)."""
    out_buf = io.BytesIO()
    with av.open(io.BytesIO(ts), "r") as source, av.open(out_buf, "w", format="mp4") as out:
        video_in = source.streams.video[0]
        video_out = out.add_stream_from_template(video_in)
        for packet in source.demux(video_in):
            if packet.dts is None:
                continue
            packet.stream = video_out
            out.mux(packet)
    return out_buf.getvalue()


@dataclass(slots=True, eq=False)
class PageRecording:
    """One page's frames being filled and segments encoded (guarded by its session's lock)."""

    page_id: str
    url: str
    origin: float
    size: tuple[int, int]
    pending: list[ScreenFrame] = field(default_factory=list)
    segments: list[Future[Segment]] = field(default_factory=list)
    last_t: float = 0.0
    end: float | None = None
    mp4: Future[bytes] | None = None
    #: The last picture, and where the segments handed to the encoder end.
    last_jpeg: bytes = b""
    covered_until: float = 0.0


class SessionRecording:
    """Every page of one session.  Writers call ``add_frame``; readers call ``pages``."""

    def __init__(
        self,
        session_id: str,
        submit: Callable[[Callable[[], Segment]], Future[Segment]],
        *,
        segment_seconds: float,
        max_bytes: int,
        record: bool = True,
    ) -> None:
        self.session_id = session_id
        #: False: frames feed live views only (``recordSession: false``); nothing is encoded.
        self.record = record
        self._submit = submit
        self._segment_seconds = segment_seconds
        self._max_bytes = max_bytes
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._latest: LatestFrame | None = None
        self._latest_by_page: dict[str, LatestFrame] = {}
        self._pages: dict[str, PageRecording] = {}
        self._page_ids: dict[str, str] = {}
        self._listeners: list[Callable[[], None]] = []
        self._bytes = 0
        self.frames = 0
        self.truncated = False
        self.finished_at: float | None = None

    def __repr__(self) -> str:
        return (
            f"SessionRecording({self.session_id!r}, pages={len(self._pages)}, "
            f"frames={self.frames}, bytes={self._bytes}, truncated={self.truncated})"
        )

    @property
    def bytes_held(self) -> int:
        """JPEG bytes waiting plus encoded video bytes."""
        return self._bytes

    def add_frame(self, target: str, jpeg: bytes, t: float, *, url: str = "") -> bool:
        """Record one picture of page ``target`` shown at ``t``; False if not kept.

        Not kept: the session's recording is finished, recording is off, it reached its
        byte budget (then ``truncated`` is set), or ``t`` is earlier than the page's last
        frame.  Every picture before ``finish`` still reaches live views (``wait_frame``).
        """
        with self._lock:
            if self.finished_at is not None:
                return False
            seq = 0 if self._latest is None else self._latest.seq + 1
            page_id = self._page_ids.setdefault(target, str(len(self._page_ids)))
            page = self._pages.get(target)
            self._latest = LatestFrame(seq, page_id, jpeg, t)
            self._latest_by_page[page_id] = self._latest
            self._changed.notify_all()
            self._tell_listeners()
            if not self.record:
                return False
            if self.truncated:
                return False
            if self._bytes + len(jpeg) > self._max_bytes:
                self.truncated = True
                return False
            if page is None:
                page = self._open_page(target, jpeg, t, url)
            elif t < page.last_t or page.end is not None:
                return False
            if url:
                page.url = url
            if page.pending and t - page.pending[0].t >= self._segment_seconds:
                self._cut(page, end=t)
            page.pending.append(ScreenFrame(jpeg, t))
            page.last_t, page.last_jpeg = t, jpeg
            self._bytes += len(jpeg)
            self.frames += 1
            return True

    def lacks_picture(self, target: str) -> bool:
        """True when page ``target`` would be recorded but has kept no picture yet."""
        with self._lock:
            return (
                self.record
                and self.finished_at is None
                and not self.truncated
                and target not in self._pages
            )

    def _open_page(self, target: str, jpeg: bytes, t: float, url: str) -> PageRecording:
        width, height = 1280, 720
        try:
            first = _decode_jpeg(jpeg)
            width, height = _even(first.width), _even(first.height)
        except (av.FFmpegError, ValueError):
            pass
        page = PageRecording(self._page_ids[target], url, t, (width, height), last_t=t)
        self._pages[target] = page
        return page

    def _cut(self, page: PageRecording, *, end: float) -> None:
        """Hand the pending frames to the encoder as one segment ending at ``end``."""
        frames, page.pending = page.pending, []
        page.covered_until = end
        held = sum(len(f.jpeg) for f in frames)
        start, origin, size = frames[0].t, page.origin, page.size
        last = end if page.end is not None else None

        def encode() -> Segment:
            data = encode_segment(frames, origin=origin, size=size, end=last)
            with self._lock:
                self._bytes += len(data) - held
            return Segment(start, end, data)

        page.segments.append(self._submit(encode))

    def newest(self, after: int, page_id: str | None = None) -> LatestFrame | None:
        """The newest picture (of page ``page_id``, or of any) if its ``seq > after``, else None."""
        with self._lock:
            return self._newest(after, page_id)

    def _newest(self, after: int, page_id: str | None) -> LatestFrame | None:
        latest = self._latest if page_id is None else self._latest_by_page.get(page_id)
        return latest if latest is not None and latest.seq > after else None

    def wait_frame(
        self, after: int, timeout: float, page_id: str | None = None
    ) -> LatestFrame | None:
        """Like ``newest``, waiting up to ``timeout`` s for one (blocking; for threads).

        Returns at once once the recording is finished and nothing newer is left.
        """
        with self._changed:
            self._changed.wait_for(
                lambda: self._newest(after, page_id) is not None or self.finished_at is not None,
                timeout,
            )
            return self._newest(after, page_id)

    def subscribe(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener`` (from the feeding thread) on every new picture and at finish.

        Returns the function that unsubscribes.  Listeners must be quick and must not
        raise (e.g. ``loop.call_soon_threadsafe(event.set)``).
        """
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def _tell_listeners(self) -> None:
        for listener in list(self._listeners):
            try:
                listener()
            except Exception:  # a listener on a closed event loop, say
                log.debug("a recording listener failed", exc_info=True)

    def _close_page(self, page: PageRecording, t: float) -> None:
        """Encode what is left of ``page``, its last picture lasting until ``t``."""
        page.end = max(t, page.last_t)
        if not page.pending and page.segments and page.end - page.covered_until > 0.01:
            # Already flushed for a live read: the last picture still has to last to the end.
            page.pending = [ScreenFrame(page.last_jpeg, page.covered_until)]
        if page.pending:
            self._cut(page, end=page.end)

    def end_page(self, target: str, t: float) -> None:
        """Page ``target`` closed at ``t``: encode what is left of it; later frames are ignored."""
        with self._lock:
            page = self._pages.get(target)
            if page is not None and page.end is None:
                self._close_page(page, t)

    def finish(self, t: float) -> None:
        """The session ended at ``t``: close every page; later frames are ignored."""
        with self._lock:
            if self.finished_at is not None:
                return
            self.finished_at = t
            self._changed.notify_all()
            self._tell_listeners()
            for page in self._pages.values():
                if page.end is None:
                    self._close_page(page, t)

    def flush(self) -> None:
        """Encode the frames of pages still open, so a live session can be replayed so far."""
        with self._lock:
            for page in self._pages.values():
                if page.end is None and page.pending:
                    self._cut(page, end=page.pending[-1].t + LAST_FRAME_HOLD)

    def pages(self) -> list[RecordedPage]:
        """Every page with its encoded segments (waits for the encoder; call off the loop)."""
        self.flush()
        with self._lock:
            pages = list(self._pages.values())
        out = []
        for page in pages:
            segments = tuple(s for s in map(_done, list(page.segments)) if s is not None)
            if not segments:
                continue
            end = page.end if page.end is not None else segments[-1].end
            out.append(
                RecordedPage(
                    page.page_id, page.url, round(page.origin * 1000), round(end * 1000), segments
                )
            )
        return out

    def page(self, page_id: str) -> RecordedPage | None:
        """One page by its number, or None."""
        return next((p for p in self.pages() if p.page_id == page_id), None)

    def request_mp4(
        self, page_id: str, submit: Callable[[Callable[[], bytes]], Future[bytes]]
    ) -> None:
        """Start (or restart, if it failed) assembling page ``page_id``'s MP4."""
        with self._lock:
            page = next((p for p in self._pages.values() if p.page_id == page_id), None)
            if page is None:
                return
            if page.mp4 is not None and not (page.mp4.done() and page.mp4.exception()):
                return
            segments = list(page.segments)

        def assemble() -> bytes:
            done = [s for s in map(_done, segments) if s is not None]
            if not done:
                raise ValueError(f"page {page_id} has no decodable picture to assemble")
            return remux_mp4(b"".join(s.data for s in done))

        future = submit(assemble)
        with self._lock:
            page.mp4 = future

    def mp4_state(self, page_id: str) -> Future[bytes] | None:
        """The MP4 assembly of a page, if requested."""
        with self._lock:
            page = next((p for p in self._pages.values() if p.page_id == page_id), None)
            return None if page is None else page.mp4


def _done(future: Future[Segment]) -> Segment | None:
    """A segment once encoded; None if it could not be (no decodable picture, encoder error)."""
    try:
        return future.result()
    except ValueError:
        return None
    except Exception:
        log.exception("a recording segment could not be encoded; it is left out")
        return None


class FrameStore:
    """The recordings of every session, with one encoder thread; ``close()`` ends it."""

    def __init__(
        self,
        *,
        segment_seconds: float = DEFAULT_SEGMENT_SECONDS,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_sessions: int = DEFAULT_MAX_SESSIONS,
    ) -> None:
        if segment_seconds <= 0 or max_bytes <= 0 or max_sessions <= 0:
            raise ValueError(
                "segment_seconds, max_bytes and max_sessions must be > 0 "
                f"(got {segment_seconds!r}, {max_bytes!r}, {max_sessions!r})"
            )
        self.segment_seconds = segment_seconds
        self.max_bytes = max_bytes
        self.max_sessions = max_sessions
        self._lock = threading.Lock()
        self._sessions: OrderedDict[str, SessionRecording] = OrderedDict()
        self._executor: ThreadPoolExecutor | None = None
        self._closed = False
        #: The encoder thread's name starts with this (one thread per store, made on first use).
        self.thread_name = f"bbnb-recording-{next(_STORE_NUMBERS)}"

    def __repr__(self) -> str:
        return (
            f"FrameStore(sessions={len(self._sessions)}, segment_seconds={self.segment_seconds:g})"
        )

    def _pool(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._closed:
                raise RuntimeError("this FrameStore is closed")
            if self._executor is None:
                self._executor = ThreadPoolExecutor(1, thread_name_prefix=self.thread_name)
            return self._executor

    def submit_segment(self, job: Callable[[], Segment]) -> Future[Segment]:
        """Run an encoding job on the encoder thread."""
        return self._pool().submit(job)

    def submit_mp4(self, job: Callable[[], bytes]) -> Future[bytes]:
        """Run an MP4 assembly on the encoder thread."""
        return self._pool().submit(job)

    def start(self, session_id: str, *, record: bool = True) -> SessionRecording:
        """The recording of ``session_id``, made if new (dropping the oldest finished ones).

        ``record=False`` (``recordSession: false``) keeps only the newest picture, for
        live views.
        """
        with self._lock:
            found = self._sessions.get(session_id)
            if found is not None:
                return found
            recording = SessionRecording(
                session_id,
                self.submit_segment,
                segment_seconds=self.segment_seconds,
                max_bytes=self.max_bytes,
                record=record,
            )
            self._sessions[session_id] = recording
            while len(self._sessions) > self.max_sessions:
                oldest = next(
                    (k for k, r in self._sessions.items() if r.finished_at is not None), None
                )
                if oldest is None:
                    break
                del self._sessions[oldest]
            return recording

    def recording(self, session_id: str) -> SessionRecording | None:
        """The recording of ``session_id``, or None if it has none."""
        with self._lock:
            return self._sessions.get(session_id)

    def drop(self, session_id: str) -> None:
        """Forget a session's recording."""
        with self._lock:
            self._sessions.pop(session_id, None)

    def close(self) -> None:
        """Stop the encoder thread (waiting for jobs in flight) and forget every recording."""
        with self._lock:
            self._closed = True
            executor, self._executor = self._executor, None
            self._sessions.clear()
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)
