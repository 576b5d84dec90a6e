"""``%bb_run ... --live``: the run's browser shown live under the progress line.

The magic makes its view through the factory ``%load_ext bbnb`` hands it (the magics
layer may not import the widgets); these tests load the extension that way and run
a real agent run in Chromium on the ticker page, whose picture changes while it loads.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

import bbnb
from bbnb.emulator import EmulatorConfig, RunningEmulator
from bbnb.emulator import serve_in_thread as serve
from bbnb.magics import BBMagic
from tests.magics.conftest import Cell
from tests.ticker_site import ticker_site

pytestmark = pytest.mark.e2e


# The ticker page finishes loading when the test has seen what it waits for (or after
# 60 s): the run stays busy on a changing page however slow this machine is.
LOADED = threading.Event()


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    """The ticker page server; its page loads once ``LOADED`` is set."""
    with ticker_site(load_seconds=60.0, release=LOADED) as url:
        yield url


@pytest.fixture(scope="module")
def emulator_real() -> Iterator[RunningEmulator]:
    """One emulator with real Chromium for the module."""
    running = serve(EmulatorConfig(browsers="real", seed=23))
    yield running
    running.stop()


@pytest.fixture
def live_views(
    shell: InteractiveShell, magic: BBMagic, emulator_real: RunningEmulator, isolated_env: Any
) -> Iterator[list[Any]]:
    """``%load_ext bbnb`` wiring on the real emulator; lists every ``--live`` view made."""
    bbnb.load_ipython_extension(shell)  # the magic is loaded: this hands it the factory
    factory = magic.live_view_factory
    assert factory is not None, "%load_ext bbnb gives the magic its live view"
    made: list[Any] = []

    def recording_factory(client: Any, find_run: Callable[[], Any]) -> Any:
        made.append(factory(client, find_run))
        return made[-1]

    client = bbnb.Client(api_key=emulator_real.api_key, base_url=str(emulator_real.base_url))
    magic.client_factory = lambda _magic: client
    magic.live_view_factory = recording_factory
    magic.progress = "none"
    try:
        yield made
    finally:
        for view in made:
            view.close()
        magic.close()
        client.close()


def test_live_shows_the_run_browser_and_stops_with_it(
    live_views: list[Any], run: Callable[[str], Cell], site: str
) -> None:
    """The view follows the run's session while the magic waits and stops when it returns."""

    def release_once_two_pictures_showed() -> None:
        while not LOADED.is_set():
            view = live_views[0].view if live_views else None
            if view is not None and view.frames_shown >= 2:
                LOADED.set()
            LOADED.wait(0.05)

    watcher = threading.Thread(target=release_once_two_pictures_showed, daemon=True)
    watcher.start()
    cell = run(f'%bb_run agent "Go to {site}/ticker and report the title" --live -o answer')
    assert cell.error is None, cell.err
    assert len(live_views) == 1
    follow = live_views[0]
    assert not follow.running, "every thread stopped when the magic returned"
    # Each picture shown is a new screencast frame: Chromium sends one only on a change.
    assert follow.view is not None and follow.view.frames_shown >= 2
    assert follow.view.session_id == follow.find_run().session_id
    assert follow.box.errors == []
    LOADED.set()
    watcher.join(5)


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        ('agent "t {{row}}" --foreach items --live', "--live shows the browser of a single run"),
        ('agent "t" --no-wait --live', "--live shows the browser of a single run"),
    ],
    ids=["foreach", "no-wait"],
)
def test_live_is_for_one_awaited_run(
    live_views: list[Any], run: Callable[[str], Cell], line: str, fragment: str
) -> None:
    """--live with a batch or --no-wait is a usage error that names the alternative."""
    run("items = ['a', 'b']")
    cell = run(f"%bb_run {line}")
    assert isinstance(cell.error, UsageError) and fragment in str(cell.error)
    assert live_views == []


def test_live_without_the_widgets_says_how_to_load_them(
    magic: BBMagic, run: Callable[[str], Cell], isolated_env: Any
) -> None:
    """Loaded as bbnb.magics alone, --live explains that %load_ext bbnb brings the view."""
    assert magic.live_view_factory is None
    cell = run('%bb_run agent "t" --live')
    assert isinstance(cell.error, UsageError) and "%load_ext bbnb" in str(cell.error)
