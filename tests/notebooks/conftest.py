"""Run the tutorial notebooks in a real kernel with nbclient, in a clean environment.

``execute_notebook`` starts the current interpreter's ``python3`` kernel with the
environment the test sets (no key unless given, ``BBNB_HOME`` in a temp dir, an
``IPYTHONDIR`` whose startup file sends every log record of the kernel to a file), runs
every cell, and writes the executed notebook next to the kernel's working directory.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS_DIR = Path(__file__).resolve().parents[2] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]-*.ipynb"))

LOGGING_STARTUP = """\
import logging, os
logging.basicConfig(
    filename=os.environ["BBNB_TEST_KERNEL_LOG"],
    level=logging.DEBUG,
    format="%(asctime)s %(name)s %(levelname)s %(message)s",
    force=True,
)
"""


@dataclass(frozen=True)
class Executed:
    """An executed notebook: the saved file, the kernel's log file and its directory."""

    notebook: nbformat.NotebookNode
    saved: Path
    kernel_log: Path
    workdir: Path


@pytest.fixture
def kernel_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A clean environment for the kernel: no Browserbase settings, state under tmp_path."""
    for key in list(os.environ):
        if key.startswith(("BROWSERBASE_", "BBNB_")):
            monkeypatch.delenv(key)
    ipython_dir = tmp_path / "ipython"
    startup = ipython_dir / "profile_default" / "startup"
    startup.mkdir(parents=True)
    (startup / "00-test-logging.py").write_text(LOGGING_STARTUP, encoding="utf-8")
    monkeypatch.setenv("IPYTHONDIR", str(ipython_dir))
    monkeypatch.setenv("BBNB_HOME", str(tmp_path / "bbnb-home"))
    monkeypatch.setenv("BBNB_TEST_KERNEL_LOG", str(tmp_path / "kernel.log"))
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    return tmp_path


@pytest.fixture
def execute_notebook(kernel_env: Path) -> Callable[[Path], Executed]:
    """Execute one notebook top to bottom; any cell error fails the test."""

    def run(path: Path) -> Executed:
        nb = nbformat.read(path, as_version=4)
        workdir = kernel_env / "work" / path.stem
        workdir.mkdir(parents=True)
        client = NotebookClient(
            nb,
            kernel_name="python3",
            timeout=120,
            startup_timeout=90,
            resources={"metadata": {"path": str(workdir)}},
        )
        client.execute()
        saved = kernel_env / "saved" / path.name
        saved.parent.mkdir(exist_ok=True)
        nbformat.write(nb, saved)
        return Executed(nb, saved, kernel_env / "kernel.log", workdir)

    return run
