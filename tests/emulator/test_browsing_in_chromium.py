"""The agent and functions in a session's real Chromium: they see what JavaScript builds.

Pages served by the test build their title and content with JavaScript, which the
HTTP-only pages cannot see, so each assertion proves the real browser did the work.
"""

from __future__ import annotations

import base64
import io
import threading
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

import bbnb
from bbnb.emulator import EmulatorConfig, FunctionContext, RunningEmulator, function
from bbnb.emulator import serve_in_thread as serve

pytestmark = pytest.mark.e2e

JS_PAGE = b"""<!doctype html><html><head><title>placeholder</title></head><body>
<script>
document.title = "Built by JavaScript";
const h = document.createElement("h1"); h.textContent = "Hello from the DOM";
document.body.appendChild(h);
const t = document.createElement("table");
t.innerHTML = "<tr><th>name</th><th>price</th></tr><tr><td>Kettle</td><td>12.5</td></tr>"
  + "<tr><td>Teapot</td><td>30</td></tr>";
document.body.appendChild(t);
</script></body></html>"""


CSV = b"city,visitors\nLyon,12\n"


class _Pages(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path.startswith("/data.csv"):
            body = CSV
            self.send_response(200)
            self.send_header("content-type", "text/csv")
            self.send_header("content-disposition", 'attachment; filename="data.csv"')
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        body = JS_PAGE if self.path.startswith("/js") else b"<title>Plain</title><h1>Plain</h1>"
        self.send_response(200)
        self.send_header("content-type", "text/html; charset=utf-8")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        """Quiet."""


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    """A page server on 127.0.0.1 whose /js page is built by JavaScript."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Pages)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture(scope="module")
def emulator() -> Iterator[RunningEmulator]:
    """One emulator with real Chromium for the module."""
    running = serve(EmulatorConfig(browsers="real", seed=5))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def client(emulator: RunningEmulator) -> Iterator[bbnb.Client]:
    """A bbnb client on that emulator."""
    with bbnb.Client(api_key=emulator.api_key, base_url=str(emulator.base_url)) as c:
        yield c


def test_agent_reads_what_javascript_built(
    client: bbnb.Client, emulator: RunningEmulator, site: str
) -> None:
    """The agent's answer comes from the live DOM, its messages name the URL it opened, and
    its browser is gone once the run is over."""
    schema = {
        "type": "object",
        "properties": {
            "title": {"type": "string"},
            "items": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"name": {"type": "string"}, "price": {"type": "number"}},
                },
            },
        },
    }
    run = client.agents.run(
        f"Open {site}/js and report the title and the items", result_schema=schema
    )
    assert run.status == "COMPLETED", run
    output = run.result["output"] if isinstance(run.result, dict) else None
    assert output is not None and output["title"] == "Built by JavaScript"
    assert [(i["name"], i["price"]) for i in output["items"]] == [("Kettle", 12.5), ("Teapot", 30)]
    texts = " ".join(str(m.message) for m in client.agents.runs.messages(run.id))
    assert f"{site}/js" in texts
    assert emulator.emulator.live.closed_flag(str(run.session_id)).wait(10)
    assert emulator.emulator.live.browsers.get(str(run.session_id)) is None


def test_open_web_lets_the_agent_open_a_public_name(site: str) -> None:
    """With open_web a page outside the local web is read for real; without it, not opened.

    Chromium maps the public name to the test's own server, so nothing leaves this machine."""
    port = site.rsplit(":", 1)[1]
    rules = ("MAP *.bbnb.test 127.0.0.1:{port}", f"MAP www.example.com 127.0.0.1:{port}")
    task = "Open http://www.example.com/js and report the title"
    for open_web in (True, False):
        config = EmulatorConfig(
            browsers="real", warm_browsers=0, host_rules=rules, open_web=open_web, speed=20
        )
        with (
            serve(config) as running,
            bbnb.Client(api_key=running.api_key, base_url=str(running.base_url)) as client,
        ):
            run = client.agents.run(task)
            first = str(next(iter(client.agents.runs.messages(run.id))).message.content)
            inv = client.functions.invoke("page-title", params={"url": "http://www.example.com/js"})
            title = client.functions.invocations.wait(inv.id)
            logs = " ".join(e.message for e in client.functions.invocations.logs(inv.id).logs)
        assert run.status == "COMPLETED", run.cause
        if open_web:
            assert "titled 'Built by JavaScript'" in str(run.result)
            assert title.status == "COMPLETED", logs
            assert title.results["title"] == "Built by JavaScript"
        else:
            assert first.startswith("No page was read") and "open_web" in first
            assert title.status == "FAILED" and "NAVIGATION_BLOCKED" in logs, logs


def test_agent_fails_cleanly_on_an_unreachable_page(client: bbnb.Client) -> None:
    """A page that does not answer ends the run FAILED with a cause, not a made-up answer."""
    run = client.agents.run("Open http://127.0.0.1:9/ and report the title", raise_on_failure=False)
    assert run.status == "FAILED"
    assert run.cause is not None and run.cause.code


def test_a_link_that_downloads_is_a_download_not_a_failure(client: bbnb.Client, site: str) -> None:
    """Chromium aborts a navigation that becomes a download; the agent records the file."""
    run = client.agents.run(f"Open {site}/data.csv and report the page title")
    assert run.status == "COMPLETED", run.cause
    gotos = [
        part.output
        for m in client.agents.runs.messages(run.id)
        for part in m.message.parts
        if part.type == "tool-result" and part.tool_name == "goto"
    ]
    assert [g.get("download") for g in gotos] == ["data.csv"]
    saved = io.BytesIO(client.sessions.downloads.list(str(run.session_id)))
    with zipfile.ZipFile(saved) as archive:
        assert [archive.read(n) for n in archive.namelist()] == [CSV]


@pytest.mark.parametrize(
    ("name", "check"),
    [
        ("page-title", lambda out: out["title"] == "Built by JavaScript"),
        (
            "screenshot",
            lambda out: (
                base64.b64decode(out["data"]).startswith(b"\x89PNG")
                and out["mediaType"] == "image/png"
            ),
        ),
        ("pdf", lambda out: base64.b64decode(out["data"]).startswith(b"%PDF")),
    ],
    ids=["page-title", "screenshot", "pdf"],
)
def test_builtins_use_the_browser(client: bbnb.Client, site: str, name: str, check: Any) -> None:
    """The built-in functions load the page in Chromium (title, PNG, PDF)."""
    inv = client.functions.invoke(name, params={"url": f"{site}/js"})
    done = client.functions.invocations.wait(inv.id)
    assert done.status == "COMPLETED", (done, client.functions.invocations.logs(inv.id))
    assert check(done.results)


def test_handlers_browse_with_playwright(
    client: bbnb.Client, emulator: RunningEmulator, site: str
) -> None:
    """Sync and async handlers get a Playwright page in their session's browser, and its connectUrl."""

    @function("sync-heading", emulator=emulator)
    def sync_heading(params: dict[str, Any], context: FunctionContext) -> dict[str, Any]:
        with context.sync_page() as page:
            page.goto(params["url"])
            return {"h1": page.inner_text("h1"), "connect": context.connect_url}

    @function("async-heading", emulator=emulator)
    async def async_heading(params: dict[str, Any], context: FunctionContext) -> dict[str, Any]:
        async with context.page() as page:
            await page.goto(params["url"])
            return {"h1": await page.inner_text("h1")}

    results = {}
    for name in ("sync-heading", "async-heading"):
        inv = client.functions.invoke(name, params={"url": f"{site}/js"})
        done = client.functions.invocations.wait(inv.id)
        assert done.status == "COMPLETED", (name, done, client.functions.invocations.logs(inv.id))
        results[name] = done.results
    assert results["sync-heading"]["h1"] == results["async-heading"]["h1"] == "Hello from the DOM"
    assert results["sync-heading"]["connect"].startswith("ws://127.0.0.1:")
    assert "signingKey=" in results["sync-heading"]["connect"]


def test_sync_handler_without_browser_says_how_to_get_one() -> None:
    """On simulated sessions a handler asking for a page gets a clear install hint."""
    context = FunctionContext(
        invocation_id="i", function_name="f", session_id="s", session={}, params={}
    )
    with pytest.raises(RuntimeError, match="install Chromium"), context.sync_page():
        pass


def test_a_browsing_run_is_recorded_and_replays(client: bbnb.Client, site: str) -> None:
    """The run's real tab is screencast into its replay: frames within the run's messages."""
    from bbnb.widgets import Replay

    run = client.agents.run(f"Open {site}/js and report the title")
    assert run.status == "COMPLETED"
    replay = Replay(run, client=client)
    assert replay.frames, "a real page was painted, so the replay has pictures"
    times = [m.created_at.timestamp() for m in client.agents.runs.messages(run.id)]
    assert min(times) - 2 <= replay.frames[0].t <= max(times) + 2
    assert replay.frames[-1].jpeg.startswith(b"\xff\xd8")  # JPEG


def test_live_view_follows_a_page_driven_over_connect_url(client: bbnb.Client, site: str) -> None:
    """A Playwright client navigates; the LiveView's picture changes while it does."""
    from playwright.sync_api import sync_playwright

    from bbnb.widgets import LiveView

    session = client.sessions.create(keep_alive=True)
    view = LiveView(session.id, client=client)
    changed = threading.Event()
    pictures: list[bytes] = []

    def on_picture(change: dict[str, Any]) -> None:
        pictures.append(change["new"])
        if len(set(pictures)) >= 2:
            changed.set()

    view.image.observe(on_picture, names="value")
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.connect_over_cdp(session.connect_url)
            page = browser.contexts[0].pages[0]
            page.goto(f"{site}/plain")
            page.goto(f"{site}/js")
            assert changed.wait(20), f"{len(pictures)} pictures, all alike"
            browser.close()
    finally:
        view.close()
        client.sessions.release(session.id)
