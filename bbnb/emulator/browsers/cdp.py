"""A small Chrome DevTools Protocol client on ``websockets``.

``CdpClient.connect(ws_url)`` opens one WebSocket to a browser (or a page) endpoint.
``send(method, params, session_id=...)`` returns the command's ``result`` or raises
``CdpError``; ``on(method, callback)`` calls ``callback(params, session_id)`` for every
event of that name (``"*"`` for all) and returns a function that unsubscribes.  Flat
sessions (``Target.attachToTarget`` with ``flatten: true``) are addressed by their
``sessionId``.  Callbacks run on the client's event loop and must not block.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
from collections.abc import Callable
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

__all__ = ["CdpClient", "CdpError", "EventCallback"]

_log = logging.getLogger("bbnb.emulator.cdp")

EventCallback = Callable[[dict[str, Any], str | None], None]


class CdpError(Exception):
    """A CDP command failed (the browser answered an error, or the connection closed)."""


class CdpClient:
    """One CDP WebSocket: commands by id, events by name."""

    def __init__(self, ws: ClientConnection, url: str) -> None:
        self.url = url
        self._ws = ws
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._listeners: dict[str, list[EventCallback]] = {}
        self.closed = asyncio.Event()
        self._reader = asyncio.ensure_future(self._read())

    @classmethod
    async def connect(cls, url: str, *, wait: float = 10.0) -> CdpClient:
        """Open a client on ``url`` (``ws://127.0.0.1:<port>/devtools/browser/<id>``)."""
        ws = await asyncio.wait_for(
            connect(url, max_size=None, ping_interval=None, open_timeout=wait), wait
        )
        return cls(ws, url)

    def __repr__(self) -> str:
        state = "closed" if self.closed.is_set() else "open"
        return f"CdpClient({self.url!r}, {state})"

    async def send(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        *,
        session_id: str | None = None,
        wait: float = 30.0,
    ) -> dict[str, Any]:
        """Run one command and return its result (``wait``: seconds to wait for the answer)."""
        if self.closed.is_set():
            raise CdpError(f"{method}: the CDP connection is closed")
        message_id = next(self._ids)
        message: dict[str, Any] = {"id": message_id, "method": method, "params": params or {}}
        if session_id is not None:
            message["sessionId"] = session_id
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[message_id] = future
        try:
            await self._ws.send(json.dumps(message))
            return await asyncio.wait_for(future, wait)
        except ConnectionClosed:
            raise CdpError(f"{method}: the CDP connection closed") from None
        except TimeoutError:
            raise CdpError(f"{method}: no answer within {wait:g} s") from None
        finally:
            self._pending.pop(message_id, None)

    def on(self, method: str, callback: EventCallback) -> Callable[[], None]:
        """Call ``callback(params, session_id)`` on each ``method`` event; returns an unsubscriber."""
        self._listeners.setdefault(method, []).append(callback)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._listeners.get(method, []).remove(callback)

        return unsubscribe

    async def close(self) -> None:
        """Close the connection and fail the commands still waiting."""
        await self._ws.close()
        await asyncio.gather(self._reader, return_exceptions=True)

    async def _read(self) -> None:
        try:
            async for raw in self._ws:
                message = json.loads(raw)
                if "id" in message:
                    future = self._pending.get(message["id"])
                    if future is None or future.done():
                        continue
                    if "error" in message:
                        error = message["error"]
                        future.set_exception(CdpError(f"{error.get('message')} ({error})"))
                    else:
                        future.set_result(message.get("result", {}))
                    continue
                self._dispatch(message)
        except ConnectionClosed:
            pass
        finally:
            self.closed.set()
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(CdpError("the CDP connection closed"))

    def _dispatch(self, message: dict[str, Any]) -> None:
        method = message.get("method", "")
        params = message.get("params", {})
        session_id = message.get("sessionId")
        for callback in (*self._listeners.get(method, ()), *self._listeners.get("*", ())):
            try:
                callback(params, session_id)
            except Exception:  # a listener's bug must not stop the reader
                _log.exception("CDP listener for %s failed", method)
