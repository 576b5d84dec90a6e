"""SessionSettings without a browser: fields, errors next to fields, preview, models."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import SecretStr

from bbnb.models import AgentBrowserSettings, ApiRuleWarning, SessionCreateParams
from bbnb.widgets import SessionSettings


def _set(form: SessionSettings, values: dict[tuple[str, ...], Any]) -> None:
    for key, value in values.items():
        form.field(*key).value = value


REALISTIC = [
    pytest.param(
        "session",
        {("timeout",): "600", ("region",): "eu-central-1", ("browser_settings", "os"): "mac"},
        {"timeout": 600, "region": "eu-central-1", "browserSettings": {"os": "mac"}},
        id="session-timeout-region-os",
    ),
    pytest.param(
        "session",
        {
            ("browser_settings", "viewport", "width"): "1280",
            ("browser_settings", "viewport", "height"): "800",
            ("browser_settings", "block_ads"): True,
            ("browser_settings", "solve_captchas"): False,
            ("browser_settings", "context", "id"): "ctx_123",
            ("browser_settings", "context", "persist"): True,
            ("browser_settings", "allowed_domains"): "example.com, *.example.org",
            ("user_metadata",): '{"team": "data", "run": 3}',
            ("keep_alive",): True,
        },
        {
            "browserSettings": {
                "viewport": {"width": 1280, "height": 800},
                "blockAds": True,
                "solveCaptchas": False,
                "context": {"id": "ctx_123", "persist": True},
                "allowedDomains": ["example.com", "*.example.org"],
            },
            "userMetadata": {"team": "data", "run": 3},
            "keepAlive": True,
        },
        id="session-browser-context-metadata",
    ),
    pytest.param(
        "function",
        {("timeout",): "900", ("browser_settings", "verified"): True},
        {"timeout": 900, "browserSettings": {"verified": True}},
        id="function-max-timeout-verified",
    ),
    pytest.param(
        "agent",
        {("verified",): True, ("context", "id"): "ctx_9"},
        {"verified": True, "context": {"id": "ctx_9"}},
        id="agent-verified-context",
    ),
]


@pytest.mark.parametrize(("target", "values", "wire"), REALISTIC)
def test_value_matches_expected_model(
    target: Any, values: dict[Any, Any], wire: dict[str, Any]
) -> None:
    """Realistic forms give exactly the expected validated model."""
    form = SessionSettings(target)
    _set(form, values)
    assert form.errors == {}
    model_type = AgentBrowserSettings if target == "agent" else SessionCreateParams
    assert form.value == model_type.model_validate(wire)
    assert form.value.to_wire() == wire


def test_untouched_form_is_an_empty_body() -> None:
    """Check boxes at their documented defaults send nothing."""
    form = SessionSettings()
    assert form.value.to_wire() == {}
    assert form.is_default()
    assert form.to_magic() == ""


INVALID = [
    pytest.param(
        "session", ("timeout",), "30", "greater than or equal to 60", id="timeout-too-small"
    ),
    pytest.param("session", ("timeout",), "abc", "whole number", id="timeout-not-a-number"),
    pytest.param("function", ("timeout",), "59", "greater than or equal to 60", id="fn-timeout"),
    pytest.param(
        "session",
        ("browser_settings", "viewport", "width"),
        "0",
        "greater than",
        id="viewport-zero",
    ),
    pytest.param(
        "session",
        ("browser_settings", "allowed_domains"),
        "https://x.com/a",
        "not a domain",
        id="domain-url",
    ),
    pytest.param("session", ("user_metadata",), "{nope", "not valid JSON", id="metadata-bad-json"),
    pytest.param("session", ("user_metadata",), "[1, 2]", "JSON object", id="metadata-not-object"),
]


@pytest.mark.parametrize(("target", "key", "text", "message"), INVALID)
def test_invalid_value_is_shown_next_to_its_field(
    target: Any, key: tuple[str, ...], text: str, message: str
) -> None:
    """A bad value shows its message beside the field and ``.value`` refuses."""
    form = SessionSettings(target)
    form.field(*key).value = text
    assert message in form.error_for(*key)
    label = form._fields[key][1].error.value
    assert message.split()[0] in label and "bbnb-error" in label
    assert "fix the errors" in form.preview.value
    with pytest.raises(ValueError, match="not valid"):
        form.value  # noqa: B018


def test_error_clears_when_fixed() -> None:
    """Fixing a field removes its message and restores the preview."""
    form = SessionSettings()
    form.field("timeout").value = "5"
    assert form.error_for("timeout")
    form.field("timeout").value = "120"
    assert form.error_for("timeout") == ""
    assert json.loads(_preview_json(form)) == {"timeout": 120}


def _preview_json(form: SessionSettings) -> str:
    import html
    import re

    match = re.search(r"<pre[^>]*>(.*)</pre>", form.preview.value, re.S)
    assert match, form.preview.value
    return html.unescape(match.group(1))


@pytest.mark.parametrize(
    ("target", "hidden"),
    [
        pytest.param("function", ("region",), id="function-no-region"),
        pytest.param("function", ("keep_alive",), id="function-no-keepalive"),
        pytest.param("function", ("project_id",), id="function-no-project"),
        pytest.param("agent", ("timeout",), id="agent-no-timeout"),
    ],
)
def test_target_hides_forbidden_fields(target: Any, hidden: tuple[str, ...]) -> None:
    """Fields a target does not allow are not offered at all."""
    with pytest.raises(KeyError):
        SessionSettings(target).field(*hidden)


def test_unknown_target_is_a_clear_error() -> None:
    """A misspelt target names the allowed ones."""
    with pytest.raises(ValueError, match="'session', 'function' or 'agent'"):
        SessionSettings("sessions")  # type: ignore[arg-type]


def test_proxy_rules_build_the_expected_list() -> None:
    """Browserbase (geolocated) and external proxies become the documented union."""
    form = SessionSettings()
    geo = form.proxies.add_row()
    geo.texts[("geolocation", "country")].value = "us"
    geo.texts[("geolocation", "state")].value = "NY"
    ext = form.proxies.add_row()
    ext.type.value = "external"
    ext.texts[("server",)].value = "http://proxy.local:8080"
    ext.texts[("username",)].value = "bob"
    ext.texts[("domain_pattern",)].value = ".*\\.example\\.com"
    ext.password.widget.value = "pw-typed"
    wire = form.value.to_wire()
    assert wire["proxies"] == [
        {"type": "browserbase", "geolocation": {"country": "US", "state": "NY"}},
        {
            "type": "external",
            "server": "http://proxy.local:8080",
            "username": "bob",
            "password": "pw-typed",
            "domainPattern": ".*\\.example\\.com",
        },
    ]


def test_proxy_country_rule_is_a_warning(fresh_rule_warnings: None) -> None:
    """A country that is not 2 letters is sent as typed, with an ApiRuleWarning, not an error."""
    form = SessionSettings()
    row = form.proxies.add_row()
    with pytest.warns(ApiRuleWarning, match="not a 2-letter code"):
        row.texts[("geolocation", "country")].value = "USA"
    assert "country code" in row.errors[("geolocation", "country")].value
    assert form.is_valid, "a hint, not a blocking error"
    row.texts[("geolocation", "country")].value = "de"
    assert form.value.to_wire()["proxies"] == [
        {"type": "browserbase", "geolocation": {"country": "DE"}}
    ]


def test_seed_session_settings_fill_the_form(
    fresh_rule_warnings: None, seed_bodies: dict[str, Any]
) -> None:
    """The invoke reference's sessionCreateParams (headful, timeout 10830) fill a function form."""
    seed = seed_bodies["invoke-a-function"]["sessionCreateParams"]
    form = SessionSettings("function")
    with pytest.warns(ApiRuleWarning, match="at most 900 s"):
        form.set_value(seed)
    assert form.is_valid, form.errors
    body = form.value.to_wire()
    assert body["timeout"] == 10830 and body["browserSettings"]["headful"] is True
    assert form.field("browser_settings", "headful").value == "on"
    assert body["browserSettings"]["extensionId"] == "<string>"
    assert body["proxies"] == seed["proxies"]  # domainPattern and geolocation kept


