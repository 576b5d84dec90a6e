"""Retries, error mapping and the never-create-twice rule, scripted over MockTransport."""

from __future__ import annotations

import httpx
import pytest

from bbnb import ManualClock
from bbnb._exceptions import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    CreateOutcomeUnknownError,
    InternalServerError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
)
from bbnb.client._client import Client

from .conftest import FakeAPI, error_reply, invocation_wire, reply, run_wire

RUNS = "/v1/agents/runs"
RUN = "/v1/agents/runs/run_1"


def _refused(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("[Errno 111] Connection refused", request=request)


def _dropped(request: httpx.Request) -> httpx.Response:
    raise httpx.RemoteProtocolError(
        "Server disconnected without sending a response.", request=request
    )


@pytest.mark.parametrize(
    ("headers", "expected_delay"),
    [
        ({"retry-after": "3"}, 3.0),
        ({"retry-after-ms": "1250"}, 1.25),
        ({}, 0.5 * 0.875),
    ],
    ids=["retry-after", "retry-after-ms", "no-hint-backoff"],
)
def test_429_waits_as_told_then_succeeds(
    client: Client,
    api: FakeAPI,
    clock: ManualClock,
    headers: dict[str, str],
    expected_delay: float,
) -> None:
    """A 429 on a read is retried after the server's hint, or after jittered backoff."""
    api.script(
        "GET",
        RUN,
        error_reply(429, "Too Many Requests", "slow down", headers),
        reply(200, run_wire(status="RUNNING")),
    )
    start = clock.now()
    assert client.agents.runs.retrieve("run_1").status == "RUNNING"
    assert clock.now() - start == pytest.approx(expected_delay)
    assert client.stats.retries == 1


def test_429_exhausted_raises_rate_limit_error(
    client: Client, api: FakeAPI, clock: ManualClock
) -> None:
    """After max_retries the 429 surfaces with the server's hint and error body."""
    limit = error_reply(429, "Too Many Requests", "max concurrent sessions", {"retry-after": "2"})
    api.script("GET", RUN, limit, limit, limit)
    start = clock.now()
    with pytest.raises(RateLimitError) as info:
        client.agents.runs.retrieve("run_1")
    assert clock.now() - start == pytest.approx(4.0)
    assert info.value.retry_after == 2.0
    assert info.value.body is not None and info.value.body.message == "max concurrent sessions"
    assert api.count("GET", RUN) == 3


def test_500_then_success_on_get(client: Client, api: FakeAPI, clock: ManualClock) -> None:
    """A 5xx on a GET is retried with backoff."""
    api.script(
        "GET", RUN, error_reply(500, "Internal Server Error", "oops"), reply(200, run_wire())
    )
    start = clock.now()
    assert client.agents.runs.retrieve("run_1").run_id == "run_1"
    assert clock.now() - start == pytest.approx(0.4375)


def test_read_drop_is_retried(client: Client, api: FakeAPI) -> None:
    """A dropped connection on a GET is simply retried."""
    api.script("GET", RUN, _dropped, reply(200, run_wire()))
    assert client.agents.runs.retrieve("run_1").run_id == "run_1"


def test_create_drop_is_not_resent(client: Client, api: FakeAPI) -> None:
    """A connection drop after a create was sent: no second create, and a way to find the run."""
    api.script("POST", RUNS, _dropped, reply(201, run_wire()))
    with pytest.raises(CreateOutcomeUnknownError) as info:
        client.agents.runs.create("buy milk")
    assert api.count("POST", RUNS) == 1
    message = str(info.value)
    assert "did NOT send it again" in message
    assert "client.agents.runs.list(start_at=" in message and "r.task == task" in message
    assert info.value.sent_at.tzinfo is not None
    assert isinstance(info.value, APIConnectionError)


def test_create_read_timeout_is_not_resent(client: Client, api: FakeAPI) -> None:
    """A timeout waiting for the answer to a create is an unknown outcome, not a retry."""

    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    api.script("POST", "/v1/functions/fn_1/invoke", slow)
    with pytest.raises(CreateOutcomeUnknownError, match=r"versions\.invocations"):
        client.functions.invoke("fn_1", {"a": 1})
    assert api.count("POST", "/v1/functions/fn_1/invoke") == 1


def test_create_refused_before_sending_is_retried(
    client: Client, api: FakeAPI, clock: ManualClock
) -> None:
    """Connection refused means the create never left: it is retried once and succeeds."""
    api.script("POST", RUNS, _refused, reply(201, run_wire()))
    start = clock.now()
    assert client.agents.runs.create("t").run_id == "run_1"
    assert api.count("POST", RUNS) == 2
    assert clock.now() - start == pytest.approx(0.4375)


def test_invoke_refused_before_sending_is_retried(client: Client, api: FakeAPI) -> None:
    """The same holds for a function invoke."""
    api.script("POST", "/v1/functions/fn_1/invoke", _refused, reply(202, invocation_wire()))
    assert client.functions.invoke("fn_1").id == "inv_1"


@pytest.mark.parametrize("status", [500, 503], ids=["500", "503"])
def test_create_status_errors_are_not_resent(client: Client, api: FakeAPI, status: int) -> None:
    """A create answered with an error status is reported, never sent again."""
    api.script("POST", RUNS, error_reply(status, "Err", "nope"), reply(201, run_wire()))
    with pytest.raises(APIStatusError):
        client.agents.runs.create("t")
    assert api.count("POST", RUNS) == 1


def test_create_5xx_message_says_how_to_find_it(client: Client, api: FakeAPI) -> None:
    """A 5xx on a create warns that it was not resent and how to look for the run."""
    api.script("POST", RUNS, error_reply(502, "Bad Gateway", "upstream"))
    with pytest.raises(InternalServerError, match=r"did not resend.*runs\.list"):
        client.agents.runs.create("t")


def test_late_stop_409_is_a_conflict_not_retried(client: Client, api: FakeAPI) -> None:
    """Stopping a finished run gives ConflictError at once; 409 is never retried."""
    api.script(
        "POST",
        f"{RUN}/stop",
        error_reply(409, "Conflict", "Run 'run_1' is already COMPLETED"),
        reply(202, run_wire(status="STOPPED")),
    )
    with pytest.raises(ConflictError) as info:
        client.agents.runs.stop("run_1")
    assert api.count("POST", f"{RUN}/stop") == 1
    assert str(info.value) == (
        "409 Conflict: Run 'run_1' is already COMPLETED (POST /v1/agents/runs/run_1/stop)"
    )


def test_stop_is_retried_on_503(client: Client, api: FakeAPI) -> None:
    """Stop is an action: a transient 503 is retried."""
    api.script(
        "POST",
        f"{RUN}/stop",
        error_reply(503, "Service Unavailable", "busy"),
        reply(202, run_wire(status="RUNNING")),
    )
    assert client.agents.runs.stop("run_1").run_id == "run_1"


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (413, PayloadTooLargeError),
        (422, UnprocessableEntityError),
        (418, APIStatusError),
    ],
    ids=["400", "401", "403", "404", "409", "413", "422", "other-4xx"],
)
def test_status_mapping(
    client: Client, api: FakeAPI, status: int, error: type[APIStatusError]
) -> None:
    """Each error status raises its class, carrying the parsed error body."""
    api.script("GET", RUN, error_reply(status, "Reason", f"message {status}"))
    with pytest.raises(error) as info:
        client.agents.runs.retrieve("run_1")
    assert type(info.value) is error
    assert info.value.status_code == status
    assert info.value.body is not None and info.value.body.message == f"message {status}"
    assert api.count("GET", RUN) == 1


