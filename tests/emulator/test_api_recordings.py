"""Replay and recording-download routes of the emulator, judged by the official SDK.

Frames are fed straight into the emulator's frame store (as the real-browser code
will), then read back through bbnb's client and through the ``browserbase`` SDK with
strict response validation, and decoded with PyAV.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import pytest
from browserbase import Browserbase, ConflictError, NotFoundError, UnprocessableEntityError
from starlette.testclient import TestClient

from bbnb import AsyncClient, Client, ManualClock
from bbnb._exceptions import APIStatusError
from bbnb.emulator import Emulator
from bbnb.models import HlsPlaylist
from tests.emulator.contract import OpenAPI
from tests.synthetic_frames import coded_jpeg, read_code

TIMES = [0.0, 0.4, 1.1, 2.5, 3.2]


@pytest.fixture
def sdk(emulator: Emulator) -> Iterator[Browserbase]:
    """The official SDK on the in-process emulator, validating every answer strictly."""
    with (
        TestClient(emulator.app, base_url="http://emulator.local") as http,
        Browserbase(
            api_key=emulator.config.api_key,
            base_url="http://emulator.local",
            http_client=http,
            max_retries=0,
            _strict_response_validation=True,
        ) as client,
    ):
        yield client


@pytest.fixture
def recorded(emulator: Emulator, emulator_client: Client, clock: ManualClock) -> str:
    """A session with one recorded page (five coded frames), still running."""
    session = emulator_client.sessions.create()
    recording = emulator.recordings.start(session.id)
    start = clock.now()
    for i, t in enumerate(TIMES):
        recording.add_frame("TAB", coded_jpeg(i + 1), start + t, url="http://shop.test/")
    clock.advance(4.0)
    return session.id


def _decoded(data: bytes) -> list[tuple[float, int]]:
    with av.open(io.BytesIO(data)) as container:
        return [
            (round(float(f.time), 3), read_code(f.to_ndarray(format="rgb24")))
            for f in container.decode(video=0)
        ]


def test_replays_list_pages_with_playlist_urls(
    sdk: Browserbase, emulator_client: Client, recorded: str, clock: ManualClock
) -> None:
    """The SDK validates the replay list; each page's url is its playlist and spans its frames."""
    emulator_client.sessions.release(recorded)
    replay = sdk.sessions.replays.retrieve(recorded)
    assert replay.page_count == 1
    page = replay.pages[0]
    assert page.url == f"http://emulator.local/v1/sessions/{recorded}/replays/0"
    assert page.end_time_ms - page.start_time_ms == 4000
    assert emulator_client.sessions.replays(recorded).pages[0].page_id == "0"


def test_page_video_decodes_to_the_recorded_frames(
    sdk: Browserbase, emulator_client: Client, recorded: str
) -> None:
    """The playlist's segments, fetched by bbnb and joined, decode to every frame at its time."""
    emulator_client.sessions.release(recorded)
    text = sdk.sessions.replays.retrieve_page("0", id=recorded).text()
    playlist = HlsPlaylist.parse(text)
    assert playlist.duration == pytest.approx(4.0, abs=0.01)
    assert all(s.uri.startswith(f"/media/recordings/{recorded}/0/") for s in playlist.segments)
    video = emulator_client.sessions.replays.page_video(recorded, "0")
    assert _decoded(video) == [(t, i + 1) for i, t in enumerate(TIMES)] + [(3.999, 5)]


def test_media_urls_need_a_valid_signature(
    emulator: Emulator, emulator_client: Client, recorded: str
) -> None:
    """A segment URL without, or with a forged, signature is refused with 403 and the error body."""
    playlist = emulator_client.sessions.replays.playlist(recorded, "0")
    good = playlist.segments[0].uri
    with TestClient(emulator.app, base_url="http://emulator.local") as plain:
        assert plain.get(good).status_code == 200
        unsigned = plain.get(good.split("?")[0])
        forged = plain.get(good[:-4] + "0000")
    assert unsigned.status_code == forged.status_code == 403
    assert forged.json()["statusCode"] == 403 and "signature" in forged.json()["message"]


@pytest.mark.parametrize(
    ("page", "status"),
    [("abc", 400), ("1234", 400), ("7", 404)],
    ids=["not-a-number", "too-long", "no-such-page"],
)
def test_bad_page_ids(emulator: Emulator, recorded: str, page: str, status: int) -> None:
    """A page id that is not a number is a 400; an unknown page a 404; both in Browserbase's body."""
    with TestClient(
        emulator.app,
        base_url="http://emulator.local",
        headers={"X-BB-API-Key": emulator.config.api_key},
    ) as api:
        answer = api.get(f"/v1/sessions/{recorded}/replays/{page}")
    assert answer.status_code == status
    assert answer.json()["statusCode"] == status


