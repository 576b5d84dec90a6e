"""Every tutorial notebook runs top to bottom in a real kernel, and never leaks the key.

* On the embedded emulator (no key, no network): any cell error fails the test.
* With a sentinel API key, against an emulator this test starts with that key: the
  notebooks still run, the runs really went to that emulator, and the sentinel appears
  nowhere in the executed and saved notebooks, the journal, bbnb's state folder, the
  kernel's log records or anything the kernel and the emulator printed or logged.
"""

from __future__ import annotations

import json
import logging
import secrets
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest

from bbnb.emulator import EmulatorConfig, serve_in_thread

from .conftest import NOTEBOOKS, NOTEBOOKS_DIR, Executed

IDS = [p.stem for p in NOTEBOOKS]


def test_there_are_four_tutorial_notebooks() -> None:
    """The four notebooks the README points to exist."""
    assert [p.stem for p in NOTEBOOKS] == [
        "01-quickstart",
        "02-widgets",
        "03-batch-analysis",
        "04-reliability",
    ]


def test_notebooks_match_their_sources_and_have_no_outputs() -> None:
    """The .ipynb files are exactly what notebooks/_build.py writes: no outputs, stable ids."""
    proc = subprocess.run(
        [sys.executable, str(NOTEBOOKS_DIR / "_build.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, (path.name, cell.id)


def _code_cells(executed: Executed) -> list[nbformat.NotebookNode]:
    return [c for c in executed.notebook.cells if c.cell_type == "code"]


@pytest.mark.e2e
@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_runs_on_the_embedded_emulator(
    path: Path, execute_notebook: Callable[[Path], Executed]
) -> None:
    """With no key and no network the notebook runs without error and says 'simulated'."""
    executed = execute_notebook(path)
    cells = _code_cells(executed)
    assert all(c.execution_count is not None for c in cells)
    outputs = [o for c in cells for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert "SIMULATED" in json.dumps(outputs)
    # A notebook that ran cleanly shows nothing error-styled (stderr renders as a pink box).
    stderr = [o.text for o in outputs if o.output_type == "stream" and o.name == "stderr"]
    assert stderr == []
    notes = [o for o in outputs if "bbnb-simulated-notice" in json.dumps(o.get("data", {}))]
    assert len(notes) == 1, "the simulated note is shown once, as calm HTML output"


def _leaks(sentinel: str, roots: list[Path]) -> list[str]:
    """Every file under ``roots`` whose bytes contain the sentinel."""
    found = []
    needle = sentinel.encode()
    for root in roots:
        for path in [root] if root.is_file() else sorted(root.rglob("*")):
            if path.is_file() and needle in path.read_bytes():
                found.append(str(path))
    return found


def test_leak_scanner_finds_a_planted_sentinel(tmp_path: Path) -> None:
    """The scanner used below does find the sentinel in a nested file (it can fail)."""
    sentinel = "bb_live_sentinel_" + secrets.token_hex(8)
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "journal.sqlite").write_bytes(b"\0x" + sentinel.encode() + b"\0")
    (tmp_path / "clean.txt").write_text("nothing here")
    assert _leaks(sentinel, [tmp_path]) == [str(tmp_path / "a" / "b" / "journal.sqlite")]


@pytest.mark.e2e
@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_sentinel_key_never_leaks(
    path: Path,
    execute_notebook: Callable[[Path], Executed],
    kernel_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    """With a sentinel key set, the key is nowhere in notebooks, journal, state or logs."""
    sentinel = "bb_live_sentinel_" + secrets.token_hex(12)
    caplog.set_level(logging.DEBUG)
    config = EmulatorConfig.realistic(api_key=sentinel, speed=120, seed=8, sessions_per_minute=None)
    with serve_in_thread(config) as server:
        monkeypatch.setenv("BROWSERBASE_API_KEY", sentinel)
        monkeypatch.setenv("BROWSERBASE_BASE_URL", server.base_url)
        executed = execute_notebook(path)
        stats = server.emulator.stats
        used = stats.runs_created + stats.invocations_created + stats.sessions_created
    assert used > 0, "the notebook never reached the sentinel emulator"
    assert executed.kernel_log.stat().st_size > 0, "the kernel logged nothing: the check is empty"

    roots = [executed.saved, executed.kernel_log, kernel_env / "bbnb-home", executed.workdir]
    assert (kernel_env / "bbnb-home").exists(), "no journal was written: the check is empty"
    assert _leaks(sentinel, roots) == []
    printed = capfd.readouterr()
    assert sentinel not in printed.out and sentinel not in printed.err
    assert sentinel not in caplog.text
