"""Decoding replay videos into timestamped pictures (PyAV), for the Replay widget.

A replay page's video (MPEG-TS segments joined, or an MP4) is decoded frame by frame;
each frame is re-encoded as a small JPEG (what ``ipywidgets.Image`` shows) and
stamped with its time: the page's start (from the replays API) plus the frame's
presentation time since the first frame, so an offset in the stream's own clock
does not matter.  ``max_width`` scales large pictures down to keep memory small.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from fractions import Fraction

import av

__all__ = ["ReplayFrame", "decode_video", "to_jpeg"]


@dataclass(frozen=True, slots=True)
class ReplayFrame:
    """One recorded picture: when it was shown (epoch seconds), on which page, as JPEG."""

    t: float
    page_id: str
    jpeg: bytes

    def __repr__(self) -> str:
        return f"ReplayFrame(t={self.t:.3f}, page_id={self.page_id!r}, {len(self.jpeg)} bytes)"


def to_jpeg(frame: av.VideoFrame, max_width: int | None = None) -> bytes:
    """``frame`` as JPEG bytes, scaled down to ``max_width`` if wider (even sizes)."""
    width, height = frame.width, frame.height
    if max_width is not None and width > max_width:
        height = max(2, round(height * max_width / width) // 2 * 2)
        width = max_width - max_width % 2
    codec = av.CodecContext.create("mjpeg", "w")
    codec.width, codec.height = width, height
    codec.pix_fmt = "yuvj420p"
    codec.time_base = Fraction(1, 25)
    picture = frame.reformat(width=width, height=height, format="yuvj420p")
    picture.pts = None
    packets = [*codec.encode(picture), *codec.encode(None)]
    return b"".join(bytes(packet) for packet in packets)


def decode_video(
    data: bytes,
    *,
    start: float,
    page_id: str,
    max_frames: int | None = None,
    max_width: int | None = 960,
) -> list[ReplayFrame]:
    """Every frame of ``data`` as a ``ReplayFrame`` timed from ``start`` (epoch seconds).

    ``ValueError`` when ``data`` is not a video PyAV can read.
    """
    frames: list[ReplayFrame] = []
    try:
        with av.open(io.BytesIO(data), "r") as container:
            if not container.streams.video:
                raise ValueError("the replay has no video stream")
            first: float | None = None
            for frame in container.decode(video=0):
                if frame.time is None:
                    continue
                first = frame.time if first is None else first
                offset = max(0.0, frame.time - first)
                frames.append(
                    ReplayFrame(round(start + offset, 3), page_id, to_jpeg(frame, max_width))
                )
                if max_frames is not None and len(frames) >= max_frames:
                    break
    except av.FFmpegError as error:
        raise ValueError(f"the replay video of page {page_id} cannot be decoded: {error}") from None
    return frames
