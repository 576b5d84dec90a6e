"""The recording encoder: screencast frames in, timestamped H.264 segments and MP4 out."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Iterator

import av
import pytest

from bbnb.emulator.recording import FrameStore, ScreenFrame, encode_segment, remux_mp4
from tests.synthetic_frames import coded_jpeg, read_code

T0 = 1_767_225_600.0
Decoded = list[tuple[float, int]]


@pytest.fixture
def decode() -> Callable[[bytes], Decoded]:
    """Decode a video (MPEG-TS or MP4) into (seconds, drawn number) per frame."""

    def run(data: bytes) -> Decoded:
        with av.open(io.BytesIO(data)) as container:
            return [
                (round(float(frame.time), 3), read_code(frame.to_ndarray(format="rgb24")))
                for frame in container.decode(video=0)
            ]

    return run


@pytest.fixture
def store() -> Iterator[FrameStore]:
    """A frame store with 1-second segments, closed after the test."""
    frames = FrameStore(segment_seconds=1.0)
    yield frames
    frames.close()


def test_segment_keeps_irregular_timestamps(decode: Callable[[bytes], Decoded]) -> None:
    """Variable frame rate: each decoded frame has its screencast time (ms) and picture."""
    times = [0.0, 0.05, 0.4, 0.41, 1.3]
    frames = [ScreenFrame(coded_jpeg(i + 1), T0 + t) for i, t in enumerate(times)]
    data = encode_segment(frames, origin=T0, size=(160, 96))
    assert decode(data) == [(t, i + 1) for i, t in enumerate(times)]


def test_segment_repeats_the_last_picture_until_the_end(decode: Callable[[bytes], Decoded]) -> None:
    """With end= the last picture shows again just before the end, so the video lasts that long."""
    frames = [ScreenFrame(coded_jpeg(7), T0), ScreenFrame(coded_jpeg(9), T0 + 0.5)]
    data = encode_segment(frames, origin=T0, size=(160, 96), end=T0 + 3.0)
    assert decode(data) == [(0.0, 7), (0.5, 9), (2.999, 9)]


def test_other_sizes_are_scaled_and_bad_jpegs_skipped(decode: Callable[[bytes], Decoded]) -> None:
    """A picture of another size is scaled to the page's size; a broken JPEG is left out."""
    frames = [
        ScreenFrame(coded_jpeg(3), T0),
        ScreenFrame(b"not a jpeg", T0 + 0.1),
        ScreenFrame(coded_jpeg(5, 320, 192), T0 + 0.2),
    ]
    data = encode_segment(frames, origin=T0, size=(160, 96))
    assert decode(data) == [(0.0, 3), (0.2, 5)]
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.name, stream.width, stream.height) == ("h264", 160, 96)


def test_segment_of_only_broken_frames_is_an_error() -> None:
    """No decodable picture: ValueError, not an empty video."""
    with pytest.raises(ValueError, match="no decodable JPEG"):
        encode_segment([ScreenFrame(b"xx", T0)], origin=T0, size=(160, 96))


def test_pages_segments_and_mp4_keep_every_timestamp(
    store: FrameStore, decode: Callable[[bytes], Decoded]
) -> None:
    """Two tabs become pages 0 and 1, cut into ~1 s segments whose joined video and MP4
    show every frame at its time, and the last picture at the session's end."""
    recording = store.start("s1")
    times = [0.0, 0.3, 0.9, 1.2, 1.25, 2.6, 3.0]
    for i, t in enumerate(times):
        assert recording.add_frame("TARGET-A", coded_jpeg(i), T0 + t, url="http://a.test/")
    assert recording.add_frame("TARGET-B", coded_jpeg(200), T0 + 1.0, url="http://b.test/")
    recording.finish(T0 + 4.0)
    pages = recording.pages()
    assert [(p.page_id, p.url, p.start_ms, p.end_ms) for p in pages] == [
        ("0", "http://a.test/", 1_767_225_600_000, 1_767_225_604_000),
        ("1", "http://b.test/", 1_767_225_601_000, 1_767_225_604_000),
    ]
    first = pages[0]
    assert [(round(s.start - T0, 3), round(s.end - T0, 3)) for s in first.segments] == [
        (0.0, 1.2),
        (1.2, 2.6),
        (2.6, 4.0),
    ]
    joined = b"".join(s.data for s in first.segments)
    expected = [(t, i) for i, t in enumerate(times)] + [(3.999, 6)]
    assert decode(joined) == expected
    assert decode(remux_mp4(joined)) == expected
    assert decode(b"".join(s.data for s in pages[1].segments)) == [(0.0, 200), (2.999, 200)]


