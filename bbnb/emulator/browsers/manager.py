"""``BrowserManager``: the emulator's Chromiums, one per session, with a small warm pool.

It finds the executable, launches (or takes a pre-launched browser from the warm pool),
enforces ``max_browsers``, keeps a ``Watchdog`` informed, and kills everything on
``close()``.  All methods but ``close()`` run on the emulator's event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import tempfile
from pathlib import Path

from bbnb.emulator.browsers.cdp import CdpClient
from bbnb.emulator.browsers.finder import INSTALL_HINT, find_browser
from bbnb.emulator.browsers.process import ChromiumProcess, LaunchOptions, launch_chromium
from bbnb.emulator.browsers.session import BrowserSetup, SessionBrowser
from bbnb.emulator.browsers.watchdog import Watchdog

__all__ = ["BROWSER_MODES", "BrowserLimitError", "BrowserManager", "default_max_browsers"]

BROWSER_MODES = ("real", "simulated", "auto")
log = logging.getLogger("bbnb.emulator")
_WARM_WAIT = 10.0  # seconds a create waits for a warm launch under way
_told_missing = False


class BrowserLimitError(Exception):
    """Every browser slot is taken (the emulator answers 429)."""


def default_max_browsers() -> int:
    """Four browsers per core, bounded by memory (about 250 MB each), at least 2."""
    cores = os.cpu_count() or 2
    try:
        memory_mb = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2**20
    except (ValueError, OSError, AttributeError):
        memory_mb = 4096
    return max(2, min(4 * cores, memory_mb // 250))


def _tell_missing_once() -> None:
    global _told_missing
    if not _told_missing:
        _told_missing = True
        log.warning("bbnb emulator: %s", INSTALL_HINT)


class BrowserManager:
    """Launches and owns the browsers behind sessions (``mode``: real, simulated or auto)."""

    def __init__(
        self,
        *,
        mode: str = "auto",
        max_browsers: int | None = None,
        warm: int = 1,
        host_rules: tuple[str, ...] = (),
    ) -> None:
        if mode not in BROWSER_MODES:
            raise ValueError(f"browsers must be one of {', '.join(BROWSER_MODES)}, got {mode!r}")
        self.mode = mode
        self.executable = None if mode == "simulated" else find_browser()
        if self.executable is None and mode == "real":
            raise ValueError(f"--browsers real: {INSTALL_HINT}")
        if self.executable is None and mode == "auto":
            _tell_missing_once()
        self.max_browsers = max_browsers or default_max_browsers()
        self.warm_size = max(0, warm)
        self.host_rules: list[str] = list(host_rules)
        self.sessions: dict[str, SessionBrowser] = {}
        self._warm: list[tuple[ChromiumProcess, CdpClient]] = []
        self._warming = 0
        self._launching = 0
        self._root: Path | None = None
        self._watchdog: Watchdog | None = None
        self._seq = 0
        self._closed = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._processes: dict[int, ChromiumProcess] = {}
        self._warm_ready = asyncio.Event()
        self._waiters = 0

    @property
    def real(self) -> bool:
        """Whether sessions get a real browser."""
        return self.executable is not None

    @property
    def root(self) -> Path | None:
        """The folder holding every browser's profile (None before the first launch)."""
        return self._root

    def __repr__(self) -> str:
        what = self.executable or "simulated"
        return f"BrowserManager({what}, live={len(self.sessions)}/{self.max_browsers})"

    def _workdir(self) -> Path:
        if self._closed:
            raise RuntimeError("the browser manager is closed")
        if self._root is None:
            self._watchdog = Watchdog()
            self._root = Path(tempfile.mkdtemp(prefix="bbnb-browsers-"))
            self._watchdog.watch_folder(str(self._root))
        self._seq += 1
        return self._root / f"b{self._seq}"

    def launch_options(self, profile_from: Path | None = None) -> LaunchOptions:
        return LaunchOptions(host_rules=tuple(self.host_rules), profile_from=profile_from)

    async def _launch(self, options: LaunchOptions) -> tuple[ChromiumProcess, CdpClient]:
        assert self.executable is not None
        process = await launch_chromium(
            self.executable, self._workdir(), options, on_spawn=self._spawned
        )
        try:
            cdp = await CdpClient.connect(process.ws_url)
        except BaseException:
            self._kill(process)
            raise
        return process, cdp

    def _spawned(self, process: ChromiumProcess) -> None:
        self._processes[process.pid] = process
        if self._watchdog is not None:
            self._watchdog.watch_group(process.pid)

    def _kill(self, process: ChromiumProcess) -> None:
        process.kill()
        self._processes.pop(process.pid, None)
        if self._watchdog is not None:
            self._watchdog.forget_group(process.pid)

    # -- sessions --------------------------------------------------------------------------
    def check_capacity(self) -> None:
        """Raise ``BrowserLimitError`` when no browser slot is free."""
        live = len(self.sessions) + self._launching
        if live >= self.max_browsers:
            raise BrowserLimitError(
                "You've exceeded your max concurrent browsers limit "
                f"(limit {self.max_browsers}, currently {live}); "
                "release a session or start the emulator with a higher --max-browsers"
            )

    async def start(
        self,
        session_id: str,
        *,
        setup: BrowserSetup,
        keep_alive: bool,
        profile_from: Path | None = None,
    ) -> SessionBrowser:
        """A configured browser for ``session_id`` (warm if one fits, else launched now)."""
        if self._closed:
            raise RuntimeError("the browser manager is closed")
        self.check_capacity()
        self._launching += 1
        try:
            pair = await self._warm_or_wait() if profile_from is None else None
            if pair is None:
                pair = await self._launch(self.launch_options(profile_from))
            process, cdp = pair
            browser = SessionBrowser(session_id, process, cdp, setup=setup, keep_alive=keep_alive)
            try:
                await browser.configure()
            except BaseException:
                await cdp.close()
                self._kill(process)
                raise
            self.sessions[session_id] = browser
        finally:
            self._launching -= 1
        self.fill_pool()
        return browser

    async def _warm_or_wait(self) -> tuple[ChromiumProcess, CdpClient] | None:
        """A warm browser; if one is still launching, wait for it rather than start a
        second launch that would compete with it for the same cores."""
        pair = self._take_warm()
        self._waiters += 1
        try:
            # Wait only for a launch no other create is already waiting for.
            while pair is None and self._warming >= self._waiters:
                self._warm_ready.clear()
                try:
                    await asyncio.wait_for(self._warm_ready.wait(), _WARM_WAIT)
                except TimeoutError:
                    return None
                pair = self._take_warm()
        finally:
            self._waiters -= 1
        return pair

    def _take_warm(self) -> tuple[ChromiumProcess, CdpClient] | None:
        while self._warm:
            process, cdp = self._warm.pop(0)
            if process.alive and not cdp.closed.is_set():
                return process, cdp
            self._kill(process)
        return None

    def fill_pool(self) -> None:
        """Start warm browsers in the background until the pool is full (room permitting)."""
        if not self.real or self._closed:
            return
        room = self.max_browsers - len(self.sessions) - self._launching
        want = min(self.warm_size, room) - len(self._warm) - self._warming
        for _ in range(max(0, want)):
            self._warming += 1
            task = asyncio.ensure_future(self._warm_one())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _warm_one(self) -> None:
        try:
            pair = await self._launch(self.launch_options())
        except Exception as exc:
            log.warning("bbnb emulator: could not pre-launch a browser: %s", exc)
            return
        finally:
            self._warming -= 1
            self._warm_ready.set()
        if self._closed:
            await pair[1].close()
            self._kill(pair[0])
            return
        self._warm.append(pair)
        self._warm_ready.set()

    def get(self, session_id: str) -> SessionBrowser | None:
        return self.sessions.get(session_id)

    async def end(self, session_id: str, *, graceful: bool = False) -> SessionBrowser | None:
        """Close ``session_id``'s browser; ``graceful`` lets Chromium flush its profile first.

        The profile folder stays until ``discard(browser)`` (so a context can be saved)."""
        browser = self.sessions.pop(session_id, None)
        if browser is None:
            return None
        await browser.shutdown(graceful=graceful)
        with contextlib.suppress(Exception):
            browser.process.process.kill()
        self.fill_pool()
        return browser

    def discard(self, browser: SessionBrowser) -> None:
        """Kill what is left of an ended browser and remove its folders."""
        self._kill(browser.process)

    def stop_warming(self) -> None:
        """Launch no more warm browsers (the emulator is stopping)."""
        self.warm_size = 0

    async def aclose(self) -> None:
        """Stop warming and close the warm browsers' connections (on the loop), then ``close()``."""
        self.stop_warming()
        self._closed = True
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for _process, cdp in self._warm:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(cdp.close(), 2.0)
        self.close()

    def close(self) -> None:
        """Kill every browser, warm or in use, and remove every folder (any thread; idempotent)."""
        self._closed = True
        for browser in list(self.sessions.values()):
            browser.closing = True
            self._kill(browser.process)
        self.sessions.clear()
        self._warm.clear()
        for process in list(self._processes.values()):  # warm, and launches under way
            self._kill(process)
        if self._root is not None:
            shutil.rmtree(self._root, ignore_errors=True)
        if self._watchdog is not None:
            self._watchdog.close()
