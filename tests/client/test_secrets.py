"""The API key and variable values never show in reprs, exception text or logs."""

from __future__ import annotations

import http.server
import json
import logging
import threading
import traceback
from collections.abc import Iterator
from typing import ClassVar

import httpx
import pytest

from bbnb import ManualClock
from bbnb.client._client import Client

from .conftest import API_KEY, FakeAPI, error_reply, reply, run_wire

VARIABLE_SECRET = "hunter2-VARIABLE-secret"


def _dropped(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadError("connection reset by peer", request=request)


def test_key_and_variables_never_leak(
    api: FakeAPI, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Drive successes, retries and every error kind with DEBUG logs on; search all text."""
    for name in ("bbnb", "httpx", "httpcore"):
        caplog.set_level(logging.DEBUG, logger=name)
    api.script("POST", "/v1/agents/runs", _dropped, reply(201, run_wire()))
    api.script(
        "GET",
        "/v1/agents/runs/run_1",
        error_reply(429, "Too Many Requests", "slow", {"retry-after": "1"}),
        reply(200, run_wire(status="COMPLETED")),
        error_reply(401, "Unauthorized", "Invalid API key"),
    )
    api.script("POST", "/v1/agents/runs/run_1/stop", error_reply(409, "Conflict", "done"))
    api.script("GET", "/v1/agents/runs/run_2", _dropped, _dropped, _dropped)

    texts: list[str] = []
    with Client(api_key=API_KEY, transport=api.transport, clock=clock) as client:
        texts += [repr(client), str(client), repr(client.async_client), repr(client.stats)]
        texts += [repr(client.async_client._core), repr(client.async_client._config)]
        variables = {"password": VARIABLE_SECRET}
        calls = [
            lambda: client.agents.runs.create("log in with %password%", variables=variables),
            lambda: client.agents.runs.create("log in with %password%", variables=variables),
            lambda: client.agents.runs.retrieve("run_1"),
            lambda: client.agents.runs.retrieve("run_1"),
            lambda: client.agents.runs.stop("run_1"),
            lambda: client.agents.runs.retrieve("run_2"),
        ]
        errors: list[BaseException] = []
        for call in calls:
            try:
                texts.append(repr(call()))
            except Exception as error:
                errors.append(error)
    assert len(errors) == 4  # unknown create, 401, 409, connection error
    for error in errors:
        texts += [str(error), repr(error), "".join(traceback.format_exception(error))]
        texts += [repr(getattr(error, "request", None)), repr(getattr(error, "response", None))]
    texts.append(caplog.text)
    assert "retrying" in caplog.text  # the logs did capture the traffic
    for text in texts:
        assert API_KEY not in text
        assert VARIABLE_SECRET not in text
    # ...while the wire did carry both, as it must.
    assert api.requests[0].headers["x-bb-api-key"] == API_KEY
    assert VARIABLE_SECRET in api.requests[0].content.decode()


class _RunHandler(http.server.BaseHTTPRequestHandler):
    seen_keys: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.seen_keys.append(self.headers.get("x-bb-api-key", ""))
        body = json.dumps(run_wire(status="COMPLETED")).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Silence the stdlib server's own logging."""


@pytest.fixture
def local_server() -> Iterator[str]:
    """A real HTTP server on 127.0.0.1 answering GETs with a finished run."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _RunHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_real_sockets_debug_logs_hold_no_key(
    local_server: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Over a real connection, httpx/httpcore DEBUG logs do not contain the key."""
    for name in ("bbnb", "httpx", "httpcore"):
        caplog.set_level(logging.DEBUG, logger=name)
    with Client(api_key=API_KEY, base_url=local_server) as client:
        assert client.agents.runs.retrieve("run_1").status == "COMPLETED"
    assert _RunHandler.seen_keys[-1] == API_KEY
    assert "send_request_headers" in caplog.text  # httpcore really logged the exchange
    assert API_KEY not in caplog.text