def test_recording_downloads_wait_for_the_end(
    sdk: Browserbase, emulator: Emulator, emulator_client: Client, recorded: str, tmp_path: Path
) -> None:
    """409 while the session runs; after release POST answers PENDING and fetch saves an MP4
    with the recorded timestamps; the SDK validates the COMPLETED listing."""
    with pytest.raises(ConflictError, match="has not ended"):
        sdk.sessions.recording.downloads.create(recorded)
    emulator_client.sessions.release(recorded)
    assert sdk.sessions.recording.downloads.list(recorded).downloads[0].status == "NOT_REQUESTED"
    created = sdk.sessions.recording.downloads.create(recorded)
    assert [(d.page_id, d.status) for d in created.downloads] == [("0", "PENDING")]
    assembly = emulator.recordings.recording(recorded).mp4_state("0")  # type: ignore[union-attr]
    assert assembly is not None
    assembly.result(timeout=60)
    saved = emulator_client.sessions.recording_downloads.fetch(recorded, to=tmp_path, poll=0.5)
    assert saved == [tmp_path / f"{recorded}-page0.mp4"]
    assert _decoded(saved[0].read_bytes()) == [(t, i + 1) for i, t in enumerate(TIMES)] + [
        (3.999, 5)
    ]
    listed = sdk.sessions.recording.downloads.list(recorded).downloads[0]
    assert listed.status == "COMPLETED" and listed.completed_at is not None
    assert listed.download_url is not None and "/media/recordings/" in listed.download_url


def test_record_session_false_is_unprocessable(sdk: Browserbase, emulator_client: Client) -> None:
    """A session made with recordSession: false answers 422 for recording downloads."""
    session = emulator_client.sessions.create(browser_settings={"record_session": False})
    emulator_client.sessions.release(session.id)
    with pytest.raises(UnprocessableEntityError, match="recordSession: false"):
        sdk.sessions.recording.downloads.list(session.id)


def test_unrecorded_and_unknown_sessions(sdk: Browserbase, emulator_client: Client) -> None:
    """A session with no frames has an empty replay and no downloads (404); an unknown id 404s."""
    session = emulator_client.sessions.create()
    emulator_client.sessions.release(session.id)
    assert sdk.sessions.replays.retrieve(session.id).page_count == 0
    with pytest.raises(NotFoundError, match="has no recording"):
        sdk.sessions.recording.downloads.create(session.id)
    with pytest.raises(NotFoundError):
        sdk.sessions.replays.retrieve("00000000-0000-4000-8000-000000000000")


def test_screencast_long_poll(emulator: Emulator, emulator_client: Client) -> None:
    """The newest picture comes with its sequence and page; none newer is None; ended is 410."""
    session = emulator_client.sessions.create(browser_settings={"record_session": False})
    assert emulator_client.sessions.screencast(session.id, timeout=0) is None
    feed = emulator.recordings.start(session.id, record=False)
    feed.add_frame("TAB", coded_jpeg(1), 1.0)
    feed.add_frame("OTHER", coded_jpeg(2), 2.0)
    shot = emulator_client.sessions.screencast(session.id, timeout=1)
    assert shot is not None and (shot.seq, shot.page_id, shot.t) == (1, "1", 2.0)
    assert read_code(_picture(shot.jpeg)) == 2
    assert emulator_client.sessions.screencast(session.id, after=1, timeout=0) is None
    tab0 = emulator_client.sessions.screencast(session.id, timeout=0, page_id="0")
    assert tab0 is not None and (tab0.seq, tab0.page_id) == (0, "0")
    emulator_client.sessions.release(session.id)
    with pytest.raises(APIStatusError, match="has ended") as raised:
        emulator_client.sessions.screencast(session.id, after=1, timeout=1)
    assert raised.value.status_code == 410
    assert feed.pages() == []  # recordSession false: live pictures only, nothing encoded


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("after=-2", "querystring/after"),
        ("timeoutMs=20000", "querystring/timeoutMs"),
        ("pageId=tab", "pageId must be a page number"),
    ],
    ids=["after", "timeout", "page"],
)
def test_screencast_bad_query(emulator: Emulator, recorded: str, query: str, message: str) -> None:
    """Out-of-range long-poll parameters are a 400 naming the parameter."""
    with TestClient(
        emulator.app,
        base_url="http://emulator.local",
        headers={"X-BB-API-Key": emulator.config.api_key},
    ) as api:
        answer = api.get(f"/v1/sessions/{recorded}/screencast?{query}")
    assert answer.status_code == 400 and message in answer.json()["message"]


