"""Watching a session: debug, logs, downloads, uploads, replays, recording downloads, contexts.

Each call is made twice against the same scripted server: once by the official
``browserbase`` SDK (strict response validation) and once by bbnb.  Response bodies
are built through the SDK's own pydantic models, so a shape bbnb expects but the SDK
does not know fails; requests are compared with what the SDK sends.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from browserbase import Browserbase
from browserbase.types import (
    Context,
    ContextCreateResponse,
    ContextUpdateResponse,
    SessionLiveURLs,
)
from browserbase.types.sessions import ReplayRetrieveResponse, SessionLog, UploadCreateResponse
from browserbase.types.sessions.recording import DownloadListResponse, RecordingDownload

from bbnb import ManualClock
from bbnb._exceptions import NotFoundError, WaitTimeoutError
from bbnb.client._client import AsyncClient, Client
from bbnb.models import HlsPlaylist, HlsSegment

from .conftest import API_KEY, FakeAPI, error_reply, reply

SID = "3f2a5c1e-0000-4000-8000-000000000001"
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def wire(model: Any) -> Any:
    """An SDK model as the JSON the API sends."""
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


LIVE = SessionLiveURLs.model_validate(
    {
        "debuggerFullscreenUrl": "https://live.test/full?id=1",
        "debuggerUrl": "https://live.test/dbg?id=1",
        "wsUrl": "wss://live.test/ws",
        "pages": [
            {
                "id": "page-1",
                "url": "https://example.com/",
                "faviconUrl": "https://example.com/favicon.ico",
                "title": "Example",
                "debuggerUrl": "https://live.test/dbg?page=1",
                "debuggerFullscreenUrl": "https://live.test/full?page=1",
            }
        ],
    }
)
LOG = SessionLog.model_validate(
    {
        "method": "Page.navigate",
        "pageId": 0,
        "sessionId": SID,
        "frameId": "F1",
        "request": {"params": {"url": "https://example.com"}, "rawBody": "{}", "timestamp": 1},
        "response": {"result": {"frameId": "F1"}, "rawBody": "{}", "timestamp": 2},
        "timestamp": 1,
    }
)
REPLAY = ReplayRetrieveResponse.model_validate(
    {
        "pageCount": 1,
        "pages": [
            {
                "pageId": "0",
                "url": f"https://api.browserbase.com/v1/sessions/{SID}/replays/0",
                "startTimeMs": 1000,
                "endTimeMs": 5000,
            }
        ],
    }
)
CTX = ContextCreateResponse.model_validate(
    {
        "id": "ctx_1",
        "uploadUrl": "https://upload.invalid/",
        "publicKey": "PUBKEY",
        "cipherAlgorithm": "AES-256-CBC",
        "initializationVectorSize": 16,
    }
)
CTX_GOT = Context.model_validate(
    {"id": "ctx_1", "createdAt": NOW, "updatedAt": NOW, "projectId": "proj_1", "name": "shop"}
)
CTX_PUT = ContextUpdateResponse.model_validate(wire(CTX))


def download(status: str, url: str | None = None) -> RecordingDownload:
    """One page's recording download, through the SDK's model."""
    done = status == "COMPLETED"
    body: dict[str, Any] = {"pageId": "0", "status": status}
    if done:
        body |= {"completedAt": NOW, "downloadUrl": url}
    return RecordingDownload.model_validate(body)


def downloads(status: str, url: str | None = None) -> Any:
    """A recording-downloads body with one page, through the SDK's model."""
    return wire(DownloadListResponse.model_validate({"downloads": [wire(download(status, url))]}))


@pytest.fixture
def sdk(api: FakeAPI) -> Iterator[Browserbase]:
    """The official SDK on the same scripted server, validating answers strictly."""
    http = httpx.Client(transport=api.transport)
    with Browserbase(
        api_key=API_KEY, http_client=http, max_retries=0, _strict_response_validation=True
    ) as client:
        yield client


