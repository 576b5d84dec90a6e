"""The ASGI app: routes plus one gate in front of them.

The gate counts every request by route, checks the API key (401), refuses bodies
over the size limit (413) and injects the configured faults.  Errors anywhere
become Browserbase's error body; an unexpected exception becomes a 500 with the
same body (and is a bug: tests assert it never happens for any input).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bbnb.emulator import api_agents, api_contexts, api_functions, api_recordings, api_sessions
from bbnb.emulator.api_connect import connect_routes
from bbnb.emulator.faults import DroppedConnection
from bbnb.emulator.web.app import with_local_web
from bbnb.emulator.wire import ApiError, error_response, json_response

if TYPE_CHECKING:
    from bbnb.emulator.service import EmulatorService

__all__ = ["build_app"]

log = logging.getLogger("bbnb.emulator")
SIMULATED_HEADER = "x-bb-emulator"
MAX_UPLOAD_BYTES = 50 * 2**20


def build_app(emu: EmulatorService) -> ASGIApp:
    """The whole emulator as one ASGI app."""

    async def health(request: Request) -> Response:
        return json_response(
            {"ok": True, "emulator": True, "simulated": True, "realBrowsers": emu.live.real}
        )

    routes: list[BaseRoute] = [
        Route("/", health, methods=["GET"]),
        *api_agents.routes(emu),
        *api_functions.routes(emu),
        *api_sessions.routes(emu),
        *api_contexts.routes(emu),
        *connect_routes(emu),
        *api_recordings.routes(emu, emu.recordings),
    ]

    async def on_api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        if exc.status == 429:
            emu.stats.rate_limited += 1
        return error_response(exc.status, exc.message, exc.headers)

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 404:
            message = f"Route {request.method} {request.url.path[:200]} not found"
        elif exc.status_code == 405:
            message = f"Method {request.method} is not allowed on {request.url.path[:200]}"
        else:
            message = str(exc.detail)
        return error_response(exc.status_code, message, dict(exc.headers or {}))

    async def on_crash(request: Request, exc: Exception) -> Response:
        log.exception("emulator bug while answering %s %s", request.method, request.url.path)
        return error_response(500, f"Internal emulator error: {type(exc).__name__}")

    inner = Starlette(
        routes=routes,
        exception_handlers={
            ApiError: on_api_error,
            HTTPException: on_http_error,
            Exception: on_crash,
        },
    )
    return with_local_web(emu.config.seed, Gate(emu, inner, routes))


class _TooLarge(ApiError):
    pass


class Gate:
    """Counting, auth, body size and fault injection in front of the routes."""

    def __init__(self, emu: EmulatorService, app: ASGIApp, routes: list[BaseRoute]) -> None:
        self.emu = emu
        self.app = app
        self.routes = routes

    def route_name(self, scope: Scope) -> str:
        partial = None
        for route in self.routes:
            match, _ = route.matches(scope)
            path = getattr(route, "path", "?")
            if match is Match.FULL:
                return f"{scope['method']} {path}"
            if match is Match.PARTIAL and partial is None:
                partial = f"{scope['method']} {path}"
        return partial or f"{scope['method']} (unknown route)"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        emu = self.emu
        stats = emu.stats
        stats.requests[self.route_name(scope)] += 1

        async def counted_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                stats.statuses[message["status"]] += 1
                headers = list(message.get("headers", []))
                headers.append((SIMULATED_HEADER.encode(), b"1"))
                message = {**message, "headers": headers}
            await send(message)

        if not scope["path"].startswith("/v1"):
            await self.app(scope, receive, counted_send)
            return
        headers = dict(scope.get("headers") or [])
        key = headers.get(b"x-bb-api-key")
        if key is None:
            await _reply(counted_send, 401, "Missing X-BB-API-Key header; send your API key in it")
            return
        if key.decode("latin-1") != emu.config.api_key:
            await _reply(counted_send, 401, "Invalid API key (X-BB-API-Key)")
            return
        raw_path = scope.get("raw_path") or b""
        if b"%2f" in raw_path.lower():
            # Routing sees the decoded path, so "abc%2Fmessages" would reach another
            # route; no Browserbase id contains a slash, so such an id is simply unknown.
            await _reply(counted_send, 404, "Not found: an id cannot contain '/'")
            return
        limit = emu.config.max_body_bytes
        if scope["method"] == "POST" and scope["path"].endswith("/uploads"):
            limit = max(limit, MAX_UPLOAD_BYTES)  # files for a session's browser
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            await _reply(counted_send, 413, _too_large(length.decode("latin-1"), limit))
            return
        fault, status = emu.faults.draw()
        if fault == "5xx":
            stats.faults["5xx"] += 1
            await _reply(counted_send, status, "Simulated server error (emulator fault injection)")
            return
        if fault == "slow":
            stats.faults["slow"] += 1
            await asyncio.sleep(emu.config.slow_seconds)
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge(413, _too_large(f"more than {received}", limit))
            return message

        if fault != "drop":
            await self.app(scope, limited_receive, counted_send)
            return
        stats.faults["drop"] += 1

        async def swallow(message: Message) -> None:
            return None

        await self.app(scope, limited_receive, swallow)
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-length", b"1000")],
            }
        )
        await send({"type": "http.response.body", "body": b"{", "more_body": True})
        raise DroppedConnection(
            "emulator fault injection: connection dropped after the request was handled"
        )


def _too_large(size: str, limit: int) -> str:
    return f"Request body is too large ({size} bytes); the limit is {limit} bytes"


async def _reply(send: Send, status: int, message: str) -> None:
    body = error_response(status, message).body
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
