"""The browsing agent on pages served by the test itself and on the local web: JSON-LD
products, a table, a title, pagination, the CAPTCHA gate, 404, timeouts, messages."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import threading
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from starlette.testclient import TestClient

from bbnb import ManualClock
from bbnb.emulator import Emulator
from bbnb.emulator.browsing_agent import browse, task_urls
from bbnb.emulator.pages import HttpPages, reachable_here
from bbnb.emulator.web import ground_truth
from tests.emulator.contract import OpenAPI, check_response

PRODUCT = {
    "@context": "https://schema.org",
    "@type": "Product",
    "name": "Test Lamp",
    "sku": "TL-1",
    "offers": {"@type": "Offer", "price": "19.90", "priceCurrency": "USD"},
}
ROWS = [
    ("Oslo", "709000", "Norway"),
    ("Turku", "195000", "Finland"),
    ("Aarhus", "285000", "Denmark"),
]
ITEMS = [f"Widget {n}" for n in range(1, 8)]


def _html(title: str, body: str, head: str = "") -> str:
    return (
        f"<!doctype html><html><head><title>{title}</title>{head}</head><body>{body}</body></html>"
    )


def _list_page(number: int) -> str:
    chunk = ITEMS[(number - 1) * 3 : number * 3]
    items = "".join(
        f'<li><a href="/item/{n}">{n}</a> <span class="price">{9 + len(n)}</span></li>'
        for n in chunk
    )
    more = (
        f'<a rel="next" href="/list?page={number + 1}">Next</a>' if number * 3 < len(ITEMS) else ""
    )
    return _html(f"Widgets page {number}", f"<h1>Widgets</h1><ul>{items}</ul>{more}")


class _Pages(BaseHTTPRequestHandler):
    release: threading.Event

    def log_message(self, format: str, *args: Any) -> None:
        return None

    def do_GET(self) -> None:
        path, _, query = self.path.partition("?")
        status = 200
        if path == "/product":
            ld = f'<script type="application/ld+json">{json.dumps(PRODUCT)}</script>'
            body = _html("Test Lamp | Test shop", "<h1>Test Lamp</h1><p>$19.90</p>", ld)
        elif path == "/table":
            rows = "".join(f"<tr><td>{a}</td><td>{b}</td><td>{c}</td></tr>" for a, b, c in ROWS)
            table = (
                f"<table><tr><th>City</th><th>Population</th><th>Country</th></tr>{rows}</table>"
            )
            body = _html("Nordic cities", f"<h1>Cities</h1>{table}")
        elif path == "/":
            links = "<a href='/title'>Report</a> <a href='/table'>Cities</a>"
            body = _html("Front page of the test", f"<h1>Front</h1>{links}")
        elif path == "/title":
            body = _html("A page served by the test", "<h1>Hello</h1><a href='/table'>Table</a>")
        elif path == "/list":
            body = _list_page(int(query.partition("=")[2] or 1))
        elif path == "/gate":
            body = _html(
                "Checking your browser", '<div class="g-recaptcha" data-sitekey="k"></div>'
            )
        elif path == "/hang":
            self.release.wait(10)
            body = _html("Late", "<p>late</p>")
        else:
            status, body = 404, _html("Not found", "<h1>404</h1>")
        data = body.encode()
        self.send_response(status)
        self.send_header("content-type", "text/html; charset=utf-8")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    """A stdlib HTTP server on 127.0.0.1 serving the test's own pages."""
    release = threading.Event()
    handler = type("Pages", (_Pages,), {"release": release})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    release.set()
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def run_task(emulator: Emulator, api: TestClient, clock: ManualClock) -> Any:
    """Create a run, wait for the agent's background work, and return (run, messages)."""

    def run(task: str, **body: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        created = api.post("/v1/agents/runs", json={"task": task, **body})
        assert created.status_code == 201, created.text
        run_id = created.json()["runId"]
        api.portal.call(emulator.drain)
        clock.advance(3600)
        done = api.get(f"/v1/agents/runs/{run_id}").json()
        messages = api.get(f"/v1/agents/runs/{run_id}/messages", params={"all": "true"})
        return done, messages.json()["data"]

    return run


def _gotos(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        part["output"]
        for m in messages
        if isinstance(m["message"]["content"], list)
        for part in m["message"]["content"]
        if part["type"] == "tool-result" and part["toolName"] == "goto"
    ]


@pytest.mark.e2e
def test_reads_json_ld_product_from_a_test_page(run_task: Any, site: str) -> None:
    """Name, price and currency come from the JSON-LD of a page the test serves."""
    schema = {
        "type": "object",
        "properties": {
            "title": {"type": "string"},
            "price": {"type": "number"},
            "currency": {"type": "string"},
            "sku": {"type": "string"},
        },
        "required": ["title", "price"],
    }
    done, messages = run_task(f"Get the product at {site}/product", resultSchema=schema)
    assert done["status"] == "COMPLETED"
    assert done["result"]["output"] == {
        "title": "Test Lamp",
        "price": 19.9,
        "currency": "USD",
        "sku": "TL-1",
    }
    assert "JSON-LD Product 'offers.price'" in done["result"]["summary"]
    assert _gotos(messages) == [
        {
            "url": f"{site}/product",
            "status": 200,
            "title": "Test Lamp | Test shop",
            "ms": pytest.approx(_gotos(messages)[0]["ms"]),
        }
    ]


@pytest.mark.e2e
def test_reads_an_html_table(run_task: Any, site: str) -> None:
    """Each row of a table with a header row becomes an item, numbers typed."""
    schema = {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "population": {"type": "integer"}},
        },
    }
    done, _ = run_task(f"List all cities on {site}/table", resultSchema=schema)
    assert done["result"]["output"] == [{"city": a, "population": int(b)} for a, b, _ in ROWS]
    assert "'Population' column" in done["result"]["summary"]


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        (
            {"type": "object", "properties": {"title": {"type": "string"}}},
            {"title": "A page served by the test"},
        ),
        (None, "titled 'A page served by the test' and has 1 links"),
    ],
    ids=["schema", "text"],
)
def test_reports_the_page_title(run_task: Any, site: str, schema: Any, expected: Any) -> None:
    """The title is the page's real <title>, in a schema or in a text answer."""
    body = {"resultSchema": schema} if schema else {}
    done, _ = run_task(f"Open {site}/title and report the page title", **body)
    output = done["result"]["output"]
    assert output == expected if schema else expected in output


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("task", "title"),
    [
        ("Go to {site}/ and report the title", "Front page of the test"),
        ("Go to {site}/ and list the cities", "Nordic cities"),
    ],
    ids=["asking-word-is-not-a-link", "named-link-is-followed"],
)
def test_follows_a_link_the_task_names_not_one_its_verb_names(
    run_task: Any, site: str, task: str, title: str
) -> None:
    """A link named like the task's subject is followed; one named like its verb ("report") is not."""
    done, messages = run_task(task.format(site=site))
    assert done["status"] == "COMPLETED", done.get("cause")
    assert f"titled '{title}'" in done["result"]["output"]
    assert len(_gotos(messages)) == (1 if title.startswith("Front") else 2)


