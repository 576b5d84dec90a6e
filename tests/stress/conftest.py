"""Fixtures of the stress suite: the bench scripts themselves, imported by path.

Every stress test calls the same ``measure`` function that ``python bench/<name>.py``
prints, at a size that keeps the whole suite within a few minutes on 2 cores, and
fails on any lost result, duplicate, crash or leaked secret.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.fixture(scope="session")
def load_bench() -> Callable[[str], ModuleType]:
    """Import ``bench/<name>.py`` (with ``bench/`` on ``sys.path`` for its helpers)."""

    def load(name: str) -> ModuleType:
        if str(BENCH) not in sys.path:
            sys.path.insert(0, str(BENCH))
        return importlib.import_module(name)

    return load


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything under tests/stress is a stress test."""
    for item in items:
        if Path(str(item.fspath)).is_relative_to(Path(__file__).parent):
            item.add_marker(pytest.mark.stress)