def _request_shape(request: httpx.Request) -> tuple[str, str, dict[str, str], Any]:
    body: Any = None
    if request.content and request.headers.get("content-type", "").startswith("application/json"):
        body = json.loads(request.content)
    return request.method, request.url.path, dict(request.url.params), body


Case = tuple[str, str, Any, Callable[[Browserbase], Any], Callable[[Client], Any]]

CASES: list[Case] = [
    (
        "GET",
        f"/v1/sessions/{SID}/debug",
        LIVE,
        lambda s: s.sessions.debug(SID),
        lambda c: c.sessions.debug(SID),
    ),
    (
        "GET",
        f"/v1/sessions/{SID}/debug",
        LIVE,
        lambda s: s.sessions.debug(SID, expires_in=600),
        lambda c: c.sessions.debug(SID, expires_in=600),
    ),
    (
        "GET",
        f"/v1/sessions/{SID}/logs",
        [LOG],
        lambda s: s.sessions.logs.list(SID),
        lambda c: c.sessions.logs(SID),
    ),
    (
        "GET",
        f"/v1/sessions/{SID}/replays",
        REPLAY,
        lambda s: s.sessions.replays.retrieve(SID),
        lambda c: c.sessions.replays(SID),
    ),
    (
        "POST",
        f"/v1/sessions/{SID}/recording/downloads",
        DownloadListResponse.model_validate(downloads("PENDING")),
        lambda s: s.sessions.recording.downloads.create(SID),
        lambda c: c.sessions.recording_downloads.create(SID),
    ),
    (
        "GET",
        f"/v1/sessions/{SID}/recording/downloads",
        DownloadListResponse.model_validate(downloads("COMPLETED", "https://cdn.test/0.mp4")),
        lambda s: s.sessions.recording.downloads.list(SID),
        lambda c: c.sessions.recording.downloads.list(SID),
    ),
    (
        "POST",
        "/v1/contexts",
        CTX,
        lambda s: s.contexts.create(name="shop"),
        lambda c: c.contexts.create(name="shop"),
    ),
    ("POST", "/v1/contexts", CTX, lambda s: s.contexts.create(), lambda c: c.contexts.create()),
    (
        "GET",
        "/v1/contexts/ctx_1",
        CTX_GOT,
        lambda s: s.contexts.retrieve("ctx_1"),
        lambda c: c.contexts.retrieve("ctx_1"),
    ),
    (
        "PUT",
        "/v1/contexts/ctx_1",
        CTX_PUT,
        lambda s: s.contexts.update("ctx_1"),  # deprecated by Browserbase, kept for parity
        lambda c: c.contexts.update("ctx_1"),
    ),
]
IDS = [
    "debug",
    "debug-expires-in",
    "logs",
    "replays",
    "recording-downloads-create",
    "recording-downloads-list",
    "context-create-named",
    "context-create-bare",
    "context-retrieve",
    "context-update",
]


def _as_json(body: Any) -> Any:
    return [wire(item) for item in body] if isinstance(body, list) else wire(body)


@pytest.mark.filterwarnings("ignore:deprecated:DeprecationWarning")  # the SDK's contexts.update
@pytest.mark.parametrize(("method", "path", "body", "sdk_call", "bbnb_call"), CASES, ids=IDS)
def test_same_request_and_answer_as_the_official_sdk(
    client: Client,
    sdk: Browserbase,
    api: FakeAPI,
    method: str,
    path: str,
    body: Any,
    sdk_call: Callable[[Browserbase], Any],
    bbnb_call: Callable[[Client], Any],
) -> None:
    """bbnb sends what the SDK sends and reads the SDK-shaped answer into the same data."""
    status = 202 if path.endswith("/recording/downloads") and method == "POST" else 200
    status = 201 if path == "/v1/contexts" else status
    api.script(method, path, reply(status, _as_json(body)), reply(status, _as_json(body)))
    theirs = sdk_call(sdk)
    ours = bbnb_call(client)
    assert _request_shape(api.requests[1]) == _request_shape(api.requests[0])
    ours_json = [o.to_wire() for o in ours] if isinstance(ours, list) else ours.to_wire()
    theirs_json = _as_json(theirs)
    assert ours_json == theirs_json


