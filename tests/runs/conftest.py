"""Fixtures of the runs tests: clients on the shared emulator and clock, a journal path."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bbnb import ManualClock
from bbnb.client._client import AsyncClient, Client
from bbnb.emulator import Emulator


@pytest.fixture
def journal_path(tmp_path: Path) -> Path:
    """A private journal file for the test."""
    return tmp_path / "bbnb-home" / "journal.sqlite"


@pytest.fixture
def client(emulator: Emulator, clock: ManualClock) -> Iterator[Client]:
    """A sync client on the in-process emulator, sharing its manual clock."""
    with Client(
        api_key=emulator.config.api_key,
        base_url="http://emulator.local",
        transport=emulator.transport(),
        clock=clock,
    ) as c:
        yield c


@pytest.fixture
def aclient(emulator: Emulator, clock: ManualClock) -> AsyncClient:
    """An async client on the in-process emulator, sharing its manual clock."""
    return AsyncClient(
        api_key=emulator.config.api_key,
        base_url="http://emulator.local",
        transport=emulator.transport(),
        clock=clock,
    )