@pytest.mark.e2e
def test_list_all_follows_next_pages(run_task: Any, site: str) -> None:
    """'List all' follows rel=next to the last page; every page opened is in a goto message."""
    schema = {
        "type": "object",
        "properties": {
            "widgets": {
                "type": "array",
                "items": {"type": "object", "properties": {"name": {"type": "string"}}},
            }
        },
    }
    done, messages = run_task(f"List all widgets at {site}/list", resultSchema=schema)
    assert [w["name"] for w in done["result"]["output"]["widgets"]] == ITEMS
    assert [g["url"] for g in _gotos(messages)] == [
        f"{site}/list",
        f"{site}/list?page=2",
        f"{site}/list?page=3",
    ]
    assert all(g["status"] == 200 for g in _gotos(messages))
    assert f"{site}/list?page=3" in messages[-1]["message"]["content"]


@pytest.mark.e2e
def test_top_n_stops_paging_early(run_task: Any, site: str) -> None:
    """'The first 2' reads the first page only and keeps two items."""
    schema = {
        "type": "array",
        "items": {"type": "object", "properties": {"name": {"type": "string"}}},
    }
    done, messages = run_task(f"Get the first 2 widgets at {site}/list", resultSchema=schema)
    assert [w["name"] for w in done["result"]["output"]] == ITEMS[:2]
    assert len(_gotos(messages)) == 1


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("path", "code"),
    [("/gate", "CAPTCHA_UNSOLVED"), ("/missing", "PAGE_NOT_FOUND")],
    ids=["captcha", "404"],
)
def test_failures_end_the_run_with_a_cause(run_task: Any, site: str, path: str, code: str) -> None:
    """A CAPTCHA gate or a 404 ends the run FAILED with its cause code, no result."""
    done, messages = run_task(f"Read {site}{path}")
    assert done["status"] == "FAILED" and "result" not in done
    assert done["cause"]["code"] == code and f"{site}{path}" in done["cause"]["message"]
    assert "could not finish" in messages[-1]["message"]["content"]


