"""Ctrl-C during ``%bb_run``, the embedded default, extension loading and the remaining options."""

from __future__ import annotations

import _thread
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd
import pytest
from IPython.core.interactiveshell import InteractiveShell

from bbnb.emulator import Emulator
from bbnb.magics import BBMagic, BBRunInterrupted

CellRunner = Callable[[str], Any]
# Runs that need ~10,000 polls of virtual time: a Ctrl-C always lands before they end.
LONG_RUNS = {"run_seconds": (100_000.0, 100_000.0), "run_max_seconds": 1_000_000.0}
STOP_ROUTE = "POST /v1/agents/runs/{run_id}/stop"


def ok(cell: Any) -> Any:
    """Assert the cell raised nothing and return it."""
    assert cell.error is None, (cell.out, cell.err)
    return cell


@pytest.fixture
def interrupt_after_creates(bb: Emulator) -> Iterator[Callable[[int], None]]:
    """Arm a thread that interrupts the main thread once the emulator has created N runs."""
    stop = threading.Event()
    threads: list[threading.Thread] = []

    def arm(count: int) -> None:
        def watch() -> None:
            while not stop.is_set():
                if bb.stats.runs_created >= count:
                    _thread.interrupt_main()
                    return
                stop.wait(0.002)

        thread = threading.Thread(target=watch, daemon=True)
        thread.start()
        threads.append(thread)

    yield arm
    stop.set()
    for thread in threads:
        thread.join(timeout=5)


@pytest.mark.parametrize("emulator_config", [LONG_RUNS], indirect=True, ids=["long-runs"])
@pytest.mark.parametrize(
    ("option", "stopped"),
    [("", True), ("--on-interrupt stop", True), ("--on-interrupt detach", False)],
    ids=["default-stop", "stop", "detach"],
)
def test_interrupt_keeps_partial_result(
    shell: InteractiveShell,
    run: CellRunner,
    bb: Emulator,
    interrupt_after_creates: Callable[[int], None],
    option: str,
    stopped: bool,
) -> None:
    """Ctrl-C mid-batch stops submitting, stops (or detaches) runs and keeps them in _bb_last."""
    shell.user_ns["xs"] = list(range(8))
    interrupt_after_creates(2)
    cell = run(f"%bb_run agent 'Slow {{{{row}}}}' --foreach xs --concurrency 2 -o part {option}")
    assert isinstance(cell.error, BBRunInterrupted)
    assert isinstance(cell.error, KeyboardInterrupt)
    assert "partial result in _bb_last and part" in cell.out
    partial = shell.user_ns["_bb_last"]
    assert partial is shell.user_ns["part"]
    assert isinstance(partial, pd.DataFrame)
    created = bb.stats.runs_created
    assert 2 <= created < 8
    assert len(partial) == created
    assert bb.stats.requests[STOP_ROUTE] == (created if stopped else 0), (
        cell.out,
        cell.err,
        partial[["_status"]],
        bb.stats.snapshot(),
    )
    expected = {"STOPPED"} if stopped else {"PENDING", "RUNNING"}
    assert set(partial["_status"]) <= expected
    assert "Traceback" not in cell.out + cell.err


@pytest.mark.parametrize("emulator_config", [LONG_RUNS], indirect=True, ids=["long-runs"])
def test_interrupt_config_default_detach(
    shell: InteractiveShell,
    run: CellRunner,
    magic: BBMagic,
    bb: Emulator,
    interrupt_after_creates: Callable[[int], None],
) -> None:
    """``BBMagic.on_interrupt = 'detach'`` is the default the option overrides."""
    magic.on_interrupt = "detach"
    interrupt_after_creates(1)
    cell = run("%bb_run agent 'Slow single'")
    assert isinstance(cell.error, BBRunInterrupted)
    assert "left running (detached)" in cell.out
    assert bb.stats.requests[STOP_ROUTE] == 0
    assert len(shell.user_ns["_bb_last"]) == 1


