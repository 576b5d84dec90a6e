"""LiveView: frames pulled through the kernel from a feed, or Browserbase's iframe; clean stops."""

from __future__ import annotations

import html
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from bbnb.client._client import Client
from bbnb.emulator import Emulator
from bbnb.widgets import LiveView
from bbnb.widgets.live_view import ClientFeed, FrameSource, LiveFrame
from tests.synthetic_frames import coded_jpeg

SID = "3f2a5c1e-0000-4000-8000-000000000001"


class ScriptedFeed:
    """A frame source the test controls: push pictures, then end the session."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._frames: list[LiveFrame] = []
        self._ended = False
        self.asked = 0

    def push(self, jpeg: bytes, page_id: str = "0") -> None:
        """A new picture of a page."""
        with self._cond:
            self._frames.append(LiveFrame(len(self._frames), jpeg, time.time(), page_id))
            self._cond.notify_all()

    def end(self) -> None:
        """The session ends."""
        with self._cond:
            self._ended = True
            self._cond.notify_all()

    def next_frame(
        self, after: int, timeout: float, page_id: str | None = None
    ) -> LiveFrame | None:
        """The newest frame (of ``page_id``, or of any) after ``after``, waiting up to ``timeout``."""

        def newest() -> LiveFrame | None:
            mine = [f for f in self._frames if page_id is None or f.page_id == page_id]
            return mine[-1] if mine and mine[-1].seq > after else None

        with self._cond:
            self.asked += 1
            self._cond.notify_all()
            self._cond.wait_for(lambda: self._ended or newest() is not None, timeout)
            return newest()

    @property
    def ended(self) -> bool:
        """True once ended."""
        return self._ended

    def wait_asked(self, live_asks: int, timeout: float = 5.0) -> bool:
        """Block until the view has asked for frames ``live_asks`` more times."""
        with self._cond:
            target = self.asked + live_asks
            return self._cond.wait_for(lambda: self.asked >= target, timeout)


@pytest.fixture
def feed() -> ScriptedFeed:
    """A feed with nothing in it yet."""
    return ScriptedFeed()


@pytest.fixture
def live(widget_client: Client, feed: ScriptedFeed) -> Iterator[LiveView]:
    """A LiveView pulling from ``feed``, closed after the test."""
    view = LiveView(SID, client=widget_client, frames=feed)
    yield view
    view.close()


def _when_image(view: LiveView, wanted: bytes) -> threading.Event:
    """An event set once ``view.image`` shows ``wanted``."""
    seen = threading.Event()

    def check(change: dict[str, Any]) -> None:
        if bytes(change["new"]) == wanted:
            seen.set()

    view.image.observe(check, names="value")
    if bytes(view.image.value) == wanted:
        seen.set()
    return seen


def test_feed_satisfies_the_protocol(feed: ScriptedFeed) -> None:
    """The test feed is a FrameSource, as the emulator's screencast feed will be."""
    assert isinstance(feed, FrameSource)


def test_a_page_change_shows_within_two_seconds(live: LiveView, feed: ScriptedFeed) -> None:
    """A new picture in the feed reaches .image within 2 s, and the next one replaces it."""
    first, second = coded_jpeg(1), coded_jpeg(2)
    shown_first = _when_image(live, first)
    feed.push(first)
    assert shown_first.wait(2.0)
    shown_second = _when_image(live, second)
    feed.push(second)
    assert shown_second.wait(2.0)
    assert live.last_frame is not None and live.last_frame.seq == 1
    assert live.mode == "frames" and live.running


def test_a_second_tab_offers_a_picker(live: LiveView, feed: ScriptedFeed) -> None:
    """When a second page shows up, a tab picker appears; picking tab 0 shows that page's picture."""
    page0, page1, page1_later = coded_jpeg(50), coded_jpeg(51), coded_jpeg(52)
    first = _when_image(live, page0)
    feed.push(page0, "0")
    assert first.wait(2.0)
    assert live.tabs.layout.display == "none"
    second = _when_image(live, page1)
    feed.push(page1, "1")
    assert second.wait(2.0)
    assert [v for _, v in live.tabs.options] == ["", "0", "1"]
    assert live.tabs.layout.display == ""
    back = _when_image(live, page0)
    live.tabs.value = "0"
    assert back.wait(2.0)
    feed.push(page1_later, "1")  # tab 1 changes, but tab 0 stays on screen
    assert feed.wait_asked(live_asks=2)
    assert bytes(live.image.value) == page0