@pytest.mark.e2e
def test_slow_page_is_a_navigation_timeout(site: str, clock: ManualClock) -> None:
    """A page slower than the navigation limit fails with NAVIGATION_TIMEOUT."""
    outcome = asyncio.run(
        browse(f"Read {site}/hang", None, HttpPages(0), now=clock.now, nav_timeout=0.2)
    )
    assert outcome.status == "FAILED" and outcome.cause is not None
    assert outcome.cause[0] == "NAVIGATION_TIMEOUT"


def test_local_web_category_matches_ground_truth(run_task: Any, emulator: Emulator) -> None:
    """'List all products in the Kitchen category' on shop.bbnb.test equals the ground truth."""
    schema = {
        "type": "object",
        "properties": {
            "products": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"name": {"type": "string"}, "price": {"type": "number"}},
                },
            }
        },
    }
    done, _ = run_task(
        "List all products in the Kitchen category on shop.bbnb.test", resultSchema=schema
    )
    truth = [
        {"name": p["name"], "price": p["price"]}
        for p in ground_truth(emulator.config.seed).products
        if p["category"] == "Kitchen"
    ]
    assert done["result"]["output"]["products"] == truth


def test_local_web_store_labels(run_task: Any, emulator: Emulator) -> None:
    """Label/value facts of a store page fill the schema, following links named in the task."""
    store = ground_truth(emulator.config.seed).stores[1]
    schema = {
        "type": "object",
        "properties": {
            "address": {"type": "string"},
            "phone": {"type": "string"},
            "openingHours": {"type": "string"},
        },
    }
    task = f"Find the {store['city']} store's address on shop.bbnb.test (see our stores)"
    done, messages = run_task(task, resultSchema=schema)
    assert done["result"]["output"] == {
        "address": store["address"],
        "phone": store["phone"],
        "openingHours": store["opening_hours"],
    }
    assert _gotos(messages)[-1]["url"] == store["url"]


def test_variables_are_used_but_not_written_in_messages(run_task: Any) -> None:
    """A %variable% URL is opened; the transcript keeps the placeholder, not the value."""
    done, messages = run_task(
        "Open %page% and report the page title",
        variables={"page": {"value": "http://news.bbnb.test/"}},
    )
    assert done["status"] == "COMPLETED" and "bbnb News" in done["result"]["output"]
    text = json.dumps(messages)
    assert "%page%" in text and "news.bbnb.test" not in text


def test_unopenable_task_falls_back_and_says_so(run_task: Any) -> None:
    """A public site without a browser gets generated values, said in messages and summary."""
    done, messages = run_task("Find the price of a kettle on shop.example.com")
    assert done["status"] == "COMPLETED" and "generated values" in done["result"]["summary"]
    assert messages[0]["message"]["content"].startswith("No page was read")
    assert "shop.example.com" in messages[0]["message"]["content"]
    assert "BBNB_OPEN_WEB=1" in messages[0]["message"]["content"], "says how to open the web"


@pytest.mark.parametrize(
    ("url", "closed", "open_"),
    [
        ("http://shop.bbnb.test/", True, True),
        ("127.0.0.1:8000/a", True, True),
        ("https://example.com/", False, True),
        ("example.com", False, True),
        ("file:///etc/passwd", False, False),
        ("ftp://example.com/x", False, False),
    ],
)
def test_which_pages_the_agent_may_open(url: str, closed: bool, open_: bool) -> None:
    """Local web and loopback always; other http(s) pages only with open_web; never files."""
    assert reachable_here(url) is closed
    assert reachable_here(url, open_web=True) is open_
    assert HttpPages(0, open_web=True).can_open(url) is open_
    assert HttpPages(0).can_open(url) is closed


@pytest.mark.parametrize(
    ("task", "urls"),
    [
        ("Go to shop.bbnb.test and list all", ["http://shop.bbnb.test/"]),
        (
            "see https://news.bbnb.test/article/x, then example.com.",
            [
                "http://news.bbnb.test/article/x",
                "https://example.com/",
            ],
        ),
        (
            "local http://127.0.0.1:8000/a?b=1 and localhost:9/x",
            [
                "http://127.0.0.1:8000/a?b=1",
                "http://localhost:9/x",
            ],
        ),
        ("email me at ada@example.com", []),
    ],
    ids=["bare-local", "https-and-bare", "loopback", "email"],
)
def test_task_urls(task: str, urls: list[str]) -> None:
    """URLs and bare hosts are found in order, with a scheme; e-mail addresses are not URLs."""
    assert task_urls(task) == urls


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 24


