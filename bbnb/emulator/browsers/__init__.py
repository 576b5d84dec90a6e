"""Real Chromium behind emulator sessions.

Pieces: ``find_browser`` (which executable), ``launch_chromium``/``ChromiumProcess`` (one
headless process in its own group, ``PR_SET_PDEATHSIG``, its DevTools port read from
``DevToolsActivePort``), ``Watchdog`` (a helper process that kills our browsers and
removes their profiles if the emulator dies, SIGKILL included), ``CdpClient`` (a small
CDP client on ``websockets``), ``SessionBrowser`` (one session's browser, configured),
``BrowserManager`` (launches, the warm pool, the ``max_browsers`` cap, ``close()``).

Internal API for the emulator's other parts (agent, functions, live view)
--------------------------------------------------------------------------
All of it runs on the emulator's event loop (the uvicorn server's loop); from another
thread, ``running.submit(coro).result()`` (``RunningEmulator.submit``) runs a coroutine
there.

``browser = await emu.live.session_browser(session_id)``
    The ``SessionBrowser`` of a live session; a run's or an invocation's session gets
    its browser launched on first use.  Raises ``ApiError`` 404 (unknown session) or
    409 (ended, or no Chromium installed).  ``emu.live.browsers.get(session_id)`` returns
    it without launching (``None`` if there is none).
``browser.cdp_url``
    The browser's own CDP endpoint (``ws://127.0.0.1:<port>/devtools/browser/<id>``),
    no signing key: for code inside the emulator (e.g. Playwright's
    ``connect_over_cdp`` in a function handler).  Users get ``connectUrl`` instead.
``browser.cdp``
    The emulator's ``CdpClient`` on that browser: ``await cdp.send(method, params,
    session_id=...)``, ``cdp.on(event, callback)`` (returns an unsubscriber).  Attach to
    a page with ``Target.attachToTarget {"targetId": ..., "flatten": true}`` and send
    page commands with the returned ``sessionId``; detach when done.
``await browser.pages()``
    The open tabs (CDP ``TargetInfo`` dicts: ``targetId``, ``url``, ``title``).
``async for frame in screencast(browser, target_id)``
    Live JPEG frames of one tab (``bbnb.emulator.browsers.screencast``), each a
    ``ScreencastFrame(data: bytes, width, height, timestamp)``; leaving the loop stops it.
``browser.note(message)`` / ``browser.logs``
    The session's log entries (Browserbase's ``SessionLog`` shape).
"""

from __future__ import annotations

from bbnb.emulator.browsers.cdp import CdpClient, CdpError
from bbnb.emulator.browsers.finder import INSTALL_HINT, find_browser
from bbnb.emulator.browsers.manager import (
    BROWSER_MODES,
    BrowserLimitError,
    BrowserManager,
    default_max_browsers,
)
from bbnb.emulator.browsers.process import ChromiumProcess, LaunchError, LaunchOptions
from bbnb.emulator.browsers.session import BrowserSetup, SessionBrowser

__all__ = [
    "BROWSER_MODES",
    "INSTALL_HINT",
    "BrowserLimitError",
    "BrowserManager",
    "BrowserSetup",
    "CdpClient",
    "CdpError",
    "ChromiumProcess",
    "LaunchError",
    "LaunchOptions",
    "SessionBrowser",
    "default_max_browsers",
    "find_browser",
]
