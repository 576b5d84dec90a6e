"""``SessionBrowser``: one session's Chromium, set up the way the session asked.

The emulator keeps its own CDP connection to the browser (``.cdp``) besides the clients
that come through ``connectUrl``.  On it, it auto-attaches to every page (holding new
ones until they are configured): viewport and user agent per page, console and network
entries into ``.logs``, requests checked against ``allowedDomains``/``blockAds`` at the
browser level (``Fetch``), downloads into the session's folder.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bbnb.emulator.browsers.cdp import CdpClient, CdpError
from bbnb.emulator.browsers.process import ChromiumProcess
from bbnb.emulator.browsers.rules import RequestRules

__all__ = ["BrowserSetup", "SessionBrowser"]

MAX_LOGS = 5000
_LOGGED_EVENTS = (
    "Runtime.consoleAPICalled",
    "Runtime.exceptionThrown",
    "Network.requestWillBeSent",
    "Network.responseReceived",
    "Network.loadingFailed",
)


@dataclass(frozen=True)
class BrowserSetup:
    """What a session asked of its browser that is applied at run time (not at launch)."""

    viewport: tuple[int, int] | None = None
    user_agent: str | None = None
    allowed_domains: tuple[str, ...] = ()
    block_ads: bool = False
    log_session: bool = True


def _now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(eq=False)
class SessionBrowser:
    """A live browser bound to a session id (see the package docstring for the API)."""

    session_id: str
    process: ChromiumProcess
    cdp: CdpClient
    setup: BrowserSetup = field(default_factory=BrowserSetup)
    keep_alive: bool = False
    logs: list[dict[str, Any]] = field(default_factory=list)
    clients: int = 0
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    closing: bool = False
    _pages: dict[str, int] = field(default_factory=dict)  # CDP session id -> pageId
    _page_targets: dict[str, str] = field(default_factory=dict)  # CDP session id -> targetId
    _unsubscribe: list[Callable[[], None]] = field(default_factory=list)
    _tasks: set[asyncio.Task[Any]] = field(default_factory=set)

    @property
    def cdp_url(self) -> str:
        """The browser's own CDP endpoint (no signing key; for the emulator's own code)."""
        return self.process.ws_url

    def __repr__(self) -> str:
        state = "alive" if self.process.alive else "dead"
        return f"SessionBrowser({self.session_id}, pid={self.process.pid}, {state})"

    # -- set up ------------------------------------------------------------------------
    async def configure(self) -> None:
        """Apply the setup: auto-attach to pages, request rules, downloads."""
        cdp = self.cdp
        self._unsubscribe.append(cdp.on("Target.attachedToTarget", self._on_attached))
        self._unsubscribe.append(cdp.on("Target.detachedFromTarget", self._on_detached))
        rules = RequestRules(self.setup.allowed_domains, self.setup.block_ads)
        if rules.active:
            self._unsubscribe.append(
                cdp.on("Fetch.requestPaused", lambda p, s: self._spawn(self._on_paused(rules, p)))
            )
            await cdp.send("Fetch.enable", {"patterns": [{"urlPattern": "*"}]})
        await cdp.send(
            "Browser.setDownloadBehavior",
            {
                "behavior": "allow",
                "downloadPath": str(self.process.downloads_dir),
                "eventsEnabled": True,
            },
        )
        if self.setup.log_session:
            for name in _LOGGED_EVENTS:
                self._unsubscribe.append(cdp.on(name, self._logger(name)))
        await cdp.send(
            "Target.setAutoAttach",
            {"autoAttach": True, "waitForDebuggerOnStart": True, "flatten": True},
        )
        # The open tab was attached before that answer came; finish setting it up so the
        # first client sees the viewport and user agent from its first command.
        await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _on_attached(self, params: dict[str, Any], _session: str | None) -> None:
        info = params.get("targetInfo", {})
        cdp_session = params.get("sessionId")
        if cdp_session is None:
            return
        if info.get("type") != "page":
            self._spawn(self._resume(cdp_session, params.get("waitingForDebugger", False)))
            return
        self._pages[cdp_session] = len(self._pages)
        self._page_targets[cdp_session] = info.get("targetId", "")
        self._spawn(self._prepare_page(cdp_session, params.get("waitingForDebugger", False)))

    def _on_detached(self, params: dict[str, Any], _session: str | None) -> None:
        self._page_targets.pop(params.get("sessionId", ""), None)

    async def _resume(self, cdp_session: str, waiting: bool) -> None:
        if waiting:
            with contextlib.suppress(CdpError):
                await self.cdp.send("Runtime.runIfWaitingForDebugger", session_id=cdp_session)

    async def _prepare_page(self, cdp_session: str, waiting: bool) -> None:
        send = self.cdp.send
        setup = self.setup
        try:
            steps = []
            if setup.viewport is not None:
                width, height = setup.viewport
                steps.append(
                    send(
                        "Emulation.setDeviceMetricsOverride",
                        {"width": width, "height": height, "deviceScaleFactor": 0, "mobile": False},
                        session_id=cdp_session,
                    )
                )
            if setup.user_agent is not None:
                steps.append(
                    send(
                        "Emulation.setUserAgentOverride",
                        {"userAgent": setup.user_agent},
                        session_id=cdp_session,
                    )
                )
            if setup.log_session:
                steps.append(send("Runtime.enable", session_id=cdp_session))
                steps.append(send("Network.enable", session_id=cdp_session))
            await asyncio.gather(*steps)
        except CdpError:
            pass  # the page went away while we set it up
        finally:
            await self._resume(cdp_session, waiting)

    async def _on_paused(self, rules: RequestRules, params: dict[str, Any]) -> None:
        request_id = params["requestId"]
        url = params.get("request", {}).get("url", "")
        reason = rules.verdict(url)
        with contextlib.suppress(CdpError):
            if reason is None:
                await self.cdp.send("Fetch.continueRequest", {"requestId": request_id})
                return
            self.note(f"blocked {url[:200]}: {reason}")
            await self.cdp.send(
                "Fetch.failRequest", {"requestId": request_id, "errorReason": "BlockedByClient"}
            )

    def _logger(self, method: str) -> Callable[[dict[str, Any], str | None], None]:
        def log(params: dict[str, Any], cdp_session: str | None) -> None:
            if cdp_session not in self._pages or len(self.logs) >= MAX_LOGS:
                return
            raw = json.dumps(params)[:20_000]
            now = _now_ms()
            entry: dict[str, Any] = {
                "method": method,
                "pageId": self._pages[cdp_session],
                "sessionId": self.session_id,
                "request": {"params": params, "rawBody": raw, "timestamp": now},
                "timestamp": now,
            }
            for key in ("frameId", "loaderId"):
                if isinstance(params.get(key), str):
                    entry[key] = params[key]
            self.logs.append(entry)

        return log

    def note(self, message: str) -> None:
        """Add an emulator note (``method: "bbnb.note"``) to the session's logs."""
        if len(self.logs) >= MAX_LOGS:
            return
        now = _now_ms()
        params = {"message": message}
        self.logs.append(
            {
                "method": "bbnb.note",
                "pageId": 0,
                "sessionId": self.session_id,
                "request": {"params": params, "rawBody": json.dumps(params), "timestamp": now},
                "timestamp": now,
            }
        )

    # -- reading -------------------------------------------------------------------------
    async def pages(self) -> list[dict[str, Any]]:
        """The browser's open tabs (``Target.getTargets``, pages only)."""
        infos = (await self.cdp.send("Target.getTargets"))["targetInfos"]
        return [info for info in infos if info.get("type") == "page"]

    # -- ending ----------------------------------------------------------------------------
    async def shutdown(self, *, graceful: bool) -> None:
        """Close the browser (``Browser.close`` first when ``graceful``, so profiles flush)."""
        self.closing = True
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        if graceful and self.process.alive:
            with contextlib.suppress(CdpError):
                await self.cdp.send("Browser.close", wait=5.0)
            deadline = time.monotonic() + 5.0
            while self.process.alive and time.monotonic() < deadline:  # noqa: ASYNC110
                await asyncio.sleep(0.02)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.cdp.close(), 2.0)
        for task in list(self._tasks):
            task.cancel()
        self.ended.set()