def test_at_least_five_frames_per_second(live: LiveView, feed: ScriptedFeed) -> None:
    """A feed that always has a new picture is shown at 5 frames/s or more (cap: max_fps)."""
    pictures = [coded_jpeg(i) for i in range(12)]
    done = threading.Event()

    def next_when_shown(change: dict[str, Any]) -> None:
        if live.frames_shown >= len(pictures):
            done.set()
        else:
            feed.push(pictures[live.frames_shown])

    live.image.observe(next_when_shown, names="value")
    started = time.monotonic()
    feed.push(pictures[0])
    assert done.wait(10.0)
    rate = len(pictures) / (time.monotonic() - started)
    assert rate >= 5.0, f"{rate:.1f} frames/s"


def test_stops_cleanly_when_the_session_ends(live: LiveView, feed: ScriptedFeed) -> None:
    """When the feed ends, the pulling thread stops and the status says the session ended."""
    feed.push(coded_jpeg(3))
    feed.end()
    assert live.wait_stopped(5.0)
    assert not live.running
    assert "ended" in live.status.value
    assert not any(t.name == "bbnb-live-view" and t.is_alive() for t in threading.enumerate())


def test_close_stops_the_thread(widget_client: Client, feed: ScriptedFeed) -> None:
    """close() ends the pulling thread even while the session goes on."""
    view = LiveView(SID, client=widget_client, frames=feed)
    view.close()
    assert view.wait_stopped(5.0)


def test_emulator_session_streams_through_the_kernel(
    widget_emulator: Emulator, widget_client: Client
) -> None:
    """On the emulator the view long-polls its screencast: a page change shows within 2 s,
    and releasing the session stops the view."""
    session = widget_client.sessions.create()
    view = LiveView(session.id, client=widget_client)
    try:
        assert view.mode == "frames" and isinstance(view._frames, ClientFeed)
        recording = widget_emulator.recordings.start(session.id)
        before, after = coded_jpeg(40), coded_jpeg(41)
        shown = _when_image(view, before)
        recording.add_frame("TAB", before, time.time())
        assert shown.wait(2.0)
        changed = _when_image(view, after)
        recording.add_frame("TAB", after, time.time())
        assert changed.wait(2.0)
        widget_client.sessions.release(session.id)
        assert view.wait_stopped(5.0)
        assert "ended" in view.status.value and view.box.errors == []
    finally:
        view.close()


LIVE_URLS = {
    "debuggerFullscreenUrl": "https://www.browserbase.com/devtools-fullscreen/inspector.html?wss=x&a=1",
    "debuggerUrl": "https://www.browserbase.com/devtools/inspector.html?wss=x",
    "wsUrl": "wss://connect.browserbase.com/debug/x",
    "pages": [
        {
            "id": page,
            "url": f"https://{page}.test/",
            "faviconUrl": "",
            "title": f"Title {page}",
            "debuggerUrl": f"https://www.browserbase.com/devtools/inspector.html?page={page}",
            "debuggerFullscreenUrl": f"https://www.browserbase.com/devtools-fullscreen/{page}",
        }
        for page in ("P1", "P2")
    ],
}


def _session(status: str) -> dict[str, Any]:
    t = "2026-01-01T00:00:00Z"
    return {
        "id": SID,
        "createdAt": t,
        "updatedAt": t,
        "projectId": "proj",
        "startedAt": t,
        "expiresAt": t,
        "status": status,
        "proxyBytes": 0,
        "keepAlive": False,
        "region": "us-west-2",
    }


@pytest.fixture
def cloud() -> Iterator[tuple[Client, Callable[[str], None]]]:
    """A client on a scripted Browserbase (not simulated) and a setter for the session status."""
    status = {"now": "RUNNING"}

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/debug"):
            return httpx.Response(200, json=LIVE_URLS)
        return httpx.Response(200, json=_session(status["now"]))

    client = Client(api_key="bb_live_x", transport=httpx.MockTransport(handle), simulated=False)
    yield client, lambda new: status.__setitem__("now", new)
    client.close()