def test_budget_truncates_the_recording(store: FrameStore) -> None:
    """Past max_bytes a session stops recording and says so; memory stays bounded."""
    small = FrameStore(max_bytes=3 * len(coded_jpeg(1)) + 10)
    try:
        recording = small.start("s")
        kept = [recording.add_frame("T", coded_jpeg(1), T0 + i * 0.1) for i in range(6)]
        assert kept == [True, True, True, False, False, False]
        assert recording.truncated
        assert recording.bytes_held <= small.max_bytes
    finally:
        small.close()


def test_late_and_out_of_order_frames_are_not_kept(store: FrameStore) -> None:
    """A frame older than the page's last one, or after finish(), is refused."""
    recording = store.start("s")
    assert recording.add_frame("T", coded_jpeg(1), T0 + 1)
    assert not recording.add_frame("T", coded_jpeg(2), T0 + 0.5)
    recording.finish(T0 + 2)
    assert not recording.add_frame("T", coded_jpeg(3), T0 + 3)
    assert recording.frames == 1


def test_live_recording_can_be_read_so_far(
    store: FrameStore, decode: Callable[[bytes], Decoded]
) -> None:
    """pages() on a session still recording encodes what it has; later frames still record."""
    recording = store.start("s")
    recording.add_frame("T", coded_jpeg(1), T0)
    recording.add_frame("T", coded_jpeg(2), T0 + 0.2)
    so_far = recording.pages()
    assert decode(b"".join(s.data for s in so_far[0].segments)) == [(0.0, 1), (0.2, 2)]
    assert recording.add_frame("T", coded_jpeg(3), T0 + 0.5)
    recording.flush()
    recording.finish(T0 + 2.0)
    page = recording.pages()[0]
    assert decode(b"".join(s.data for s in page.segments)) == [
        (0.0, 1),
        (0.2, 2),
        (0.5, 3),
        (0.6, 3),
        (1.999, 3),
    ]
    assert page.segments[-1].end == T0 + 2.0


def test_a_closed_page_takes_no_more_frames(store: FrameStore) -> None:
    """end_page() closes one tab; its later frames are refused while other tabs go on."""
    recording = store.start("s")
    recording.add_frame("A", coded_jpeg(1), T0)
    recording.add_frame("B", coded_jpeg(2), T0)
    recording.end_page("A", T0 + 1)
    assert not recording.add_frame("A", coded_jpeg(3), T0 + 2)
    assert recording.add_frame("B", coded_jpeg(4), T0 + 2)
    assert recording.pages()[0].end_ms == round((T0 + 1) * 1000)


def test_store_keeps_at_most_max_sessions_dropping_finished_first() -> None:
    """The oldest finished recording is dropped first; running ones are kept."""
    frames = FrameStore(max_sessions=2)
    try:
        first, second = frames.start("a"), frames.start("b")
        first.finish(T0)
        frames.start("c")
        assert frames.recording("a") is None
        assert frames.recording("b") is second and frames.recording("c") is not None
    finally:
        frames.close()


def test_close_ends_the_encoder_thread() -> None:
    """close() waits for the encoder and leaves no thread behind; later use is refused."""
    frames = FrameStore(segment_seconds=0.1)
    recording = frames.start("s")
    for i in range(5):
        recording.add_frame("T", coded_jpeg(i), T0 + i * 0.2)
    mine = f"{frames.thread_name}_"
    assert any(t.name.startswith(mine) for t in threading.enumerate())
    frames.close()
    assert not any(t.name.startswith(mine) for t in threading.enumerate())
    with pytest.raises(RuntimeError, match="closed"):
        frames.submit_mp4(lambda: b"")


@pytest.mark.parametrize(
    "kwargs",
    [{"segment_seconds": 0}, {"max_bytes": -1}, {"max_sessions": 0}],
    ids=["segment", "bytes", "sessions"],
)
def test_store_settings_must_be_positive(kwargs: dict[str, float]) -> None:
    """Nonsense limits are refused with the values given."""
    with pytest.raises(ValueError, match="must be > 0"):
        FrameStore(**kwargs)  # type: ignore[arg-type]
