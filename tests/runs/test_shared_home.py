"""Two kernels, one BBNB_HOME, two embedded emulators; then a third kernel attaches offline."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

_KERNEL = """
import json, sys
import bbnb
client = bbnb.Client()
batch = client.agents.run_many([f"Title of shop{i}.example" for i in range(4)], progress="none")
print(json.dumps({
    "batch": batch.id,
    "base_url": client.base_url,
    "runs": {item.id: item.run.to_wire() for item in batch.items},
}))
"""

_ATTACHER = """
import json, sys
import bbnb
from bbnb.emulator import server
ids = json.loads(sys.argv[1])
runs = {i: bbnb.attach(i).to_wire() for i in ids["runs"]}
batches = {b: [item.id for item in bbnb.attach(b).items] for b in ids["batches"]}
print(json.dumps({"runs": runs, "batches": batches, "emulator_started": server._embedded is not None}))
"""


@pytest.fixture
def shared_home(tmp_path: Path) -> dict[str, str]:
    """The environment of a kernel with no key (embedded emulator) and a shared BBNB_HOME."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("BROWSERBASE_API_KEY", "BROWSERBASE_BASE_URL")
    }
    env.update(BBNB_HOME=str(tmp_path / "home"), BBNB_EMULATOR_SPEED="200")
    return env


def _python(code: str, env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _answer(proc: subprocess.Popen[str]) -> dict[str, Any]:
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    return dict(json.loads(out.strip().splitlines()[-1]))


@pytest.mark.e2e
def test_two_kernels_then_attach_offline(shared_home: dict[str, str]) -> None:
    """Ids never collide in the shared journal; a third process gets every result offline."""
    kernels = [_answer(p) for p in [_python(_KERNEL, shared_home) for _ in range(2)]]
    assert kernels[0]["base_url"] != kernels[1]["base_url"]  # two emulators
    ids = [run_id for k in kernels for run_id in k["runs"]]
    assert len(ids) == len(set(ids)) == 8
    answers = {run_id: run for k in kernels for run_id, run in k["runs"].items()}
    wanted = {"runs": ids, "batches": [k["batch"] for k in kernels]}
    third = _answer(_python(_ATTACHER, shared_home, json.dumps(wanted)))
    assert third["runs"] == answers
    assert third["batches"] == {k["batch"]: list(k["runs"]) for k in kernels}
    assert third["emulator_started"] is False
