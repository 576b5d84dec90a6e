"""Ids are unique across emulator instances and restarts; answers stay those of the seed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bbnb import Client, ManualClock
from bbnb.emulator import Emulator, EmulatorConfig

SCHEMA = {"type": "object", "properties": {"title": {"type": "string"}}, "required": ["title"]}


@pytest.fixture
def twin_clients(clock: ManualClock) -> Iterator[list[Client]]:
    """Two emulators with the same seed (two kernels), each with a client on the shared clock."""
    emulators = [Emulator(EmulatorConfig(seed=7), clock=clock) for _ in range(2)]
    clients = [
        Client(
            api_key=e.config.api_key,
            base_url="http://e.local",
            transport=e.transport(),
            clock=clock,
        )
        for e in emulators
    ]
    yield clients
    for client, emu in zip(clients, emulators, strict=True):
        client.close()
        emu.close()


def test_two_emulators_never_share_an_id(twin_clients: list[Client]) -> None:
    """Runs, sessions, invocations and agents get different ids; results are the same."""
    first, second = (
        [c.agents.run(f"Title of site {i}.example", result_schema=SCHEMA) for i in range(3)]
        for c in twin_clients
    )
    ids = [r.run_id for r in first + second]
    assert len(set(ids)) == 6
    assert len({r.session_id for r in first + second}) == 6
    assert [r.result for r in first] == [r.result for r in second]
    invocations = [c.functions.invoke("echo", {"x": 1}, wait=True) for c in twin_clients]
    assert invocations[0].id != invocations[1].id
    assert invocations[0].results == invocations[1].results
    agents = [c.agents.create(name="a") for c in twin_clients]
    assert agents[0].agent_id != agents[1].agent_id


def test_a_restarted_emulator_hands_out_new_ids(clock: ManualClock, tmp_path: Path) -> None:
    """In memory or on disk, an emulator started again does not reuse an id it gave before."""
    seen: set[str] = set()
    for db_path in (None, None, tmp_path / "emu.sqlite", tmp_path / "emu.sqlite"):
        emu = Emulator(
            EmulatorConfig(seed=7, db_path=str(db_path) if db_path else None), clock=clock
        )
        with Client(
            api_key=emu.config.api_key,
            base_url="http://e.local",
            transport=emu.transport(),
            clock=clock,
        ) as client:
            run = client.agents.runs.create("Title of example.com")
        emu.close()
        assert run.run_id not in seen
        seen.add(run.run_id)