def test_custom_proxies_need_a_rule() -> None:
    """Choosing custom rules without any rule explains what to do."""
    form = SessionSettings()
    form.proxies.mode.value = "custom"
    assert "add at least one proxy rule" in form.proxies.error.value
    form.proxies.mode.value = "default"
    assert form.value.to_wire() == {"proxies": True}


def test_password_is_masked_in_preview_and_cleared_from_widget() -> None:
    """The proxy password reaches the body but never the preview or the widget state."""
    form = SessionSettings()
    row = form.proxies.add_row()
    row.type.value = "external"
    row.texts[("server",)].value = "http://p.local:1"
    row.password.widget.set_state({"value": "SENTINEL-PROXY-PW"})  # as the browser would
    assert row.password.widget.value == ""
    assert "SENTINEL-PROXY-PW" not in json.dumps(row.password.widget.get_state())
    assert "SENTINEL-PROXY-PW" not in form.preview.value
    assert "**********" in form.preview.value
    assert isinstance(form.value.proxies[0].password, SecretStr)
    assert form.value.to_wire()["proxies"][0]["password"] == "SENTINEL-PROXY-PW"


def test_set_value_fills_the_form() -> None:
    """A model loads into the fields and comes back unchanged."""
    model = SessionCreateParams.model_validate(
        {
            "timeout": 300,
            "browserSettings": {
                "os": "linux",
                "recordSession": False,
                "viewport": {"width": 800, "height": 600},
            },
            "proxies": [{"type": "external", "server": "http://x.local:1", "password": "pw"}],
        }
    )
    form = SessionSettings()
    form.set_value(model)
    assert form.value.to_wire() == model.to_wire()


def test_to_magic_names_the_settings_variable() -> None:
    """Non-default settings travel as --settings-var NAME."""
    form = SessionSettings()
    form.field("timeout").value = "120"
    assert form.to_magic("my_settings") == "--settings-var my_settings"
