"""Pages in a session's real Chromium: the ``PageOpener`` of ``bbnb.emulator.pages``
over the emulator's own CDP client.

``BrowserPages(live, session_id)`` opens the session's first tab (the one a
``connect_over_cdp`` client and the live view see), attaches to it with a flat CDP
session, and gives the agent and the built-in functions the four page methods:

- ``goto``: ``Page.navigate``, then the main frame's ``load`` event within the time
  limit.  The status and content type come from the document's
  ``Network.responseReceived``; a navigation that turns into a download
  (``Browser.downloadWillBegin``) gives its file name; ``errorText`` (unreachable host,
  a domain the session's ``allowedDomains`` blocks) is ``NAVIGATION_FAILED``, no load
  in time is ``NAVIGATION_TIMEOUT``.
- ``content``: the live DOM (``document.documentElement.outerHTML``), so pages built
  by JavaScript are read as a person sees them.
- ``screenshot``/``pdf``: ``Page.captureScreenshot`` / ``Page.printToPDF``.

The browser is launched on first use (``LiveSessions.session_browser``), so a run
whose task never opens a page costs no browser.  It opens the same URLs as the HTTP
pages (``reachable_here``): the local web (``*.bbnb.test``) and this machine.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING, Any

from bbnb.emulator.browsers.cdp import CdpClient, CdpError
from bbnb.emulator.pages import Navigation, Page, PageError, closed_web, reachable_here

if TYPE_CHECKING:
    from bbnb.emulator.live_sessions import LiveSessions

__all__ = ["BrowserPage", "BrowserPages"]

_DOWNLOAD_EVENT_WAIT = 2.0  # seconds an aborted navigation may wait for its download event


class BrowserPages:
    """Opens the tab of one session's real browser (see the module docstring)."""

    name = "browser"

    def __init__(self, live: LiveSessions, session_id: str) -> None:
        self.live = live
        self.session_id = session_id

    def __repr__(self) -> str:
        return f"BrowserPages({self.session_id!r})"

    def can_open(self, url: str) -> bool:
        """The same pages as over HTTP: the local web and this machine, or any page when the
        emulator has ``open_web`` on."""
        return reachable_here(url, open_web=self.live.emu.config.open_web)

    def open(self) -> AbstractAsyncContextManager[Page]:
        """The session's first tab, attached for this use and detached after it."""
        return self._open()

    @asynccontextmanager
    async def _open(self) -> AsyncIterator[Page]:
        try:
            browser = await self.live.session_browser(self.session_id)
        except Exception as exc:  # ended session, no Chromium, launch failure
            raise PageError(
                "BROWSER_UNAVAILABLE", f"the session's browser is unavailable: {exc}"
            ) from None
        cdp = browser.cdp
        targets = [t for t in await browser.pages() if t.get("type", "page") == "page"]
        if targets:
            target_id = str(targets[0]["targetId"])
        else:
            created = await cdp.send("Target.createTarget", {"url": "about:blank"})
            target_id = str(created["targetId"])
        attached = await cdp.send("Target.attachToTarget", {"targetId": target_id, "flatten": True})
        page = BrowserPage(cdp, str(attached["sessionId"]), allowed=self.can_open)
        try:
            await page.start()
            yield page
        finally:
            page.stop()
            with contextlib.suppress(CdpError):
                await cdp.send("Target.detachFromTarget", {"sessionId": page.cdp_session})


