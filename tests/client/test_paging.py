"""Lazy pagination in each of the API's three styles: cursor, since, offset."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bbnb.client._client import AsyncClient, Client

from .conftest import FakeAPI, message_wire, reply, run_wire

RUNS = "/v1/agents/runs"
MESSAGES = "/v1/agents/runs/run_1/messages"


def _three_run_pages(api: FakeAPI) -> None:
    api.script(
        "GET",
        RUNS,
        reply(200, {"data": [run_wire("r1"), run_wire("r2")], "limit": 2, "nextCursor": "c2"}),
        reply(200, {"data": [run_wire("r3"), run_wire("r4")], "limit": 2, "nextCursor": "c3"}),
        reply(200, {"data": [run_wire("r5")], "limit": 2, "nextCursor": None}),
    )


def test_runs_follow_the_cursor_across_three_pages(client: Client, api: FakeAPI) -> None:
    """Every run of every page comes out, in order, with the filters on each request."""
    _three_run_pages(api)
    since = datetime(2026, 1, 1, tzinfo=UTC)
    runs = client.agents.runs.list(status="COMPLETED", start_at=since, limit=2)
    assert api.requests == []  # lazy: nothing fetched yet
    assert next(runs).run_id == "r1"
    assert api.count("GET", RUNS) == 1
    assert [r.run_id for r in runs] == ["r2", "r3", "r4", "r5"]
    queries = api.queries("GET", RUNS)
    assert [q.get("cursor") for q in queries] == [None, "c2", "c3"]
    assert all(q["status"] == "COMPLETED" and q["limit"] == "2" for q in queries)
    assert queries[0]["startAt"] == "2026-01-01T00:00:00Z"


def test_async_runs_follow_the_cursor(
    api: FakeAPI, make_async_client: Callable[[], AsyncClient]
) -> None:
    """The async iterator pages the same way."""
    _three_run_pages(api)

    async def collect() -> list[str]:
        async with make_async_client() as client:
            return [run.run_id async for run in client.agents.runs.list(limit=2)]

    assert asyncio.run(collect()) == ["r1", "r2", "r3", "r4", "r5"]


def test_messages_follow_next_since_across_three_pages(client: Client, api: FakeAPI) -> None:
    """Messages continue from nextSince until a short page."""
    api.script(
        "GET",
        MESSAGES,
        reply(200, {"data": [message_wire("m1"), message_wire("m2")], "nextSince": "m2"}),
        reply(200, {"data": [message_wire("m3"), message_wire("m4")], "nextSince": "m4"}),
        reply(200, {"data": [message_wire("m5")], "nextSince": "m5"}),
    )
    ids = [m.id for m in client.agents.runs.messages("run_1", limit=2)]
    assert ids == ["m1", "m2", "m3", "m4", "m5"]
    assert [q.get("since") for q in api.queries("GET", MESSAGES)] == [None, "m2", "m4"]


def test_messages_of_a_run_without_any(client: Client, api: FakeAPI) -> None:
    """A run with no messages yet gives an empty iterator after one request."""
    api.script("GET", MESSAGES, reply(200, {"data": [], "nextSince": None}))
    assert list(client.agents.runs.messages("run_1")) == []
    assert api.queries("GET", MESSAGES) == [{"limit": "100"}]


def test_messages_all_is_one_request(client: Client, api: FakeAPI) -> None:
    """``all=True`` asks for everything at once and stops there."""
    page = {"data": [message_wire(f"m{i}") for i in range(150)], "nextSince": "m149"}
    api.script("GET", MESSAGES, reply(200, page))
    assert len(list(client.agents.runs.messages("run_1", since="m0", all=True))) == 150
    assert api.queries("GET", MESSAGES) == [{"since": "m0", "limit": "100", "all": "true"}]


def test_functions_page_by_offset(client: Client, api: FakeAPI) -> None:
    """Offset pages advance until ``total``."""

    def fn(i: int) -> dict[str, str]:
        t = "2026-01-01T00:00:00Z"
        return {"id": f"f{i}", "projectId": "p", "name": f"n{i}", "createdAt": t, "updatedAt": t}

    api.script(
        "GET",
        "/v1/functions",
        reply(200, {"data": [fn(0), fn(1)], "total": 5}),
        reply(200, {"data": [fn(2), fn(3)], "total": 5}),
        reply(200, {"data": [fn(4)], "total": 5}),
    )
    assert [f.id for f in client.functions.list(limit=2)] == ["f0", "f1", "f2", "f3", "f4"]
    offsets = [q["offset"] for q in api.queries("GET", "/v1/functions")]
    assert offsets == ["0", "2", "4"]


def test_same_cursor_twice_stops(client: Client, api: FakeAPI) -> None:
    """A server that repeats its cursor cannot trap the iterator in a loop."""
    page = {"data": [run_wire("r1")], "limit": 1, "nextCursor": "c"}
    api.script("GET", RUNS, reply(200, page), reply(200, page))
    assert len(list(client.agents.runs.list())) == 2
    assert api.count("GET", RUNS) == 2


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 1001}, "limit"),
        ({"status": "DONE"}, "PAUSED"),
        ({"start_at": datetime(2026, 1, 1)}, "time zone"),
    ],
    ids=["limit-low", "limit-high", "bad-status", "naive-datetime"],
)
def test_bad_list_arguments_fail_before_any_request(
    client: Client, api: FakeAPI, kwargs: dict[str, object], match: str
) -> None:
    """Bad filters raise at the call, naming what to fix, and send nothing."""
    with pytest.raises(ValueError, match=match):
        client.agents.runs.list(**kwargs)  # type: ignore[arg-type]
    assert api.requests == []


@given(sizes=st.lists(st.integers(1, 5), min_size=1, max_size=6), trailing_empty=st.booleans())
@settings(max_examples=40, deadline=None)
def test_cursor_paging_yields_every_item_once_in_order(
    sizes: list[int], trailing_empty: bool
) -> None:
    """However the server splits runs into pages, iteration yields each exactly once, in order."""
    api = FakeAPI()
    n = 0
    pages = []
    for index, size in enumerate(sizes):
        last = index == len(sizes) - 1 and not trailing_empty
        data = [run_wire(f"r{n + k}") for k in range(size)]
        n += size
        pages.append(
            reply(200, {"data": data, "limit": 5, "nextCursor": None if last else f"c{index}"})
        )
    if trailing_empty:
        pages.append(reply(200, {"data": [], "limit": 5, "nextCursor": "unused"}))
    api.script("GET", RUNS, *pages)
    with Client(api_key="k", transport=api.transport) as client:
        ids = [r.run_id for r in client.agents.runs.list()]
    assert ids == [f"r{i}" for i in range(n)]
    assert api.count("GET", RUNS) == len(pages)
