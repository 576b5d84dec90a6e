"""Live view and replay inside the existing surfaces, against real Chromium sessions.

``AgentTask`` and ``FunctionInvoke`` show the live browser while a run works and its
replay when done; ``RunMonitor`` shows small live thumbnails of in-flight sessions;
``bbnb.replay(df.iloc[i])`` opens the replay of a DataFrame row.  Every page the runs
open is the ticker page (it changes ten times a second while its load is held back),
so a live picture that changes proves the widget followed the real browser.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

import bbnb
from bbnb.emulator import EmulatorConfig, FunctionContext, RunningEmulator, function
from bbnb.emulator import serve_in_thread as serve
from bbnb.runs.batch import Batch, BatchItem
from bbnb.widgets import AgentTask, FunctionInvoke, LiveView, Replay, RunMonitor
from tests.ticker_site import ticker_site

pytestmark = pytest.mark.e2e

SETTLE = 90.0


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    """The ticker page server."""
    with ticker_site() as url:
        yield url


@pytest.fixture(scope="module")
def emulator() -> Iterator[RunningEmulator]:
    """One emulator with real Chromium for the module."""
    running = serve(EmulatorConfig(browsers="real", seed=17))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def client(emulator: RunningEmulator) -> Iterator[bbnb.Client]:
    """A bbnb client on that emulator."""
    with bbnb.Client(api_key=emulator.api_key, base_url=str(emulator.base_url)) as c:
        yield c


class Pictures:
    """Every picture a widget's ``Image`` showed, and an Event once two differed."""

    def __init__(self) -> None:
        self.seen: list[bytes] = []
        self.changed = threading.Event()

    def __call__(self, change: dict[str, Any]) -> None:
        if change["new"]:
            self.seen.append(change["new"])
        if len(set(self.seen)) >= 2:
            self.changed.set()


def _watch_live_pictures(panel_owner: Any) -> tuple[Pictures, threading.Event]:
    """Hook a ``Pictures`` onto the live view as soon as the panel shows one."""
    pictures = Pictures()
    shown = threading.Event()

    def on_children(change: dict[str, Any]) -> None:
        view = change["new"][0]
        if isinstance(view, LiveView) and not shown.is_set():
            view.image.observe(pictures, names="value")
            shown.set()

    panel_owner.panel.watch.observe(on_children, names="children")
    return pictures, shown


def test_agent_task_shows_the_live_browser_then_its_replay(client: bbnb.Client, site: str) -> None:
    """While the run works its live picture changes; when done a Replay of its steps replaces it."""
    task = AgentTask(f"Go to {site}/ticker and report the title", client=client, poll_interval=0.25)
    pictures, shown = _watch_live_pictures(task)
    try:
        task.run()
        assert shown.wait(20), "the live view never appeared"
        assert task.panel.watch.selected_index == 0, "the live section opens by itself"
        assert pictures.changed.wait(20), f"{len(pictures.seen)} live pictures, all alike"
        task.wait(SETTLE)
        assert task.result.status == "COMPLETED", task.errors
        assert task.live_view is None, "the live view is gone once the run is done"
        replay = task.replay
        assert isinstance(replay, Replay) and replay.frames
        assert task.panel.watch.get_title(0) == f"Replay ({len(replay.frames)} frames)"
        times = [m.created_at.timestamp() for m in client.agents.runs.messages(task.result.id)]
        assert min(times) - 2 <= replay.frames[0].t <= max(times) + 2
        assert replay.step.value, "the agent's step is shown beside the picture"
        assert task.errors == []
    finally:
        task.close()
    assert task.panel.live_view is None and task.replay is None


def test_function_invoke_shows_the_live_browser_then_its_replay(
    client: bbnb.Client, emulator: RunningEmulator, site: str
) -> None:
    """A handler that browses: its session is shown live, then replayed with its log lines."""

    @function("ticker-visit", emulator=emulator)
    def visit(params: dict[str, Any], context: FunctionContext) -> dict[str, Any]:
        with context.sync_page() as page:
            page.goto(params["url"])
            return {"title": page.title()}

    form = FunctionInvoke(
        "ticker-visit", {"url": f"{site}/ticker"}, client=client, poll_interval=0.25
    )
    pictures, shown = _watch_live_pictures(form)
    try:
        form.run()
        assert shown.wait(20), "the live view never appeared"
        assert pictures.changed.wait(20), f"{len(pictures.seen)} live pictures, all alike"
        form.wait(SETTLE)
        assert form.result.status == "COMPLETED", form.errors
        assert form.result.results == {"title": "Ticker"}
        assert form.replay is not None and form.replay.frames
        assert form.live_view is None
        assert form.errors == []
    finally:
        form.close()


