"""The client surface: headers, stats, sessions, agents, sync-in-a-loop, closing."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable

import httpx
import pytest

from bbnb import ManualClock
from bbnb._exceptions import APIConnectionError, ConfigurationError
from bbnb.client._client import AsyncClient, Client

from .conftest import API_KEY, T0, FakeAPI, reply, run_wire

RUN = "/v1/agents/runs/run_1"

SESSION = {
    "id": "sess_1",
    "createdAt": T0,
    "updatedAt": T0,
    "projectId": "proj_1",
    "startedAt": T0,
    "expiresAt": T0,
    "status": "RUNNING",
    "proxyBytes": 0,
    "keepAlive": False,
    "region": "us-west-2",
}
AGENT = {"agentId": "ag_1", "name": "pricer", "createdAt": T0, "updatedAt": T0}


def test_every_request_carries_the_documented_headers(client: Client, api: FakeAPI) -> None:
    """Key header, JSON accept/content type and a bbnb user agent on each request."""
    api.script("GET", RUN, reply(200, run_wire()))
    client.agents.runs.retrieve("run_1")
    headers = api.requests[0].headers
    assert headers["x-bb-api-key"] == API_KEY
    assert headers["accept"] == "application/json"
    assert headers["content-type"] == "application/json"
    assert headers["user-agent"].startswith("bbnb/")
    assert str(api.requests[0].url) == "https://api.browserbase.com/v1/agents/runs/run_1"


def test_stats_count_by_route_template(client: Client, api: FakeAPI) -> None:
    """Requests are counted by method and route template, retries included."""
    api.script("GET", RUN, reply(503, {}), reply(200, run_wire()))
    api.script("GET", "/v1/agents/runs/run_2", reply(200, run_wire("run_2")))
    before = client.stats.snapshot()
    client.agents.runs.retrieve("run_1")
    client.agents.runs.retrieve("run_2")
    delta = client.stats.snapshot() - before
    assert delta["GET /v1/agents/runs/{run_id}"] == 3
    assert delta.total == 3 and delta.retries == 1
    assert delta.by_status == {503: 1, 200: 2}
    assert client.stats.count(method="GET") == 3


def test_sync_client_inside_a_running_event_loop(client: Client, api: FakeAPI) -> None:
    """A coroutine (like a Jupyter cell) may call the sync client: no nest-asyncio needed."""
    api.script("POST", "/v1/agents/runs", reply(201, run_wire()))
    api.script("GET", RUN, reply(200, run_wire(status="COMPLETED", result={"a": 1})))

    async def cell() -> object:
        assert asyncio.get_running_loop().is_running()
        return client.agents.run("t").output

    assert asyncio.run(cell()) == {"a": 1}
    assert "nest_asyncio" not in sys.modules


def test_async_client_in_its_own_loop(
    api: FakeAPI, make_async_client: Callable[[], AsyncClient], clock: ManualClock
) -> None:
    """The AsyncClient is the implementation and works in the caller's loop."""
    api.script("POST", "/v1/agents/runs", reply(201, run_wire()))
    api.script(
        "GET",
        RUN,
        reply(200, run_wire(status="RUNNING")),
        reply(200, run_wire(status="COMPLETED", result={"output": 5})),
    )

    async def main() -> object:
        async with make_async_client() as client:
            run = await client.agents.run("t", timeout=60)
            return run.output

    assert asyncio.run(main()) == 5


def test_sessions(client: Client, api: FakeAPI) -> None:
    """Create, retrieve, list and release map to the documented endpoints."""
    created = {
        **SESSION,
        "connectUrl": "wss://x",
        "seleniumRemoteUrl": "http://x",
        "signingKey": "sk",
    }
    api.script("POST", "/v1/sessions", reply(201, created))
    api.script("GET", "/v1/sessions/sess_1", reply(200, SESSION))
    api.script("GET", "/v1/sessions", reply(200, [SESSION, SESSION]))
    api.script("POST", "/v1/sessions/sess_1", reply(200, {**SESSION, "status": "COMPLETED"}))
    assert client.sessions.create(timeout=120, keep_alive=True).connect_url == "wss://x"
    assert json.loads(api.requests[0].content) == {"timeout": 120, "keepAlive": True}
    assert client.sessions.retrieve("sess_1").id == "sess_1"
    assert len(client.sessions.list(status="RUNNING")) == 2
    assert client.sessions.release("sess_1").status == "COMPLETED"
    assert json.loads(api.requests[-1].content) == {"status": "REQUEST_RELEASE"}


