"""Fixtures for the magics tests: a real IPython shell with ``bbnb.magics`` loaded.

- ``shell``: ``InteractiveShell.instance()`` with the extension loaded and a clean
  user namespace; the extension is unloaded afterwards.
- ``magic``: the ``BBMagic`` instance registered on that shell.
- ``run``: runs one cell and returns a ``Cell`` (``.result``, ``.error``, ``.out``, ``.err``).
- ``bb``: the magic wired to the in-process emulator (root ``emulator`` fixture, on the
  shared ``ManualClock`` so every wait is instant), with the journal in a temp folder.
  Returns the emulator, whose ``stats`` prove what was (not) sent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from IPython.core.interactiveshell import ExecutionResult, InteractiveShell

from bbnb import ManualClock
from bbnb.client._client import Client
from bbnb.emulator import Emulator
from bbnb.magics import BBMagic, load_ipython_extension, unload_ipython_extension


@dataclass
class Cell:
    """What running one cell gave: the result, the exception raised, and the output."""

    result: ExecutionResult
    out: str
    err: str

    @property
    def error(self) -> Any:
        """The exception the cell raised (``None`` if it succeeded)."""
        return self.result.error_in_exec or self.result.error_before_exec

    @property
    def value(self) -> Any:
        """The cell's value (what IPython would display as ``Out``)."""
        return self.result.result


@pytest.fixture
def shell() -> Iterator[InteractiveShell]:
    """The process-wide IPython shell with ``%bb_run`` loaded and a fresh namespace."""
    ip = InteractiveShell.instance()
    before = set(ip.user_ns)
    load_ipython_extension(ip)
    try:
        yield ip
    finally:
        unload_ipython_extension(ip)
        ip.config.pop("BBMagic", None)
        for name in set(ip.user_ns) - before:
            del ip.user_ns[name]


@pytest.fixture
def magic(shell: InteractiveShell) -> BBMagic:
    """The ``BBMagic`` registered on ``shell``."""
    found = [c for c in shell.configurables if isinstance(c, BBMagic)]
    assert len(found) == 1
    return found[0]


@pytest.fixture
def run(shell: InteractiveShell, capsys: pytest.CaptureFixture[str]) -> Callable[[str], Cell]:
    """Run a cell; return what it gave and printed."""

    def run_cell(source: str) -> Cell:
        capsys.readouterr()
        result = shell.run_cell(source, store_history=False)
        out, err = capsys.readouterr()
        return Cell(result, out, err)

    return run_cell


@pytest.fixture
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> Any:
    """No Browserbase settings from the environment; the journal lives in ``tmp_path``."""
    for name in ("BROWSERBASE_API_KEY", "BROWSERBASE_BASE_URL", "BBNB_PROGRESS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BBNB_HOME", str(tmp_path / "bbnb-home"))
    return tmp_path


@pytest.fixture
def bb(
    magic: BBMagic, emulator: Emulator, clock: ManualClock, isolated_env: Any
) -> Iterator[Emulator]:
    """``%bb_run`` talking to the in-process emulator on the manual clock."""
    client = Client(
        api_key=emulator.config.api_key,
        base_url="http://127.0.0.1:9",
        transport=emulator.transport(),
        clock=clock,
    )
    magic.client_factory = lambda _magic: client
    magic.progress = "none"
    try:
        yield emulator
    finally:
        magic.close()
        client.close()
