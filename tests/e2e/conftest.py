"""Fixtures for the real-browser tests (helpers in ``lab_harness.py``).

- ``lab_env`` (session): extra environment for the server and its kernels.
- ``lab_server`` (session): a running JupyterLab on 127.0.0.1 with a token.
- ``chromium`` (session): Debian's Chromium under Playwright, fresh temporary profile.
- ``lab`` (function): a :class:`lab_harness.Lab` on a new browser context and page;
  requests to any host but 127.0.0.1 are aborted and listed in ``lab.blocked``.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from lab_harness import (
    CHROMIUM,
    CHROMIUM_FLAGS,
    SENTINEL_API_KEY,
    Lab,
    LabServer,
    start_lab_server,
    stop_lab_server,
)


@pytest.fixture(scope="session")
def e2e_emulator() -> Iterator[Any]:
    """A real emulator server on 127.0.0.1 that only accepts the sentinel key, fast runs."""
    from bbnb.emulator import EmulatorConfig, serve_in_thread

    config = EmulatorConfig(seed=11, speed=20.0, api_key=SENTINEL_API_KEY)
    running = serve_in_thread(config)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def lab_env(e2e_emulator: Any) -> dict[str, str]:
    """Kernel environment: talk to the e2e emulator with the sentinel key, never the internet."""
    return {
        "BROWSERBASE_API_KEY": SENTINEL_API_KEY,
        "BROWSERBASE_BASE_URL": e2e_emulator.base_url,
    }


@pytest.fixture(scope="session")
def lab_server(
    tmp_path_factory: pytest.TempPathFactory, lab_env: dict[str, str]
) -> Iterator[LabServer]:
    """A JupyterLab server on 127.0.0.1 with a token, for the whole e2e session."""
    if importlib.util.find_spec("jupyterlab") is None:
        pytest.fail("JupyterLab is not installed: pip install -e '.[dev]'")
    server = start_lab_server(tmp_path_factory.mktemp("lab"), lab_env)
    try:
        yield server
    finally:
        stop_lab_server(server)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Debian's Chromium under Playwright (a fresh temporary profile per launch).

    Module scope, not session: Playwright's sync API keeps an event loop running in
    the main thread while it is open, and tests collected later call asyncio.run().
    """
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}. Install it with `apt-get install -y chromium` "
            "(Debian's package; `playwright install` cannot download browsers here), "
            "or point BBNB_E2E_CHROMIUM at a Chromium binary."
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def lab(lab_server: LabServer, chromium: Any, request: pytest.FixtureRequest) -> Iterator[Lab]:
    """A new browser context and page on the lab server; off-host requests are blocked."""
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    blocked: list[str] = []

    def guard(route: Any) -> None:
        host = httpx.URL(route.request.url).host
        if route.request.url.startswith(("data:", "blob:")) or host in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    page = context.new_page()
    page.set_default_timeout(60_000)
    helper = Lab(lab_server, page, blocked, request.node.name)
    try:
        yield helper
    finally:
        context.close()