def _picture(jpeg: bytes) -> Any:
    """A JPEG decoded to an RGB array."""
    codec = av.CodecContext.create("mjpeg", "r")
    return codec.decode(av.Packet(jpeg))[0].to_ndarray(format="rgb24")


def test_bodies_match_browserbases_openapi(
    emulator: Emulator, emulator_client: Client, recorded: str, openapi: OpenAPI
) -> None:
    """Replay, download and error bodies validate against Browserbase's own OpenAPI schemas."""
    with TestClient(
        emulator.app,
        base_url="http://emulator.local",
        headers={"X-BB-API-Key": emulator.config.api_key},
    ) as api:
        conflict = api.post(f"/v1/sessions/{recorded}/recording/downloads")
        openapi.check("Sessions_createRecordingDownloads", 409, conflict.json())
        emulator_client.sessions.release(recorded)
        replay = api.get(f"/v1/sessions/{recorded}/replays")
        openapi.check("Sessions_getReplay", 200, replay.json())
        created = api.post(f"/v1/sessions/{recorded}/recording/downloads")
        assert created.status_code == 202
        openapi.check("Sessions_createRecordingDownloads", 202, created.json())
        listed = api.get(f"/v1/sessions/{recorded}/recording/downloads")
        openapi.check("Sessions_listRecordingDownloads", 200, listed.json())
        playlist = api.get(f"/v1/sessions/{recorded}/replays/0")
    assert playlist.headers["content-type"].startswith("application/vnd.apple.mpegurl")
    assert conflict.status_code == 409


@pytest.mark.e2e
def test_replay_and_download_over_real_sockets(
    emulator: Emulator, emulator_server: Any, clock: ManualClock, tmp_path: Path
) -> None:
    """Through uvicorn on 127.0.0.1: the playlist's signed segment URLs and the MP4 URL resolve."""
    client = Client(api_key=emulator.config.api_key, base_url=emulator_server.base_url, clock=clock)
    try:
        session = client.sessions.create()
        recording = emulator.recordings.start(session.id)
        start = clock.now()
        for i, t in enumerate(TIMES):
            recording.add_frame("TAB", coded_jpeg(i + 1), start + t)
        clock.advance(4.0)
        client.sessions.release(session.id)
        replay = client.sessions.replays(session.id)
        assert replay.pages[0].url.startswith(emulator_server.base_url)
        video = client.sessions.replays.page_video(session.id, "0")
        assert [c for _, c in _decoded(video)] == [1, 2, 3, 4, 5, 5]
        client.sessions.recording.downloads.create(session.id)
        assembly = recording.mp4_state("0")
        assert assembly is not None
        assembly.result(timeout=60)
        saved = client.sessions.recording.downloads.fetch(session.id, to=tmp_path, poll=0.5)
        assert [c for _, c in _decoded(saved[0].read_bytes())] == [1, 2, 3, 4, 5, 5]
    finally:
        client.close()


def test_many_long_polls_wait_without_threads(emulator: Emulator, clock: ManualClock) -> None:
    """Twelve viewers waiting at once (more than the default thread pool) all get the next picture."""
    viewers = 12

    async def main() -> list[int]:
        async with AsyncClient(
            api_key=emulator.config.api_key,
            base_url="http://emulator.local",
            transport=emulator.transport(),
            clock=clock,
        ) as client:
            session = await client.sessions.create()
            recording = emulator.recordings.start(session.id)
            polls = [
                asyncio.create_task(client.sessions.screencast(session.id, timeout=10))
                for _ in range(viewers)
            ]
            for _ in range(10_000):  # let every request reach its wait
                if len(recording._listeners) == viewers:
                    break
                await asyncio.sleep(0)
            assert len(recording._listeners) == viewers
            recording.add_frame("TAB", coded_jpeg(8), 1.0)
            shots = await asyncio.wait_for(asyncio.gather(*polls), 5)
            return [shot.seq for shot in shots if shot is not None]

    assert asyncio.run(main()) == [0] * viewers
