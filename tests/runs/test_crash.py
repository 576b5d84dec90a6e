"""A process killed mid-batch is finished by another process from the journal alone."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bbnb.emulator import EmulatorConfig, RunningEmulator, serve_in_thread
from bbnb.runs import Journal

N_RUNS = 40

CHILD = """
import sys
from bbnb.client._client import Client
from bbnb.runs import run_many

class Announce:
    def update(self, state):
        print("done", state.done, "created", sum(state.counts.values()), flush=True)
    def close(self, state):
        print("finished", flush=True)

base_url, api_key, journal = sys.argv[1:4]
with Client(api_key=api_key, base_url=base_url) as client:
    run_many(client, [f"crash task {i}" for i in range(40)], concurrency=8,
             progress=Announce(), journal=journal, variables={"token": "tok-SECRET-991"})
"""

ATTACH = """
import json, sys
from bbnb.client._client import Client
from bbnb.runs import Journal, attach

base_url, api_key, journal = sys.argv[1:4]
batch_id = Journal(journal).batches()[0].batch_id
with Client(api_key=api_key, base_url=base_url) as client:
    batch = attach(batch_id, client=client, journal=journal, progress="none",
                   variables={"token": "tok-SECRET-991"})
print(json.dumps({"counts": batch.counts, "ids": [r.id for r in batch],
                  "keys": [k for k, _ in batch.iter_keyed()]}))
"""


@pytest.fixture
def server() -> Iterator[RunningEmulator]:
    """A real emulator on 127.0.0.1 that outlives the killed child."""
    config = EmulatorConfig(
        seed=11,
        max_concurrent_sessions=None,
        sessions_per_minute=None,
        run_pending_seconds=(0.0, 0.2),
        run_seconds=(0.5, 2.0),
    )
    with serve_in_thread(config) as running:
        yield running


@pytest.mark.e2e
def test_sigkill_mid_batch_then_attach_in_a_new_process(
    server: RunningEmulator, tmp_path: Path
) -> None:
    """SIGKILL after some runs finished; a new process collects all 40, none created twice."""
    journal = str(tmp_path / "journal.sqlite")
    args = [server.base_url, server.api_key, journal]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, *args], stdout=subprocess.PIPE, text=True, env=env
    )
    assert child.stdout is not None
    for line in child.stdout:
        words = line.split()
        if words[0] == "done" and int(words[1]) >= 5:
            break
    else:
        pytest.fail(f"the child ended before being killed (rc={child.wait()})")
    os.kill(child.pid, signal.SIGKILL)
    assert child.wait(30) == -signal.SIGKILL
    before = server.emulator.stats.runs_created
    assert 5 <= before < N_RUNS

    rows = Journal(journal).runs(Journal(journal).batches()[0].batch_id)
    assert (
        len(rows) == N_RUNS
        and {r.state for r in rows} - {"done", "created", "submitting", "queued"} == set()
    )

    out = subprocess.run(
        [sys.executable, "-c", ATTACH, *args], capture_output=True, text=True, env=env, timeout=120
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["counts"] == {"COMPLETED": N_RUNS}
    assert result["keys"] == list(range(N_RUNS))
    assert len(set(result["ids"])) == N_RUNS
    assert server.emulator.stats.runs_created == N_RUNS
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("journal"))
    assert b"tok-SECRET-991" not in raw and server.api_key.encode() not in raw
