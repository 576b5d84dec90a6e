"""Secrets in models: masked in repr, str, model_dump, JSON and errors; revealed only by to_wire."""

from __future__ import annotations

import logging

import pytest
from pydantic import ValidationError

from bbnb.models import AgentRunCreateParams, ExternalProxy, SessionCreateParams

SENTINEL_PASSWORD = "sentinel-proxy-pass-7f3a"
SENTINEL_VALUE = "sentinel-variable-value-91c2"


def build() -> tuple[SessionCreateParams, AgentRunCreateParams]:
    session = SessionCreateParams(
        proxies=[
            ExternalProxy(server="http://proxy:3128", username="u", password=SENTINEL_PASSWORD)
        ]
    )
    run = AgentRunCreateParams(
        task="log in with %pw%",
        variables={"pw": SENTINEL_VALUE},
        browser_settings={
            "proxies": [{"type": "external", "server": "s", "password": SENTINEL_PASSWORD}]
        },
    )
    return session, run


def test_secrets_masked_everywhere_but_wire(caplog: pytest.LogCaptureFixture) -> None:
    """repr, str, model_dump, model_dump_json and logging never show a secret."""
    session, run = build()
    logger = logging.getLogger("bbnb.test")
    with caplog.at_level(logging.DEBUG):
        for obj in (session, run):
            logger.debug("model %r %s", obj, obj)
            shown = [
                repr(obj),
                str(obj),
                str(obj.model_dump()),
                obj.model_dump_json(),
                str(obj.to_safe_dict()),
            ]
            assert not any(SENTINEL_PASSWORD in s or SENTINEL_VALUE in s for s in shown)
    assert SENTINEL_PASSWORD not in caplog.text and SENTINEL_VALUE not in caplog.text
    assert session.to_wire()["proxies"][0]["password"] == SENTINEL_PASSWORD
    assert run.to_wire()["variables"]["pw"]["value"] == SENTINEL_VALUE


def test_secrets_absent_from_validation_errors() -> None:
    """A validation error elsewhere in a body does not echo the secret input."""
    with pytest.raises(ValidationError) as exc:
        SessionCreateParams.from_wire(
            {
                "timeout": 1,
                "proxies": [{"type": "external", "server": "s", "password": SENTINEL_PASSWORD}],
            }
        )
    assert SENTINEL_PASSWORD not in str(exc.value)
    with pytest.raises(ValidationError) as exc2:
        AgentRunCreateParams.from_wire({"task": "", "variables": {"pw": SENTINEL_VALUE}})
    assert SENTINEL_VALUE not in str(exc2.value)
    with pytest.raises(ValidationError) as exc3:
        SessionCreateParams(
            region="us-east-1",
            proxies=[{"type": "external", "server": "s", "password": SENTINEL_PASSWORD}],
        ).for_function()
    assert SENTINEL_PASSWORD not in str(exc3.value)