def test_context_delete_matches_the_sdk(client: Client, sdk: Browserbase, api: FakeAPI) -> None:
    """DELETE /v1/contexts/{id} answers 204; both clients send the same request."""
    api.script("DELETE", "/v1/contexts/ctx_1", httpx.Response(204), httpx.Response(204))
    assert sdk.contexts.delete("ctx_1") is None  # type: ignore[func-returns-value]
    assert client.contexts.delete("ctx_1") is None  # type: ignore[func-returns-value]
    assert _request_shape(api.requests[0]) == _request_shape(api.requests[1])


def test_unknown_fields_are_kept(client: Client, api: FakeAPI) -> None:
    """A field Browserbase adds later survives in the response model."""
    api.script("GET", f"/v1/sessions/{SID}/debug", reply(200, {**wire(LIVE), "newThing": 1}))
    live = client.sessions.debug(SID)
    assert live.to_wire()["newThing"] == 1
    assert live.pages[0].title == "Example"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"expires_in": 0}, "expires_in must be an integer from 1 to 21600"),
        ({"expires_in": 10**6}, "expires_in must be an integer from 1 to 21600"),
    ],
    ids=["zero", "too-long"],
)
def test_debug_rejects_bad_expiry_locally(
    client: Client, api: FakeAPI, kwargs: dict[str, Any], message: str
) -> None:
    """A bad expires_in is refused before any request, with the allowed range."""
    with pytest.raises(ValueError, match=message):
        client.sessions.debug(SID, **kwargs)
    assert api.requests == []


def test_context_create_rejects_an_empty_name(client: Client, api: FakeAPI) -> None:
    """An empty context name is a local validation error."""
    with pytest.raises(ValueError, match="name"):
        client.contexts.create(name="")
    assert api.requests == []


@pytest.fixture
def upload_file(tmp_path: Path) -> Path:
    """A small file on disk to upload."""
    path = tmp_path / "invoice.pdf"
    path.write_bytes(b"%PDF-1.4 tiny")
    return path


def _multipart_file(request: httpx.Request) -> tuple[str, bytes]:
    """(file name, content) of the ``file`` part of a multipart request."""
    content_type = request.headers["content-type"]
    assert content_type.startswith("multipart/form-data; boundary=")
    boundary = content_type.split("boundary=", 1)[1].encode()
    for part in request.content.split(b"--" + boundary):
        head, _, data = part.partition(b"\r\n\r\n")
        if b'name="file"' in head:
            name = head.split(b'filename="', 1)[1].split(b'"', 1)[0].decode()
            return name, data.removesuffix(b"\r\n")
    raise AssertionError("no file part")


@pytest.mark.parametrize(
    "how",
    ["path", "file-object", "tuple", "positional-call"],
)
def test_upload_sends_the_same_multipart_file_as_the_sdk(
    client: Client, sdk: Browserbase, api: FakeAPI, upload_file: Path, how: str
) -> None:
    """The file part has the SDK's field name, file name and bytes, whatever the input form."""
    body = wire(UploadCreateResponse.model_validate({"message": "File uploaded"}))
    route = f"/v1/sessions/{SID}/uploads"
    api.script("POST", route, reply(200, body), reply(200, body))
    sdk.sessions.uploads.create(SID, file=upload_file)
    if how == "path":
        answer = client.sessions.uploads.create(SID, file=upload_file)
    elif how == "file-object":
        with upload_file.open("rb") as handle:
            answer = client.sessions.uploads.create(SID, file=handle)
    elif how == "tuple":
        answer = client.sessions.uploads.create(SID, file=("invoice.pdf", upload_file.read_bytes()))
    else:
        answer = client.sessions.uploads(SID, str(upload_file))
    assert answer.message == "File uploaded"
    assert _multipart_file(api.requests[1]) == _multipart_file(api.requests[0])
    assert api.requests[1].headers["x-bb-api-key"] == API_KEY


