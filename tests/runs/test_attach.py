"""attach(): finishing a batch from the journal alone, never creating a run twice."""

from __future__ import annotations

from pathlib import Path

import pytest

from bbnb import ManualClock
from bbnb.client._client import Client
from bbnb.emulator import Emulator
from bbnb.models import AgentRun, AgentRunCreateParams
from bbnb.runs import Batch, Journal, attach, history, run_many
from bbnb.runs._secrets import mask_request

UNLIMITED = {"max_concurrent_sessions": None, "sessions_per_minute": None}


def _masked(task: str, **fields: object) -> tuple[dict[str, object], bool]:
    masked, secrets = mask_request(AgentRunCreateParams(task=task, **fields).to_wire())  # type: ignore[arg-type]
    return masked, bool(secrets)


@pytest.mark.parametrize("emulator_config", [UNLIMITED], indirect=True, ids=["unlimited"])
def test_attach_reconciles_every_kind_of_row(
    client: Client, emulator: Emulator, clock: ManualClock, journal_path: Path
) -> None:
    """submitting rows are adopted or proven absent; created rows are watched; queued sent."""
    journal = Journal(journal_path)
    tasks = ["lost answer", "never arrived", "not yet sent", "in flight", "already done"]
    journal.start_batch("b-crash", kind="agent", total=5, options={"concurrency": 5})
    journal.record_queued(
        "b-crash", [(i, f"k{i}", _masked(t)[0], False) for i, t in enumerate(tasks)], kind="agent"
    )
    # 0: the POST reached the server, the process died before the answer was written.
    journal.record_submitting(
        "b-crash",
        0,
        key="k0",
        kind="agent",
        request={"task": tasks[0]},
        needs_secrets=False,
        submitted_at=clock.now(),
    )
    lost = client.agents.runs.create(task=tasks[0])
    # 1: the row was written, the POST never left.
    journal.record_submitting(
        "b-crash",
        1,
        key="k1",
        kind="agent",
        request={"task": tasks[1]},
        needs_secrets=False,
        submitted_at=clock.now(),
    )
    # 3: created and known; 4: finished and recorded.
    flying = client.agents.runs.create(task=tasks[3])
    journal.record_submitting(
        "b-crash", 3, key="k3", kind="agent", request={"task": tasks[3]}, needs_secrets=False
    )
    journal.record_created(
        "b-crash",
        3,
        remote_id=flying.id,
        status="PENDING",
        server_created_at=flying.created_at.isoformat(),
    )
    done = client.agents.runs.wait(client.agents.runs.create(task=tasks[4]))
    journal.record_submitting(
        "b-crash", 4, key="k4", kind="agent", request={"task": tasks[4]}, needs_secrets=False
    )
    journal.record_created("b-crash", 4, remote_id=done.id, status="PENDING")
    journal.record_final("b-crash", 4, status=done.status, run=done.to_wire(), cause=None)
    assert emulator.stats.runs_created == 3

    batch = attach("b-crash", client=client, journal=journal, progress="none")

    assert isinstance(batch, Batch)
    assert batch.counts == {"COMPLETED": 5}
    assert [k for k, _ in batch.iter_keyed()] == ["k0", "k1", "k2", "k3", "k4"]
    assert batch["k0"].id == lost.id  # adopted, not re-sent
    assert batch["k3"].id == flying.id and batch["k4"].id == done.id
    assert emulator.stats.runs_created == 5  # only "never arrived" and "not yet sent" were sent
    assert batch.stats.reconciled == 1 and batch.stats.resubmitted == 1
    assert {r.state for r in journal.runs("b-crash")} == {"done"}


@pytest.mark.parametrize("emulator_config", [UNLIMITED], indirect=True, ids=["unlimited"])
def test_attach_without_secret_values_reports_instead_of_guessing(
    client: Client, emulator: Emulator, journal_path: Path
) -> None:
    """A never-sent input that needs a variable value is reported until the value is given."""
    journal = Journal(journal_path)
    masked, needs = _masked("log in with %pin%", variables={"pin": "8312"})
    journal.start_batch("b-secret", kind="agent", total=1)
    journal.record_queued("b-secret", [(0, 0, masked, needs)], kind="agent")

    first = attach("b-secret", client=client, journal=journal, progress="none")
    assert isinstance(first, Batch)
    assert first[0].status == "NOT_SUBMITTED"
    assert "pin" in (first[0].error or "") and "variables=" in (first[0].error or "")
    assert emulator.stats.runs_created == 0

    journal.start_batch("b-secret-2", kind="agent", total=1)
    journal.record_queued("b-secret-2", [(0, 0, masked, needs)], kind="agent")
    second = attach(
        "b-secret-2", client=client, journal=journal, variables={"pin": "8312"}, progress="none"
    )
    assert isinstance(second, Batch) and second.counts == {"COMPLETED": 1}
    assert emulator.stats.runs_created == 1


@pytest.mark.parametrize("emulator_config", [UNLIMITED], indirect=True, ids=["unlimited"])
def test_attach_one_run_and_history(client: Client, journal_path: Path) -> None:
    """attach(run_id) waits for that run; history() lists batches and runs."""
    batch = run_many(client, ["a", "b"], progress="none", journal=journal_path, timeout=0.5)
    assert batch.id
    run_id = batch.items[0].id
    assert run_id is not None
    run = attach(run_id, client=client, journal=journal_path)
    assert isinstance(run, AgentRun) and run.is_terminal
    frame = history(journal_path)
    assert set(frame["batch_id"]) == {batch.id}
    assert list(frame["task"]) == ["a", "b"]
    with pytest.raises(KeyError, match="no batch or run"):
        attach("nope", client=client, journal=journal_path)
