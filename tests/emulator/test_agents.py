"""Agent runs: create, the status machine on the emulator clock, stop, pause/resume,
messages, listing, simulated results and custom agents."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from starlette.testclient import TestClient

from bbnb import ManualClock
from bbnb.emulator import Emulator
from tests.emulator.contract import OpenAPI, check_response

PRODUCTS = {
    "type": "object",
    "properties": {
        "products": {
            "type": "array",
            "minItems": 1,
            "maxItems": 10,
            "items": {
                "type": "object",
                "properties": {
                    "title": {"type": "string"},
                    "price": {"type": "number", "minimum": 0},
                    "url": {"type": "string", "format": "uri"},
                    "email": {"type": "string", "format": "email"},
                    "stock": {"type": "string", "enum": ["in", "out"]},
                },
                "required": ["title", "price", "url"],
            },
        }
    },
    "required": ["products"],
}


def create(api: TestClient, **body: Any) -> dict[str, Any]:
    body.setdefault("task", "Find the top 3 products on shop.example.com")
    response = api.post("/v1/agents/runs", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def get(api: TestClient, run_id: str) -> dict[str, Any]:
    response = api.get(f"/v1/agents/runs/{run_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


def finish(clock: ManualClock) -> None:
    clock.advance(3600)


def test_create_returns_pending_run(api: TestClient, openapi: OpenAPI) -> None:
    """A new run is 201 PENDING with an id, a session and the schema echoed."""
    run = create(api, resultSchema=PRODUCTS)
    assert run["status"] == "PENDING"
    assert run["resultSchema"] == PRODUCTS
    assert "result" not in run and "startedAt" not in run
    check_response(openapi, "AgentRuns_create", 201, run)


def test_run_moves_pending_running_completed(
    api: TestClient, clock: ManualClock, openapi: OpenAPI
) -> None:
    """PENDING -> RUNNING -> COMPLETED as the clock advances, with timestamps in order."""
    run = create(api, resultSchema=PRODUCTS)
    seen = [run["status"]]
    for _ in range(60):
        clock.advance(1)
        status = get(api, run["runId"])["status"]
        if status != seen[-1]:
            seen.append(status)
    assert seen == ["PENDING", "RUNNING", "COMPLETED"]
    done = get(api, run["runId"])
    assert done["createdAt"] < done["startedAt"] < done["endedAt"] == done["updatedAt"]
    check_response(openapi, "AgentRuns_get", 200, done)


def test_result_conforms_to_schema_and_is_plausible(api: TestClient, clock: ManualClock) -> None:
    """The output follows the schema; 'top 3' gives three items on the task's site."""
    run = create(api, resultSchema=PRODUCTS)
    finish(clock)
    result = get(api, run["runId"])["result"]
    output = result["output"]
    jsonschema.Draft202012Validator(PRODUCTS, format_checker=jsonschema.FormatChecker()).validate(
        output
    )
    assert len(output["products"]) == 3
    assert all(p["url"].startswith("https://shop.example.com/") for p in output["products"])
    assert isinstance(result["stepsTaken"], int) and result["summary"]


def test_result_is_deterministic_for_seed_and_task(clock: ManualClock) -> None:
    """Two emulators with the same seed give the same output for the same task."""
    outputs = []
    for _ in range(2):
        emu = Emulator(clock=clock)
        with TestClient(emu.app, headers={"X-BB-API-Key": emu.config.api_key}) as api:
            run = create(api, resultSchema=PRODUCTS)
            finish(clock)
            outputs.append(get(api, run["runId"])["result"]["output"])
    assert outputs[0] == outputs[1]


def test_run_without_schema_answers_in_text(api: TestClient, clock: ManualClock) -> None:
    """Without a schema the output is a text answer naming the site."""
    run = create(api, task="Summarise the front page of news.example.org")
    finish(clock)
    assert "news.example.org" in get(api, run["runId"])["result"]["output"]