@pytest.mark.parametrize(
    ("bad", "error", "message"),
    [
        (12, TypeError, "cannot upload a int"),
        ("/no/such/file.txt", FileNotFoundError, "no such file"),
        (("", b"x"), TypeError, "upload tuple"),
    ],
    ids=["int", "missing-path", "nameless-tuple"],
)
def test_upload_rejects_what_is_not_a_file(
    client: Client, api: FakeAPI, bad: Any, error: type[Exception], message: str
) -> None:
    """Bad upload input fails locally with what to pass instead."""
    with pytest.raises(error, match=message):
        client.sessions.uploads.create(SID, file=bad)
    assert api.requests == []


def test_downloads_saves_the_zip(
    client: Client, sdk: Browserbase, api: FakeAPI, tmp_path: Path
) -> None:
    """downloads(id, to=folder) saves the zip the SDK would read, under <id>-downloads.zip."""
    route = f"/v1/sessions/{SID}/downloads"
    zipped = b"PK\x05\x06" + b"\x00" * 18
    api.script(
        "GET",
        route,
        *[
            httpx.Response(200, content=zipped, headers={"content-type": "application/zip"})
            for _ in range(3)
        ],
    )
    assert sdk.sessions.downloads.list(SID).read() == zipped
    saved = client.sessions.downloads(SID, to=tmp_path)
    assert saved == tmp_path / f"{SID}-downloads.zip"
    assert saved.read_bytes() == zipped
    assert client.sessions.downloads.list(SID) == zipped
    assert (
        api.requests[1].headers["accept"] == api.requests[0].headers["accept"] == "application/zip"
    )


def test_downloads_into_a_missing_folder_fails_first(
    client: Client, api: FakeAPI, tmp_path: Path
) -> None:
    """A target in a folder that does not exist is refused before the request."""
    with pytest.raises(FileNotFoundError, match="does not exist"):
        client.sessions.downloads(SID, to=tmp_path / "nope" / "x.zip")
    assert api.requests == []


PLAYLIST = HlsPlaylist(
    segments=(HlsSegment("seg/0.m4s", 2.0), HlsSegment("https://cdn.test/seg/1.m4s?sig=abc", 1.5)),
    target_duration=2,
    init_uri="seg/init.mp4",
)


def test_replay_page_playlist_and_video(client: Client, sdk: Browserbase, api: FakeAPI) -> None:
    """The page playlist is fetched like the SDK does; page_video joins init + segments,
    sending the API key only to the API host."""
    route = f"/v1/sessions/{SID}/replays/0"
    text = PLAYLIST.render()
    api.script("GET", route, *[httpx.Response(200, text=text) for _ in range(3)])
    api.script("GET", f"/v1/sessions/{SID}/replays/seg/init.mp4", httpx.Response(200, content=b"I"))
    api.script("GET", f"/v1/sessions/{SID}/replays/seg/0.m4s", httpx.Response(200, content=b"A"))
    api.script("GET", "/seg/1.m4s", httpx.Response(200, content=b"B"))
    assert sdk.sessions.replays.retrieve_page("0", id=SID).text() == text
    assert client.sessions.replays.retrieve_page("0", session_id=SID) == text
    assert _request_shape(api.requests[1]) == _request_shape(api.requests[0])
    assert api.requests[1].headers["accept"] == api.requests[0].headers["accept"]
    assert client.sessions.replays.page_video(SID, "0") == b"IAB"
    cdn = api.requests[-1]
    assert cdn.url.host == "cdn.test"
    assert "x-bb-api-key" not in cdn.headers
    assert api.requests[-2].headers["x-bb-api-key"] == API_KEY


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("hello", "first line must be #EXTM3U"),
        ("#EXTM3U\nseg.ts\n", "no #EXTINF duration"),
        ("#EXTM3U\n#EXTINF:abc,\nseg.ts\n", "bad segment duration"),
        ("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nv.m3u8\n", "multivariant"),
    ],
    ids=["not-m3u", "no-extinf", "bad-duration", "multivariant"],
)
def test_playlist_parse_errors_say_what_is_wrong(text: str, message: str) -> None:
    """A malformed playlist is a ValueError naming the problem."""
    with pytest.raises(ValueError, match=message):
        HlsPlaylist.parse(text)


