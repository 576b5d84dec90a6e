"""``Emulator``: the emulator's service with its HTTP app, and an in-process transport.

``EmulatorService`` (``bbnb.emulator.service``) holds the state and the operations;
``build_app`` (``bbnb.emulator.app``) turns them into Browserbase's routes.  This module
joins the two, so neither imports the other.
"""

from __future__ import annotations

import httpx

from bbnb._clock import Clock
from bbnb.emulator.app import build_app
from bbnb.emulator.config import EmulatorConfig
from bbnb.emulator.faults import DroppedConnection
from bbnb.emulator.service import EmulatorService

__all__ = ["Emulator", "EmulatorTransport"]


class Emulator(EmulatorService):
    """A local Browserbase: give it a config (and a clock in tests), serve ``.app``."""

    def __init__(self, config: EmulatorConfig | None = None, *, clock: Clock | None = None) -> None:
        super().__init__(config, clock=clock)
        self.app = build_app(self)

    def transport(self) -> EmulatorTransport:
        """An httpx transport that calls this emulator in-process (no sockets)."""
        return EmulatorTransport(self)


class EmulatorTransport(httpx.AsyncBaseTransport):
    """``httpx.ASGITransport`` over the emulator app; a dropped connection becomes
    ``httpx.RemoteProtocolError``, as it would over a socket."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self._inner = httpx.ASGITransport(app=emulator.app, client=("127.0.0.1", 50000))

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await self._inner.handle_async_request(request)
        except DroppedConnection:
            raise httpx.RemoteProtocolError(
                "peer closed connection without sending complete message body "
                "(emulator fault injection)",
                request=request,
            ) from None

    async def aclose(self) -> None:
        await self._inner.aclose()
