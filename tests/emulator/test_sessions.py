"""Sessions: create, retrieve, list, release, expiry, and the sessions behind runs."""

from __future__ import annotations

from starlette.testclient import TestClient

from bbnb import ManualClock
from tests.emulator.contract import OpenAPI, check_response


def test_create_get_release(api: TestClient, clock: ManualClock, openapi: OpenAPI) -> None:
    """Create is 201 with connect URLs; release ends it COMPLETED; release is idempotent."""
    created = api.post("/v1/sessions", json={"timeout": 600, "userMetadata": {"team": "data"}})
    assert created.status_code == 201
    session = created.json()
    check_response(openapi, "Sessions_create", 201, session)
    assert session["status"] == "RUNNING" and session["connectUrl"].startswith("wss://")
    got = api.get(f"/v1/sessions/{session['id']}").json()
    check_response(openapi, "Sessions_get", 200, got)
    clock.advance(5)
    released = api.post(f"/v1/sessions/{session['id']}", json={"status": "REQUEST_RELEASE"})
    assert released.status_code == 200
    check_response(openapi, "Sessions_update", 200, released.json())
    assert released.json()["status"] == "COMPLETED" and "endedAt" in released.json()
    again = api.post(f"/v1/sessions/{session['id']}", json={"status": "REQUEST_RELEASE"})
    assert again.status_code == 200 and again.json()["endedAt"] == released.json()["endedAt"]


def test_session_times_out(api: TestClient, clock: ManualClock) -> None:
    """A session past its timeout is TIMED_OUT."""
    session = api.post("/v1/sessions", json={"timeout": 60}).json()
    clock.advance(61)
    assert api.get(f"/v1/sessions/{session['id']}").json()["status"] == "TIMED_OUT"


def test_list_filters(api: TestClient, clock: ManualClock, openapi: OpenAPI) -> None:
    """List is a bare array, filtered by status and by user metadata."""
    a = api.post("/v1/sessions", json={"userMetadata": {"team": "data"}}).json()
    b = api.post("/v1/sessions", json={}).json()
    api.post(f"/v1/sessions/{b['id']}", json={"status": "REQUEST_RELEASE"})
    listing = api.get("/v1/sessions").json()
    check_response(openapi, "Sessions_list", 200, listing)
    assert [s["id"] for s in listing] == [b["id"], a["id"]]
    running = api.get("/v1/sessions", params={"status": "RUNNING"}).json()
    assert [s["id"] for s in running] == [a["id"]]
    tagged = api.get("/v1/sessions", params={"q": "user_metadata['team']:'data'"}).json()
    assert [s["id"] for s in tagged] == [a["id"]]
    assert api.get("/v1/sessions", params={"q": "team=data"}).status_code == 400
    assert api.get("/v1/sessions", params={"status": "DONE"}).status_code == 400


def test_run_session_follows_the_run(api: TestClient, clock: ManualClock) -> None:
    """A run's session is RUNNING while the run is, cannot be released, and ends with it."""
    run = api.post("/v1/agents/runs", json={"task": "look at example.com"}).json()
    session = api.get(f"/v1/sessions/{run['sessionId']}").json()
    assert session["status"] == "RUNNING"
    response = api.post(f"/v1/sessions/{run['sessionId']}", json={"status": "REQUEST_RELEASE"})
    assert response.status_code == 409 and "stop the run" in response.json()["message"]
    api.post(f"/v1/agents/runs/{run['runId']}/stop")
    session = api.get(f"/v1/sessions/{run['sessionId']}").json()
    assert session["status"] == "COMPLETED"


def test_bad_session_bodies(api: TestClient) -> None:
    """Bad session bodies and unknown ids get 4xx with the error body."""
    cases = [
        api.post("/v1/sessions", json={"timeout": 30}),
        api.post("/v1/sessions", json={"timeout": 21601}),
        api.post("/v1/sessions", json={"region": "mars-1"}),
        api.post(
            "/v1/sessions",
            json={"proxies": [{"type": "browserbase", "geolocation": {"country": ""}}]},
        ),
        api.post("/v1/sessions/nope", json={"status": "REQUEST_RELEASE"}),
        api.get("/v1/sessions/nope"),
    ]
    assert [r.status_code for r in cases] == [400, 400, 400, 400, 404, 404]
    session = api.post("/v1/sessions", json={}).json()
    for body in ({}, {"status": "STOP"}):
        response = api.post(f"/v1/sessions/{session['id']}", json=body)
        assert response.status_code == 400 and "status" in response.json()["message"]
