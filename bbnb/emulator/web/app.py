"""The local web as one ASGI app: the site comes from the Host header or a ``/web/`` path.

``http://shop.bbnb.test/prices`` (a browser launched with ``--host-resolver-rules=
"MAP *.bbnb.test 127.0.0.1:<port>"``) and ``http://127.0.0.1:<port>/web/shop/prices``
(any HTTP client) show the same page; links on it stay on the form it was reached by.
"""

from __future__ import annotations

import asyncio
import math
from http.cookies import SimpleCookie
from urllib.parse import parse_qsl

from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from bbnb.emulator.web.account import account_page
from bbnb.emulator.web.data import DOMAIN, SITES, WebData, web_data
from bbnb.emulator.web.layout import Page, esc, not_found, page
from bbnb.emulator.web.news import news_page
from bbnb.emulator.web.shop import shop_page

__all__ = ["LocalWeb", "web_site_of", "with_local_web"]

PATH_PREFIX = "/web"
MAX_SLOW_SECONDS = 60.0


def _host(scope: Scope) -> str:
    for key, value in scope.get("headers") or []:
        if key == b"host":
            return str(value.decode("latin-1")).rsplit(":", 1)[0].lower().rstrip(".")
    return ""


def web_site_of(scope: Scope) -> tuple[str, str, str] | None:
    """(site, base, path) when ``scope`` asks for the local web, else None."""
    if scope["type"] != "http":
        return None
    host = _host(scope)
    path: str = scope.get("path") or "/"
    if host == DOMAIN or host.endswith("." + DOMAIN):
        return host.removesuffix(DOMAIN).rstrip(".").rsplit(".", 1)[-1], "", path
    if path == PATH_PREFIX or path.startswith(PATH_PREFIX + "/"):
        rest = path[len(PATH_PREFIX) :].lstrip("/")
        site, _, tail = rest.partition("/")
        return site, f"{PATH_PREFIX}/{site}" if site else PATH_PREFIX, "/" + tail
    return None


def _index(base: str) -> Page:
    items = "".join(
        f'<li><a href="{base}/{site}/">{site}.{DOMAIN}</a> (or {base}/{site}/)</li>'
        for site in SITES
    )
    return page("bbnb local web", f"<h1>The local web</h1><ul>{items}</ul>", base=base, site="")


def _slow_seconds(query: dict[str, str]) -> float:
    try:
        seconds = float(query.get("seconds", "3"))
    except ValueError:
        seconds = 3.0
    return min(max(seconds, 0.0), MAX_SLOW_SECONDS) if math.isfinite(seconds) else 3.0


class LocalWeb:
    """The local web of one seed (an ASGI app)."""

    def __init__(self, seed: int) -> None:
        self.data: WebData = web_data(seed)

    async def _read_body(self, receive: Receive) -> bytes:
        chunks = []
        size = 0
        while True:
            message = await receive()
            body = message.get("body", b"")
            size += len(body)
            if size > 65_536:
                break
            chunks.append(body)
            if not message.get("more_body"):
                break
        return b"".join(chunks)

    async def answer(self, scope: Scope, receive: Receive) -> Page:
        """The page for ``scope`` (awaiting the slow site's delay)."""
        found = web_site_of(scope)
        assert found is not None
        site, base, path = found
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        method = scope["method"]
        if not site:
            return _index(base)
        if site not in SITES:
            return not_found(f"{site}.{DOMAIN}{path}", base=base, site="")
        if method not in ("GET", "HEAD") and (site, path) != ("account", "/login"):
            body = f"<h1>Method not allowed</h1><p>{esc(method)} is not used here.</p>"
            return page("405 Method Not Allowed", body, base=base, site=site, status=405)
        if site == "shop":
            return shop_page(self.data, base, path, query)
        if site == "news":
            return news_page(self.data, base, path, query)
        if site == "account":
            cookie = SimpleCookie()
            for key, value in scope.get("headers") or []:
                if key == b"cookie":
                    cookie.load(value.decode("latin-1"))
            cookies = {name: morsel.value for name, morsel in cookie.items()}
            form = await self._read_body(receive) if method == "POST" else b""
            return account_page(self.data, base, method, path, cookies, form)
        seconds = _slow_seconds(query)
        await asyncio.sleep(seconds)
        body = f"<h1>A slow page</h1><p>This page took {seconds:g} seconds to answer.</p>"
        return page(f"Slow page ({seconds:g} s)", body, base=base, site="slow")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        answer = await self.answer(scope, receive)
        headers = {"content-type": answer.content_type, "cache-control": "no-store"}
        headers.update(answer.headers)
        response = Response(answer.body, status_code=answer.status, headers=headers)
        await response(scope, receive, send)


def with_local_web(seed: int, api: ASGIApp) -> ASGIApp:
    """``api`` with the local web of ``seed`` in front: requests for a ``*.bbnb.test``
    host or a ``/web/`` path go to the web, everything else to ``api``."""
    web = LocalWeb(seed)

    async def dispatch(scope: Scope, receive: Receive, send: Send) -> None:
        if web_site_of(scope) is not None:
            await web(scope, receive, send)
        else:
            await api(scope, receive, send)

    return dispatch
