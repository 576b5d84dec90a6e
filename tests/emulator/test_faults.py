"""Injected faults: 5xx, slow answers and dropped connections, seeded and reproducible."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from bbnb import ManualClock
from bbnb.emulator import Emulator, EmulatorConfig, serve_in_thread


def client_for(emu: Emulator) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=emu.transport(),
        base_url="http://emulator.local",
        headers={"X-BB-API-Key": emu.config.api_key},
    )


def test_5xx_faults_have_the_error_body(clock: ManualClock) -> None:
    """fault_5xx_rate=1 answers every /v1 request 500/502/503 with the error body."""
    emu = Emulator(EmulatorConfig(fault_5xx_rate=1.0), clock=clock)

    async def go() -> list[httpx.Response]:
        async with client_for(emu) as client:
            return [await client.get("/v1/functions") for _ in range(10)]

    responses = asyncio.run(go())
    assert {r.status_code for r in responses} <= {500, 502, 503}
    assert all(r.json()["statusCode"] == r.status_code for r in responses)
    assert emu.stats.faults["5xx"] == 10


def test_dropped_connection_after_create_in_process(clock: ManualClock) -> None:
    """A dropped create raises a transport error although the run was created."""
    emu = Emulator(EmulatorConfig(fault_drop_rate=1.0), clock=clock)

    async def go() -> None:
        async with client_for(emu) as client:
            with pytest.raises(httpx.RemoteProtocolError):
                await client.post("/v1/agents/runs", json={"task": "dropped"})

    asyncio.run(go())
    assert emu.stats.runs_created == 1 and emu.stats.faults["drop"] == 1


@pytest.mark.e2e
def test_faults_over_a_real_socket(clock: ManualClock) -> None:
    """Over uvicorn, a drop is a protocol error and a slow answer trips a client timeout."""
    config = EmulatorConfig(seed=7, fault_drop_rate=0.5, fault_slow_rate=0.5, slow_seconds=0.5)
    with serve_in_thread(emulator=Emulator(config, clock=clock)) as server:
        headers = {"X-BB-API-Key": server.api_key}
        kinds = []
        with httpx.Client(base_url=server.base_url, headers=headers, timeout=0.2) as client:
            for _ in range(8):
                try:
                    client.get("/v1/functions")
                    kinds.append("ok")
                except httpx.ReadTimeout:
                    kinds.append("slow")
                except (httpx.RemoteProtocolError, httpx.ReadError):
                    kinds.append("drop")
        faults = server.emulator.stats.faults
    assert kinds.count("drop") == faults["drop"] and kinds.count("slow") == faults["slow"]
    assert faults["drop"] > 0 and faults["slow"] > 0


def test_faults_are_seeded(clock: ManualClock) -> None:
    """The same seed injects the same faults in the same order."""

    def pattern(seed: int) -> list[int]:
        emu = Emulator(EmulatorConfig(seed=seed, fault_5xx_rate=0.4), clock=clock)

        async def go() -> list[int]:
            async with client_for(emu) as client:
                return [(await client.get("/v1/functions")).status_code for _ in range(30)]

        return asyncio.run(go())

    assert pattern(3) == pattern(3)
    assert pattern(3) != pattern(4)
    assert 200 in pattern(3) and any(code >= 500 for code in pattern(3))


def test_health_is_never_faulted(clock: ManualClock) -> None:
    """Only /v1 routes are faulted, so a health check stays reliable."""
    emu = Emulator(EmulatorConfig(fault_5xx_rate=1.0), clock=clock)

    async def go() -> int:
        async with client_for(emu) as client:
            return (await client.get("/")).status_code

    assert asyncio.run(go()) == 200
