"""HTTP surface: auth, unknown routes and methods, body size, bad JSON, health, counters."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from bbnb.emulator import Emulator


@pytest.mark.parametrize(
    ("headers", "needle"),
    [({}, "Missing"), ({"X-BB-API-Key": "bb_wrong"}, "Invalid")],
    ids=["missing", "wrong"],
)
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/agents/runs"),
        ("POST", "/v1/agents/runs"),
        ("GET", "/v1/functions"),
        ("GET", "/v1/sessions/x"),
    ],
    ids=["list-runs", "create-run", "functions", "session"],
)
def test_auth_required(
    emulator: Emulator, headers: dict[str, str], needle: str, method: str, path: str
) -> None:
    """Every /v1 route needs the key: 401 with the error body otherwise."""
    with TestClient(emulator.app, headers=headers) as client:
        response = client.request(method, path, json={"task": "x"})
    assert response.status_code == 401
    body = response.json()
    assert (
        body["statusCode"] == 401 and body["error"] == "Unauthorized" and needle in body["message"]
    )
    assert emulator.stats.runs_created == 0


def test_key_header_is_case_insensitive(emulator: Emulator) -> None:
    """x-bb-api-key in lower case works as the docs' curl examples use it."""
    with TestClient(emulator.app, headers={"x-bb-api-key": emulator.config.api_key}) as client:
        assert client.get("/v1/functions").status_code == 200


def test_health_needs_no_key_and_says_simulated(emulator: Emulator) -> None:
    """GET / is a health check that labels the emulator; every answer has x-bb-emulator."""
    with TestClient(emulator.app) as client:
        response = client.get("/")
    assert response.json()["simulated"] is True and response.headers["x-bb-emulator"] == "1"


def test_unknown_route_and_method(api: TestClient) -> None:
    """Unknown routes are 404 and wrong methods 405, both with the error body."""
    missing = api.get("/v1/nothing/here")
    assert missing.status_code == 404 and missing.json()["error"] == "Not Found"
    wrong = api.put("/v1/agents/runs/abc/stop")
    assert wrong.status_code == 405 and wrong.json()["statusCode"] == 405


def test_huge_body_is_413(api: TestClient, emulator: Emulator) -> None:
    """A body over the limit is 413, whether announced by content-length or streamed."""
    big = b'{"task": "' + b"x" * 2_000_000 + b'"}'
    response = api.post(
        "/v1/agents/runs", content=big, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413 and response.json()["statusCode"] == 413
    assert "limit" in response.json()["message"]

    def chunks():  # no content-length: the limit is enforced while reading
        for _ in range(40):
            yield b"x" * 65_536

    streamed = api.post("/v1/agents/runs", content=chunks())
    assert streamed.status_code == 413
    assert emulator.stats.runs_created == 0


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "JSON object"),
        (b'"text"', "JSON object"),
        (b"\xff\xfe", "UTF-8"),
        (b'{"task": NaN}', "not valid JSON"),
        (b"[" * 100_000, "not valid JSON"),
        (b"", "no body"),
    ],
    ids=["broken", "array", "string", "not-utf8", "nan", "deep", "empty"],
)
def test_bad_json_is_400(api: TestClient, content: bytes, needle: str) -> None:
    """Undecodable bodies are 400 saying what is wrong."""
    response = api.post(
        "/v1/agents/runs", content=content, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400 and needle in response.json()["message"]


def test_requests_counted_by_route(api: TestClient, emulator: Emulator) -> None:
    """stats.requests counts per route template; statuses are counted too."""
    run = api.post("/v1/agents/runs", json={"task": "count me"}).json()
    for _ in range(3):
        api.get(f"/v1/agents/runs/{run['runId']}")
    assert emulator.stats.requests["GET /v1/agents/runs/{run_id}"] == 3
    assert emulator.stats.requests["POST /v1/agents/runs"] == 1
    assert emulator.stats.statuses[200] == 3 and emulator.stats.runs_created == 1
    assert emulator.stats.snapshot()["sessions_created"] == 1
