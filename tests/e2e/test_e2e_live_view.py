"""An AgentTask run in a real JupyterLab and Chromium: the live browser, then its replay.

The kernel talks to an emulator with real Chromium sessions; the agent opens the
ticker page (it changes ten times a second while its load is held back), so two
screenshots of the live view taken while the run works must differ.  When the run
is done the section shows the Replay, and pressing Play steps through its frames.
Screenshots go to test-artifacts/e2e/.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from lab_harness import SENTINEL_API_KEY, Lab, write_notebook

from tests.ticker_site import ticker_site

pytestmark = pytest.mark.e2e

LIVE_IMG = ".bbnb-watch .bbnb-live-view img"
REPLAY = ".bbnb-watch .bbnb-replay"


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    """The ticker page server; its pages keep loading for 10 s."""
    with ticker_site(load_seconds=10.0) as url:
        yield url


@pytest.fixture(scope="module")
def real_emulator() -> Iterator[Any]:
    """An emulator with real Chromium sessions that accepts the sentinel key."""
    from bbnb.emulator import EmulatorConfig, serve_in_thread

    running = serve_in_thread(EmulatorConfig(browsers="real", seed=31, api_key=SENTINEL_API_KEY))
    try:
        yield running
    finally:
        running.stop()


def _image_src(lab: Lab) -> str:
    src: str = lab.page.locator(LIVE_IMG).first.get_attribute("src") or ""
    return src


def test_agent_task_live_frames_change_then_replay_steps(
    lab: Lab, real_emulator: Any, site: str
) -> None:
    """Run on a changing page: two live screenshots differ; then the Replay's Play steps."""
    notebook = [
        "import bbnb\nfrom bbnb.widgets import AgentTask\n"
        f"client = bbnb.Client(api_key={SENTINEL_API_KEY!r}, base_url={real_emulator.base_url!r})\n"
        f"task = AgentTask('Go to {site}/ticker and report the title', client=client, "
        "poll_interval=0.25)\ntask",
    ]
    write_notebook(lab.server.root / "live.ipynb", notebook)
    lab.open("live.ipynb")
    lab.run_all()
    lab.wait_widget(".bbnb-agent-task .bbnb-run").click()
    lab.wait_widget(LIVE_IMG, timeout=60)
    lab.page.wait_for_function(
        "(sel) => { const i = document.querySelector(sel); return !!i && i.naturalWidth > 0; }",
        arg=LIVE_IMG,
    )
    first = lab.screenshot("live-1", ".bbnb-watch").read_bytes()
    # read after the screenshot: a busy machine may show a newer picture by then, and the
    # next screenshot must come from a picture newer than anything the first could show
    first_src = _image_src(lab)
    lab.page.wait_for_function(
        "([sel, before]) => { const i = document.querySelector(sel); "
        "return !!i && i.src !== before && i.naturalWidth > 0; }",
        arg=[LIVE_IMG, first_src],
        timeout=20_000,
    )
    second = lab.screenshot("live-2", ".bbnb-watch").read_bytes()
    assert first != second, "the live view did not change while the page did"
    assert "RUNNING" in lab.page.locator(".bbnb-status").inner_text()
    lab.screenshot("live-page")

    replay = lab.wait_widget(REPLAY, timeout=90)
    assert "COMPLETED" in lab.page.locator(".bbnb-status").inner_text()
    label = replay.locator(".widget-html-content").nth(1)
    start = label.inner_text()
    assert "1/" in start, start
    lab.screenshot("replay-start", ".bbnb-watch")
    replay.locator(".widget-play button").first.click()
    lab.page.wait_for_function(
        "([el, before]) => el.innerText !== before",
        arg=[label.element_handle(), start],
        timeout=20_000,
    )
    lab.screenshot("replay-stepped", ".bbnb-watch")
    assert lab.widget_errors() == []
    assert lab.blocked == [], f"requests left 127.0.0.1: {lab.blocked}"
