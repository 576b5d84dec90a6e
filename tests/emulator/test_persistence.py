"""SQLite persistence: a restarted emulator serves every run, invocation, session and agent."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from bbnb import ManualClock
from bbnb.emulator import Emulator, EmulatorConfig


def test_restart_serves_everything(tmp_path: Path, clock: ManualClock) -> None:
    """Runs (with messages), invocations (with logs), sessions and agents survive a restart."""
    config = EmulatorConfig(seed=5, db_path=str(tmp_path / "emu.sqlite"))
    first = Emulator(config, clock=clock)
    with TestClient(first.app, headers={"X-BB-API-Key": config.api_key}) as api:
        agent = api.post("/v1/agents", json={"name": "keeper"}).json()
        runs = [
            api.post(
                "/v1/agents/runs",
                json={"task": f"job {n} on example.com", "agentId": agent["agentId"]},
            ).json()
            for n in range(3)
        ]
        paused = api.post(
            "/v1/agents/runs", json={"task": "needs me", "pauseWhen": "a code"}
        ).json()
        inv = api.post(
            "/v1/functions/page-title/invoke", json={"params": {"url": "http://shop.bbnb.test/x"}}
        ).json()
        session = api.post("/v1/sessions", json={"userMetadata": {"k": "v"}}).json()
        api.post(f"/v1/agents/runs/{runs[0]['runId']}/stop")
        clock.advance(3600)
        before = {
            "runs": api.get("/v1/agents/runs").json(),
            "messages": api.get(
                f"/v1/agents/runs/{runs[1]['runId']}/messages", params={"all": "true"}
            ).json(),
            "inv": api.get(f"/v1/functions/invocations/{inv['id']}").json(),
            "logs": api.get(f"/v1/functions/invocations/{inv['id']}/logs").json(),
            "session": api.get(f"/v1/sessions/{session['id']}").json(),
            "agent": api.get(f"/v1/agents/{agent['agentId']}").json(),
        }
    first.close()

    second = Emulator(config, clock=clock)
    with TestClient(second.app, headers={"X-BB-API-Key": config.api_key}) as api:
        after = {
            "runs": api.get("/v1/agents/runs").json(),
            "messages": api.get(
                f"/v1/agents/runs/{runs[1]['runId']}/messages", params={"all": "true"}
            ).json(),
            "inv": api.get(f"/v1/functions/invocations/{inv['id']}").json(),
            "logs": api.get(f"/v1/functions/invocations/{inv['id']}/logs").json(),
            "session": api.get(f"/v1/sessions/{session['id']}").json(),
            "agent": api.get(f"/v1/agents/{agent['agentId']}").json(),
        }
        assert after == before
        assert [r["status"] for r in after["runs"]["data"]] == [
            "PAUSED",
            "COMPLETED",
            "COMPLETED",
            "STOPPED",
        ]
        resumed = api.post(f"/v1/agents/runs/{paused['runId']}/resume", json={"task": "1234"})
        assert resumed.status_code == 202
        new = api.post("/v1/agents/runs", json={"task": "after restart"}).json()
        assert new["runId"] not in {r["runId"] for r in before["runs"]["data"]}
    second.close()


def test_variables_are_not_written_to_disk(tmp_path: Path, clock: ManualClock) -> None:
    """Variable values stay in memory; the database file never holds them."""
    db = tmp_path / "emu.sqlite"
    emu = Emulator(EmulatorConfig(db_path=str(db)), clock=clock)
    with TestClient(emu.app, headers={"X-BB-API-Key": emu.config.api_key}) as api:
        api.post(
            "/v1/agents/runs",
            json={"task": "log in with %pw%", "variables": {"pw": "hunter2-secret"}},
        )
    emu.close()
    assert b"hunter2-secret" not in db.read_bytes()
    assert b"hunter2-secret" not in b"".join(p.read_bytes() for p in tmp_path.iterdir())


def start_cli(db: Path) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "bbnb.emulator", "--port", "0", "--db", str(db), "--seed", "9"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    lines = [proc.stdout.readline() for _ in range(4)]
    assert "simulated" in lines[3]
    base_url = lines[0].split()[-1]
    assert base_url.startswith("http://127.0.0.1:")
    return proc, base_url


@pytest.mark.e2e
def test_cli_restart_with_db(tmp_path: Path) -> None:
    """`python -m bbnb.emulator --db` stopped and started again still serves its runs."""
    db = tmp_path / "cli.sqlite"
    headers = {"X-BB-API-Key": "bb_emulator_local_key"}
    proc, base = start_cli(db)
    try:
        run = httpx.post(
            f"{base}/v1/agents/runs", json={"task": "persist me"}, headers=headers
        ).json()
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    proc, base = start_cli(db)
    try:
        got = httpx.get(f"{base}/v1/agents/runs/{run['runId']}", headers=headers)
        assert got.status_code == 200 and got.json()["task"] == "persist me"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
