"""No Chromium outlives a standalone ``bbnb emulator`` killed with SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from bbnb.emulator import DEFAULT_API_KEY
from bbnb.emulator.browsers import find_browser

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        find_browser() is None, reason="needs a Chromium (apt-get install chromium)"
    ),
]


@pytest.fixture
def emulator_process() -> Iterator[tuple[subprocess.Popen[str], str]]:
    """``python -m bbnb.emulator`` with real browsers on a free port, and its base URL."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "bbnb.emulator", "--port", "0", "--browsers", "real"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()
    assert first.startswith("bbnb emulator listening on "), first
    yield proc, first.rsplit(" ", 1)[1].strip()
    if proc.poll() is None:
        proc.kill()
    proc.wait()
    proc.stdout.close()


def test_sigkill_leaves_no_browser(emulator_process: tuple[subprocess.Popen[str], str]) -> None:
    """SIGKILL of the emulator with three live sessions: every Chromium gone within 10 s."""
    proc, base_url = emulator_process
    headers = {"X-BB-API-Key": DEFAULT_API_KEY}
    for _ in range(3):
        answer = httpx.post(f"{base_url}/v1/sessions", headers=headers, json={"keepAlive": True})
        assert answer.status_code == 201, answer.text
    family = psutil.Process(proc.pid).children(recursive=True)
    browsers = [p for p in family if "chrom" in p.name().lower()]
    profiles = {
        Path(arg.split("=", 1)[1]).parent.parent
        for p in browsers
        for arg in _cmdline(p)
        if arg.startswith("--user-data-dir=")
    }
    assert len({p.pid for p in browsers if _is_main(p)}) >= 3
    assert len(profiles) == 1
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    _gone, alive = psutil.wait_procs(family, timeout=10)  # the watchdog is one of them
    assert alive == []
    (root,) = profiles
    assert _started_under(root) == []  # not even a browser launched after the snapshot
    assert not root.exists()


def _cmdline(process: psutil.Process) -> list[str]:
    try:
        return process.cmdline()
    except psutil.Error:
        return []


def _is_main(process: psutil.Process) -> bool:
    return not any(arg.startswith("--type=") for arg in _cmdline(process))


def _started_under(root: Path) -> list[int]:
    return [p.pid for p in psutil.process_iter() if any(str(root) in a for a in _cmdline(p))]