def test_variables_fill_named_fields_but_not_messages(api: TestClient, clock: ManualClock) -> None:
    """A variable value lands in the field of that name; the transcript keeps %name%."""
    schema = {
        "type": "object",
        "properties": {"username": {"type": "string"}},
        "required": ["username"],
    }
    run = create(
        api,
        task="Log in as %username% on example.com and read the profile",
        resultSchema=schema,
        variables={"username": {"value": "s3cret-user", "description": "login"}},
    )
    finish(clock)
    assert get(api, run["runId"])["result"]["output"] == {"username": "s3cret-user"}
    text = api.get(f"/v1/agents/runs/{run['runId']}/messages", params={"all": "true"}).text
    assert "%username%" in text and "s3cret-user" not in text


@pytest.mark.parametrize(
    ("emulator_config", "status", "code"),
    [
        ({"run_failure_rate": 1.0}, "FAILED", None),
        ({"run_timeout_rate": 1.0}, "TIMED_OUT", "TIMED_OUT"),
    ],
    ids=["failed", "timed-out"],
    indirect=["emulator_config"],
)
def test_configured_failures(
    api: TestClient, clock: ManualClock, openapi: OpenAPI, status: str, code: str | None
) -> None:
    """Failure rates end runs FAILED or TIMED_OUT with a cause and no result."""
    run = create(api, resultSchema=PRODUCTS)
    finish(clock)
    done = get(api, run["runId"])
    assert done["status"] == status and "result" not in done
    assert done["cause"]["code"] and done["cause"]["message"]
    if code is not None:
        assert done["cause"]["code"] == code
    check_response(openapi, "AgentRuns_get", 200, done)


@pytest.mark.parametrize(
    "emulator_config", [{"partial_result_rate": 1.0}], ids=["partial"], indirect=True
)
def test_partial_results_break_the_schema(api: TestClient, clock: ManualClock) -> None:
    """With partial_result_rate=1 every result misses a field or has a stringified number."""
    validator = jsonschema.Draft202012Validator(PRODUCTS)
    broken = 0
    for n in range(5):
        run = create(api, task=f"Find {n + 2} products on shop.example.com", resultSchema=PRODUCTS)
        finish(clock)
        broken += not validator.is_valid(get(api, run["runId"])["result"]["output"])
    assert broken == 5


def test_retried_task_gets_a_new_plan(clock: ManualClock) -> None:
    """Attempts of the same task are planned independently (a retry may succeed)."""
    emu = Emulator(clock=clock)
    emu_config = emu.config.replace(run_failure_rate=0.5)
    emu = Emulator(emu_config, clock=clock)
    with TestClient(emu.app, headers={"X-BB-API-Key": emu.config.api_key}) as api:
        runs = [create(api, task="the same task") for _ in range(12)]
        finish(clock)
        statuses = {get(api, r["runId"])["status"] for r in runs}
    assert statuses == {"COMPLETED", "FAILED"}


@pytest.mark.parametrize("advance", [0.0, 5.0], ids=["pending", "running"])
def test_stop_then_409(
    api: TestClient, clock: ManualClock, openapi: OpenAPI, advance: float
) -> None:
    """Stop answers 202 STOPPED from PENDING or RUNNING; a second stop is 409."""
    run = create(api)
    clock.advance(advance)
    response = api.post(f"/v1/agents/runs/{run['runId']}/stop")
    assert response.status_code == 202
    assert response.json()["status"] == "STOPPED"
    check_response(openapi, "AgentRuns_stop", 202, response.json())
    finish(clock)
    assert get(api, run["runId"])["status"] == "STOPPED"
    again = api.post(f"/v1/agents/runs/{run['runId']}/stop")
    assert again.status_code == 409
    assert again.json()["statusCode"] == 409 and "STOPPED" in again.json()["message"]


def test_stop_completed_run_is_409(api: TestClient, clock: ManualClock) -> None:
    """A finished run cannot be stopped."""
    run = create(api)
    finish(clock)
    response = api.post(f"/v1/agents/runs/{run['runId']}/stop")
    assert response.status_code == 409 and "COMPLETED" in response.json()["message"]


