"""Agent runs and invocations through their status machines, with waits on virtual time."""

from __future__ import annotations

import json

import pytest

from bbnb import ManualClock
from bbnb._exceptions import (
    RunError,
    RunFailedError,
    RunStoppedError,
    RunTimedOutError,
    WaitTimeoutError,
)
from bbnb.client._client import Client

from .conftest import FakeAPI, invocation_wire, reply, run_wire

RUNS = "/v1/agents/runs"
RUN = "/v1/agents/runs/run_1"


def test_pending_running_completed(client: Client, api: FakeAPI, clock: ManualClock) -> None:
    """The one-line path creates, polls with growing pauses, and returns the finished run."""
    api.script("POST", RUNS, reply(201, run_wire(status="PENDING")))
    api.script(
        "GET",
        RUN,
        reply(200, run_wire(status="PENDING")),
        reply(200, run_wire(status="RUNNING", sessionId="sess_9")),
        reply(200, run_wire(status="COMPLETED", result={"output": {"price": 12.5}})),
    )
    start = clock.now()
    run = client.agents.run("find the price", result_schema={"type": "object"})
    assert run.status == "COMPLETED" and run.output == {"price": 12.5}
    assert api.count("POST", RUNS) == 1 and api.count("GET", RUN) == 3
    # random() pinned at 0.5 means no jitter: pauses of 1.0, 1.5 and 2.25 s before the polls.
    assert clock.now() - start == pytest.approx(1.0 + 1.5 + 2.25)
    body = json.loads(api.requests[0].content)
    assert body == {"task": "find the price", "resultSchema": {"type": "object"}}


@pytest.mark.parametrize(
    "code",
    ["RUNNER_HEARTBEAT_LOST", "AGENT_ERROR", "INTERNAL_ERROR", "SESSION_CREATE_FAILED"],
    ids=["heartbeat", "agent", "internal", "session"],
)
def test_failed_run_carries_its_cause(client: Client, api: FakeAPI, code: str) -> None:
    """A FAILED run is returned by default and raises RunFailedError with its cause on request."""
    failed = run_wire(status="FAILED", cause={"code": code, "message": "it broke"})
    api.script("POST", RUNS, reply(201, run_wire()), reply(201, run_wire()))
    api.script("GET", RUN, reply(200, failed), reply(200, failed))
    run = client.agents.run("t")
    assert run.status == "FAILED" and run.cause is not None and run.cause.code == code
    with pytest.raises(RunFailedError) as info:
        client.agents.run("t", raise_on_failure=True)
    assert info.value.cause is not None and info.value.cause.code == code
    assert info.value.run.run_id == "run_1"
    assert str(info.value) == f"Run 'run_1' ended FAILED: {code}: it broke"


@pytest.mark.parametrize(
    ("status", "error"),
    [("TIMED_OUT", RunTimedOutError), ("STOPPED", RunStoppedError)],
    ids=["timed-out", "stopped"],
)
def test_other_bad_ends(client: Client, api: FakeAPI, status: str, error: type[RunError]) -> None:
    """TIMED_OUT and STOPPED end the wait and map to their own errors."""
    api.script(
        "GET", RUN, reply(200, run_wire(status="RUNNING")), reply(200, run_wire(status=status))
    )
    run = client.agents.runs.wait("run_1")
    assert run.status == status
    with pytest.raises(error):
        client.agents.runs.wait(run, raise_on_failure=True)  # settled: no request needed
    assert api.count("GET", RUN) == 2


def test_paused_returns_then_resume(client: Client, api: FakeAPI) -> None:
    """PAUSED ends a wait (it needs you); resume sends the answer and the run goes on."""
    api.script(
        "GET",
        RUN,
        reply(200, run_wire(status="RUNNING")),
        reply(200, run_wire(status="PAUSED")),
        reply(200, run_wire(status="COMPLETED", result={"ok": True})),
    )
    api.script("POST", f"{RUN}/resume", reply(202, run_wire(status="RUNNING")))
    paused = client.agents.runs.wait("run_1", raise_on_failure=True)
    assert paused.needs_input
    resumed = client.agents.runs.resume("run_1", "the code is 1234", variables={"otp": "9876"})
    assert resumed.status == "RUNNING"
    body = json.loads(api.requests[-1].content)
    assert body == {"task": "the code is 1234", "variables": {"otp": {"value": "9876"}}}
    assert client.agents.runs.wait(resumed).output == {"ok": True}