def test_playlist_round_trips() -> None:
    """render() then parse() gives the same playlist back."""
    again = HlsPlaylist.parse(PLAYLIST.render())
    assert again == HlsPlaylist(PLAYLIST.segments, 2, "seg/init.mp4", 7)
    assert again.duration == pytest.approx(3.5)


def test_recording_fetch_requests_waits_and_saves(
    client: Client, api: FakeAPI, clock: ManualClock, tmp_path: Path
) -> None:
    """fetch() posts once, polls on the client's clock until COMPLETED, saves the MP4 keylessly."""
    route = f"/v1/sessions/{SID}/recording/downloads"
    pending = downloads("PENDING")
    ready = downloads("COMPLETED", "https://cdn.test/r/0.mp4")
    api.script("GET", route, reply(200, downloads("NOT_REQUESTED")))
    api.script("POST", route, reply(202, pending))
    api.script("GET", route, reply(200, pending), reply(200, ready))
    api.script("GET", "/r/0.mp4", httpx.Response(200, content=b"MP4DATA"))
    started = clock.now()
    saved = client.sessions.recording_downloads.fetch(SID, to=tmp_path)
    assert saved == [tmp_path / f"{SID}-page0.mp4"]
    assert saved[0].read_bytes() == b"MP4DATA"
    assert api.count("POST", route) == 1
    assert clock.now() > started
    assert "x-bb-api-key" not in api.requests[-1].headers


def test_recording_fetch_times_out_with_the_states(
    client: Client, api: FakeAPI, tmp_path: Path
) -> None:
    """A download that stays PENDING ends in WaitTimeoutError listing each page's state."""
    route = f"/v1/sessions/{SID}/recording/downloads"
    pending = downloads("PENDING")
    api.script("GET", route, *[reply(200, pending)] * 50)
    with pytest.raises(WaitTimeoutError, match="page 0: PENDING"):
        client.sessions.recording.downloads.fetch(SID, to=tmp_path, timeout=5, poll=1)


def test_recording_fetch_reports_a_failed_page(
    client: Client, api: FakeAPI, tmp_path: Path
) -> None:
    """A page whose assembly FAILED after the request is named in the error."""
    route = f"/v1/sessions/{SID}/recording/downloads"
    api.script("GET", route, reply(200, downloads("PENDING")))
    api.script("GET", route, reply(200, downloads("FAILED")))
    with pytest.raises(RuntimeError, match=r"failed for page\(s\) 0"):
        client.sessions.recording.downloads.fetch(SID, to=tmp_path, poll=1)


def test_missing_session_is_not_found(client: Client, api: FakeAPI) -> None:
    """The API's 404 becomes NotFoundError with the server's message."""
    api.script(
        "GET", f"/v1/sessions/{SID}/replays", error_reply(404, "Not Found", "Session x not found")
    )
    with pytest.raises(NotFoundError, match="Session x not found"):
        client.sessions.replays.retrieve(SID)


def test_async_client_has_the_same_surface(
    make_async_client: Callable[[], AsyncClient], api: FakeAPI
) -> None:
    """The AsyncClient answers the same calls with awaitables."""
    api.script("GET", f"/v1/sessions/{SID}/debug", reply(200, wire(LIVE)))
    api.script("GET", f"/v1/sessions/{SID}/logs", reply(200, [wire(LOG)]))
    api.script("GET", "/v1/contexts/ctx_1", reply(200, wire(CTX_GOT)))

    async def main() -> tuple[str, int, str | None]:
        async with make_async_client() as c:
            live = await c.sessions.debug(SID)
            logs = await c.sessions.logs(SID)
            ctx = await c.contexts.retrieve("ctx_1")
            return live.debugger_fullscreen_url, logs[0].page_id, ctx.name

    assert asyncio.run(main()) == ("https://live.test/full?id=1", 0, "shop")
