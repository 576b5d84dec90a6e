"""Fixtures for the magics tests: a real IPython shell with ``bbnb.magics`` loaded.

- ``shell``: ``InteractiveShell.instance()`` with the extension loaded and a clean
  user namespace; the extension is unloaded afterwards.
- ``magic``: the ``BBMagic`` instance registered on that shell.
- ``run``: runs one cell and returns a ``Cell`` (``.result``, ``.error``, ``.out``, ``.err``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from IPython.core.interactiveshell import ExecutionResult, InteractiveShell

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