def pause_until_paused(api: TestClient, clock: ManualClock, run_id: str) -> dict[str, Any]:
    for _ in range(600):
        current = get(api, run_id)
        if current["status"] == "PAUSED":
            return current
        clock.advance(0.5)
    raise AssertionError("run never paused")


def test_pause_and_resume(api: TestClient, clock: ManualClock, openapi: OpenAPI) -> None:
    """pauseWhen pauses once with a trailing pause call; resume continues to COMPLETED."""
    run = create(api, resultSchema=PRODUCTS, pauseWhen="a login code is needed")
    paused = pause_until_paused(api, clock, run["runId"])
    check_response(openapi, "AgentRuns_get", 200, paused)
    clock.advance(3600)
    assert get(api, run["runId"])["status"] == "PAUSED"
    messages = api.get(f"/v1/agents/runs/{run['runId']}/messages", params={"all": "true"}).json()
    last = messages["data"][-1]["message"]["content"][-1]
    assert last["type"] == "tool-call" and last["toolName"] == "pause"
    assert "login code" in last["input"]["message"]
    response = api.post(f"/v1/agents/runs/{run['runId']}/resume", json={"task": "The code is 4242"})
    assert response.status_code == 202 and response.json()["status"] == "RUNNING"
    check_response(openapi, "AgentRuns_resume", 202, response.json())
    finish(clock)
    done = get(api, run["runId"])
    assert done["status"] == "COMPLETED" and done["result"]["output"]["products"]
    text = api.get(f"/v1/agents/runs/{run['runId']}/messages", params={"all": "true"}).text
    assert "The code is 4242" in text
    again = api.post(f"/v1/agents/runs/{run['runId']}/resume", json={"task": "again"})
    assert again.status_code == 409


def test_paused_run_can_be_stopped(api: TestClient, clock: ManualClock) -> None:
    """A PAUSED run stops to STOPPED."""
    run = create(api, pauseWhen="you need approval")
    pause_until_paused(api, clock, run["runId"])
    response = api.post(f"/v1/agents/runs/{run['runId']}/stop")
    assert response.status_code == 202 and response.json()["status"] == "STOPPED"


@pytest.mark.parametrize("advance", [0.0, 5.0, 3600.0], ids=["pending", "running", "completed"])
def test_resume_not_paused_is_409(api: TestClient, clock: ManualClock, advance: float) -> None:
    """Resuming a run that is not PAUSED is a conflict naming its status."""
    run = create(api)
    clock.advance(advance)
    status = get(api, run["runId"])["status"]
    response = api.post(f"/v1/agents/runs/{run['runId']}/resume", json={"task": "go on"})
    assert response.status_code == 409 and status in response.json()["message"]


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({}, "task"),
        ({"task": ""}, "task"),
        ({"task": "x", "colour": "red"}, "colour"),
        ({"task": 5}, "task"),
        ({"task": "x", "resultSchema": {"type": "nope"}}, "resultSchema"),
        ({"task": "x", "browserSettings": {"proxy": True}}, "proxy"),
        ({"task": "x", "variables": {"a b": "1"}}, "a b"),
    ],
    ids=[
        "missing-task",
        "empty-task",
        "unknown-key",
        "task-type",
        "bad-schema",
        "bad-settings",
        "bad-variable",
    ],
)
def test_create_rejects_bad_bodies(api: TestClient, body: dict[str, Any], needle: str) -> None:
    """Bad create bodies are 400 with a message naming the problem; nothing is created."""
    response = api.post("/v1/agents/runs", json=body)
    assert response.status_code == 400
    error = response.json()
    assert error["statusCode"] == 400 and error["error"] == "Bad Request"
    assert needle in error["message"]


