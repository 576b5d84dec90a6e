"""A create answered 429 created nothing, so the client sends it again, within a wait budget."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from bbnb import Client, ManualClock, RateLimitError, RetryPolicy
from bbnb.wire._retry import report_rate_limits

from .conftest import API_KEY, T0, FakeAPI, error_reply, invocation_wire, reply, run_wire

RUNS = "/v1/agents/runs"
INVOKE = "/v1/functions/fn_1/invoke"
SESSIONS = "/v1/sessions"


def _session_wire() -> dict[str, Any]:
    return {
        "id": "sess_1",
        "createdAt": T0,
        "updatedAt": T0,
        "projectId": "proj_1",
        "startedAt": T0,
        "expiresAt": "2026-01-02T00:00:00Z",
        "status": "RUNNING",
        "proxyBytes": 0,
        "keepAlive": False,
        "region": "us-west-2",
        "connectUrl": "wss://connect.example/x",
        "seleniumRemoteUrl": "http://connect.example/wd",
        "signingKey": "k",
    }


# (route, created reply, the call): every single create the issue names.
CREATES: dict[str, tuple[str, httpx.Response, Callable[[Client], Any]]] = {
    "runs.create": (RUNS, reply(201, run_wire()), lambda c: c.agents.runs.create("t")),
    "agents.run": (RUNS, reply(201, run_wire()), lambda c: c.agents.run("t", wait=False)),
    "functions.invoke": (
        INVOKE,
        reply(202, invocation_wire()),
        lambda c: c.functions.invoke("fn_1"),
    ),
    "sessions.create": (SESSIONS, reply(201, _session_wire()), lambda c: c.sessions.create()),
}


def _limited(headers: dict[str, str] | None = None) -> httpx.Response:
    return error_reply(429, "Too Many Requests", "max concurrent sessions (limit 3)", headers)


@pytest.fixture
def budget_client(api: FakeAPI, clock: ManualClock) -> Callable[[float], Client]:
    """Clients on the fake API with a given 429 wait budget (closed after the test)."""
    made: list[Client] = []

    def make(rate_limit_wait: float) -> Client:
        policy = RetryPolicy(random=lambda: 0.5, rate_limit_wait=rate_limit_wait)
        made.append(
            Client(api_key=API_KEY, transport=api.transport, clock=clock, retry_policy=policy)
        )
        return made[-1]

    yield make  # type: ignore[misc]
    for client in made:
        client.close()


@pytest.mark.parametrize("call", list(CREATES), ids=list(CREATES))
@pytest.mark.parametrize(
    ("headers", "waited"),
    [({"retry-after": "2"}, 4.0), ({"retry-after-ms": "1500"}, 3.0), ({}, 0.4375 + 0.875)],
    ids=["retry-after", "retry-after-ms", "backoff"],
)
def test_a_429_create_is_sent_again_after_the_hint(
    client: Client,
    api: FakeAPI,
    clock: ManualClock,
    call: str,
    headers: dict[str, str],
    waited: float,
) -> None:
    """Two 429s then success: the call returns, having waited as the server said (or backoff)."""
    route, created, make = CREATES[call]
    api.script("POST", route, _limited(headers), _limited(headers), created)
    start = clock.now()
    assert make(client) is not None
    assert api.count("POST", route) == 3
    assert clock.now() - start == pytest.approx(waited)
    assert client.stats.retries == 2


def test_the_wait_is_bounded_and_the_error_says_so(
    budget_client: Callable[[float], Client], api: FakeAPI, clock: ManualClock
) -> None:
    """With 25 s hints and a 60 s budget: two waits, then RateLimitError naming the limit."""
    client = budget_client(60.0)
    api.script("POST", RUNS, *[_limited({"retry-after": "25"})] * 5)
    start = clock.now()
    with pytest.raises(RateLimitError) as info:
        client.agents.runs.create("t")
    assert api.count("POST", RUNS) == 3
    assert clock.now() - start == pytest.approx(50.0)
    message = str(info.value)
    assert "Nothing was created" in message
    assert "tried 3 attempts and waited 50.0 s" in message
    assert "rate_limit_wait=60" in message
    assert info.value.retry_after == 25.0


def test_a_budget_of_zero_turns_the_retry_off(
    budget_client: Callable[[float], Client], api: FakeAPI
) -> None:
    """rate_limit_wait=0 reports the first 429."""
    client = budget_client(0.0)
    api.script("POST", INVOKE, _limited({"retry-after": "1"}), reply(202, invocation_wire()))
    with pytest.raises(RateLimitError, match="rate_limit_wait=0"):
        client.functions.invoke("fn_1")
    assert api.count("POST", INVOKE) == 1


def test_batches_get_the_429_at_once(make_async_client: Callable[[], Any], api: FakeAPI) -> None:
    """Inside report_rate_limits() (how batches create) a 429 is raised without waiting."""
    api.script("POST", RUNS, _limited({"retry-after": "1"}), reply(201, run_wire()))

    async def main() -> tuple[str, str]:
        async with make_async_client() as client:
            with report_rate_limits(), pytest.raises(RateLimitError) as info:
                await client.agents.runs.create("t")
            created = await client.agents.runs.create("t")
        return str(info.value), created.run_id

    message, run_id = asyncio.run(main())
    assert "Nothing was created" not in message
    assert run_id == "run_1" and api.count("POST", RUNS) == 2


def test_a_negative_budget_is_refused() -> None:
    """RetryPolicy says what rate_limit_wait means when given a negative one."""
    with pytest.raises(ValueError, match="rate_limit_wait must be >= 0"):
        RetryPolicy(rate_limit_wait=-1)
