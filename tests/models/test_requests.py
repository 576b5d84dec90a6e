"""Request models: realistic bodies, documented ranges, function rules and clear errors."""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from bbnb.models import (
    AgentCreateParams,
    AgentRunCreateParams,
    ApiRuleWarning,
    FunctionInvokeParams,
    Geolocation,
    ResumeParams,
    SessionCreateParams,
    result_schema_dict,
)


class Product(BaseModel):
    name: str
    price: float


class Page(BaseModel):
    title: str
    products: list[Product]


def errors_of(exc: pytest.ExceptionInfo[ValidationError]) -> str:
    return str(exc.value)


@pytest.mark.parametrize(
    "wire",
    [
        {},
        {"timeout": 60},
        {"timeout": 21600, "region": "eu-central-1", "keepAlive": True},
        {
            "browserSettings": {
                "context": {"id": "ctx_1", "persist": True},
                "viewport": {"width": 1920, "height": 1080},
                "blockAds": True,
                "solveCaptchas": False,
                "os": "linux",
                "allowedDomains": ["example.com", "*.shop.example.org"],
                "captchaImageSelector": "#img",
                "captchaInputSelector": "#answer",
            },
            "proxies": True,
            "userMetadata": {"team": "growth", "n": 3},
        },
        {
            "proxies": [
                {"type": "browserbase", "geolocation": {"country": "US", "state": "NY"}},
                {
                    "type": "external",
                    "server": "http://proxy:8080",
                    "username": "u",
                    "password": "pw",
                    "domainPattern": ".*\\.example\\.com",
                },
                {"type": "none", "domainPattern": "intranet"},
            ],
            "proxySettings": {"caCertificates": ["cert_1"]},
        },
    ],
    ids=["empty", "min-timeout", "max-timeout-region", "browser-settings", "proxy-list"],
)
def test_session_params_round_trip(wire: dict[str, Any]) -> None:
    """Valid session bodies survive from_wire -> to_wire unchanged."""
    assert SessionCreateParams.from_wire(wire).to_wire() == wire


@pytest.mark.parametrize(
    ("wire", "needle"),
    [
        ({"timeout": 59}, "timeout"),
        ({"timeout": 21601}, "timeout"),
        ({"timeout": "300"}, "timeout"),
        ({"region": "mars-1"}, "region"),
        ({"browserSettings": {"os": "beos"}}, "os"),
        ({"browserSettings": {"viewport": {"width": 0, "height": 10}}}, "width"),
        ({"browserSettings": {"allowedDomains": ["https://example.com/x"]}}, "not a domain"),
        ({"browserSettings": {"context": {}}}, "id"),
        ({"proxies": []}, "proxies"),
        ({"proxies": [{"type": "socks"}]}, "proxies"),
        ({"proxies": [{"type": "external"}]}, "server"),
        ({"proxies": [{"type": "browserbase", "geolocation": {"country": ""}}]}, "country"),
        ({"browserSetings": {}}, "did you mean 'browserSettings'"),
        ({"browserSettings": {"blockAdz": True}}, "blockAds"),
    ],
    ids=[
        "timeout-low",
        "timeout-high",
        "timeout-string",
        "region",
        "os",
        "viewport",
        "domain-with-scheme",
        "context-without-id",
        "empty-proxy-list",
        "proxy-type",
        "external-without-server",
        "country-empty",
        "typo-top-level",
        "typo-nested",
    ],
)
def test_session_params_reject_bad_input(wire: dict[str, Any], needle: str) -> None:
    """Bad session bodies raise a ValidationError that says what was wrong."""
    with pytest.raises(ValidationError) as exc:
        SessionCreateParams.from_wire(wire)
    assert needle in errors_of(exc)


def test_unknown_key_lists_allowed_keys() -> None:
    """An unknown key error names the key and every allowed key."""
    with pytest.raises(ValidationError) as exc:
        AgentRunCreateParams.from_wire({"task": "t", "schema": {}})
    text = errors_of(exc)
    assert "'schema'" in text
    assert "resultSchema" in text and "pauseWhen" in text


@pytest.mark.parametrize(
    ("geo", "wire", "needle"),
    [
        ({"country": "us", "state": "ca"}, {"country": "US", "state": "CA"}, None),
        ({"country": "USA"}, {"country": "USA"}, "not a 2-letter code"),
        ({"country": "DE", "state": "BY"}, {"country": "DE", "state": "BY"}, "only with country"),
        (
            {"country": "<string>", "city": "<string>", "state": "<string>"},
            {"country": "<string>", "city": "<string>", "state": "<string>"},
            "not a 2-letter code",
        ),
    ],
    ids=["codes-upper-cased", "three-letters", "state-outside-us", "seed-placeholders"],
)
def test_geolocation_narrower_rules_warn(
    fresh_rule_warnings: None, geo: dict[str, str], wire: dict[str, str], needle: str | None
) -> None:
    """2-letter codes and a US-only state are OpenAPI rules: warned about, sent as given."""
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        assert Geolocation.from_wire(geo).to_wire() == wire
    messages = [str(w.message) for w in seen if issubclass(w.category, ApiRuleWarning)]
    if needle is None:
        assert messages == []
    else:
        assert any(needle in m for m in messages), messages


