"""A real notebook in a real kernel: ``%load_ext bbnb``, runs, a batch, and Ctrl-C.

nbclient starts a python3 (ipykernel) kernel whose environment points bbnb at an
emulator served by uvicorn on 127.0.0.1 in this process (nothing reaches the internet).
The long batch is interrupted through the kernel manager, as the Jupyter stop button
does, and the partial result is then read back from ``_bb_last`` in the same kernel.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from bbnb.emulator import EmulatorConfig, RunningEmulator, serve_in_thread

pytestmark = pytest.mark.e2e

SETUP = """\
%load_ext bbnb
%config BBMagic.progress = 'text'
Schema = {
    "type": "object",
    "properties": {"title": {"type": "string"}, "words": {"type": "integer"}},
    "required": ["title", "words"],
}
shops = ["a.example", "b.example", "c.example"]
big = [f"site-{i}.example" for i in range(40)]
"""
AGENT = "%%bb_run agent --schema-var Schema -o one\nFind the title of https://example.com"
AGENT_CHECK = """\
import json
print(json.dumps({"status": one.loc[0, "_status"], "columns": list(one.columns[:2]),
                  "title_type": type(one.loc[0, "title"]).__name__}))
"""
BATCH = "%bb_run agent 'Title of {{row}}' --foreach shops --concurrency 3 -o many"
BATCH_CHECK = 'print(json.dumps({"keys": many["_key"].tolist(), "tasks": many["_task"].tolist()}))'
LONG = "%bb_run agent 'Slowly read {{row}}' --foreach big --concurrency 2 -o partial"
AFTER = """\
print(json.dumps({"last_is_partial": _bb_last is partial, "rows": len(_bb_last),
                  "statuses": sorted(set(_bb_last["_status"])), "keys": _bb_last["_key"].tolist()}))
"""


@pytest.fixture
def emulator_server_fast() -> Iterator[RunningEmulator]:
    """An emulator on 127.0.0.1 whose runs take 0.3..1.5 s of real time."""
    server = serve_in_thread(EmulatorConfig(seed=11, speed=20.0))
    yield server
    server.stop()


def _json_output(cell: Any) -> dict[str, Any]:
    texts = [o.get("text", "") for o in cell.outputs if o.get("name") == "stdout"]
    last = "".join(texts).strip().splitlines()[-1]
    value: dict[str, Any] = json.loads(last)
    return value


async def _execute(
    notebook: Any, server: RunningEmulator, env: dict[str, str], cwd: Path
) -> list[str]:
    """Run the cells, interrupt the long one after two of its runs exist; return its error."""
    client = NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}
    )
    async with client.async_setup_kernel(env=env):
        for index in range(5):
            await client.async_execute_cell(notebook.cells[index], index)
        before = server.emulator.stats.runs_created
        long_cell = asyncio.ensure_future(client.async_execute_cell(notebook.cells[5], 5))
        while server.emulator.stats.runs_created < before + 2:
            finished, _ = await asyncio.wait({long_cell}, timeout=0.05)
            if finished:
                break
        assert client.km is not None
        await client.km.interrupt_kernel()
        errors: list[str] = []
        try:
            await long_cell
        except CellExecutionError as error:
            errors.append(f"{error.ename}: {error.evalue}")
        await client.async_execute_cell(notebook.cells[6], 6)
    return errors


def test_notebook_runs_and_interrupt_keeps_partial(
    emulator_server_fast: RunningEmulator, tmp_path: Path
) -> None:
    """Load the extension, run a schema task and a batch, interrupt a long batch, read _bb_last."""
    server = emulator_server_fast
    cells = [SETUP, AGENT, AGENT_CHECK, BATCH, BATCH_CHECK, LONG, AFTER]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    env = {
        **os.environ,
        "BROWSERBASE_BASE_URL": server.base_url,
        "BROWSERBASE_API_KEY": server.api_key,
        "BBNB_HOME": str(tmp_path / "home"),
        "PYTHONUNBUFFERED": "1",
    }
    errors = asyncio.run(_execute(notebook, server, env, tmp_path))

    agent = _json_output(notebook.cells[2])
    assert agent == {"status": "COMPLETED", "columns": ["title", "words"], "title_type": "str"}
    batch = _json_output(notebook.cells[4])
    assert batch["keys"] == [0, 1, 2]
    assert batch["tasks"] == [f"Title of {s}.example" for s in "abc"]

    assert len(errors) == 1 and errors[0].startswith("BBRunInterrupted: Interrupted after")
    after = _json_output(notebook.cells[6])
    assert after["last_is_partial"] is True
    assert 2 <= after["rows"] < 40
    assert set(after["statuses"]) <= {"COMPLETED", "STOPPED"}
    assert after["keys"] == sorted(after["keys"])
    stops = server.emulator.stats.requests["POST /v1/agents/runs/{run_id}/stop"]
    assert stops >= 1
    assert server.emulator.stats.runs_created == 1 + 3 + after["rows"]