def test_agents_crud(client: Client, api: FakeAPI) -> None:
    """Custom agents: create, update, retrieve, list and delete."""
    api.script("POST", "/v1/agents", reply(201, AGENT))
    api.script("PATCH", "/v1/agents/ag_1", reply(200, {**AGENT, "name": "renamed"}))
    api.script("GET", "/v1/agents/ag_1", reply(200, AGENT))
    api.script("GET", "/v1/agents", reply(200, {"data": [AGENT], "limit": 20, "nextCursor": None}))
    api.script("DELETE", "/v1/agents/ag_1", httpx.Response(204))
    assert client.agents.create("pricer", system_prompt="be terse").agent_id == "ag_1"
    assert json.loads(api.requests[0].content) == {"name": "pricer", "systemPrompt": "be terse"}
    assert client.agents.update("ag_1", name="renamed").name == "renamed"
    assert json.loads(api.requests[1].content) == {"name": "renamed"}
    assert client.agents.retrieve("ag_1").name == "pricer"
    assert [a.agent_id for a in client.agents.list()] == ["ag_1"]
    assert client.agents.delete("ag_1") is None


def test_create_with_params_model_or_fields_not_both(client: Client, api: FakeAPI) -> None:
    """A prepared params object works; mixing it with keyword fields is refused."""
    from bbnb.models import AgentRunCreateParams

    api.script("POST", "/v1/agents/runs", reply(201, run_wire()))
    params = AgentRunCreateParams(task="t", pause_when="asked for a code")
    assert client.agents.runs.create(params=params).run_id == "run_1"
    assert json.loads(api.requests[0].content) == {"task": "t", "pauseWhen": "asked for a code"}
    with pytest.raises(TypeError, match="not both"):
        client.agents.runs.create("t", params=params)


def test_unknown_create_field_is_refused_locally(client: Client, api: FakeAPI) -> None:
    """Bad create input never reaches the wire."""
    with pytest.raises(ValueError, match="task"):
        client.agents.runs.create("   ")
    assert api.requests == []


def test_closed_client_refuses_calls(api: FakeAPI, clock: ManualClock) -> None:
    """After close(), calls fail clearly instead of hanging."""
    client = Client(api_key=API_KEY, transport=api.transport, clock=clock)
    client.close()
    client.close()  # idempotent
    assert client.is_closed
    with pytest.raises(APIConnectionError, match="closed"):
        client.agents.runs.retrieve("run_1")


def test_client_properties_and_repr(client: Client, clock: ManualClock) -> None:
    """base_url, simulated, clock and stats are exposed; the repr is short and keyless."""
    assert client.base_url == "https://api.browserbase.com"
    assert client.simulated is False
    assert client.clock is clock
    assert repr(client) == "Client(base_url='https://api.browserbase.com', simulated=False)"
    assert client.async_client.stats is client.stats


def test_loopback_base_url_is_simulated(api: FakeAPI) -> None:
    """A client pointed at a local emulator says its results are simulated."""
    with Client(base_url="http://127.0.0.1:8088", transport=api.transport) as client:
        assert client.simulated is True


def test_wrong_transport_type_is_a_configuration_error() -> None:
    """A sync httpx transport is refused with a message naming the right kinds."""
    with pytest.raises(ConfigurationError, match="async transport"):
        Client(api_key=API_KEY, transport=httpx.HTTPTransport())  # type: ignore[arg-type]


def test_batch_entry_points_delegate_to_bbnb_runs(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """run_many/invoke_many hand the client and arguments to bbnb.runs (a plain import)."""
    from bbnb.client._resources import agents, functions

    seen: list[tuple[str, object, dict[str, object]]] = []
    monkeypatch.setattr(
        agents, "run_many", lambda c, **kw: seen.append(("run_many", c, kw)) or "batch"
    )
    monkeypatch.setattr(
        functions, "invoke_many", lambda c, **kw: seen.append(("invoke_many", c, kw)) or "b2"
    )
    assert client.agents.run_many(tasks=["a"]) == "batch"
    assert client.functions.invoke_many(function_id="f", inputs=[{}]) == "b2"
    assert seen[0] == ("run_many", client, {"tasks": ["a"]})
    assert seen[1][0] == "invoke_many" and seen[1][1] is client


def test_emulator_header_marks_the_client_simulated(api: FakeAPI, clock: ManualClock) -> None:
    """An answer carrying ``x-bb-emulator: 1`` reveals an emulator behind any URL."""
    api.script("GET", RUN, reply(200, run_wire(), headers={"x-bb-emulator": "1"}))
    with Client(api_key=API_KEY, base_url="http://emulator.local", transport=api.transport) as c:
        assert c.simulated is False
        c.agents.runs.retrieve("run_1")
        assert c.simulated is True
    with Client(api_key=API_KEY, transport=api.transport, simulated=True) as c:
        assert c.simulated is True
