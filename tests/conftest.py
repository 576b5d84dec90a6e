"""Shared fixtures: a manual clock, an in-process emulator on it, and a real server.

``emulator`` has no faults and no failed or partly-conforming runs unless a test
parametrizes ``emulator_config`` (indirectly or by overriding the fixture).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bbnb import Client, ManualClock
from bbnb.emulator import Emulator, EmulatorConfig, RunningEmulator, serve_in_thread
from bbnb.models import reset_rule_warnings

SEEDS = Path(__file__).parent / "seeds"


@pytest.fixture(scope="session")
def seed_bodies() -> dict[str, dict[str, Any]]:
    """The example bodies of the reference pages in ``../shared/reference/seeds`` (by page name)."""
    return {path.stem: json.loads(path.read_text()) for path in sorted(SEEDS.glob("*.json"))}


@pytest.fixture
def fresh_rule_warnings() -> Iterator[None]:
    """Each ``ApiRuleWarning`` shows again in this test (they are shown once per process)."""
    reset_rule_warnings()
    yield
    reset_rule_warnings()


@pytest.fixture
def clock() -> ManualClock:
    """Virtual time starting 2026-01-01T00:00:00Z; advance it instead of sleeping."""
    return ManualClock()


@pytest.fixture
def emulator_config(request: pytest.FixtureRequest) -> EmulatorConfig:
    """The emulator's config: predictable defaults, or ``request.param`` when parametrized."""
    param = getattr(request, "param", None)
    if isinstance(param, EmulatorConfig):
        return param
    if isinstance(param, dict):
        return EmulatorConfig(seed=1234, **param)
    return EmulatorConfig(seed=1234)


@pytest.fixture
def emulator(emulator_config: EmulatorConfig, clock: ManualClock) -> Iterator[Emulator]:
    """An in-process emulator on the test's manual clock."""
    emu = Emulator(emulator_config, clock=clock)
    yield emu
    emu.close()


@pytest.fixture
def emulator_server(emulator: Emulator) -> Iterator[RunningEmulator]:
    """The ``emulator`` fixture served by uvicorn on 127.0.0.1 (a random free port)."""
    server = serve_in_thread(emulator=emulator)
    yield server
    server.stop()


@pytest.fixture
def emulator_client(emulator: Emulator, clock: ManualClock) -> Iterator[Client]:
    """A ``bbnb.Client`` on the in-process emulator and the shared clock (waits are instant)."""
    client = Client(
        api_key=emulator.config.api_key,
        base_url="http://emulator.local",
        transport=emulator.transport(),
        clock=clock,
    )
    yield client
    client.close()
