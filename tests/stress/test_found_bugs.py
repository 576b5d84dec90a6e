"""Bugs the stress suite found in other layers, each as a small failing repro.

Each began as a strict xfail; now fixed, each stands as a regression test.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest

from bbnb import ManualClock
from bbnb.client._client import AsyncClient
from bbnb.emulator import Emulator, EmulatorConfig
from bbnb.runs import invoke_many_async


class LoseFirstInvokeAnswer(httpx.AsyncBaseTransport):
    """The emulator in-process, but the first invoke's answer is lost after it was handled."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.lost = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.method == "POST" and request.url.path.endswith("/invoke") and not self.lost:
            self.lost += 1
            await response.aread()
            raise httpx.RemoteProtocolError("peer closed connection", request=request)
        return response


@pytest.mark.stress
def test_single_invoke_with_lost_answer_settles(clock: ManualClock) -> None:
    """A one-input invoke_many whose create answer is lost still finishes with one invocation."""

    async def scenario() -> tuple[dict[str, int], int]:
        emu = Emulator(EmulatorConfig(seed=3), clock=clock)
        transport = LoseFirstInvokeAnswer(emu.transport())
        client = AsyncClient(
            api_key=emu.config.api_key,
            base_url="http://emulator.local",
            transport=transport,
            clock=clock,
        )
        echo = {f.name: f.id async for f in client.functions.list()}["echo"]
        batch = await asyncio.wait_for(
            invoke_many_async(client, echo, [{"x": 1}], progress="none", journal=False),
            timeout=20.0,
        )
        return batch.counts, emu.stats.invocations_created

    counts, created = asyncio.run(scenario())
    assert counts == {"COMPLETED": 1}
    assert created == 1
