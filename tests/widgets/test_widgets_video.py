"""Replay decoding: any stream offset, fragmented MP4 as well as MPEG-TS, clear errors."""

from __future__ import annotations

import io
from fractions import Fraction

import av
import numpy as np
import pytest

from bbnb.widgets._video import decode_video
from tests.synthetic_frames import coded_rgb, read_code

START = 1_767_225_600.0


def _video(fmt: str, times: list[float], options: dict[str, str] | None = None) -> bytes:
    """Coded pictures 1..n at ``times`` (seconds, stream clock) in container ``fmt``."""
    out_buf = io.BytesIO()
    with av.open(out_buf, "w", format=fmt, options=options or {}) as out:
        stream = out.add_stream("libx264", options={"bf": "0", "preset": "ultrafast"})
        stream.width, stream.height, stream.pix_fmt = 160, 96, "yuv420p"
        stream.time_base = stream.codec_context.time_base = Fraction(1, 1000)
        for i, t in enumerate(times):
            frame = av.VideoFrame.from_ndarray(coded_rgb(i + 1), format="rgb24")
            frame = frame.reformat(format="yuv420p")
            frame.pts, frame.time_base = round(t * 1000), Fraction(1, 1000)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return out_buf.getvalue()


def _codes(jpegs: list[bytes]) -> list[int]:
    codec = av.CodecContext.create("mjpeg", "r")
    return [
        read_code(np.asarray(codec.decode(av.Packet(j))[0].to_ndarray(format="rgb24")))
        for j in jpegs
    ]


@pytest.mark.parametrize(
    ("fmt", "options"),
    [("mpegts", None), ("mp4", {"movflags": "frag_keyframe+empty_moov"})],
    ids=["mpeg-ts", "fragmented-mp4"],
)
def test_frames_are_timed_from_the_page_start_whatever_the_stream_offset(
    fmt: str, options: dict[str, str] | None
) -> None:
    """A stream whose clock starts at 10 s still gives frames at start + 0, 0.5, 1.25 s."""
    data = _video(fmt, [10.0, 10.5, 11.25], options)
    frames = decode_video(data, start=START, page_id="3")
    assert [f.t - START for f in frames] == pytest.approx([0.0, 0.5, 1.25], abs=0.002)
    assert {f.page_id for f in frames} == {"3"}
    assert _codes([f.jpeg for f in frames]) == [1, 2, 3]


def test_max_frames_and_width() -> None:
    """max_frames stops early; max_width scales pictures down (even sizes)."""
    frames = decode_video(
        _video("mpegts", [0, 0.1, 0.2]), start=0, page_id="0", max_frames=2, max_width=81
    )
    assert len(frames) == 2
    with av.open(io.BytesIO(frames[0].jpeg)) as picture:
        stream = picture.streams.video[0]
        assert (stream.width, stream.height) == (80, 48)


def test_garbage_is_a_clear_error() -> None:
    """Bytes that are not a video: ValueError naming the page."""
    with pytest.raises(ValueError, match="page 2 cannot be decoded"):
        decode_video(b"\x00not a video" * 50, start=0, page_id="2")
