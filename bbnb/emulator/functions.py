"""Locally registered functions: a Python handler stands in for deployed code.

A handler is ``handler(params, context) -> JSON`` (plain or ``async``).  ``context``
carries the invocation and session ids, the session settings and a ``logger``
whose lines appear in ``GET /v1/functions/invocations/{id}/logs``.  With real browsers,
``context.connect_url`` is the session's CDP URL (``connect_over_cdp`` it, as a
Browserbase Function does), and ``async with context.page() as page`` (``async def``
handlers) or ``with context.sync_page() as page`` (plain ones, run in a worker thread)
give a Playwright page in the session's browser.  Returning
``None`` completes the invocation without ``results``; raising fails it with
``cause.code = "WORKLOAD_ERROR"``.

Built-in demo functions (registered unless ``builtin_functions=False``):

- ``echo``: returns its params.
- ``page-title``: ``{"url": ...}`` -> ``{"url", "title", "status"}`` of the page as
  loaded (the final URL after redirects).
- ``extract``: ``{"url", "schema"?, "instruction"?}`` -> ``{"url", "data", "sources",
  "missing"}``: the schema filled from the page by the agent's extractor
  (``bbnb.emulator.extract``), with how each field was found.
- ``screenshot`` / ``pdf``: ``{"url"}`` -> ``{"url", "mediaType", "data"}`` (base64);
  they need a page that renders, so without a browser they fail with
  ``BROWSER_REQUIRED``.

The built-ins load pages through ``context.pages`` (``bbnb.emulator.pages``): a real
browser's when one is wired, else HTTP pages, which reach the local web
(``*.bbnb.test``) and 127.0.0.1 only.  A page that does not load fails the invocation
(``WORKLOAD_ERROR``, the message starting with ``NAVIGATION_FAILED`` or
``NAVIGATION_TIMEOUT``).
- ``sleep``: ``{"seconds": n}`` takes ``n`` simulated seconds (try it with a
  timeout below ``n`` to see ``TIMED_OUT``).
- ``fail``: raises, so the invocation fails with ``WORKLOAD_ERROR``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import random
import re
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from typing import Any

from bbnb.emulator.extract import extract
from bbnb.emulator.pages import HttpPages, Navigation, PageError, PageOpener, normalize_url
from bbnb.emulator.wire import stable_uuid

__all__ = [
    "FunctionContext",
    "FunctionLogger",
    "FunctionSpec",
    "Handler",
    "builtin_functions",
]

Handler = Callable[[dict[str, Any], "FunctionContext"], Any]
Duration = float | Callable[[dict[str, Any]], float] | None


class FunctionLogger:
    """Collects a handler's log lines; they appear in the invocation's logs."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def log(self, level: str, message: object, *args: object) -> None:
        text = str(message) % args if args else str(message)
        self.lines.append(f"[{level}] {text}" if level != "info" else text)

    def debug(self, message: object, *args: object) -> None:
        self.log("debug", message, *args)

    def info(self, message: object, *args: object) -> None:
        self.log("info", message, *args)

    def warning(self, message: object, *args: object) -> None:
        self.log("warning", message, *args)

    def error(self, message: object, *args: object) -> None:
        self.log("error", message, *args)

    def __call__(self, message: object, *args: object) -> None:
        self.info(message, *args)


