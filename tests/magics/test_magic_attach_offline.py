"""``%bb_run attach`` after the server changed: finished runs from the journal, else one line."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from bbnb import ManualClock
from bbnb.client._client import Client
from bbnb.emulator import Emulator, EmulatorConfig
from bbnb.magics import BBMagic

CellRunner = Callable[[str], Any]
LONG_RUNS = {"run_seconds": (5000.0, 5000.0)}


@pytest.fixture
def restarted(magic: BBMagic, clock: ManualClock) -> Iterator[Callable[[], Emulator]]:
    """Point the magic at a new emulator on another port, as after a kernel restart."""
    made: list[tuple[Emulator, Client]] = []

    def restart() -> Emulator:
        emu = Emulator(EmulatorConfig(seed=1234), clock=clock)
        client = Client(
            api_key=emu.config.api_key,
            base_url="http://127.0.0.1:10",
            transport=emu.transport(),
            clock=clock,
        )
        made.append((emu, client))
        magic.close()  # forget the old kernel's client, as a restart would
        magic.client_factory = lambda _magic: client
        return emu

    yield restart
    for emu, client in made:
        client.close()
        emu.close()


def test_finished_runs_come_back_after_a_restart(
    shell: InteractiveShell, run: CellRunner, bb: Emulator, restarted: Callable[[], Emulator]
) -> None:
    """The journal answers: same results, and the new server is not asked."""
    shell.user_ns["xs"] = ["a", "b"]
    first = run("%bb_run agent 'Title of {{row}}.example' --foreach xs")
    assert first.error is None, first.err
    frame = first.value
    new = restarted()
    again = run(f"%bb_run attach {frame.loc[0, '_id']}")
    assert again.error is None, again.err
    assert again.value.loc[0, "_id"] == frame.loc[0, "_id"]
    assert again.value.loc[0, "_status"] == frame.loc[0, "_status"]
    whole = run(f"%bb_run attach {frame.attrs['batch_id']}")
    assert whole.error is None, whole.err
    assert list(whole.value["_id"]) == list(frame["_id"])
    assert new.stats.runs_created == 0 and new.store.runs.order == []


def test_finished_runs_need_no_client(
    shell: InteractiveShell, run: CellRunner, bb: Emulator, magic: BBMagic
) -> None:
    """Attaching to finished work makes no client at all (no emulator would start)."""
    shell.user_ns["xs"] = ["a"]
    frame = run("%bb_run agent 'Title of {{row}}.example' --foreach xs").value
    magic.close()

    def no_client(_magic: BBMagic) -> Client:
        raise AssertionError("a client was made for a run the journal holds finished")

    magic.client_factory = no_client
    cell = run(f"%bb_run attach {frame.loc[0, '_id']}")
    assert cell.error is None, cell.err
    assert cell.value.loc[0, "_id"] == frame.loc[0, "_id"]


@pytest.mark.parametrize("emulator_config", [LONG_RUNS], indirect=True, ids=["long-runs"])
def test_unfinished_run_on_a_gone_server_is_one_line(
    shell: InteractiveShell, run: CellRunner, bb: Emulator, restarted: Callable[[], Emulator]
) -> None:
    """An unfinished run whose server is gone: a UsageError naming it, no traceback."""
    shell.user_ns["xs"] = ["a"]
    handle = run("%bb_run agent 'Slow {{row}}' --foreach xs --no-wait -o handle")
    assert handle.error is None, handle.err
    run_id = shell.user_ns["handle"].loc[0, "_id"]
    restarted()
    cell = run(f"%bb_run attach {run_id}")
    assert isinstance(cell.error, UsageError)
    assert run_id in str(cell.error) and "never asks one server about another's run" in str(
        cell.error
    )