def test_unknown_run_is_404(api: TestClient) -> None:
    """Every run route answers 404 for an unknown id."""
    for method, path in [
        ("GET", "/v1/agents/runs/nope"),
        ("GET", "/v1/agents/runs/nope/messages"),
        ("POST", "/v1/agents/runs/nope/stop"),
    ]:
        response = api.request(method, path)
        assert response.status_code == 404 and response.json()["error"] == "Not Found"
    response = api.post("/v1/agents/runs/nope/resume", json={"task": "x"})
    assert response.status_code == 404


def test_messages_paging_since_limit_all(
    api: TestClient, clock: ManualClock, openapi: OpenAPI
) -> None:
    """Messages page oldest first with limit; since/nextSince continue; all ignores limit."""
    run = create(api)
    first = api.get(f"/v1/agents/runs/{run['runId']}/messages").json()
    assert first == {"data": [], "nextSince": None}
    finish(clock)
    everything = api.get(f"/v1/agents/runs/{run['runId']}/messages", params={"all": "true"}).json()
    check_response(openapi, "AgentRuns_messages", 200, everything)
    ids = [m["id"] for m in everything["data"]]
    assert len(ids) >= 7 and everything["nextSince"] == ids[-1]
    stamps = [m["createdAt"] for m in everything["data"]]
    assert stamps == sorted(stamps)
    paged: list[str] = []
    since = None
    while True:
        params: dict[str, Any] = {"limit": 2}
        if since:
            params["since"] = since
        page = api.get(f"/v1/agents/runs/{run['runId']}/messages", params=params).json()
        if not page["data"]:
            assert page["nextSince"] == since
            break
        paged += [m["id"] for m in page["data"]]
        since = page["nextSince"]
    assert paged == ids
    roles = {m["message"]["role"] for m in everything["data"]}
    parts = {
        p["type"]
        for m in everything["data"]
        if isinstance(m["message"]["content"], list)
        for p in m["message"]["content"]
    }
    assert roles == {"assistant", "tool"} and {"tool-call", "tool-result", "reasoning"} <= parts


def test_messages_grow_with_the_clock(api: TestClient, clock: ManualClock) -> None:
    """A running run reveals more messages as time passes."""
    run = create(api)
    counts = []
    for _ in range(8):
        clock.advance(4)
        counts.append(
            len(
                api.get(f"/v1/agents/runs/{run['runId']}/messages", params={"all": "true"}).json()[
                    "data"
                ]
            )
        )
    assert counts == sorted(counts) and counts[-1] > counts[0]


@pytest.mark.parametrize(
    ("params", "needle"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"limit": "x"}, "limit"),
        ({"all": "maybe"}, "all"),
        ({"since": "not-a-message"}, "since"),
    ],
    ids=["limit-0", "limit-101", "limit-text", "all-bad", "since-unknown"],
)
def test_messages_bad_query_is_400(api: TestClient, params: dict[str, str], needle: str) -> None:
    """Bad message query values are 400 naming the parameter."""
    run = create(api)
    response = api.get(f"/v1/agents/runs/{run['runId']}/messages", params=params)
    assert response.status_code == 400 and needle in response.json()["message"]


