"""``connectUrl`` and the live view: WebSocket routes on the emulator's own port.

``/connect/{id}?signingKey=...`` proxies CDP frames between a client (Playwright's
``connect_over_cdp``, puppeteer, raw CDP) and the session's browser.  Two client
commands are adjusted on the way: ``Browser.setDownloadBehavior`` with a relative
``downloadPath`` (Browserbase's way) saves into the session's downloads, and
``Browser.close`` ends the session instead of killing a browser the emulator owns.
``/connect/{id}/json/version`` is DevTools' discovery document, so an ``http://`` endpoint
works too.  ``/live/{id}`` is a page showing a tab live from ``/live/{id}/frames``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from bbnb.emulator.browsers.screencast import screencast
from bbnb.emulator.wire import ApiError, error_response

if TYPE_CHECKING:
    from bbnb.emulator.browsers import SessionBrowser
    from bbnb.emulator.service import EmulatorService

__all__ = ["connect_routes"]

_TRY_AGAIN = 1013


async def _deny(ws: WebSocket, status: int, message: str) -> None:
    """Refuse the handshake with Browserbase's error body (a plain close where unsupported)."""
    if "websocket.http.response" in ws.scope.get("extensions", {}):
        await ws.send_denial_response(error_response(status, message))
    else:
        await ws.close(1008, message[:120])


def _adjust(raw: str, browser: SessionBrowser) -> tuple[str | None, dict[str, Any] | None]:
    """(frame to forward, or None; the message, when the emulator answers it itself)."""
    if '"Browser.' not in raw:
        return raw, None
    message = json.loads(raw)
    method = message.get("method")
    if method == "Browser.close":
        return None, message
    if method == "Browser.setDownloadBehavior":
        params = message.setdefault("params", {})
        path = params.get("downloadPath")
        if isinstance(path, str) and not path.startswith("/"):
            params["downloadPath"] = str(browser.process.downloads_dir)
            return json.dumps(message), None
    return raw, None


async def _pump_to_browser(
    ws: WebSocket, upstream: Any, browser: SessionBrowser, close_asked: asyncio.Event
) -> None:
    while True:
        raw = await ws.receive_text()
        frame, answer = _adjust(raw, browser)
        if frame is not None:
            await upstream.send(frame)
            continue
        assert answer is not None
        reply: dict[str, Any] = {"id": answer.get("id"), "result": {}}
        if "sessionId" in answer:
            reply["sessionId"] = answer["sessionId"]
        await ws.send_text(json.dumps(reply))
        close_asked.set()
        return


async def _pump_to_client(ws: WebSocket, upstream: Any) -> None:
    async for frame in upstream:
        if isinstance(frame, bytes):
            await ws.send_bytes(frame)
        else:
            await ws.send_text(frame)


_LIVE_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>bbnb live view</title>
<style>html,body{margin:0;height:100%;background:#111;color:#ccc;font:13px sans-serif}
#v{width:100%;height:100%;object-fit:contain;display:block}
#s{position:fixed;left:8px;bottom:6px;opacity:.7}</style></head>
<body><img id="v" alt="live view"><div id="s">connecting...</div>
<script>
const img = document.getElementById("v"), status = document.getElementById("s");
const url = new URL("frames", location.href.replace(/\\?.*$/, "") + "/");
url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
url.search = location.search;
const ws = new WebSocket(url);
ws.binaryType = "blob";
ws.onmessage = (e) => { const old = img.src; img.src = URL.createObjectURL(e.data);
  if (old) URL.revokeObjectURL(old); status.textContent = "live (read-only)"; };
ws.onclose = () => { status.textContent = "the session ended"; };
</script></body></html>
"""


def connect_routes(emu: EmulatorService) -> list[Route | WebSocketRoute]:
    """The CDP proxy and the live view."""

    async def cdp_proxy(ws: WebSocket) -> None:
        sid = ws.path_params["sid"]
        if not emu.live.key_ok(sid, ws.query_params.get("signingKey")):
            await _deny(ws, 401, "Missing or wrong signingKey for this session; use connectUrl")
            return
        try:
            browser = await emu.live.session_browser(sid)  # a run's session starts one now
        except ApiError as exc:
            await _deny(ws, exc.status, exc.message)
            return
        try:
            upstream = await connect(
                browser.cdp_url, max_size=None, ping_interval=None, compression=None
            )
        except (OSError, ConnectionClosed):
            await ws.close(_TRY_AGAIN, f"the browser of session {sid} is gone")
            return
        await ws.accept()
        browser.clients += 1
        close_asked = asyncio.Event()
        tasks = [
            asyncio.ensure_future(_pump_to_browser(ws, upstream, browser, close_asked)),
            asyncio.ensure_future(_pump_to_client(ws, upstream)),
        ]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            with contextlib.suppress(Exception):
                await upstream.close()
            with contextlib.suppress(Exception, WebSocketDisconnect):
                await ws.close()
            browser.clients -= 1
            if close_asked.is_set():
                await emu.live.finish(sid, "COMPLETED")
            else:
                await emu.live.client_left(sid)

    async def json_version(request: Request) -> Response:
        """DevTools' discovery document, for clients given an http:// endpoint."""
        sid = request.path_params["sid"]
        if not emu.live.key_ok(sid, request.query_params.get("signingKey")):
            return error_response(401, "Missing or wrong signingKey for this session")
        browser = emu.live.browsers.get(sid)
        if browser is None:
            return error_response(409, f"Session {sid} has no live browser")
        version = await browser.cdp.send("Browser.getVersion")
        return JSONResponse(
            {
                "Browser": version.get("product", ""),
                "Protocol-Version": version.get("protocolVersion", "1.3"),
                "User-Agent": version.get("userAgent", ""),
                "webSocketDebuggerUrl": emu.live.connect_url(sid, request.headers.get("host")),
            }
        )

    async def live_page(request: Request) -> Response:
        sid = request.path_params["sid"]
        if not emu.live.key_ok(sid, request.query_params.get("signingKey")):
            return error_response(401, "Missing or wrong signingKey for this session")
        return HTMLResponse(_LIVE_PAGE)

    async def live_frames(ws: WebSocket) -> None:
        sid = ws.path_params["sid"]
        if not emu.live.key_ok(sid, ws.query_params.get("signingKey")):
            await _deny(ws, 401, "Missing or wrong signingKey for this session")
            return
        browser = emu.live.browsers.get(sid)
        if browser is None:
            await _deny(ws, 409, f"Session {sid} has no live browser")
            return
        target = ws.query_params.get("pageId")
        if not target:
            pages = await browser.pages()
            if not pages:
                await ws.close(_TRY_AGAIN, "the session has no open tab")
                return
            target = pages[0]["targetId"]
        await ws.accept()
        with contextlib.suppress(WebSocketDisconnect, RuntimeError):
            async for frame in screencast(browser, target):
                await ws.send_bytes(frame.data)
        with contextlib.suppress(Exception):
            await ws.close()

    return [
        WebSocketRoute("/connect/{sid}", cdp_proxy),
        Route("/connect/{sid}/json/version", json_version, methods=["GET"]),
        Route("/connect/{sid}/json/version/", json_version, methods=["GET"]),
        Route("/live/{sid}", live_page, methods=["GET"]),
        WebSocketRoute("/live/{sid}/frames", live_frames),
    ]