def test_browserbase_embeds_the_fullscreen_url_with_a_tab_picker(
    cloud: tuple[Client, Callable[[str], None]],
) -> None:
    """Against Browserbase the iframe shows debuggerFullscreenUrl; picking a tab shows that tab."""
    client, _ = cloud
    view = LiveView(SID, client=client, watch=False)
    assert (
        f'src="{html.escape(LIVE_URLS["debuggerFullscreenUrl"], quote=True)}"' in view.iframe.value
    )
    assert view.tabs.layout.display == "" and [v for _, v in view.tabs.options] == ["", "P1", "P2"]
    view.tabs.value = "P2"
    assert 'src="https://www.browserbase.com/devtools-fullscreen/P2"' in view.iframe.value
    assert "bb_live_x" not in view.iframe.value + view.status.value


def test_browserbase_view_ends_with_the_session(
    cloud: tuple[Client, Callable[[str], None]],
) -> None:
    """When the session completes, the iframe is removed and the watcher thread stops."""
    client, set_status = cloud
    view = LiveView(SID, client=client, poll_interval=0.05)
    try:
        assert view.running
        set_status("COMPLETED")
        assert view.wait_stopped(5.0)
        assert view.iframe.value == "" and "COMPLETED" in view.status.value
    finally:
        view.close()


class ScriptedRun:
    """A run whose status the test sets; it has its session from the start (no transcript)."""

    def __init__(self) -> None:
        self.session_id = SID
        self.status = "RUNNING"

    @property
    def is_terminal(self) -> bool:
        """True once it ended."""
        return self.status in ("COMPLETED", "FAILED", "STOPPED", "TIMED_OUT")


class CloudDriver:
    """A run-panel driver on the scripted Browserbase: the test ends the run."""

    can_stop = False

    def __init__(self, client: Client) -> None:
        self.client = client
        self.run = ScriptedRun()
        self.polls = 0
        self.polled_twice = threading.Event()  # the panel handled the first answer

    def start(self) -> ScriptedRun:
        """The run, already RUNNING."""
        return self.run

    def poll(self, item: Any) -> tuple[Any, list[str], list[Any]]:
        """The run as the test set it."""
        self.polls += 1
        if self.polls >= 2:
            self.polled_twice.set()
        return self.run, [], []

    def stop(self, item: Any) -> Any:
        """Not used."""
        raise AssertionError("not stoppable")

    def resume(self, item: Any, answer: str) -> Any:
        """Not used."""
        raise AssertionError("never paused")


@pytest.fixture
def cloud_with_replays() -> Iterator[Client]:
    """A client on a scripted Browserbase whose sessions have live URLs and no recording."""

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/debug"):
            return httpx.Response(200, json=LIVE_URLS)
        if request.url.path.endswith("/replays"):
            return httpx.Response(200, json={"pageCount": 0, "pages": []})
        return httpx.Response(200, json=_session("RUNNING"))

    client = Client(api_key="bb_live_x", transport=httpx.MockTransport(handle), simulated=False)
    yield client
    client.close()


def test_run_panel_embeds_browserbase_live_view_until_the_run_ends(
    cloud_with_replays: Client,
) -> None:
    """On Browserbase the panel shows the iframe at once (no picture to wait for), then hides it."""
    from bbnb._clock import SystemClock
    from bbnb.widgets.run_panel import RunPanel

    panel = RunPanel(poll_interval=0.05)
    driver = CloudDriver(cloud_with_replays)
    try:
        panel.start(driver, SystemClock())
        assert driver.polled_twice.wait(5)
        assert panel.live_view is not None and panel.live_view.mode == "iframe"
        assert panel.watch.layout.display == "" and panel.watch.selected_index == 0
        assert "devtools-fullscreen" in panel.live_view.iframe.value
        view = panel.live_view
        driver.run.status = "COMPLETED"
        assert panel.wait(5)
        assert not view.running, "the live view's watcher stopped with the run"
        assert panel.live_view is None and panel.replay is not None
        assert panel.watch.layout.display == "none", "nothing recorded: no empty replay"
        assert panel.box.errors == []
    finally:
        panel.close()