def test_list_runs_filters_and_cursor(
    api: TestClient, clock: ManualClock, openapi: OpenAPI
) -> None:
    """List is newest first, filters by status/agentId/time, and pages with nextCursor."""
    agent = api.post("/v1/agents", json={"name": "shopper"}).json()
    early = [create(api, task=f"task {i}") for i in range(5)]
    finish(clock)
    late = [create(api, task=f"later {i}", agentId=agent["agentId"]) for i in range(3)]
    page = api.get("/v1/agents/runs", params={"limit": 3}).json()
    check_response(openapi, "AgentRuns_list", 200, page)
    assert [r["runId"] for r in page["data"]] == [r["runId"] for r in reversed(late)]
    ids: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = api.get("/v1/agents/runs", params=params).json()
        ids += [r["runId"] for r in page["data"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert ids == [r["runId"] for r in reversed(early + late)]
    completed = api.get("/v1/agents/runs", params={"status": "COMPLETED", "limit": 100}).json()
    assert {r["runId"] for r in completed["data"]} == {r["runId"] for r in early}
    by_agent = api.get("/v1/agents/runs", params={"agentId": agent["agentId"]}).json()
    assert {r["runId"] for r in by_agent["data"]} == {r["runId"] for r in late}
    window = api.get("/v1/agents/runs", params={"startAt": late[0]["createdAt"]}).json()
    assert len(window["data"]) == 3
    before = api.get("/v1/agents/runs", params={"endAt": early[-1]["createdAt"]}).json()
    assert len(before["data"]) == 5


@pytest.mark.parametrize(
    "params",
    [
        {"limit": "0"},
        {"limit": "1001"},
        {"status": "DONE"},
        {"startAt": "yesterday"},
        {"cursor": "@@"},
    ],
    ids=["limit-0", "limit-1001", "status", "start-at", "cursor"],
)
def test_list_runs_bad_query_is_400(api: TestClient, params: dict[str, str]) -> None:
    """Bad list query values are 400 with the error body naming the parameter."""
    response = api.get("/v1/agents/runs", params=params)
    assert response.status_code == 400
    assert next(iter(params)) in response.json()["message"]


def test_agents_crud(api: TestClient, clock: ManualClock, openapi: OpenAPI) -> None:
    """Create 201, get, patch only given fields, list, delete 204 twice, then 404."""
    created = api.post("/v1/agents", json={"name": "pricer", "systemPrompt": "Be brief."})
    assert created.status_code == 201
    agent = created.json()
    check_response(openapi, "Agents_create", 201, agent)
    check_response(openapi, "Agents_get", 200, api.get(f"/v1/agents/{agent['agentId']}").json())
    clock.advance(10)
    patched = api.patch(f"/v1/agents/{agent['agentId']}", json={"resultSchema": PRODUCTS})
    assert patched.status_code == 200
    body = patched.json()
    check_response(openapi, "Agents_update", 200, body)
    assert body["systemPrompt"] == "Be brief." and body["resultSchema"] == PRODUCTS
    assert body["updatedAt"] > body["createdAt"]
    listing = api.get("/v1/agents").json()
    check_response(openapi, "Agents_list", 200, listing)
    assert [a["agentId"] for a in listing["data"]] == [agent["agentId"]]
    run = create(api, agentId=agent["agentId"])
    assert api.delete(f"/v1/agents/{agent['agentId']}").status_code == 204
    assert api.delete(f"/v1/agents/{agent['agentId']}").status_code == 204
    assert api.get(f"/v1/agents/{agent['agentId']}").status_code == 404
    assert api.patch(f"/v1/agents/{agent['agentId']}", json={"name": "x"}).status_code == 404
    finish(clock)
    assert get(api, run["runId"])["status"] == "COMPLETED"


def test_run_uses_agent_schema(api: TestClient, clock: ManualClock) -> None:
    """A run of an agent without its own schema answers in the agent's schema."""
    agent = api.post("/v1/agents", json={"name": "p", "resultSchema": PRODUCTS}).json()
    run = create(api, agentId=agent["agentId"])
    assert "resultSchema" not in run
    finish(clock)
    jsonschema.validate(get(api, run["runId"])["result"]["output"], PRODUCTS)


def test_run_with_unknown_agent_is_404(api: TestClient, emulator: Emulator) -> None:
    """An unknown agentId is 404 and creates nothing."""
    response = api.post("/v1/agents/runs", json={"task": "x", "agentId": "missing"})
    assert response.status_code == 404 and emulator.stats.runs_created == 0


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": ""},
        {"name": "x" * 256},
        {"name": "a", "extra": 1},
        {"name": "a", "systemPrompt": ""},
    ],
    ids=["no-name", "empty-name", "long-name", "unknown-key", "empty-prompt"],
)
def test_agent_create_rejects_bad_bodies(api: TestClient, body: dict[str, Any]) -> None:
    """Bad agent bodies are 400 with the error body."""
    response = api.post("/v1/agents", json=body)
    assert response.status_code == 400 and response.json()["statusCode"] == 400
