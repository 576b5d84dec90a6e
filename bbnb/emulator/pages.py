"""How the agent and the built-in functions drive a page: a small Protocol, and one
implementation that fetches over HTTP (no JavaScript) until a real browser is wired.

``PageOpener`` opens a fresh ``Page`` (one tab, its own cookies) as an async context
manager.  A ``Page`` navigates (``goto`` -> ``Navigation``: final URL, status, content
type, download name), and then gives its HTML, title, and, when it can render, a PNG
screenshot or a PDF (``None`` otherwise).  Failures raise ``PageError`` with a code:
``NAVIGATION_FAILED`` (nothing answered) or ``NAVIGATION_TIMEOUT``.

``HttpPages`` reaches the local web (``*.bbnb.test``, answered in-process) and
loopback hosts (``127.0.0.1``, ``localhost``, ``::1``, over real HTTP); anything else
fails clearly, because without a browser the emulator does not go to the internet.
A real-browser opener over CDP implements the same four methods.

Wiring a browser (a small adapter over the emulator's CDP client): a ``PageOpener``
whose ``open()`` creates a tab in the session's browser (``Target.createTarget``,
attach, ``Page.enable``/``Network.enable``) and closes it on exit, and whose page
does ``goto`` = ``Page.navigate`` then wait for ``Page.loadEventFired`` within
``asyncio.timeout(time_limit)`` (the main frame's ``Network.responseReceived`` gives
the status, ``location.href`` the final URL, ``Page.downloadWillBegin`` a download;
``errorText`` from ``Page.navigate`` becomes ``NAVIGATION_FAILED``), ``content`` =
``document.documentElement.outerHTML``, ``screenshot`` = ``Page.captureScreenshot``,
``pdf`` = ``Page.printToPDF``.  Set it as ``emulator.page_opener`` (agent runs; see
``bbnb.emulator.browsing_runs.opener_of``) and pass it to ``FunctionContext(pages=...)``
(built-in functions).
"""

from __future__ import annotations

import asyncio
import ipaddress
import ssl
import time
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from functools import cache
from typing import Protocol
from urllib.parse import urlsplit, urlunsplit

import httpx

from bbnb.emulator.config import OPEN_WEB_ENV
from bbnb.emulator.web import DOMAIN, LocalWeb

__all__ = [
    "HttpPages",
    "Navigation",
    "Page",
    "PageError",
    "PageOpener",
    "closed_web",
    "is_local_web",
    "is_loopback",
    "normalize_url",
    "reachable_here",
]

USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) bbnb-emulator-http-page/1.0 (no JavaScript)"


class PageError(Exception):
    """A navigation that did not get a page: ``code`` says why, the message how."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Navigation:
    """Where a ``goto`` ended: the final URL, HTTP status, content type, download name."""

    url: str
    status: int
    content_type: str = "text/html"
    download: str | None = None
    ms: float = 0.0


class Page(Protocol):
    """One tab the agent drives (the browser adapter implements the same four methods)."""

    async def goto(self, url: str, *, time_limit: float) -> Navigation:
        """Load ``url`` (following redirects); raise ``PageError`` when nothing loads."""
        ...

    async def content(self) -> str:
        """The current page's HTML ("" for a download)."""
        ...

    async def screenshot(self) -> bytes | None:
        """A PNG of the viewport, or None when this page cannot render."""
        ...

    async def pdf(self) -> bytes | None:
        """The page printed as PDF, or None when this page cannot render."""
        ...


class PageOpener(Protocol):
    """Opens pages; ``can_open(url)`` says whether a URL is reachable by them."""

    name: str

    def can_open(self, url: str) -> bool: ...

    def open(self) -> AbstractAsyncContextManager[Page]: ...


def is_local_web(host: str) -> bool:
    """Whether ``host`` is a site of the local web (``shop.bbnb.test``)."""
    host = host.lower().rstrip(".")
    return host == DOMAIN or host.endswith("." + DOMAIN)


def is_loopback(host: str) -> bool:
    """Whether ``host`` is this machine (``localhost``, ``127.0.0.0/8``, ``::1``)."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def closed_web(url: str) -> str:
    """Why the emulator's agent and built-ins do not open ``url``, and how to let them."""
    return (
        f"{url} is closed to the emulator's agent and built-ins: they open only the local "
        f"web (*.{DOMAIN}) and 127.0.0.1 unless the emulator has open_web on "
        f"({OPEN_WEB_ENV}=1 for the embedded one, `bbnb emulator --open-web`)"
    )


