"""Real browsers behind sessions: starting, watching and ending them, and what they leave.

``LiveSessions`` joins the service's session records to the ``BrowserManager``: it starts
a browser when a session is created (settings applied), ends it when the session ends
(release, last CDP client gone, timeout, crash), saves persisted contexts, and keeps the
logs and downloads of ended sessions.  Browser time is real time.

Every tab of a live browser is screencast into the service's ``FrameStore``
(``bbnb.emulator.recording``): the replays and MP4 downloads of ``recordSession``
sessions (the default) and the newest picture for the live view of all of them.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import io
import logging
import threading
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bbnb.emulator.browsers import BrowserLimitError, BrowserManager, BrowserSetup, SessionBrowser
from bbnb.emulator.browsers.cdp import CdpError
from bbnb.emulator.browsers.screencast import screencast
from bbnb.emulator.contexts import ContextStore
from bbnb.emulator.records import SessionRecord
from bbnb.emulator.wire import ApiError, echo
from bbnb.models import SessionCreateParams

if TYPE_CHECKING:
    from bbnb.emulator.service import EmulatorService

__all__ = ["NOT_EMULATED", "USER_AGENTS", "LiveSessions"]

log = logging.getLogger("bbnb.emulator")
_LIVE = ("PENDING", "RUNNING")
_WATCH_EVERY = 0.25
_KEEP_ENDED = 200  # ended sessions whose logs and downloads stay readable
_LAST_PICTURE_WAIT = 3.0  # seconds a closing session may spend picturing unpictured tabs

USER_AGENTS = {
    "windows": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v} Safari/537.36",
    "mac": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v} Safari/537.36",
    "linux": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v} Safari/537.36",
    "mobile": "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v} Mobile Safari/537.36",
    "tablet": "Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v} Safari/537.36",
}
# Settings that only mean something in Browserbase's cloud: accepted, noted in the logs.
NOT_EMULATED = {
    "solveCaptchas": "captcha solving",
    "advancedStealth": "advanced stealth",
    "verified": "verified browsers",
    "captchaImageSelector": "captcha solving",
    "captchaInputSelector": "captcha solving",
    "extensionId": "extensions",
    "extensions": "extensions",
    "size": "browser size presets",
    "enableNativeSelectPolyfill": "the native select polyfill",
    "enablePdfViewer": "the PDF viewer",
    "ignoreCertificateErrors": "ignoring certificate errors",
}
_TOP_NOT_EMULATED = {
    "proxies": "Browserbase proxies",
    "region": "regions (every session runs on this machine)",
    "extensionId": "extensions",
}


def _setup_of(params: SessionCreateParams, chrome_version: str) -> tuple[BrowserSetup, list[str]]:
    browser = params.browser_settings
    notes: list[str] = []
    wire = params.to_safe_dict()
    for key, what in _TOP_NOT_EMULATED.items():
        if wire.get(key) not in (None, False, [], {}):
            notes.append(f"{key}: {what} is not emulated")
    if browser is None:
        return BrowserSetup(), notes
    settings = wire.get("browserSettings", {})
    for key, what in NOT_EMULATED.items():
        if settings.get(key) not in (None, False, []):
            notes.append(f"browserSettings.{key}: {what} is not emulated")
    viewport = (browser.viewport.width, browser.viewport.height) if browser.viewport else None
    agent = USER_AGENTS[browser.os].format(v=chrome_version) if browser.os else None
    setup = BrowserSetup(
        viewport=viewport,
        user_agent=agent,
        allowed_domains=tuple(browser.allowed_domains or ()),
        block_ads=bool(browser.block_ads),
        log_session=browser.log_session is not False,
    )
    return setup, notes


class LiveSessions:
    """The real-browser side of the emulator's sessions (one per service)."""

    def __init__(self, emu: EmulatorService) -> None:
        config = emu.config
        self.emu = emu
        self.browsers = BrowserManager(
            mode=config.browsers, max_browsers=config.max_browsers, warm=config.warm_browsers
        )
        on_disk = config.db_path not in (None, "", ":memory:")
        folder = Path(f"{config.db_path}.contexts") if on_disk else None
        self.contexts = ContextStore(config.seed, folder)
        self.address: tuple[str, int] | None = None
        # Only holders of the API key can make (or fetch) a session's key; stable across restarts.
        self._secret = hashlib.sha256(f"{config.api_key}\0{config.seed}".encode()).digest()
        self._watchers: dict[str, asyncio.Task[None]] = {}
        self._ending: dict[str, asyncio.Task[None]] = {}
        self.ended_logs: dict[str, list[dict[str, Any]]] = {}
        self._closed_flags: dict[str, threading.Event] = {}
        self.ended_downloads: dict[str, bytes] = {}
        self._recorders: dict[str, set[asyncio.Task[None]]] = {}
        self.chrome_version = "131.0.0.0"

    @property
    def real(self) -> bool:
        return self.browsers.real

    def bind(self, host: str, port: int) -> None:
        """The emulator now listens on ``host:port``: URLs and host mappings can use it."""
        self.address = (host, port)
        self.browsers.host_rules = [
            rule.format(port=port, host=host) for rule in self.emu.config.host_rules
        ]
        self.browsers.fill_pool()

    def base(self, request_host: str | None) -> str:
        """``host:port`` clients reach the emulator at."""
        if self.address is not None:
            host, port = self.address
            host = f"[{host}]" if ":" in host else host
            return f"{host}:{port}"
        return request_host or "127.0.0.1"

    def signing_key(self, session_id: str) -> str:
        """The session's connect key: an HMAC keyed by the API key (never sent to browsers)."""
        return hmac.new(self._secret, session_id.encode(), hashlib.sha256).hexdigest()[:40]

    def key_ok(self, session_id: str, key: str | None) -> bool:
        return key is not None and hmac.compare_digest(key, self.signing_key(session_id))

    def connect_url(self, session_id: str, request_host: str | None) -> str:
        base = self.base(request_host)
        return f"ws://{base}/connect/{session_id}?signingKey={self.signing_key(session_id)}"

    # -- starting --------------------------------------------------------------------------
    def check_capacity(self) -> None:
        try:
            self.browsers.check_capacity()
        except BrowserLimitError as exc:
            raise ApiError(429, str(exc)) from None

    async def start(self, session: SessionRecord, params: SessionCreateParams) -> SessionBrowser:
        """Launch (or take a warm) browser for a just-created session."""
        setup, notes = _setup_of(params, self.chrome_version)
        context = params.browser_settings.context if params.browser_settings else None
        profile: Path | None = None
        if context is not None:
            self.contexts.get(context.id)
            profile = self.contexts.profile(context.id)
        try:
            browser = await self.browsers.start(
                session.session_id, setup=setup, keep_alive=session.keep_alive, profile_from=profile
            )
        except BrowserLimitError as exc:
            raise ApiError(429, str(exc)) from None
        except Exception as exc:
            self._end_record(session, "ERROR")
            log.error("bbnb emulator: session %s: %s", session.session_id, exc)
            raise ApiError(500, f"Could not start a browser for the session: {exc}") from None
        for note in notes:
            browser.note(note)
        record = (
            params.browser_settings is None or params.browser_settings.record_session is not False
        )
        self._record(session.session_id, browser, record)
        task = asyncio.ensure_future(self._watch(session, browser))
        self._watchers[session.session_id] = task
        sid = session.session_id
        task.add_done_callback(lambda _t: self._watchers.pop(sid, None))
        return browser

    def _record(self, session_id: str, browser: SessionBrowser, record: bool) -> None:
        """Screencast each tab of ``browser`` (now and as they open) into the frame store."""
        recording = self.emu.recordings.start(session_id, record=record)
        seen: set[str] = set()
        tasks: set[asyncio.Task[None]] = set()

        async def feed(target: str, url: str) -> None:
            with contextlib.suppress(CdpError, ConnectionError):
                async for frame in screencast(browser, target, quality=55, max_width=1024):
                    recording.add_frame(
                        target, frame.data, frame.timestamp or self.emu.now(), url=url
                    )
            recording.end_page(target, self.emu.now())

        def follow(target: str, url: str, kind: str) -> None:
            if kind != "page" or target in seen or browser.closing:
                return
            seen.add(target)
            task = asyncio.ensure_future(feed(target, url))
            tasks.add(task)
            task.add_done_callback(tasks.discard)

        def on_target(params: dict[str, Any], _session: str | None) -> None:
            info = params.get("targetInfo", {})
            follow(
                str(info.get("targetId", "")), str(info.get("url", "")), str(info.get("type", ""))
            )

        async def first_tabs() -> None:
            with contextlib.suppress(CdpError):
                await browser.cdp.send("Target.setDiscoverTargets", {"discover": True})
                for info in await browser.pages():
                    follow(
                        str(info["targetId"]),
                        str(info.get("url", "")),
                        str(info.get("type", "page")),
                    )

        browser._unsubscribe.append(browser.cdp.on("Target.targetCreated", on_target))
        self._recorders[session_id] = tasks
        tasks.add(asyncio.ensure_future(first_tabs()))

    async def session_browser(self, session_id: str) -> SessionBrowser:
        """The live browser of ``session_id``, launched now for a run's or an invocation's session.

        Raises ``ApiError`` (404/409) when the session is unknown, ended, or simulated."""
        browser = self.browsers.get(session_id)
        if browser is not None:
            return browser
        session = self.emu.get_session(session_id)
        status = self.emu.session_state(session, self.emu.now())[0]
        if status not in _LIVE:
            raise ApiError(409, f"Session {session_id} is {status}; it has no browser any more")
        if not self.real:
            raise ApiError(409, f"Session {session_id} is simulated: no browser is installed")
        params = SessionCreateParams.model_validate(
            {k: v for k, v in (session.settings or {}).items() if k != "timeout"}
        )
        return await self.start(session, params)

    # -- ending ----------------------------------------------------------------------------
    def _end_record(self, session: SessionRecord, status: str) -> None:
        if session.end_status is None:
            now = self.emu.now()
            session.end_status = status
            session.ended_at = now if session.released_at is None else session.released_at
            self.emu.store.save(session)

    async def finish(self, session_id: str, status: str) -> None:
        """End a session with a browser: record ``status``, close it, save its context."""
        session = self.emu.store.sessions.by_id.get(session_id)
        if session is None:
            return
        if self.emu.session_state(session, self.emu.now())[0] in _LIVE:
            self._end_record(session, status)
        running = self._ending.get(session_id)
        if running is None:
            running = asyncio.ensure_future(self._close(session))
            self._ending[session_id] = running
            running.add_done_callback(lambda _t: self._ending.pop(session_id, None))
        await asyncio.shield(running)

    async def settle(self, session_id: str) -> None:
        """If the session has ended, close its browser now (or wait while it closes).

        The watcher would close it within a moment; a reader of the session's recording,
        logs or downloads calls this first so it sees them whole, however soon it asks."""
        session = self.emu.store.sessions.by_id.get(session_id)
        if session is None:
            return
        status, ended = self.emu.session_state(session, self.emu.now())
        if ended is None:
            return
        if self.browsers.get(session_id) is not None or session_id in self._ending:
            await self.finish(session_id, status)

    def closed_flag(self, session_id: str) -> threading.Event:
        """Set once the session's browser is gone and its context saved (any thread may wait)."""
        return self._closed_flags.setdefault(session_id, threading.Event())

    async def _close(self, session: SessionRecord) -> None:
        try:
            await self._close_browser(session)
        finally:
            self.closed_flag(session.session_id).set()
            while len(self._closed_flags) > 4 * _KEEP_ENDED:
                self._closed_flags.pop(next(iter(self._closed_flags)))

    async def _last_pictures(self, session_id: str) -> None:
        """Give each tab that the screencast has not pictured yet one picture before it closes.

        The screencast sends a frame only after Chromium paints and the previous frame is
        acknowledged; a run that opens a page and ends within a frame or two (a fast page
        on a busy machine) would otherwise leave that page out of the replay."""
        browser = self.browsers.get(session_id)
        recording = self.emu.recordings.recording(session_id)
        if browser is None or recording is None or not recording.record or browser.closing:
            return
        cdp = browser.cdp
        with contextlib.suppress(CdpError, ConnectionError, TimeoutError, KeyError):
            async with asyncio.timeout(_LAST_PICTURE_WAIT):
                for info in await browser.pages():
                    target = str(info["targetId"])
                    if not recording.lacks_picture(target):
                        continue
                    attached = await cdp.send(
                        "Target.attachToTarget", {"targetId": target, "flatten": True}
                    )
                    tab = str(attached["sessionId"])
                    shot = await cdp.send(
                        "Page.captureScreenshot",
                        {"format": "jpeg", "quality": 55},
                        session_id=tab,
                    )
                    recording.add_frame(
                        target,
                        base64.b64decode(shot["data"]),
                        self.emu.now(),
                        url=str(info.get("url", "")),
                    )
                    await cdp.send("Target.detachFromTarget", {"sessionId": tab})

    async def _close_browser(self, session: SessionRecord) -> None:
        persist = self._persisting_context(session)
        await self._last_pictures(session.session_id)
        browser = await self.browsers.end(session.session_id, graceful=persist is not None)
        for task in self._recorders.pop(session.session_id, set()):
            task.cancel()
        recording = self.emu.recordings.recording(session.session_id)
        if recording is not None:
            recording.finish(self.emu.now())
        if browser is None:
            return
        try:
            self.ended_logs[session.session_id] = browser.logs
            archive = _zip_folder(browser.process.downloads_dir)
            if archive is not None:
                self.ended_downloads[session.session_id] = archive
            if persist is not None:
                self.contexts.save(persist, browser.process.profile_dir, self.emu.now())
        finally:
            self.browsers.discard(browser)
            for kept in (self.ended_logs, self.ended_downloads):
                while len(kept) > _KEEP_ENDED:
                    kept.pop(next(iter(kept)))

    def _persisting_context(self, session: SessionRecord) -> str | None:
        browser_settings = (session.settings or {}).get("browserSettings") or {}
        context = browser_settings.get("context") or {}
        return context.get("id") if context.get("persist") else None

    async def _watch(self, session: SessionRecord, browser: SessionBrowser) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + session.timeout_s
        sid = session.session_id
        while self.browsers.get(sid) is browser and not browser.closing:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(browser.cdp.closed.wait(), _WATCH_EVERY)
            if browser.closing:
                return
            if browser.cdp.closed.is_set() or not browser.process.alive:
                log.warning("bbnb emulator: the browser of session %s crashed", sid)
                browser.note("the browser crashed; the session ended with status ERROR")
                await self.finish(sid, "ERROR")
                return
            if loop.time() >= deadline:
                browser.note(f"the session timed out after {session.timeout_s:g} s")
                await self.finish(sid, "TIMED_OUT")
                return
            status = self.emu.session_state(session, self.emu.now())[0]
            if status not in _LIVE:
                await self.finish(sid, status)
                return

    async def client_left(self, session_id: str) -> None:
        """A CDP client disconnected: a session without keepAlive ends with its last client."""
        browser = self.browsers.get(session_id)
        session = self.emu.store.sessions.by_id.get(session_id)
        if browser is None or session is None or browser.clients > 0:
            return
        if not session.keep_alive and session.owner is None:
            await self.finish(session_id, "COMPLETED")

    # -- what sessions leave -----------------------------------------------------------------
    def logs(self, session_id: str) -> list[dict[str, Any]]:
        browser = self.browsers.get(session_id)
        if browser is not None:
            return list(browser.logs)
        return list(self.ended_logs.get(session_id, []))

    def downloads(self, session_id: str) -> bytes:
        browser = self.browsers.get(session_id)
        if browser is not None:
            return _zip_folder(browser.process.downloads_dir) or _EMPTY_ZIP
        return self.ended_downloads.get(session_id, _EMPTY_ZIP)

    def upload(self, session_id: str, name: str, data: bytes) -> Path:
        browser = self.browsers.get(session_id)
        if browser is None:
            raise ApiError(409, f"Session {echo(session_id)} has no live browser to upload to")
        folder = browser.process.workdir / "uploads"
        folder.mkdir(exist_ok=True)
        safe = Path(name).name or "upload"
        target = folder / safe
        target.write_bytes(data)
        browser.note(f"uploaded {safe} ({len(data)} bytes) to {target}")
        return target

    async def aclose(self) -> None:
        """End every live browser (on the event loop, before it stops)."""
        self.browsers.stop_warming()
        for sid in list(self.browsers.sessions):
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.finish(sid, "COMPLETED"), 10.0)
        for task in list(self._watchers.values()):
            task.cancel()
        await asyncio.gather(*self._watchers.values(), return_exceptions=True)
        await self.browsers.aclose()

    def close(self) -> None:
        """Kill everything that is left (any thread)."""
        for task in list(self._watchers.values()):
            task.cancel()
        self.browsers.close()
        self.contexts.close()


def _zip_folder(folder: Path) -> bytes | None:
    files = [
        p for p in sorted(folder.glob("*")) if p.is_file() and not p.name.endswith(".crdownload")
    ]
    if not files:
        return None
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            archive.write(path, path.name)
    return buffer.getvalue()


_EMPTY_ZIP = b"PK\x05\x06" + b"\x00" * 18