def test_embedded_default_prints_simulated_notice_once(
    shell: InteractiveShell, run: CellRunner, magic: BBMagic, isolated_env: Any
) -> None:
    """With no key and no URL the first %bb_run starts the embedded emulator, labelled once."""
    from bbnb.client._config import _reset_notice
    from bbnb.emulator import embedded

    embedded(speed=200.0, run_failure_rate=0.0, run_timeout_rate=0.0)
    _reset_notice()
    magic.progress = "none"
    first = ok(run("%bb_run agent 'Title of example.com' -o a"))
    second = ok(run("%bb_run agent 'Title of example.org' -o b"))
    output = first.out + first.err + second.out + second.err
    assert output.count("SIMULATED") == 1
    assert "BROWSERBASE_API_KEY" in output
    assert shell.user_ns["a"].attrs["simulated"] is True
    assert magic.client().simulated


def test_key_set_after_a_simulated_run_switches_the_next_run(
    run: CellRunner,
    magic: BBMagic,
    isolated_env: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Setting BROWSERBASE_API_KEY after an embedded run makes the next %bb_run use that API."""
    from bbnb.emulator import EmulatorConfig, embedded, serve_in_thread

    embedded(speed=200.0, run_failure_rate=0.0, run_timeout_rate=0.0)
    magic.progress = "none"
    ok(run("%bb_run agent 'Title of example.com' -o a"))
    assert magic.client().simulated
    with serve_in_thread(EmulatorConfig(api_key="bb_live_switch_test", speed=200.0)) as other:
        monkeypatch.setenv("BROWSERBASE_BASE_URL", str(other.base_url))
        monkeypatch.setenv("BROWSERBASE_API_KEY", "bb_live_switch_test")
        ok(run("%bb_run agent 'Title of example.org' -o b"))
        assert magic.client().base_url.rstrip("/") == str(other.base_url).rstrip("/")
        assert other.emulator.stats.runs_created == 1
        magic.close()


def test_settings_variables_agent_id_and_pause(
    shell: InteractiveShell, run: CellRunner, magic: BBMagic, bb: Emulator
) -> None:
    """Settings, variables, a custom agent and pause-when all reach the emulator."""
    client = magic.client()
    agent = client.agents.create(name="pricer", system_prompt="You find prices.")
    shell.user_ns.update(
        st={"context": {"id": "ctx-7"}, "verified": True}, pw="hunter2-sentinel", aid=agent.agent_id
    )
    cell = ok(
        run(
            f"%bb_run agent 'Log in with %pw%' --settings-var st --var pw={{{{pw}}}} "
            f"--agent-id {agent.agent_id} --pause-when 'it needs a code' --raw -o r"
        )
    )
    paused = shell.user_ns["r"]
    assert paused.status == "PAUSED"
    assert paused.agent_id == agent.agent_id
    assert f"run {paused.id} is PAUSED" in cell.err
    assert "hunter2-sentinel" not in cell.out + cell.err


def test_templating_edge_cases_reach_the_api_verbatim(
    shell: InteractiveShell, run: CellRunner, bb: Emulator
) -> None:
    """JSON braces, prices, %vars% and escaped braces are sent as typed."""
    shell.user_ns["item"] = {"name": "mug"}
    cell = ok(
        run(
            "%%bb_run agent --raw\n"
            'Return {"price": 1} for {{ item.name }} under $19.99, log in as %user%, '
            "and keep \\{{literal}}."
        )
    )
    assert cell.value.task == (
        'Return {"price": 1} for mug under $19.99, log in as %user%, and keep {{literal}}.'
    )


@pytest.mark.parametrize("module", ["bbnb", "bbnb.magics"], ids=["bbnb", "bbnb.magics"])
def test_load_and_unload_extension(shell: InteractiveShell, module: str) -> None:
    """``%unload_ext``/``%load_ext`` remove and restore ``%bb_run`` and its config, once."""
    shell.run_line_magic("load_ext", module)
    shell.run_line_magic("unload_ext", module)
    assert "bb_run" not in shell.magics_manager.magics["line"]
    assert not [c for c in shell.configurables if isinstance(c, BBMagic)]
    shell.run_line_magic("load_ext", module)
    assert "bb_run" in shell.magics_manager.magics["cell"]
    assert len([c for c in shell.configurables if isinstance(c, BBMagic)]) == 1


def test_help_shows_examples(shell: InteractiveShell) -> None:
    """``%bb_run?`` documents every option with examples."""
    doc = shell.magics_manager.magics["line"]["bb_run"].__doc__
    for text in ("--foreach NAME", "--dry-run", "%%bb_run agent -o prices", "_bb_last"):
        assert text in doc
