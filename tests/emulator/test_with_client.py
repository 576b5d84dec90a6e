"""bbnb's own client against the in-process emulator: the shared fixtures work together."""

from __future__ import annotations

from bbnb import Client
from bbnb.emulator import Emulator


def test_client_runs_a_task_to_completion(emulator_client: Client, emulator: Emulator) -> None:
    """agents.run(wait=True) on the emulator's clock completes at once with a typed result."""
    schema = {"type": "object", "properties": {"title": {"type": "string"}}, "required": ["title"]}
    run = emulator_client.agents.run(
        "Read the title of example.com", result_schema=schema, wait=True
    )
    assert run.status == "COMPLETED" and isinstance(run.output["title"], str)
    assert emulator.stats.runs_created == 1


def test_client_invokes_a_function(emulator_client: Client, emulator: Emulator) -> None:
    """functions.invoke(wait=True) by name returns the handler's results."""
    invocation = emulator_client.functions.invoke("echo", params={"x": 1}, wait=True)
    assert invocation.status == "COMPLETED" and invocation.results == {"x": 1}
    assert emulator.stats.invocations_created == 1


def test_encoded_slash_in_an_id_is_not_found(emulator_client: Client) -> None:
    """An id holding '/' is encoded by the client and answered 404, not routed elsewhere."""
    import pytest

    from bbnb import NotFoundError

    run = emulator_client.agents.runs.create(task="Title of example.com")
    with pytest.raises(NotFoundError, match="cannot contain '/'"):
        emulator_client.agents.runs.retrieve(run.run_id + "/messages")
