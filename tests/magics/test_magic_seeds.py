"""``%bb_run --settings-var`` with the reference pages' own example settings."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell

from bbnb.emulator import Emulator
from bbnb.models import AgentCreateParams, ApiRuleWarning

CellRunner = Callable[[str], Any]


def test_function_cell_takes_the_invoke_page_settings(
    fresh_rule_warnings: None,
    shell: InteractiveShell,
    run: CellRunner,
    bb: Emulator,
    seed_bodies: dict[str, Any],
) -> None:
    """The invoke page's sessionCreateParams (headful, timeout 10830) run with a warning."""
    seed = seed_bodies["invoke-a-function"]
    shell.user_ns["st"] = copy.deepcopy(seed["sessionCreateParams"])
    with pytest.warns(ApiRuleWarning, match="a function runs at most 900 s"):
        cell = run("%bb_run fn echo --settings-var st --params '{}'")
    assert cell.error is None, (cell.out, cell.err)
    frame = cell.value
    assert list(frame["_status"]) == ["COMPLETED"]
    assert bb.stats.invocations_created == 1
    (invocation,) = bb.store.invocations.order
    session = bb.store.sessions.by_id[invocation.session_id]
    assert session.settings is not None
    assert session.settings["browserSettings"]["headful"] is True
    assert session.settings["timeout"] == 10830


def test_agent_cell_takes_the_agent_page_settings(
    shell: InteractiveShell, run: CellRunner, bb: Emulator, seed_bodies: dict[str, Any]
) -> None:
    """The agent page's browserSettings, resultSchema and (real) agentId run through the magic."""
    seed = seed_bodies["run-an-agent"]
    shell.user_ns["st"] = copy.deepcopy(seed["browserSettings"])
    shell.user_ns["S"] = copy.deepcopy(seed["resultSchema"])
    agent_id = bb.create_agent(AgentCreateParams(name="seed agent")).agent_id
    cell = run(
        f"%bb_run agent 'Title of example.com' --settings-var st --schema-var S --agent-id {agent_id}"
    )
    assert cell.error is None, (cell.out, cell.err)
    assert list(cell.value["_status"]) == ["COMPLETED"]
    (record,) = bb.store.runs.order
    assert record.browser_settings == {"proxies": True, "verified": True}
    assert record.agent_id == agent_id