class _RenderingPage:
    """An HTTP page that also 'renders' (a fixed PNG) and can be held before loading."""

    def __init__(self, inner: Any, hold: asyncio.Event | None) -> None:
        self.inner = inner
        self.hold = hold

    async def goto(self, url: str, *, time_limit: float) -> Any:
        if self.hold is not None:
            await self.hold.wait()
        return await self.inner.goto(url, time_limit=time_limit)

    async def content(self) -> str:
        return str(await self.inner.content())

    async def screenshot(self) -> bytes | None:
        return PNG

    async def pdf(self) -> bytes | None:
        return None


class _RenderingPages:
    """A page opener like a browser's: the emulator's agent uses it when set on the emulator."""

    name = "test pages that render"

    def __init__(self, seed: int, hold: asyncio.Event | None = None) -> None:
        self.http = HttpPages(seed)
        self.hold = hold

    def can_open(self, url: str) -> bool:
        return self.http.can_open(url)

    @contextlib.asynccontextmanager
    async def open(self) -> AsyncIterator[Any]:
        async with self.http.open() as page:
            yield _RenderingPage(page, self.hold)


def test_screenshot_is_a_file_part(emulator: Emulator, run_task: Any, openapi: OpenAPI) -> None:
    """With pages that render, the agent takes a screenshot and sends it as a PNG file part;
    the run and its messages keep Browserbase's shapes."""
    emulator.page_opener = _RenderingPages(emulator.config.seed)  # type: ignore[attr-defined]
    done, messages = run_task("Report the page title of news.bbnb.test")
    check_response(openapi, "AgentRuns_get", 200, done)
    check_response(
        openapi, "AgentRuns_messages", 200, {"data": messages, "nextSince": messages[-1]["id"]}
    )
    files = [
        part
        for m in messages
        if isinstance(m["message"]["content"], list)
        for part in m["message"]["content"]
        if part["type"] == "file"
    ]
    assert files == [
        {"type": "file", "mediaType": "image/png", "data": base64.b64encode(PNG).decode()}
    ]
    assert "test pages that render" in done["result"]["summary"]


def test_stop_while_browsing(emulator: Emulator, api: TestClient, clock: ManualClock) -> None:
    """A run stopped while a page loads ends STOPPED; the agent does nothing more."""
    hold = api.portal.call(asyncio.Event)
    emulator.page_opener = _RenderingPages(emulator.config.seed, hold)  # type: ignore[attr-defined]
    run = api.post("/v1/agents/runs", json={"task": "List all products on shop.bbnb.test"}).json()
    assert api.get(f"/v1/agents/runs/{run['runId']}").json()["status"] in ("PENDING", "RUNNING")
    assert api.post(f"/v1/agents/runs/{run['runId']}/stop").status_code == 202
    api.portal.call(hold.set)
    api.portal.call(emulator.drain)
    clock.advance(3600)
    done = api.get(f"/v1/agents/runs/{run['runId']}").json()
    assert done["status"] == "STOPPED" and "result" not in done
    messages = api.get(f"/v1/agents/runs/{run['runId']}/messages", params={"all": "true"}).json()
    assert len([m for m in messages["data"] if m["message"]["role"] == "tool"]) <= 1


@pytest.mark.parametrize(
    "emulator_config", [{"run_max_seconds": 0.3}], ids=["limit-0.3s"], indirect=True
)
def test_run_past_its_limit_is_timed_out(
    emulator: Emulator, api: TestClient, clock: ManualClock
) -> None:
    """Browsing is real work: virtual time does not end it, the real limit does (TIMED_OUT)."""
    hold = api.portal.call(asyncio.Event)
    emulator.page_opener = _RenderingPages(emulator.config.seed, hold)  # type: ignore[attr-defined]
    run = api.post("/v1/agents/runs", json={"task": "Title of news.bbnb.test"}).json()
    clock.advance(3600)
    assert api.get(f"/v1/agents/runs/{run['runId']}").json()["status"] == "RUNNING"
    api.portal.call(emulator.drain)
    done = api.get(f"/v1/agents/runs/{run['runId']}").json()
    assert done["status"] == "TIMED_OUT" and done["cause"]["code"] == "TIMED_OUT"
    assert "0.3 seconds" in done["cause"]["message"] and "result" not in done
