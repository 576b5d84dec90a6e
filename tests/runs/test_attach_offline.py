"""attach answers from the journal when it can, and asks only the server a run belongs to."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bbnb import ManualClock, RunUnavailableError
from bbnb.client._client import Client
from bbnb.emulator import Emulator, EmulatorConfig
from bbnb.models import AgentRun
from bbnb.runs import Batch, Journal, attach, run_many

UNLIMITED = {"max_concurrent_sessions": None, "sessions_per_minute": None}
LONG = {**UNLIMITED, "run_seconds": (5000.0, 5000.0)}


@pytest.fixture
def no_default_client(monkeypatch: pytest.MonkeyPatch) -> None:
    """Making a default client (which would start an emulator) fails the test."""

    def refuse() -> Client:
        raise AssertionError("attach made a client although the journal had the answer")

    monkeypatch.setattr(sys.modules["bbnb.runs.attach"], "_client_factory", refuse)


@pytest.fixture
def other_client(clock: ManualClock) -> Iterator[Callable[..., Client]]:
    """Clients on a second emulator (another kernel's server), closed after the test."""
    emu = Emulator(EmulatorConfig(seed=1234), clock=clock)
    made: list[Client] = []

    def make(base_url: str = "http://other.local", api_key: str | None = None) -> Client:
        made.append(
            Client(
                api_key=api_key or emu.config.api_key,
                base_url=base_url,
                transport=emu.transport(),
                clock=clock,
            )
        )
        return made[-1]

    yield make
    for client in made:
        client.close()
    emu.close()


@pytest.mark.parametrize("emulator_config", [UNLIMITED], indirect=True, ids=["unlimited"])
def test_finished_run_and_batch_come_from_the_journal(
    client: Client, journal_path: Path, no_default_client: None
) -> None:
    """With the server gone and no client, attach returns what the journal recorded."""
    batch = run_many(client, ["a", "b", "c"], progress="none", journal=journal_path)
    assert batch.counts == {"COMPLETED": 3}
    before = client.stats.total
    for item in batch.items:
        assert item.id is not None
        again = attach(item.id, journal=journal_path)
        assert isinstance(again, AgentRun)
        assert again.to_wire() == item.run.to_wire()  # type: ignore[union-attr]
    rebuilt = attach(batch.id or "", journal=journal_path)
    assert isinstance(rebuilt, Batch)
    assert [i.id for i in rebuilt.items] == [i.id for i in batch.items]
    assert [i.run.result for i in rebuilt.items] == [i.run.result for i in batch.items]  # type: ignore[union-attr]
    assert client.stats.total == before


@pytest.mark.parametrize("emulator_config", [LONG], indirect=True, ids=["long-runs"])
def test_unfinished_run_is_never_asked_of_another_server(
    client: Client, journal_path: Path, other_client: Callable[..., Client]
) -> None:
    """Another base URL or another key: one clear line, and not a single request to it."""
    batch = run_many(client, ["a"], progress="none", journal=journal_path, timeout=0.5)
    run_id = batch.items[0].id
    assert run_id is not None
    with Journal(journal_path) as journal:
        record = journal.batch(batch.id or "")
        assert record is not None and record.key_hash == client.key_hash
        assert record.base_url == "http://emulator.local"
    elsewhere = other_client()
    with pytest.raises(RunUnavailableError) as info:
        attach(run_id, client=elsewhere, journal=journal_path)
    message = str(info.value)
    assert "\n" not in message
    assert run_id in message and "http://emulator.local" in message
    assert "never asks one server about another's run" in message
    other_key = other_client("http://emulator.local", api_key="another-key")
    with pytest.raises(RunUnavailableError, match="a different API key"):
        attach(batch.id or "", client=other_key, journal=journal_path)
    assert elsewhere.stats.total == 0 and other_key.stats.total == 0
    assert not client.agents.runs.retrieve(run_id).is_terminal  # still fine on its own server


@pytest.mark.parametrize("emulator_config", [LONG], indirect=True, ids=["long-runs"])
def test_unfinished_run_whose_server_forgot_it(
    client: Client, journal_path: Path, clock: ManualClock
) -> None:
    """Same server, but it no longer knows the run (restarted in memory): one clear line."""
    batch = run_many(client, ["a"], progress="none", journal=journal_path, timeout=0.5)
    run_id = batch.items[0].id
    assert run_id is not None
    fresh = Emulator(EmulatorConfig(seed=1234), clock=clock)  # the restarted server
    with (
        Client(
            api_key=fresh.config.api_key,
            base_url="http://emulator.local",
            transport=fresh.transport(),
            clock=clock,
        ) as restarted,
        pytest.raises(RunUnavailableError) as info,
    ):
        attach(run_id, client=restarted, journal=journal_path)
    fresh.close()
    message = str(info.value)
    assert ("no longer knows it" in message and "it was PENDING" in message) or "RUNNING" in message
    assert "NotFoundError" not in message and "\n" not in message


def test_unreachable_emulator_gives_one_line(journal_path: Path, clock: ManualClock) -> None:
    """A run recorded against an emulator port nobody listens on: what happened, what to do."""
    with Journal(journal_path) as journal:
        journal.start_batch(
            "b-gone", kind="agent", total=1, base_url="http://127.0.0.1:9", key_hash=None
        )
        journal.record_queued("b-gone", [(0, 0, {"task": "t"}, False)], kind="agent")
        journal.record_submitting(
            "b-gone", 0, key=0, kind="agent", request={"task": "t"}, needs_secrets=False
        )
        journal.record_created("b-gone", 0, remote_id="run-gone", status="RUNNING")
    with (
        Client(api_key="k", base_url="http://127.0.0.1:9", clock=clock) as client,
        pytest.raises(RunUnavailableError) as info,
    ):
        attach("run-gone", client=client, journal=journal_path)
    message = str(info.value)
    assert "the emulator that ran at http://127.0.0.1:9 cannot be reached" in message
    assert "An emulator's runs end with the process that started it" in message
