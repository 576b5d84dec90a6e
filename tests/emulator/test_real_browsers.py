"""Real Chromium behind emulator sessions, judged by the official SDK and Playwright."""

from __future__ import annotations

import http.server
import io
import os
import signal
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
from browserbase import Browserbase, NotFoundError
from playwright.sync_api import Browser, Error, Playwright, sync_playwright
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect as ws_connect

from bbnb import Client, ManualClock
from bbnb.emulator import Emulator, EmulatorConfig, RunningEmulator, live_sessions, serve_in_thread
from bbnb.emulator.browsers import find_browser

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        find_browser() is None, reason="needs a Chromium (apt-get install chromium)"
    ),
]

PAGE = b"""<!doctype html><html><head><title>Hello from the test</title></head>
<body><a id="dl" href="/report.csv">report</a></body></html>"""
REPORT = b"city,visitors\nLyon,12\n"


class _Site(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path.startswith("/report.csv"):
            body, extra = REPORT, [("content-disposition", 'attachment; filename="report.csv"')]
            kind = "text/csv"
        else:
            body, extra, kind = PAGE, [], "text/html"
        self.send_response(200)
        self.send_header("content-type", kind)
        self.send_header("content-length", str(len(body)))
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    """A page and a CSV download served on 127.0.0.1 by the test."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Site)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


@pytest.fixture(scope="module")
def clock() -> ManualClock:
    """The emulator's clock (browser work runs on real time; session expiry on this)."""
    return ManualClock()


@pytest.fixture(scope="module")
def running(clock: ManualClock) -> Iterator[RunningEmulator]:
    """One emulator with real browsers for the module."""
    emu = Emulator(
        EmulatorConfig(browsers="real", max_browsers=6, sessions_per_minute=None), clock=clock
    )
    server = serve_in_thread(emulator=emu)
    yield server
    server.stop()
    assert not emu.live.browsers.sessions


@pytest.fixture(scope="module")
def bb(running: RunningEmulator) -> Browserbase:
    """The official SDK pointed at the emulator, validating every response strictly."""
    return Browserbase(
        api_key=running.api_key, base_url=running.base_url, _strict_response_validation=True
    )


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    """Playwright for the module."""
    with sync_playwright() as pw:
        yield pw


@pytest.fixture
def connect(playwright: Playwright) -> Iterator[Any]:
    """``connect(url)``: Playwright's ``connect_over_cdp``; closes what a test left open."""
    opened: list[Browser] = []

    def open_(url: str) -> Browser:
        browser = playwright.chromium.connect_over_cdp(url)
        opened.append(browser)
        return browser

    yield open_
    for browser in opened:
        if browser.is_connected():
            browser.close()


def _ended(running: RunningEmulator, session_id: str) -> bool:
    return running.emulator.live.closed_flag(session_id).wait(15)


def test_playwright_loads_a_page_through_connect_url(
    bb: Browserbase, connect: Any, site: str
) -> None:
    """SDK create -> Playwright over connectUrl -> page title, viewport, debug tab, logs."""
    session = bb.sessions.create(browser_settings={"viewport": {"width": 800, "height": 600}})
    assert session.connect_url.startswith("ws://127.0.0.1:")
    page = connect(session.connect_url).contexts[0].pages[0]
    page.goto(site + "/")
    assert page.title() == "Hello from the test"
    assert page.evaluate("[innerWidth, innerHeight]") == [800, 600]
    second = page.context.new_page()
    assert second.evaluate("[innerWidth, innerHeight]") == [800, 600]
    second.close()
    debug = bb.sessions.debug(session.id)
    assert [(p.url, p.title) for p in debug.pages] == [(site + "/", "Hello from the test")]
    assert debug.debugger_fullscreen_url.startswith("http://127.0.0.1:")
    methods = {entry.method for entry in bb.sessions.logs.list(session.id)}
    assert {"Network.requestWillBeSent", "Network.responseReceived"} <= methods


def test_an_http_endpoint_is_discovered_too(bb: Browserbase, connect: Any, site: str) -> None:
    """connect_over_cdp with the http:// form finds the socket through /json/version."""
    session = bb.sessions.create()
    page = connect(session.connect_url.replace("ws://", "http://")).contexts[0].pages[0]
    page.goto(site + "/")
    assert page.title() == "Hello from the test"


@pytest.mark.parametrize(
    "key", [pytest.param("forged0123", id="forged"), pytest.param(None, id="missing")]
)
def test_a_wrong_signing_key_is_refused(
    bb: Browserbase, connect: Any, key: str | None, running: RunningEmulator
) -> None:
    """connectUrl with a forged or missing signingKey does not reach the browser."""
    session = bb.sessions.create(keep_alive=True)
    base = session.connect_url.split("?")[0]
    url = base if key is None else f"{base}?signingKey={key}"
    with pytest.raises(Error):
        connect(url)
    assert bb.sessions.retrieve(session.id).status == "RUNNING"
    bb.sessions.update(session.id, status="REQUEST_RELEASE")


def test_disconnect_ends_a_session_without_keep_alive(
    bb: Browserbase, connect: Any, running: RunningEmulator
) -> None:
    """The last CDP client leaving ends the session (COMPLETED) and its browser."""
    session = bb.sessions.create()
    pid = running.emulator.live.browsers.sessions[session.id].process.pid
    connect(session.connect_url).close()
    assert _ended(running, session.id)
    assert bb.sessions.retrieve(session.id).status == "COMPLETED"
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


def test_keep_alive_outlives_its_client_until_released(
    bb: Browserbase, connect: Any, running: RunningEmulator
) -> None:
    """A keepAlive session survives a disconnect; REQUEST_RELEASE kills its browser."""
    session = bb.sessions.create(keep_alive=True)
    process = running.emulator.live.browsers.sessions[session.id].process
    connect(session.connect_url).close()
    page = connect(session.connect_url).contexts[0].pages[0]
    assert page.evaluate("1 + 1") == 2
    released = bb.sessions.update(session.id, status="REQUEST_RELEASE")
    assert released.status == "COMPLETED"
    assert process.process.wait(10) is not None


def test_timeout_kills_the_browser(
    bb: Browserbase, clock: ManualClock, running: RunningEmulator
) -> None:
    """A session past its timeout ends TIMED_OUT and its browser is killed."""
    session = bb.sessions.create(api_timeout=60, keep_alive=True)
    process = running.emulator.live.browsers.sessions[session.id].process
    clock.advance(61)
    assert _ended(running, session.id)
    assert process.process.wait(10) is not None
    assert bb.sessions.retrieve(session.id).status == "TIMED_OUT"


def test_persisted_context_carries_cookie_and_local_storage(
    bb: Browserbase, connect: Any, running: RunningEmulator, site: str
) -> None:
    """A persist: true session saves cookies and localStorage; the next one starts with them."""
    context = bb.contexts.create()
    settings: Any = {"context": {"id": context.id, "persist": True}}
    first = bb.sessions.create(browser_settings=settings)
    page = connect(first.connect_url).contexts[0].pages[0]
    page.goto(site + "/")
    page.evaluate(
        "document.cookie = 'login=alice; max-age=3600; path=/';"
        "localStorage.setItem('theme', 'dark')"
    )
    page.context.browser.close()  # type: ignore[union-attr]
    assert _ended(running, first.id)
    second = bb.sessions.create(browser_settings=settings)
    page = connect(second.connect_url).contexts[0].pages[0]
    page.goto(site + "/")
    assert page.evaluate("[document.cookie, localStorage.getItem('theme')]") == [
        "login=alice",
        "dark",
    ]
    assert bb.contexts.retrieve(context.id).id == context.id


def test_allowed_domains_blocks_ip_literals(
    bb: Browserbase, connect: Any, site: str, running: RunningEmulator
) -> None:
    """With allowedDomains, an IP-literal URL fails; an allowed host loads."""
    session = bb.sessions.create(browser_settings={"allowed_domains": ["localhost"]})
    page = connect(session.connect_url).contexts[0].pages[0]
    page.goto(site.replace("127.0.0.1", "localhost") + "/")
    assert page.title() == "Hello from the test"
    with pytest.raises(Error, match="ERR_BLOCKED_BY_CLIENT"):
        page.goto(site + "/")
    notes = [e.request for e in bb.sessions.logs.list(session.id) if e.method == "bbnb.note"]
    assert any("allowedDomains" in str(n.params if n else "") for n in notes)


def test_a_download_comes_back_through_the_sdk(
    bb: Browserbase, connect: Any, site: str, running: RunningEmulator
) -> None:
    """A file the page downloads is in the zip from sessions.downloads.list."""
    session = bb.sessions.create()
    page = connect(session.connect_url).contexts[0].pages[0]
    cdp = page.context.new_cdp_session(page)
    cdp.send(
        "Browser.setDownloadBehavior",
        {"behavior": "allow", "downloadPath": "downloads", "eventsEnabled": True},
    )
    done = threading.Event()
    cdp.on("Browser.downloadProgress", lambda e: e["state"] == "completed" and done.set())
    page.goto(site + "/")
    page.click("#dl")
    for _ in range(200):  # sync Playwright delivers CDP events only inside its own calls
        if done.is_set():
            break
        page.wait_for_timeout(50)
    assert done.is_set(), "the download did not complete within 10 s"
    archive = zipfile.ZipFile(io.BytesIO(bb.sessions.downloads.list(session.id).read()))
    assert [archive.read(name) for name in archive.namelist()] == [REPORT]


def test_browser_cap_answers_429_like_the_plan_limit(
    bb: Browserbase, running: RunningEmulator
) -> None:
    """Over --max-browsers, create answers 429 with Browserbase's error body."""
    live = running.emulator.live.browsers
    saved = live.max_browsers
    live.max_browsers = 0  # full whatever other tests' sessions are still closing
    try:
        answer = httpx.post(
            running.base_url + "/v1/sessions",
            headers={"X-BB-API-Key": running.api_key},
            json={},
        )
    finally:
        live.max_browsers = saved
    assert answer.status_code == 429
    assert answer.json()["statusCode"] == 429
    assert "max concurrent browsers" in answer.json()["message"]


def test_an_upload_reaches_a_file_input(
    bb: Browserbase, connect: Any, running: RunningEmulator
) -> None:
    """sessions.uploads.create puts a file the page can then pick in a file input."""
    session = bb.sessions.create()
    page = connect(session.connect_url).contexts[0].pages[0]
    page.set_content('<input id="f" type="file">')
    text = "uploaded text " + "x" * 2_000_000  # above the 1 MB limit of other bodies
    answer = bb.sessions.uploads.create(session.id, file=("notes.txt", text.encode()))
    path = answer.message.rsplit(" to ", 1)[1]
    cdp = page.context.new_cdp_session(page)
    document = cdp.send("DOM.getDocument")
    node = cdp.send("DOM.querySelector", {"nodeId": document["root"]["nodeId"], "selector": "#f"})
    cdp.send("DOM.setFileInputFiles", {"files": [path], "nodeId": node["nodeId"]})
    assert page.evaluate("document.getElementById('f').files[0].text()") == text


def test_live_view_streams_jpeg_frames(bb: Browserbase, connect: Any) -> None:
    """The debuggerFullscreenUrl page shows the tab: its socket streams JPEG frames."""
    session = bb.sessions.create(keep_alive=True)
    live = bb.sessions.debug(session.id).debugger_fullscreen_url
    assert "<img" in httpx.get(live).text
    frames_url = live.replace("http://", "ws://").replace("?", "/frames?", 1)
    with ws_connect(frames_url, max_size=None) as socket:
        frame = socket.recv(timeout=10)
    assert isinstance(frame, bytes) and frame.startswith(b"\xff\xd8")
    viewer = bb.sessions.create()
    page = connect(viewer.connect_url).contexts[0].pages[0]
    page.goto(live)
    page.wait_for_function("document.getElementById('v').naturalWidth > 0")
    bb.sessions.update(session.id, status="REQUEST_RELEASE")


async def _never_paints(*_args: Any, **_kwargs: Any) -> Any:
    """A screencast that yields no frame, as for a tab closed before its first paint."""
    return
    yield


def test_a_tab_the_screencast_never_pictured_still_has_a_replay(
    bb: Browserbase, connect: Any, site: str, running: RunningEmulator, monkeypatch: Any
) -> None:
    """A page shown too briefly for a screencast frame is pictured once as its session ends."""

    monkeypatch.setattr(live_sessions, "screencast", _never_paints)
    session = bb.sessions.create()
    browser = connect(session.connect_url)
    browser.contexts[0].pages[0].goto(site + "/")
    browser.close()
    assert _ended(running, session.id)
    _assert_one_replayed_page(bb, running, session.id)


def _assert_one_replayed_page(bb: Browserbase, running: RunningEmulator, session_id: str) -> None:
    replay = bb.sessions.replays.retrieve(session_id)
    assert replay.page_count == 1
    playlist = httpx.get(replay.pages[0].url, headers={"X-BB-API-Key": running.api_key})
    assert playlist.status_code == 200 and "#EXTINF" in playlist.text


def test_a_run_is_replayable_the_moment_it_ends(
    bb: Browserbase, site: str, running: RunningEmulator, monkeypatch: Any
) -> None:
    """Reading a finished run's replay at once waits for its browser to close and picture its tab."""

    monkeypatch.setattr(live_sessions, "screencast", _never_paints)
    with Client(api_key=running.api_key, base_url=running.base_url, poll_interval=0.05) as client:
        run = client.agents.run(f"Go to {site}/ and report the title")
        assert run.status == "COMPLETED", run.cause
        _assert_one_replayed_page(bb, running, run.session_id)
        assert any(
            e.method == "Network.responseReceived"
            for e in client.sessions.logs.list(run.session_id)
        )


def test_a_crashed_browser_ends_only_its_session(bb: Browserbase, running: RunningEmulator) -> None:
    """Killing one session's Chromium ends it with ERROR; another session keeps running."""
    crashed = bb.sessions.create(keep_alive=True)
    healthy = bb.sessions.create(keep_alive=True)
    live = running.emulator.live.browsers.sessions
    os.kill(live[crashed.id].process.pid, signal.SIGKILL)
    assert _ended(running, crashed.id)
    assert bb.sessions.retrieve(crashed.id).status == "ERROR"
    assert bb.sessions.retrieve(healthy.id).status == "RUNNING"
    notes = [str(e.request) for e in bb.sessions.logs.list(crashed.id) if e.method == "bbnb.note"]
    assert any("crashed" in note for note in notes)
    bb.sessions.update(healthy.id, status="REQUEST_RELEASE")


@pytest.mark.parametrize(
    ("os_name", "marker"),
    [
        pytest.param("windows", "Windows NT", id="windows"),
        pytest.param("mac", "Macintosh", id="mac"),
    ],
)
def test_os_sets_a_matching_user_agent(
    bb: Browserbase, connect: Any, os_name: str, marker: str, site: str
) -> None:
    """browserSettings.os gives pages a user agent of that system."""
    session = bb.sessions.create(browser_settings={"os": os_name})  # type: ignore[typeddict-item]
    page = connect(session.connect_url).contexts[0].pages[0]
    page.goto(site + "/")
    agent = page.evaluate("navigator.userAgent")
    assert marker in agent and "Headless" not in agent


def test_block_ads_blocks_listed_hosts(
    bb: Browserbase, connect: Any, site: str, running: RunningEmulator
) -> None:
    """blockAds fails requests to hosts on the built-in list, and notes it in the logs."""
    session = bb.sessions.create(browser_settings={"block_ads": True})
    page = connect(session.connect_url).contexts[0].pages[0]
    page.goto(site + "/")
    failed = page.evaluate(
        "fetch('http://ads.doubleclick.net/pixel').then(() => 'loaded', e => 'failed')"
    )
    assert failed == "failed"
    notes = [str(e.request) for e in bb.sessions.logs.list(session.id) if e.method == "bbnb.note"]
    assert any("blockAds" in note for note in notes)


def test_a_forged_key_gets_browserbases_error_body(bb: Browserbase) -> None:
    """The refused handshake answers 401 with Browserbase's error body."""
    session = bb.sessions.create(keep_alive=True)
    url = session.connect_url.split("?")[0] + "?signingKey=forged"
    with pytest.raises(InvalidStatus) as refused, ws_connect(url):
        pass
    assert refused.value.response.status_code == 401
    assert b'"statusCode":401' in refused.value.response.body
    bb.sessions.update(session.id, status="REQUEST_RELEASE")


def test_a_runs_session_gets_its_browser_on_first_use(
    running: RunningEmulator, clock: ManualClock
) -> None:
    """session_browser() launches a browser for a run's session; it dies with the run."""
    emu = running.emulator
    answer = httpx.post(
        running.base_url + "/v1/agents/runs",
        headers={"X-BB-API-Key": running.api_key},
        json={"task": "look at a page"},
    )
    session_id = answer.json()["sessionId"]
    browser = running.submit(emu.live.session_browser(session_id)).result(30)
    assert running.submit(browser.cdp.send("Browser.getVersion")).result(10)["product"]
    assert running.submit(emu.live.session_browser(session_id)).result(10) is browser
    clock.advance(emu.config.run_max_seconds + 120)
    assert _ended(running, session_id)
    assert browser.process.process.wait(10) is not None


def test_contexts_crud_validates_with_the_sdk(bb: Browserbase) -> None:
    """POST, GET, PUT and DELETE /v1/contexts answer the SDK's types; a deleted one is 404."""
    created = bb.contexts.create()
    assert bb.contexts.retrieve(created.id).id == created.id
    with pytest.warns(DeprecationWarning):  # the SDK marks context uploads deprecated
        assert bb.contexts.update(created.id).id == created.id
    bb.contexts.delete(created.id)
    with pytest.raises(NotFoundError):
        bb.contexts.retrieve(created.id)
    with pytest.raises(NotFoundError):
        bb.sessions.create(browser_settings={"context": {"id": created.id}})


def test_bbnb_test_hosts_resolve_to_the_emulator(
    bb: Browserbase, connect: Any, running: RunningEmulator
) -> None:
    """*.bbnb.test is mapped to the emulator's own port, which serves its local web there."""
    session = bb.sessions.create()
    page = connect(session.connect_url).contexts[0].pages[0]
    page.goto("http://shop.bbnb.test/")
    assert page.title() == "bbnb Shop"


def test_stop_kills_every_browser_and_removes_profiles() -> None:
    """RunningEmulator.stop() ends live sessions' and warm browsers, and their folders."""
    server = serve_in_thread(EmulatorConfig(browsers="real", warm_browsers=1))
    client = Browserbase(api_key=server.api_key, base_url=server.base_url)
    client.sessions.create(keep_alive=True)
    client.sessions.create()
    root = server.emulator.live.browsers.root
    assert root is not None
    browsers = [p for p in psutil.Process().children(recursive=True) if _under(p, root)]
    # two sessions, plus the warm browser when its (background) launch has begun
    assert len([p for p in browsers if _is_main(p)]) >= 2
    server.stop()
    _gone, alive = psutil.wait_procs(browsers, timeout=10)
    assert alive == []
    assert not root.exists()


def _args(process: psutil.Process) -> list[str]:
    try:
        return process.cmdline()
    except psutil.Error:
        return []


def _under(process: psutil.Process, root: Path) -> bool:
    return any(a.startswith(f"--user-data-dir={root}/") for a in _args(process))


def _is_main(process: psutil.Process) -> bool:
    return not any(a.startswith("--type=") for a in _args(process))


def test_cloud_only_settings_are_listed_as_not_emulated(bb: Browserbase) -> None:
    """Captcha solving, stealth and proxies are accepted and named in the session's logs."""
    session = bb.sessions.create(
        keep_alive=True,
        proxies=True,
        browser_settings={"solve_captchas": True, "advanced_stealth": True},
    )
    notes = [str(e.request) for e in bb.sessions.logs.list(session.id) if e.method == "bbnb.note"]
    for what in ("proxies", "solveCaptchas", "advancedStealth"):
        assert any(what in note and "not emulated" in note for note in notes), what
    bb.sessions.update(session.id, status="REQUEST_RELEASE")