def reachable_here(url: str, *, open_web: bool = False) -> bool:
    """Whether the emulator's pages may open ``url``: the local web and this machine, or
    with ``open_web`` any http(s) page."""
    parts = urlsplit(normalize_url(url))
    host = parts.hostname or ""
    if is_local_web(host) or is_loopback(host):
        return True
    return open_web and bool(host) and parts.scheme in ("http", "https")


def normalize_url(url: str) -> str:
    """``url`` with a scheme; local-web URLs use plain http (the emulator has no TLS)."""
    if "://" not in url:
        url = "http://" + url
    parts = urlsplit(url)
    if is_local_web(parts.hostname or "") and parts.scheme == "https":
        parts = parts._replace(scheme="http")
    if not parts.path:
        parts = parts._replace(path="/")
    return urlunsplit(parts)


@cache
def _tls() -> ssl.SSLContext:
    """One TLS context for every page (loading the CA bundle takes ~80 ms)."""
    return ssl.create_default_context()


class _Router(httpx.AsyncBaseTransport):
    """Local web in-process, loopback over HTTP, other hosts only with ``open_web``."""

    def __init__(self, seed: int, open_web: bool) -> None:
        self._web = httpx.ASGITransport(app=LocalWeb(seed), client=("127.0.0.1", 40000))
        self._net = httpx.AsyncHTTPTransport(retries=0, verify=_tls())
        self._open_web = open_web

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        if is_local_web(host):
            return await self._web.handle_async_request(request)
        if reachable_here(str(request.url), open_web=self._open_web):
            return await self._net.handle_async_request(request)
        raise httpx.ConnectError(f"net::ERR_BLOCKED: {closed_web(host)}", request=request)

    async def aclose(self) -> None:
        await self._web.aclose()
        await self._net.aclose()


class HttpPage:
    """A page fetched over HTTP: HTML and title, no JavaScript, no rendering."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client
        self._html = ""

    async def goto(self, url: str, *, time_limit: float) -> Navigation:
        url = normalize_url(url)
        started = time.perf_counter()
        try:
            async with asyncio.timeout(time_limit):
                response = await self._client.get(url)
        except TimeoutError:
            raise PageError(
                "NAVIGATION_TIMEOUT", f"{url} did not load within {time_limit:g} seconds"
            ) from None
        except httpx.TooManyRedirects:
            raise PageError("NAVIGATION_FAILED", f"{url} redirected too many times") from None
        except httpx.HTTPError as exc:
            raise PageError("NAVIGATION_FAILED", f"{url} could not be loaded: {exc}") from None
        ms = (time.perf_counter() - started) * 1000.0
        kind = response.headers.get("content-type", "").split(";")[0].strip() or "text/html"
        disposition = response.headers.get("content-disposition", "")
        download = None
        if "attachment" in disposition.lower():
            download = disposition.partition("filename=")[2].strip('"; ') or "download"
        is_html = kind in ("text/html", "application/xhtml+xml") or kind.startswith("text/plain")
        self._html = response.text if is_html and download is None else ""
        return Navigation(str(response.url), response.status_code, kind, download, ms)

    async def content(self) -> str:
        return self._html

    async def screenshot(self) -> bytes | None:
        return None

    async def pdf(self) -> bytes | None:
        return None


class HttpPages:
    """A ``PageOpener`` over HTTP for the local web of ``seed`` and loopback servers (and
    any http(s) page with ``open_web``)."""

    def __init__(self, seed: int, *, open_web: bool = False) -> None:
        self.seed = seed
        self.open_web = open_web
        where = "any page" if open_web else "local web and 127.0.0.1 only"
        self.name = f"HTTP pages (no browser: {where}, no JavaScript)"

    def can_open(self, url: str) -> bool:
        return reachable_here(url, open_web=self.open_web)

    def open(self) -> AbstractAsyncContextManager[Page]:
        return self._open()

    @asynccontextmanager
    async def _open(self) -> AsyncIterator[Page]:
        client = httpx.AsyncClient(
            transport=_Router(self.seed, self.open_web),
            follow_redirects=True,
            max_redirects=10,
            timeout=None,
            headers={"user-agent": USER_AGENT},
        )
        try:
            yield HttpPage(client)
        finally:
            await client.aclose()