@pytest.mark.parametrize(
    ("wire", "needle"),
    [
        ({"region": "us-east-1"}, "region is not allowed"),
        ({"keepAlive": True}, "keepAlive is not allowed"),
        ({"projectId": "p"}, "projectId is not allowed"),
    ],
    ids=["region", "keep-alive", "project-id"],
)
def test_function_rules(wire: dict[str, Any], needle: str) -> None:
    """A function invocation's session settings follow the function rules, in both entry points."""
    params = SessionCreateParams.from_wire(wire)  # fine for a plain session
    with pytest.raises(ValidationError, match=needle):
        params.for_function()
    with pytest.raises(ValidationError, match=needle):
        SessionCreateParams.model_validate(wire, context={"target": "function"})
    with pytest.raises(ValidationError, match=needle):
        FunctionInvokeParams.from_wire({"sessionCreateParams": wire})


@pytest.mark.parametrize(
    "build",
    [
        lambda w: SessionCreateParams.from_wire(w).for_function(),
        lambda w: SessionCreateParams.model_validate(w, context={"target": "function"}),
        lambda w: FunctionInvokeParams.from_wire({"sessionCreateParams": w}),
    ],
    ids=["for-function", "context", "invoke-params"],
)
def test_function_timeout_over_900_warns_once(fresh_rule_warnings: None, build: Any) -> None:
    """A function timeout over 900 s is accepted with one warning naming the 15-minute limit."""
    with pytest.warns(ApiRuleWarning, match=r"timeout=10830 s: a function runs at most 900 s"):
        build({"timeout": 10830})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        build({"timeout": 10830})  # the same warning is not repeated
        build({"timeout": 900})


def test_server_side_validation_does_not_warn(fresh_rule_warnings: None) -> None:
    """The emulator's context (rule_warnings=False) accepts silently."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        FunctionInvokeParams.model_validate(
            {"sessionCreateParams": {"timeout": 10830}}, context={"rule_warnings": False}
        )


def test_function_params_size_limit() -> None:
    """Params over 64 KB of JSON are rejected with the size; just under is accepted."""
    FunctionInvokeParams(params={"blob": "x" * (64 * 1024 - 20)})
    with pytest.raises(ValidationError, match="64 KB"):
        FunctionInvokeParams(params={"blob": "x" * (64 * 1024)})


def test_function_params_must_be_json() -> None:
    """Params that cannot be JSON are rejected with a clear message."""
    with pytest.raises(ValidationError, match="JSON-serializable"):
        FunctionInvokeParams(params={"when": object()})


def test_result_schema_from_pydantic_model() -> None:
    """A pydantic model class becomes an inlined JSON Schema."""
    run = AgentRunCreateParams(task="list products", result_schema=Page)
    schema = run.to_wire()["resultSchema"]
    assert schema["type"] == "object"
    item = schema["properties"]["products"]["items"]
    assert item["properties"]["price"]["type"] == "number"
    assert "$defs" not in schema and "$ref" not in str(schema)


def test_recursive_model_keeps_defs() -> None:
    """A recursive model keeps its $defs rather than inlining forever."""

    class Node(BaseModel):
        name: str
        children: list[Node] = []

    schema = result_schema_dict(Node)
    assert "$defs" in schema or "$ref" in str(schema)


@pytest.mark.parametrize(
    "schema",
    [{"type": "nope"}, {"properties": 3}, {"required": "name"}, "a string", 42],
    ids=["bad-type", "bad-properties", "bad-required", "string", "number"],
)
def test_invalid_result_schema_rejected(schema: Any) -> None:
    """An invalid JSON Schema is rejected before any request is made."""
    with pytest.raises(ValidationError, match=r"result_schema|resultSchema"):
        AgentRunCreateParams(task="t", result_schema=schema)
    with pytest.raises(ValueError):
        result_schema_dict(schema)


def test_variables_shorthand_and_names() -> None:
    """Variables accept name=value shorthand; names must work as %name% placeholders."""
    run = AgentRunCreateParams(
        task="log in as %user%", variables={"user": "ada", "pw": {"value": "x", "description": "d"}}
    )
    assert run.to_wire()["variables"] == {
        "user": {"value": "ada"},
        "pw": {"value": "x", "description": "d"},
    }
    with pytest.raises(ValidationError, match="placeholder"):
        AgentRunCreateParams(task="t", variables={"my var": "x"})


@pytest.mark.parametrize("task", ["", "   \n"], ids=["empty", "blank"])
def test_blank_task_rejected(task: str) -> None:
    """An empty or blank task is rejected with a hint."""
    with pytest.raises(ValidationError, match="task"):
        AgentRunCreateParams(task=task)


def test_resume_and_agent_bodies() -> None:
    """Resume and custom-agent bodies validate their documented ranges."""
    assert ResumeParams(task="yes", variables={"code": "123"}).to_wire() == {
        "task": "yes",
        "variables": {"code": {"value": "123"}},
    }
    with pytest.raises(ValidationError, match="name"):
        AgentCreateParams(name="x" * 256)
    assert AgentCreateParams(name="shopper", system_prompt="be brief").to_wire() == {
        "name": "shopper",
        "systemPrompt": "be brief",
    }
