"""Plan limits: 429 with Browserbase's message when sessions run out, and recovery."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from bbnb import ManualClock
from bbnb.emulator import Emulator


def test_concurrency_limit_429(api: TestClient, clock: ManualClock, emulator: Emulator) -> None:
    """The 26th live session is refused with the exact message; capacity returns when runs end."""
    for n in range(25):
        assert api.post("/v1/agents/runs", json={"task": f"t{n}"}).status_code == 201
    response = api.post("/v1/agents/runs", json={"task": "one too many"})
    assert response.status_code == 429
    assert response.json() == {
        "statusCode": 429,
        "error": "Too Many Requests",
        "message": "You've exceeded your max concurrent sessions limit (limit 25, currently 25)",
    }
    assert "retry-after" not in response.headers
    assert api.post("/v1/sessions", json={}).status_code == 429
    assert api.post("/v1/functions/echo/invoke", json={}).status_code == 429
    assert emulator.stats.runs_created == 25 and emulator.stats.rate_limited == 3
    clock.advance(3600)
    assert api.post("/v1/agents/runs", json={"task": "now it fits"}).status_code == 201


@pytest.mark.parametrize(
    "emulator_config",
    [{"max_concurrent_sessions": None, "sessions_per_minute": 5, "retry_after": 2.5}],
    ids=["five-per-minute"],
    indirect=True,
)
def test_creation_rate_limit_with_retry_after(api: TestClient, clock: ManualClock) -> None:
    """More than N creations in 60 s is 429 with retry-after; the window slides."""
    for n in range(5):
        assert api.post("/v1/sessions", json={}).status_code == 201, n
    response = api.post("/v1/sessions", json={})
    assert response.status_code == 429 and response.headers["retry-after"] == "2.5"
    assert "per minute" in response.json()["message"]
    clock.advance(60)
    assert api.post("/v1/sessions", json={}).status_code == 201


@pytest.mark.parametrize(
    "emulator_config",
    [{"max_concurrent_sessions": None, "sessions_per_minute": 5, "speed": 10.0}],
    ids=["five-per-minute-at-speed-10"],
    indirect=True,
)
def test_creation_rate_window_follows_speed(api: TestClient, clock: ManualClock) -> None:
    """At speed 10 the per-minute window is 6 s, in proportion with the sped-up runs."""
    for n in range(5):
        assert api.post("/v1/sessions", json={}).status_code == 201, n
    assert api.post("/v1/sessions", json={}).status_code == 429
    clock.advance(5.9)
    assert api.post("/v1/sessions", json={}).status_code == 429
    clock.advance(0.2)
    assert api.post("/v1/sessions", json={}).status_code == 201


@pytest.mark.parametrize(
    "emulator_config",
    [{"max_concurrent_sessions": 2, "sessions_per_minute": None}],
    ids=["two-concurrent"],
    indirect=True,
)
def test_released_session_frees_capacity(api: TestClient) -> None:
    """Releasing a session makes room for the next one at once."""
    first = api.post("/v1/sessions", json={}).json()
    api.post("/v1/sessions", json={})
    blocked = api.post("/v1/sessions", json={})
    assert blocked.status_code == 429 and "(limit 2, currently 2)" in blocked.json()["message"]
    api.post(f"/v1/sessions/{first['id']}", json={"status": "REQUEST_RELEASE"})
    assert api.post("/v1/sessions", json={}).status_code == 201