class BrowserPage:
    """One attached tab (the ``Page`` protocol over CDP)."""

    def __init__(
        self, cdp: CdpClient, cdp_session: str, *, allowed: Callable[[str], bool] | None = None
    ) -> None:
        self.cdp = cdp
        self.cdp_session = cdp_session
        self._allowed = allowed
        self._loaded = asyncio.Event()
        self._responses: dict[str, tuple[int, str]] = {}  # loaderId -> (status, mimeType)
        self._downloads: dict[str, str] = {}  # frameId -> suggested file name
        self._download_began = asyncio.Event()
        self._unsubscribe: list[Callable[[], None]] = []

    async def start(self) -> None:
        """Listen to this tab's events and enable the domains they come from."""
        listen = self.cdp.on
        self._unsubscribe += [
            listen("Page.loadEventFired", self._mine(lambda _p: self._loaded.set())),
            listen("Network.responseReceived", self._mine(self._on_response)),
            listen("Page.downloadWillBegin", self._on_download),
            listen("Browser.downloadWillBegin", self._on_download),
        ]
        await asyncio.gather(self._send("Page.enable"), self._send("Network.enable"))

    def stop(self) -> None:
        """Stop listening."""
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()

    def _mine(self, handler: Callable[[dict[str, Any]], None]) -> Any:
        def callback(params: dict[str, Any], session: str | None) -> None:
            if session == self.cdp_session:
                handler(params)

        return callback

    def _on_response(self, params: dict[str, Any]) -> None:
        if params.get("type") == "Document":
            response = params.get("response", {})
            self._responses[str(params.get("loaderId", ""))] = (
                int(response.get("status", 0)),
                str(response.get("mimeType", "")),
            )

    def _on_download(self, params: dict[str, Any], _session: str | None) -> None:
        self._downloads[str(params.get("frameId", ""))] = str(params.get("suggestedFilename", ""))
        self._download_began.set()

    async def _send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return await self.cdp.send(method, params, session_id=self.cdp_session)

    async def goto(self, url: str, *, time_limit: float) -> Navigation:
        """Navigate and wait for the load event (see the module docstring)."""
        if self._allowed is not None and not self._allowed(url):
            raise PageError("NAVIGATION_BLOCKED", closed_web(url))
        started = time.perf_counter()
        self._loaded.clear()
        try:
            async with asyncio.timeout(time_limit):
                nav = await self._send("Page.navigate", {"url": url})
                frame = str(nav.get("frameId", ""))
                loader = str(nav.get("loaderId", ""))
                error = nav.get("errorText")
                if error:
                    if "ERR_ABORTED" in str(error):
                        await self._download_of(frame)
                    if frame in self._downloads:
                        return Navigation(
                            url=url,
                            status=200,
                            content_type="application/octet-stream",
                            download=self._downloads.pop(frame),
                            ms=(time.perf_counter() - started) * 1000,
                        )
                    raise PageError("NAVIGATION_FAILED", f"{url} could not be loaded ({error})")
                if loader:
                    await self._loaded.wait()
                final = await self._evaluate("location.href")
        except TimeoutError:
            raise PageError(
                "NAVIGATION_TIMEOUT", f"{url} did not finish loading within {time_limit:g} s"
            ) from None
        except CdpError as exc:
            raise PageError(
                "NAVIGATION_FAILED", f"{url}: the browser did not answer ({exc})"
            ) from None
        status, mime = self._responses.get(loader, (200, "text/html"))
        return Navigation(
            url=str(final or url),
            status=status,
            content_type=mime or "text/html",
            ms=(time.perf_counter() - started) * 1000,
        )

    async def _download_of(self, frame: str) -> None:
        """Wait briefly for the download event of an aborted navigation (it may come after)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(_DOWNLOAD_EVENT_WAIT):
                while frame not in self._downloads:
                    self._download_began.clear()
                    await self._download_began.wait()

    async def _evaluate(self, expression: str) -> Any:
        answer = await self._send(
            "Runtime.evaluate", {"expression": expression, "returnByValue": True}
        )
        return answer.get("result", {}).get("value")

    async def content(self) -> str:
        """The live DOM as HTML."""
        value = await self._evaluate(
            "document.documentElement ? document.documentElement.outerHTML : ''"
        )
        return str(value or "")

    async def screenshot(self) -> bytes | None:
        """A PNG of the viewport."""
        shot = await self._send("Page.captureScreenshot", {"format": "png"})
        return base64.b64decode(shot["data"])

    async def pdf(self) -> bytes | None:
        """The page printed as PDF."""
        printed = await self._send("Page.printToPDF", {"printBackground": True})
        return base64.b64decode(printed["data"])
