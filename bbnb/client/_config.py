"""Where the client connects and with which key.

Resolution, explicit arguments first, then the environment variables of the
official SDK (``BROWSERBASE_API_KEY``, ``BROWSERBASE_BASE_URL``; empty values
count as unset):

=============  ==================  =================================================
key            base URL            result
=============  ==================  =================================================
given          given               that server, that key
given          none                Browserbase (https://api.browserbase.com)
none           loopback URL        a local emulator (``bbnb emulator``) with its
                                   default key; results are labelled simulated
none           other URL           ``ConfigurationError``: a real server needs a key
none           none                the embedded emulator (``bbnb.emulator.embedded()``),
                                   with a once-per-process notice that results are
                                   simulated and how to set a real key
=============  ==================  =================================================

A client given ``transport=`` (tests, an in-process emulator) never starts the
embedded emulator: it needs an ``api_key`` unless its base URL is loopback.

``simulated`` is True for the embedded emulator and for any loopback base URL:
Browserbase itself is never on 127.0.0.1, so loopback means an emulator.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import SecretStr

from bbnb._exceptions import ConfigurationError

__all__ = [
    "DEFAULT_BASE_URL",
    "EMULATOR_DEFAULT_API_KEY",
    "ENV_API_KEY",
    "ENV_BASE_URL",
    "ResolvedConfig",
    "is_loopback_url",
    "resolve_config",
    "simulated_parts",
]

logger = logging.getLogger("bbnb")

DEFAULT_BASE_URL = "https://api.browserbase.com"
ENV_API_KEY = "BROWSERBASE_API_KEY"
ENV_BASE_URL = "BROWSERBASE_BASE_URL"
#: The key the bbnb emulator accepts unless configured otherwise.
EMULATOR_DEFAULT_API_KEY = "bb_emulator_local_key"

SIMULATED_NOTICE = (
    "bbnb: no {env} is set, so results are SIMULATED by bbnb's built-in emulator at {url} "
    "(simulated time runs {speed:g}x faster).\n"
    "What is simulated: {parts}.\n"
    "To use Browserbase, set your key without writing it into a saved cell, for example:\n"
    "    import getpass, os\n"
    "    os.environ['{env}'] = getpass.getpass('Browserbase API key: ')\n"
    "and the next %bb_run (or a new bbnb.Client()) uses it."
)


def simulated_parts(local_browser: bool = False) -> str:
    """What a simulated run does not do for real, in one line (for notices and badges)."""
    browser = (
        "each session is a real headless Chromium on this machine, browsing the emulator's "
        "local web (*.bbnb.test) and 127.0.0.1"
        if local_browser
        else "no browser runs (sessions are simulated; install Chromium for real ones)"
    )
    return f"no cloud (Browserbase is not contacted); {browser}; the agent is rule-based, not an AI model"


_notice_lock = threading.Lock()
_notice_shown = False


@dataclass(frozen=True)
class ResolvedConfig:
    """The settings a client ended up with.  The key stays a ``SecretStr``."""

    base_url: str
    api_key: SecretStr
    simulated: bool
    source: str
    emulator: Any = None

    def __repr__(self) -> str:
        return (
            f"ResolvedConfig(base_url={self.base_url!r}, api_key=SecretStr('**********'), "
            f"simulated={self.simulated!r}, source={self.source!r})"
        )


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


def _secret_value(value: str | SecretStr | None) -> str | None:
    if isinstance(value, SecretStr):
        return _clean(value.get_secret_value())
    return _clean(value)


def is_loopback_url(url: str) -> bool:
    """True if ``url`` points at this machine (127.0.0.0/8, ::1 or localhost)."""
    host = httpx.URL(url).host
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _normalise_url(url: str, origin: str) -> str:
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as error:
        raise ConfigurationError(f"{origin} is not a valid URL: {url!r} ({error})") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ConfigurationError(
            f"{origin} must be an http(s) URL with a host, such as "
            f"{DEFAULT_BASE_URL!r} or 'http://127.0.0.1:8088'; got {url!r}"
        )
    return url.rstrip("/")


def resolve_config(
    *,
    api_key: str | SecretStr | None,
    base_url: str | None,
    has_transport: bool = False,
    environ: Mapping[str, str] | None = None,
) -> ResolvedConfig:
    """Decide base URL, key and whether results are simulated (see the module docstring)."""
    env = os.environ if environ is None else environ
    key = _secret_value(api_key)
    key_source = "argument"
    if key is None:
        key = _clean(env.get(ENV_API_KEY))
        key_source = ENV_API_KEY
    url = _clean(base_url)
    url_origin = "base_url"
    if url is None:
        url = _clean(env.get(ENV_BASE_URL))
        url_origin = ENV_BASE_URL
    if url is not None:
        url = _normalise_url(url, url_origin)

    if key is not None:
        final_url = url or DEFAULT_BASE_URL
        return ResolvedConfig(
            base_url=final_url,
            api_key=SecretStr(key),
            simulated=is_loopback_url(final_url),
            source=f"key from {key_source}",
        )
    if url is not None:
        if is_loopback_url(url):
            return ResolvedConfig(
                base_url=url,
                api_key=SecretStr(EMULATOR_DEFAULT_API_KEY),
                simulated=True,
                source="local emulator (loopback base URL, emulator default key)",
            )
        raise ConfigurationError(
            f"{url_origin} is {url!r} but no API key was given.  Pass api_key=... or set "
            f"{ENV_API_KEY} (for example with getpass, never typed into a saved cell).  "
            "Only a loopback URL (a local bbnb emulator) may be used without a key."
        )
    if has_transport:
        raise ConfigurationError(
            "a client with transport=... needs api_key=... (or a loopback base_url=...): "
            "without them it would start the embedded emulator and ignore the transport"
        )
    return _embedded()


def _embedded() -> ResolvedConfig:
    try:
        from bbnb.emulator import embedded
    except (ImportError, AttributeError) as error:
        raise ConfigurationError(
            f"no Browserbase API key is set and the bbnb emulator is unavailable ({error}).  "
            f"Set {ENV_API_KEY} (for example with getpass), or pass api_key=..."
        ) from error
    running = embedded()
    # A RunningEmulator that drives a real local browser says so with ``local_browser``.
    local_browser = getattr(running, "local_browser", False) is True
    _show_notice(str(running.base_url), float(running.speed), local_browser=local_browser)
    return ResolvedConfig(
        base_url=str(running.base_url).rstrip("/"),
        api_key=SecretStr(str(running.api_key)),
        simulated=True,
        source="embedded emulator",
        emulator=running,
    )


def _show_notice(url: str, speed: float = 1.0, *, local_browser: bool = False) -> None:
    """Say once per process that results are simulated: a calm note, never an error.

    In IPython (a notebook kernel) the note is displayed as output (an HTML line,
    with plain text for other front ends); elsewhere it is printed to stderr, away
    from a script's data on stdout.
    """
    global _notice_shown
    if _in_widget_callback():
        return  # its output would land in a log console: the next cell shows the note
    with _notice_lock:
        if _notice_shown:
            return
        _notice_shown = True
    parts = simulated_parts(local_browser)
    text = SIMULATED_NOTICE.format(env=ENV_API_KEY, url=url, speed=speed, parts=parts)
    logger.info("using the embedded emulator at %s; results are simulated", url)
    if not _display_in_ipython(text, notice_html(url, speed, parts)):
        print(text, file=sys.stderr)


def notice_html(url: str, speed: float, parts: str) -> str:
    """The simulated notice as one calm HTML block (a badge, then the details)."""
    from html import escape

    badge = (
        "<span style='background:#e0e7ff;color:#3730a3;border-radius:4px;padding:1px 6px;"
        "font-weight:600;font-size:11px;margin-right:6px'>SIMULATED</span>"
    )
    return (
        "<div class='bbnb-simulated-notice' style='border-left:3px solid #6366f1;"
        "background:#f5f7ff;color:#374151;padding:4px 8px;font-size:12px;margin:2px 0'>"
        f"{badge}No <code>{ENV_API_KEY}</code> is set, so bbnb answers from its built-in "
        f"emulator at <code>{escape(url)}</code> (time runs {speed:g}x faster). "
        f"What is simulated: {escape(parts)}.<br>"
        "To use Browserbase: <code>import getpass, os; "
        f"os.environ['{ENV_API_KEY}'] = getpass.getpass('Browserbase API key: ')</code>"
        " (never type the key into a saved cell).</div>"
    )


def _in_widget_callback() -> bool:
    """True while a Jupyter kernel handles a widget message (a click), not a cell.

    Output made then goes to JupyterLab's log console, where nobody sees it; the
    widget shows its own SIMULATED badge instead.
    """
    if "IPython" not in sys.modules:
        return False
    from IPython import get_ipython

    kernel = getattr(get_ipython(), "kernel", None)
    get_parent = getattr(kernel, "get_parent", None)
    if not callable(get_parent):
        return False
    try:
        parent = get_parent()
    except Exception:  # an unusual kernel: treat it as a cell
        return False
    header = parent.get("header", {}) if isinstance(parent, dict) else {}
    return isinstance(header, dict) and header.get("msg_type") == "comm_msg"


def _display_in_ipython(text: str, html_text: str) -> bool:
    """Show the notice as cell output when IPython is running; False when it is not."""
    shell_module = sys.modules.get("IPython")
    if shell_module is None:
        return False  # IPython was never imported, so no shell is running
    try:
        from IPython import get_ipython
        from IPython.display import display

        if get_ipython() is None:
            return False
        display({"text/plain": text, "text/html": html_text}, raw=True)  # type: ignore[no-untyped-call]
    except Exception:  # a broken display must not stop the client
        return False
    return True


def _reset_notice() -> None:
    """Let the notice be shown again (for tests)."""
    global _notice_shown
    with _notice_lock:
        _notice_shown = False