def test_a_cached_answer_shows_the_original_runs_replay(client: bbnb.Client, site: str) -> None:
    """Re-running an identical task creates no run, and still shows what the browser did."""
    task = f"Go to {site}/ticker and report the title of the page"
    first = AgentTask(task, client=client, poll_interval=0.25)
    again = AgentTask(task, client=client, poll_interval=0.25)
    try:
        first.run()
        run = first.wait(SETTLE)
        assert run.status == "COMPLETED", first.errors
        again.run()
        cached = again.wait(SETTLE)
        assert again.cached is not None and cached.id == run.id, "answered from the cache"
        assert again.replay is not None and again.replay.frames, "the original run's replay"
        assert again.replay.session_id == run.session_id
        assert again.panel.watch.layout.display == ""
        assert again.errors == []
    finally:
        first.close()
        again.close()


def test_agent_task_close_mid_run_stops_its_threads(client: bbnb.Client, site: str) -> None:
    """Closing the form while the run works ends the watcher and the live view's thread."""
    task = AgentTask(f"Go to {site}/ticker and report the title", client=client, poll_interval=0.25)
    _pictures, shown = _watch_live_pictures(task)
    run = task.run()
    assert shown.wait(20)
    view = task.live_view
    assert view is not None and view.running
    task.close()
    assert not view.running, "the live view stopped pulling pictures"
    assert task.panel.wait(0), "the watcher thread ended"
    client.agents.runs.wait(run.run_id, timeout=SETTLE)  # let its browser go before the next test


@pytest.mark.parametrize("limit", [1, 2], ids=["one-thumbnail", "two-thumbnails"])
def test_run_monitor_shows_a_few_live_thumbnails(
    client: bbnb.Client, site: str, limit: int
) -> None:
    """In-flight sessions appear as small live pictures, at most ``thumbnails`` at once, gone at the end."""
    runs = [
        client.agents.runs.create(f"Go to {site}/ticker and report the title") for _ in range(3)
    ]
    batch = Batch(
        "batch_live", "agent", [BatchItem(i, f"r{i}", "ticker", r) for i, r in enumerate(runs)]
    )
    most = 0
    got_picture = threading.Event()
    monitor = RunMonitor(batch, client=client, poll_interval=0.25, thumbnails=limit)

    def on_thumbs(change: dict[str, Any]) -> None:
        nonlocal most
        most = max(most, len(change["new"]))
        for view in change["new"]:
            assert isinstance(view, LiveView) and view.thumbnail
            view.image.observe(lambda c: got_picture.set() if c["new"] else None, names="value")

    monitor.thumbs.observe(on_thumbs, names="children")
    try:
        assert monitor.wait(SETTLE)
        assert monitor.finished and monitor.box.errors == []
        assert 1 <= most <= limit
        assert got_picture.is_set(), "a thumbnail showed the browser"
        assert monitor.thumbnails == {} and monitor.thumbs.children == ()
    finally:
        monitor.close()


def test_replay_of_a_frame_row(client: bbnb.Client, site: str) -> None:
    """``bbnb.replay(df.iloc[0])`` opens the same recording and steps as ``Replay(run)``."""
    run = client.agents.run(f"Go to {site}/ticker and report the title")
    frame = bbnb.to_frame(run)
    from_row = bbnb.replay(frame.iloc[0], client=client)
    from_run = Replay(run, client=client)
    try:
        assert from_row.session_id == run.session_id
        assert from_row.frames and len(from_row.frames) == len(from_run.frames)
        assert [s.text for s in from_row.steps] == [s.text for s in from_run.steps]
        assert from_row.steps, "the run's messages are its steps"
    finally:
        from_row.close()
        from_run.close()
