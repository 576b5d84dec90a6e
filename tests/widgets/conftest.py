"""Fixtures for the widget tests: an in-process emulator and a client sharing a ManualClock.

Every wait in these tests is virtual: the widgets' watcher threads sleep on the
client's ``ManualClock``, which jumps forward, so a run that "takes" minutes settles
in milliseconds.  Tests block on the widgets' ``wait(timeout)`` Events.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from bbnb._clock import ManualClock
from bbnb.client._client import Client
from bbnb.emulator import Emulator, EmulatorConfig


@pytest.fixture(autouse=True)
def widget_journal_home(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Each test's default journal (and so its result cache) lives in its own temp folder."""
    home = tmp_path / "bbnb-home"
    monkeypatch.setenv("BBNB_HOME", str(home))
    return home


@pytest.fixture
def widget_config() -> EmulatorConfig:
    """Emulator settings for one test (override with ``pytest.mark.parametrize`` or a fixture)."""
    return EmulatorConfig(seed=7)


@pytest.fixture
def widget_emulator(widget_config: EmulatorConfig) -> Iterator[Emulator]:
    """An in-process emulator on a fresh ManualClock, closed after the test."""
    emulator = Emulator(widget_config, clock=ManualClock())
    yield emulator
    emulator.close()


@pytest.fixture
def widget_client(widget_emulator: Emulator) -> Iterator[Any]:
    """A ``bbnb.Client`` talking to ``widget_emulator`` through its ASGI transport."""
    client = Client(
        api_key=widget_emulator.config.api_key,
        base_url="http://emulator.test",
        transport=widget_emulator.transport(),
        clock=widget_emulator.clock,
    )
    try:
        yield client
    finally:
        client.close()