def test_wait_deadline_raises_with_last_seen(
    client: Client, api: FakeAPI, clock: ManualClock
) -> None:
    """At the deadline the wait gives up with the last run seen; the run itself goes on."""
    api.script("GET", RUN, *[reply(200, run_wire(status="RUNNING")) for _ in range(10)])
    start = clock.now()
    with pytest.raises(WaitTimeoutError) as info:
        client.agents.runs.wait("run_1", timeout=4.0)
    assert clock.now() - start == pytest.approx(4.0)
    assert info.value.last_seen.status == "RUNNING"
    assert "client.agents.runs.wait('run_1')" in str(info.value)
    assert "stop" in str(info.value)


def test_fixed_poll_interval(client: Client, api: FakeAPI, clock: ManualClock) -> None:
    """A number as poll interval polls at exactly that pace."""
    api.script(
        "GET",
        RUN,
        reply(200, run_wire(status="RUNNING")),
        reply(200, run_wire(status="RUNNING")),
        reply(200, run_wire(status="COMPLETED")),
    )
    start = clock.now()
    client.agents.runs.wait("run_1", poll=2.0)
    assert clock.now() - start == pytest.approx(4.0)


def test_run_without_wait_returns_the_created_run(client: Client, api: FakeAPI) -> None:
    """``wait=False`` returns the PENDING run straight from the create."""
    api.script("POST", RUNS, reply(201, run_wire()))
    assert client.agents.run("t", wait=False).status == "PENDING"
    assert api.count("GET", RUN) == 0


INV = "/v1/functions/invocations/inv_1"


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("TIMED_OUT", RunTimedOutError),
        ("INTERNAL_ERROR", RunFailedError),
        ("WORKLOAD_ERROR", RunFailedError),
    ],
    ids=["timed-out", "internal", "workload"],
)
def test_invocation_failures(
    client: Client, api: FakeAPI, code: str, error: type[RunError]
) -> None:
    """An invocation FAILED with each cause code maps to the matching run error."""
    api.script("POST", "/v1/functions/fn_1/invoke", reply(202, invocation_wire()))
    api.script(
        "GET",
        INV,
        reply(200, invocation_wire(status="RUNNING")),
        reply(200, invocation_wire(status="FAILED", cause={"code": code, "message": "x"})),
    )
    with pytest.raises(error) as info:
        client.functions.invoke("fn_1", {"q": 1}, wait=True, raise_on_failure=True)
    assert info.value.cause is not None and info.value.cause.code == code
    assert json.loads(api.requests[0].content) == {"params": {"q": 1}}


def test_invocation_completes_with_results(client: Client, api: FakeAPI) -> None:
    """invoke(wait=True) returns the COMPLETED invocation with its results."""
    api.script("POST", "/v1/functions/fn_1/invoke", reply(202, invocation_wire(status="RUNNING")))
    api.script("GET", INV, reply(200, invocation_wire(status="COMPLETED", results=[1, 2])))
    invocation = client.functions.invoke("fn_1", session_create_params={"timeout": 120}, wait=True)
    assert invocation.results == [1, 2]
    assert json.loads(api.requests[0].content) == {"sessionCreateParams": {"timeout": 120}}


def test_invoke_checks_function_rules_before_sending(client: Client, api: FakeAPI) -> None:
    """A session setting Functions forbid is rejected locally, with no request sent."""
    with pytest.raises(ValueError, match="region"):
        client.functions.invoke("fn_1", session_create_params={"region": "us-east-1"})
    assert api.requests == []