@dataclass
class FunctionContext:
    """What a handler gets besides its params."""

    invocation_id: str
    function_name: str
    session_id: str
    session: dict[str, Any]
    params: dict[str, Any]
    logger: FunctionLogger = field(default_factory=FunctionLogger)
    seed: int = 0
    #: What ``rng`` is seeded with besides the seed (the invocation id when empty): the
    #: emulator passes a key that depends on the seed and order only, not on the id.
    rng_key: str = ""
    pages: PageOpener | None = None
    #: The session's ``connectUrl`` (CDP through the emulator, with its signing key), as
    #: ``context.session.connectUrl`` in a Browserbase Function; None without a browser.
    connect_url: str | None = None
    #: Launches the session's browser (on first use) and gives its own CDP URL.
    browser_url: Callable[[], Coroutine[Any, Any, str]] | None = None
    #: The emulator's event loop (sync handlers run in a worker thread).
    loop: asyncio.AbstractEventLoop | None = None

    def _cdp_url_sync(self) -> str:
        if self.browser_url is None or self.loop is None:
            raise RuntimeError(_NO_BROWSER)
        future = asyncio.run_coroutine_threadsafe(self.browser_url(), self.loop)
        return future.result(timeout=120)

    @contextlib.contextmanager
    def sync_page(self) -> Iterator[Any]:
        """``with context.sync_page() as page:`` a Playwright sync ``Page`` in the session's
        browser, for a plain ``def`` handler (it runs in a worker thread)."""
        from playwright.sync_api import sync_playwright

        url = self._cdp_url_sync()
        with sync_playwright() as pw:
            browser = pw.chromium.connect_over_cdp(url)
            try:
                yield _first_page(browser)
            finally:
                browser.close()

    @contextlib.asynccontextmanager
    async def page(self) -> AsyncIterator[Any]:
        """``async with context.page() as page:`` a Playwright async ``Page`` in the session's
        browser, for an ``async def`` handler."""
        from playwright.async_api import async_playwright

        if self.browser_url is None:
            raise RuntimeError(_NO_BROWSER)
        url = await self.browser_url()
        async with async_playwright() as pw:
            browser = await pw.chromium.connect_over_cdp(url)
            try:
                contexts = browser.contexts
                if contexts and contexts[0].pages:
                    yield contexts[0].pages[0]
                else:
                    context = contexts[0] if contexts else await browser.new_context()
                    yield await context.new_page()
            finally:
                await browser.close()

    @property
    def rng(self) -> random.Random:
        """A random source seeded from the emulator seed and the invocation's place."""
        return random.Random(f"{self.seed}:{self.rng_key or self.invocation_id}")

    def page_opener(self) -> PageOpener:
        """The pages this invocation loads: its browser's, or HTTP pages without one."""
        return self.pages if self.pages is not None else HttpPages(self.seed)


_NO_BROWSER = (
    "this invocation's session has no real browser (the emulator runs with simulated "
    "sessions: install Chromium, e.g. `apt-get install -y chromium`, and start the emulator "
    "with browsers='auto' or 'real')"
)


def _first_page(browser: Any) -> Any:
    """The browser's first tab (as Browserbase's quickstart takes it), or a new one."""
    contexts = browser.contexts
    if contexts and contexts[0].pages:
        return contexts[0].pages[0]
    context = contexts[0] if contexts else browser.new_context()
    return context.new_page()


@dataclass
class FunctionSpec:
    """A registered function: its ids, handler and simulated duration."""

    name: str
    function_id: str
    version_id: str
    build_id: str
    handler: Handler
    duration: Duration = None
    session_create_params: dict[str, Any] | None = None
    params_schema: dict[str, Any] | None = None
    created: float = 0.0

    @classmethod
    def create(
        cls,
        name: str,
        handler: Handler,
        *,
        seed: int,
        created: float,
        duration: Duration = None,
        session_create_params: dict[str, Any] | None = None,
        params_schema: dict[str, Any] | None = None,
    ) -> FunctionSpec:
        """A spec whose ids follow from the seed and the name (stable across restarts)."""
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}", name):
            raise ValueError(
                f"function name {name!r} must be 1..100 letters, digits, '_', '.' or '-'"
            )
        if not callable(handler):
            raise TypeError(f"handler for {name!r} must be callable, got {type(handler).__name__}")
        return cls(
            name=name,
            function_id=stable_uuid(seed, "function", name),
            version_id=stable_uuid(seed, "version", name),
            build_id=stable_uuid(seed, "build", name),
            handler=handler,
            duration=duration,
            session_create_params=session_create_params,
            params_schema=params_schema,
            created=created,
        )

    def planned_duration(
        self, params: dict[str, Any], rng: random.Random, default: tuple[float, float]
    ) -> float:
        """Simulated seconds this invocation takes (before speed scaling)."""
        if callable(self.duration):
            return max(0.0, float(self.duration(params)))
        if self.duration is not None:
            return max(0.0, float(self.duration))
        return rng.uniform(*default)


# -- built-in demo functions -----------------------------------------------------------


