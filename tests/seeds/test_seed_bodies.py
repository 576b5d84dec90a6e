"""The reference pages' own example bodies go through the models, the client and the emulator.

``tests/seeds/*.json`` are the ``--data`` bodies of ``../shared/reference/seeds/*.txt``
(Browserbase's reference pages for invoke and agent runs).  They are the contract:
every field they show is accepted with its documented type; narrower rules from other
sources (a function runs at most 900 s; 2-letter proxy codes) only warn.
"""

from __future__ import annotations

import copy
import json
import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from bbnb import Client
from bbnb.emulator import Emulator
from bbnb.models import (
    AgentRunCreateParams,
    ApiRuleWarning,
    FunctionInvokeParams,
    SessionCreateParams,
)

REFERENCE = (
    Path("/work/shared/reference/seeds"),
    Path(__file__).resolve().parents[3] / "shared" / "reference" / "seeds",
)
SEED_WARNINGS = ("a function runs at most 900 s", "not a 2-letter code", "only with country")


@pytest.fixture
def api(emulator: Emulator) -> Iterator[TestClient]:
    """Raw HTTP on the in-process emulator, authenticated."""
    with TestClient(
        emulator.app, base_url="http://emulator.local", headers={"X-BB-API-Key": "x"}
    ) as client:
        client.headers["X-BB-API-Key"] = emulator.config.api_key
        yield client


@pytest.fixture
def agent_seed(seed_bodies: dict[str, Any], emulator_client: Client) -> dict[str, Any]:
    """The agent page's body with ``agentId`` naming an agent that exists on the emulator."""
    body = copy.deepcopy(seed_bodies["run-an-agent"])
    body["agentId"] = emulator_client.agents.create(name="seed agent").agent_id
    return body


def _rule_messages(seen: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in seen if issubclass(w.category, ApiRuleWarning)]


def test_copies_match_the_reference_pages(seed_bodies: dict[str, Any]) -> None:
    """The JSON copies are exactly the bodies of the reference pages (when the pages are here)."""
    folder = next((p for p in REFERENCE if p.is_dir()), None)
    if folder is None:
        pytest.skip("../shared/reference/seeds is not on this machine")
    pages = sorted(folder.glob("*.txt"))
    assert [p.stem for p in pages] == sorted(seed_bodies)
    for page in pages:
        match = re.search(r"--data '\n(.*?)\n'", page.read_text(), re.S)
        assert match is not None, page
        assert json.loads(match.group(1)) == seed_bodies[page.stem], page.name


def test_models_accept_the_invoke_body(
    fresh_rule_warnings: None, seed_bodies: dict[str, Any]
) -> None:
    """FunctionInvokeParams takes the body unchanged, headful included, and warns once a rule."""
    seed = seed_bodies["invoke-a-function"]
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        body = FunctionInvokeParams.from_wire(seed)
        again = FunctionInvokeParams.from_wire(seed)
    assert body.to_wire() == seed == again.to_wire()
    assert body.session_create_params is not None
    assert body.session_create_params.browser_settings is not None
    assert body.session_create_params.browser_settings.headful is True
    messages = _rule_messages(seen)
    assert len(messages) == len(set(messages)) == 4, messages  # country, state, US-only, timeout
    for needle in SEED_WARNINGS:
        assert any(needle in m for m in messages), (needle, messages)
    # The same settings create a plain session (timeout 10830 is within 60..21600) silently.
    with warnings.catch_warnings():
        warnings.simplefilter("error", ApiRuleWarning)
        session = SessionCreateParams.model_validate(
            seed["sessionCreateParams"], context={"rule_warnings": False}
        )
    assert session.timeout == 10830


def test_models_accept_the_agent_body(seed_bodies: dict[str, Any]) -> None:
    """AgentRunCreateParams takes the agent page's body unchanged, with no warning."""
    seed = seed_bodies["run-an-agent"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert AgentRunCreateParams.from_wire(seed).to_wire() == seed


def test_emulator_accepts_the_invoke_body(
    api: TestClient, seed_bodies: dict[str, Any], emulator: Emulator
) -> None:
    """POST /invoke with the page's body is 202; the function's session stops at 900 s."""
    seed = seed_bodies["invoke-a-function"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", ApiRuleWarning)  # the server never warns
        response = api.post("/v1/functions/echo/invoke", json=seed)
    assert response.status_code == 202, response.text
    invocation = response.json()
    session = api.get(f"/v1/sessions/{invocation['sessionId']}").json()
    assert session["region"] == "us-west-2"
    started = session["startedAt"]
    assert session["expiresAt"] != started
    record = emulator.store.invocations.by_id[invocation["id"]]
    assert record.timeout_s == 900


def test_emulator_accepts_the_agent_body(
    api: TestClient, seed_bodies: dict[str, Any], agent_seed: dict[str, Any]
) -> None:
    """POST /v1/agents/runs: the literal body is valid (its placeholder agent is a 404, not a 400)."""
    literal = api.post("/v1/agents/runs", json=seed_bodies["run-an-agent"])
    assert literal.status_code == 404, literal.text
    assert "Agent '<string>' not found" in literal.json()["message"]
    created = api.post("/v1/agents/runs", json=agent_seed)
    assert created.status_code == 201, created.text
    assert created.json()["agentId"] == agent_seed["agentId"]


def test_emulator_accepts_the_session_settings(
    api: TestClient, seed_bodies: dict[str, Any]
) -> None:
    """POST /v1/sessions takes the invoke page's sessionCreateParams, timeout 10830 and all."""
    settings = seed_bodies["invoke-a-function"]["sessionCreateParams"]
    response = api.post("/v1/sessions", json=settings)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["userMetadata"] == {}


def test_client_invokes_with_the_seed_body(
    fresh_rule_warnings: None, emulator_client: Client, seed_bodies: dict[str, Any]
) -> None:
    """client.functions.invoke sends the page's body as given, warns, and the invocation completes."""
    seed = seed_bodies["invoke-a-function"]
    with pytest.warns(ApiRuleWarning, match="a function runs at most 900 s"):
        invocation = emulator_client.functions.invoke(
            "echo", seed["params"], seed["sessionCreateParams"], wait=True
        )
    assert invocation.status == "COMPLETED"


def test_client_runs_an_agent_with_the_seed_body(
    emulator_client: Client, agent_seed: dict[str, Any]
) -> None:
    """client.agents.run with the page's body (its agent made real) completes."""
    run = emulator_client.agents.run(params=agent_seed)
    assert run.status == "COMPLETED"
    assert run.agent_id == agent_seed["agentId"]


def test_client_creates_a_session_with_the_seed_settings(
    emulator_client: Client, seed_bodies: dict[str, Any]
) -> None:
    """client.sessions.create takes the page's sessionCreateParams (headful included)."""
    session = emulator_client.sessions.create(
        seed_bodies["invoke-a-function"]["sessionCreateParams"]
    )
    assert session.status == "RUNNING"
