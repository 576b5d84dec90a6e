"""Malformed input never crashes the emulator: every answer is 2xx or a 4xx with the error body.

TestClient re-raises any exception inside the app, so a crash fails the test even
before the status is checked.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema
from starlette.testclient import TestClient

from tests.emulator.contract import SPEC_PATHS

FUZZ = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
keys = st.sampled_from(
    [
        "task",
        "agentId",
        "resultSchema",
        "browserSettings",
        "variables",
        "pauseWhen",
        "params",
        "sessionCreateParams",
        "timeout",
        "region",
        "keepAlive",
        "proxies",
        "status",
        "name",
        "systemPrompt",
        "userMetadata",
        "context",
        "verified",
    ]
) | st.text(max_size=10)
bodies = st.dictionaries(keys, json_values, max_size=5)
ids = st.sampled_from(
    ["", "x", "00000000-0000-4000-8000-000000000000", "%00", "..", "a" * 300]
) | st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="/?#"), max_size=20
)
POSTS = [
    "/v1/agents/runs",
    "/v1/agents/runs/{id}/stop",
    "/v1/agents/runs/{id}/resume",
    "/v1/agents",
    "/v1/functions/{id}/invoke",
    "/v1/functions/echo/invoke",
    "/v1/sessions",
    "/v1/sessions/{id}",
]
GETS = [
    "/v1/agents/runs",
    "/v1/agents/runs/{id}",
    "/v1/agents/runs/{id}/messages",
    "/v1/agents",
    "/v1/agents/{id}",
    "/v1/functions",
    "/v1/functions/{id}",
    "/v1/functions/{id}/versions",
    "/v1/functions/versions/{id}",
    "/v1/functions/versions/{id}/invocations",
    "/v1/functions/invocations/{id}",
    "/v1/functions/invocations/{id}/logs",
    "/v1/sessions",
    "/v1/sessions/{id}",
]
QUERY_NAMES = st.sampled_from(
    ["limit", "offset", "cursor", "status", "since", "all", "startAt", "endAt", "agentId", "q"]
)
query_values = st.sampled_from(
    ["", "-1", "0", "1", "1001", "1e3", "true", "yes", "RUNNING", "2026-13-01", "9" * 40]
) | st.text(max_size=15)


def assert_clean(response: Any) -> None:
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        body = response.json()
        assert set(body) == {"statusCode", "error", "message"}
        assert body["statusCode"] == response.status_code and body["message"]


@FUZZ
@given(path=st.sampled_from(POSTS), run_id=ids, body=bodies)
def test_random_json_bodies(api: TestClient, path: str, run_id: str, body: dict[str, Any]) -> None:
    """Random JSON objects with plausible and unknown keys at every POST route."""
    assert_clean(api.post(path.replace("{id}", quote(run_id, safe="")), json=body))


@FUZZ
@given(
    path=st.sampled_from([*POSTS, "/v1/agents/x"]),
    raw=st.binary(max_size=200) | json_values.map(lambda v: json.dumps(v).encode()),
)
def test_random_raw_bodies(api: TestClient, path: str, raw: bytes) -> None:
    """Random bytes and non-object JSON as bodies."""
    method = "PATCH" if path == "/v1/agents/x" else "POST"
    assert_clean(
        api.request(method, path, content=raw, headers={"content-type": "application/json"})
    )


@FUZZ
@given(
    path=st.sampled_from(GETS),
    item_id=ids,
    query=st.dictionaries(QUERY_NAMES, query_values, max_size=4),
)
def test_random_ids_and_queries(
    api: TestClient, path: str, item_id: str, query: dict[str, str]
) -> None:
    """Random ids and query values on every GET route."""
    assert_clean(api.get(path.replace("{id}", quote(item_id, safe="")), params=query))


def _create_run_schema() -> dict[str, Any]:
    for spec in SPEC_PATHS:
        if spec.exists():
            doc = yaml.safe_load(spec.read_text())
            body = doc["paths"]["/v1/agents/runs"]["post"]["requestBody"]
            return dict(body["content"]["application/json"]["schema"])
    raise FileNotFoundError("OpenAPI document not found")


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(body=from_schema(_create_run_schema()))
def test_documented_run_bodies(api: TestClient, body: dict[str, Any]) -> None:
    """Bodies generated from the document's create-run schema: 201 or a clean 4xx."""
    response = api.post("/v1/agents/runs", json=body)
    assert_clean(response)
    if response.status_code == 201:
        assert response.json()["task"] == body["task"]
