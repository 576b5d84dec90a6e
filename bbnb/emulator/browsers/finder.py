"""Finding a Chromium to put behind sessions.

Order: ``BBNB_CHROMIUM``, then ``chromium``, ``chromium-browser``, ``google-chrome`` on
``PATH``, then a Chromium that ``python -m playwright install chromium`` put in its
cache.  ``find_browser()`` returns the path or ``None``; ``INSTALL_HINT`` says how to
get one.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

__all__ = ["BROWSER_ENV", "INSTALL_HINT", "find_browser"]

BROWSER_ENV = "BBNB_CHROMIUM"
_ON_PATH = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

INSTALL_HINT = (
    "no Chromium found, so emulator sessions stay simulated (no real browser behind "
    "connectUrl). Install one:\n"
    "  Debian/Ubuntu:  sudo apt-get install -y chromium\n"
    "  Playwright:     python -m playwright install chromium\n"
    f"or point {BROWSER_ENV} at a Chromium or Chrome executable."
)


def _playwright_cache() -> Path:
    env = os.environ.get("PLAYWRIGHT_BROWSERS_PATH")
    if env and env != "0":
        return Path(env)
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "ms-playwright"
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA", str(Path.home()))) / "ms-playwright"
    return Path(os.environ.get("XDG_CACHE_HOME", str(Path.home() / ".cache"))) / "ms-playwright"


def _playwright_chromium() -> str | None:
    root = _playwright_cache()
    if not root.is_dir():
        return None
    names = ("chrome-linux/chrome", "chrome-linux64/chrome", "chrome-win/chrome.exe")
    mac = "chrome-mac/Chromium.app/Contents/MacOS/Chromium"
    for folder in sorted(root.glob("chromium-*"), reverse=True):
        for name in (*names, mac):
            candidate = folder / name
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return str(candidate)
    return None


def find_browser() -> str | None:
    """The Chromium executable to use, or ``None`` when there is none.

    A ``BBNB_CHROMIUM`` that names no executable is an error (it was set on purpose).
    """
    configured = os.environ.get(BROWSER_ENV, "").strip()
    if configured:
        found = shutil.which(configured)
        if found is None:
            raise ValueError(
                f"{BROWSER_ENV}={configured!r} is not an executable; point it at a Chromium "
                "or Chrome binary (e.g. /usr/bin/chromium), or unset it"
            )
        return found
    for name in _ON_PATH:
        found = shutil.which(name)
        if found is not None:
            return found
    return _playwright_chromium()