def _echo(params: dict[str, Any], context: FunctionContext) -> Any:
    context.logger.info("echoing %d params", len(params))
    return params


NAV_TIMEOUT = 30.0


def _url_param(params: dict[str, Any]) -> str:
    url = params.get("url")
    if not isinstance(url, str) or not url.strip():
        raise ValueError('params.url is required, e.g. {"url": "http://shop.bbnb.test/"}')
    url = url.strip()
    if "://" not in url:
        host = url.split("/", 1)[0].rsplit(":", 1)[0].lower()
        local = host.endswith("bbnb.test") or host == "localhost" or host.startswith("127.")
        url = ("http://" if local else "https://") + url
    return normalize_url(url)


async def _load(context: FunctionContext, url: str, want: str) -> tuple[Navigation, str, bytes]:
    """Load ``url`` and return its navigation, HTML and (``want``: png/pdf) rendering."""
    context.logger.info("navigating to %s", url)
    async with context.page_opener().open() as page:
        nav = await page.goto(url, time_limit=NAV_TIMEOUT)
        context.logger.info("loaded %s (HTTP %d)", nav.url, nav.status)
        html = await page.content()
        rendered = b""
        if want:
            image = await (page.screenshot() if want == "png" else page.pdf())
            if image is None:
                raise PageError(
                    "BROWSER_REQUIRED",
                    f"a {want.upper()} needs a page that renders; this emulator loads pages "
                    "over HTTP (no browser is wired to its sessions)",
                )
            rendered = image
    return nav, html, rendered


async def _page_title(params: dict[str, Any], context: FunctionContext) -> Any:
    nav, html, _ = await _load(context, _url_param(params), "")
    _, facts = extract(html, nav.url, None)
    context.logger.info("found title %r", facts.title)
    return {"url": nav.url, "title": facts.title, "status": nav.status}


async def _extract(params: dict[str, Any], context: FunctionContext) -> Any:
    url = _url_param(params)
    schema = params.get("schema")
    if schema is not None and not isinstance(schema, dict):
        raise ValueError("params.schema must be a JSON Schema object")
    instruction = params.get("instruction")
    if instruction:
        context.logger.info("instruction: %s", instruction)
    nav, html, _ = await _load(context, url, "")
    if nav.status >= 400:
        raise PageError("HTTP_ERROR", f"{nav.url} answered HTTP {nav.status}")
    extraction, _ = extract(html, nav.url, schema)
    how = extraction.how()
    context.logger.info(
        "extracted %d fields; not found: %s", len(how), extraction.missing or "none"
    )
    return {"url": nav.url, "data": extraction.value, "sources": how, "missing": extraction.missing}


def _rendering(kind: str, media: str) -> Handler:
    async def render(params: dict[str, Any], context: FunctionContext) -> Any:
        nav, _, data = await _load(context, _url_param(params), kind)
        context.logger.info("rendered %s as %s (%d bytes)", nav.url, kind.upper(), len(data))
        return {"url": nav.url, "mediaType": media, "data": base64.b64encode(data).decode()}

    return render


def _sleep_seconds(params: dict[str, Any]) -> float:
    seconds = params.get("seconds", 1)
    return (
        float(seconds)
        if isinstance(seconds, int | float) and not isinstance(seconds, bool)
        else 1.0
    )


def _sleep(params: dict[str, Any], context: FunctionContext) -> Any:
    seconds = _sleep_seconds(params)
    context.logger.info("sleeping for %g simulated seconds", seconds)
    return {"slept": seconds}


def _fail(params: dict[str, Any], context: FunctionContext) -> Any:
    message = params.get("message") or "the fail demo function always raises"
    context.logger.error("about to fail: %s", message)
    raise RuntimeError(str(message))


def builtin_functions() -> list[tuple[str, Handler, Duration]]:
    """(name, handler, duration) of the demo functions."""
    return [
        ("echo", _echo, 0.5),
        ("page-title", _page_title, None),
        ("extract", _extract, None),
        ("screenshot", _rendering("png", "image/png"), None),
        ("pdf", _rendering("pdf", "application/pdf"), None),
        ("sleep", _sleep, _sleep_seconds),
        ("fail", _fail, 1.0),
    ]
