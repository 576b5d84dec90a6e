"""Bad input to the recording routes: always a 2xx or a 4xx with Browserbase's body, never a 500."""

from __future__ import annotations

import string
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from bbnb import ManualClock
from bbnb.emulator import Emulator, EmulatorConfig
from tests.synthetic_frames import coded_jpeg

PATHS = [
    "/v1/sessions/{id}/replays",
    "/v1/sessions/{id}/replays/{page}",
    "/v1/sessions/{id}/recording/downloads",
    "/v1/sessions/{id}/screencast",
    "/media/recordings/{id}/{page}/0.ts",
    "/media/recordings/{id}/{page}.mp4",
]
QUERY_KEYS = ["after", "timeoutMs", "pageId", "expires", "sig", "x"]


@pytest.fixture(scope="module")
def fuzz_target() -> Iterator[tuple[TestClient, str]]:
    """An emulator with one recorded, released session; server errors come back as 500s."""
    emulator = Emulator(EmulatorConfig(seed=3), clock=ManualClock())
    client = TestClient(
        emulator.app,
        base_url="http://emulator.local",
        headers={"X-BB-API-Key": emulator.config.api_key},
        raise_server_exceptions=False,
    )
    session_id = client.post("/v1/sessions", json={}).json()["id"]
    recording = emulator.recordings.start(session_id)
    recording.add_frame("TAB", coded_jpeg(1), emulator.clock.now())
    client.post(f"/v1/sessions/{session_id}", json={"status": "REQUEST_RELEASE"})
    yield client, session_id
    client.close()
    emulator.close()


safe = string.ascii_letters + string.digits + "-_.~"
texts = st.text(max_size=30)


@seed(17)
@settings(
    max_examples=150,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE"]),
    path=st.sampled_from(PATHS),
    ident=st.one_of(st.just("SESSION"), st.text(alphabet=safe, min_size=1, max_size=40)),
    page=st.one_of(
        st.sampled_from(["0", "1", "999", "0000"]), texts.map(lambda s: quote(s, safe="") or "x")
    ),
    query=st.dictionaries(st.sampled_from(QUERY_KEYS), texts, max_size=3),
)
def test_recording_routes_never_crash(
    fuzz_target: tuple[TestClient, str],
    method: str,
    path: str,
    ident: str,
    page: str,
    query: dict[str, str],
) -> None:
    """Any method, id, page and query: a success, or a 4xx with statusCode/error/message."""
    client, session_id = fuzz_target
    if query.get("timeoutMs") is not None:
        query["timeoutMs"] = "0"  # never wait in a fuzz run
    elif "screencast" in path:
        query["timeoutMs"] = "0"
    url = path.format(id=session_id if ident == "SESSION" else ident, page=page)
    answer = client.request(method, url, params=query)
    assert answer.status_code < 500, (method, url, query, answer.text[:200])
    if answer.status_code >= 400:
        body = answer.json()
        assert body["statusCode"] == answer.status_code and body["message"]