def test_404_message_is_one_clear_line(client: Client, api: FakeAPI) -> None:
    """The message reads status, reason, the server's words, then method and path."""
    api.script("GET", "/v1/agents/runs/abc", error_reply(404, "Not Found", "Run 'abc' not found"))
    with pytest.raises(NotFoundError) as info:
        client.agents.runs.retrieve("abc")
    assert str(info.value) == "404 Not Found: Run 'abc' not found (GET /v1/agents/runs/abc)"


def test_non_json_error_body(client: Client, api: FakeAPI) -> None:
    """A proxy's HTML error page still gives a readable message and no body."""
    api.script("GET", RUN, httpx.Response(404, text="<html>  gone </html>"))
    with pytest.raises(NotFoundError) as info:
        client.agents.runs.retrieve("run_1")
    assert info.value.body is None
    assert str(info.value) == "404 Not Found: <html> gone </html> (GET /v1/agents/runs/run_1)"


def test_connection_errors_after_retries(client: Client, api: FakeAPI) -> None:
    """A server that stays unreachable gives APIConnectionError after 3 attempts."""
    api.script("GET", RUN, _refused, _refused, _refused)
    with pytest.raises(APIConnectionError, match="after 3 attempts"):
        client.agents.runs.retrieve("run_1")


def test_timeouts_after_retries(client: Client, api: FakeAPI) -> None:
    """A read that keeps timing out gives APITimeoutError."""

    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    api.script("GET", RUN, slow, slow, slow)
    with pytest.raises(APITimeoutError):
        client.agents.runs.retrieve("run_1")


def test_malformed_success_body(client: Client, api: FakeAPI) -> None:
    """A 200 whose body is not a run is reported as such, not as a pydantic error."""
    api.script("GET", RUN, reply(200, {"hello": "world"}))
    with pytest.raises(APIResponseValidationError, match="not a valid AgentRun"):
        client.agents.runs.retrieve("run_1")


def test_ids_are_quoted_into_one_segment(client: Client, api: FakeAPI) -> None:
    """An id with a slash cannot reach another route."""
    api.script("GET", "/v1/agents/runs/a/../b", reply(200, run_wire()))  # decoded path
    client.agents.runs.retrieve("a/../b")
    assert api.requests[0].url.raw_path == b"/v1/agents/runs/a%2F..%2Fb"


def test_blank_id_is_refused_locally(client: Client, api: FakeAPI) -> None:
    """An empty id is a usage error before any request."""
    with pytest.raises(ValueError, match="run_id"):
        client.agents.runs.retrieve("")
    assert api.requests == []
