"""Fixtures for the wire layer: a scripted fake Browserbase behind ``httpx.MockTransport``.

``FakeAPI`` answers each (method, path) from a queue of scripted replies
(responses, exceptions to raise, or callables), records every request, and
answers anything unscripted with a loud 599 so a test can never pass by accident.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from bbnb import ManualClock
from bbnb.client._client import AsyncClient, Client
from bbnb.wire._polling import PollPolicy
from bbnb.wire._retry import RetryPolicy

API_KEY = "bb_live_TEST_SECRET_abcdef123456"
T0 = "2026-01-01T00:00:00Z"

Reply = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


def reply(
    status: int = 200, body: Any = None, headers: dict[str, str] | None = None
) -> httpx.Response:
    """A JSON response."""
    return httpx.Response(status, json=body, headers=headers)


def error_reply(
    status: int, error: str, message: str, headers: dict[str, str] | None = None
) -> httpx.Response:
    """A Browserbase error body."""
    return reply(status, {"statusCode": status, "error": error, "message": message}, headers)


def run_wire(run_id: str = "run_1", status: str = "PENDING", **extra: Any) -> dict[str, Any]:
    """An AgentRun as the API sends it."""
    return {
        "runId": run_id,
        "task": "find the price",
        "status": status,
        "createdAt": T0,
        "updatedAt": T0,
        **extra,
    }


def invocation_wire(inv_id: str = "inv_1", status: str = "PENDING", **extra: Any) -> dict[str, Any]:
    """An Invocation as the API sends it."""
    return {
        "id": inv_id,
        "projectId": "proj_1",
        "functionId": "fn_1",
        "versionId": "ver_1",
        "sessionId": "sess_1",
        "status": status,
        "createdAt": T0,
        "updatedAt": T0,
        "startedAt": T0,
        "expiresAt": "2026-01-02T00:00:00Z",
        **extra,
    }


def message_wire(msg_id: str, text: str = "hello") -> dict[str, Any]:
    """A transcript message as the API sends it."""
    return {"id": msg_id, "createdAt": T0, "message": {"role": "assistant", "content": text}}


class FakeAPI:
    """A scripted Browserbase: ``script(method, path, *replies)``; each request pops one reply."""

    def __init__(self) -> None:
        self.replies: dict[tuple[str, str], deque[Reply]] = defaultdict(deque)
        self.requests: list[httpx.Request] = []
        self.transport = httpx.MockTransport(self.handle)

    def script(self, method: str, path: str, *replies: Reply) -> None:
        """Queue replies for ``method path`` (the path without query)."""
        self.replies[(method, path)].extend(replies)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        queue = self.replies.get((request.method, request.url.path))
        if not queue:
            return error_reply(
                599, "Unscripted", f"no reply scripted for {request.method} {request.url.path}"
            )
        item = queue.popleft()
        if isinstance(item, Exception):
            raise item
        if isinstance(item, httpx.Response):
            return item
        return item(request)

    def count(self, method: str, path: str) -> int:
        """How many requests hit ``method path``."""
        return sum(1 for r in self.requests if r.method == method and r.url.path == path)

    def queries(self, method: str, path: str) -> list[dict[str, str]]:
        """The query parameters of every request to ``method path``."""
        return [
            dict(r.url.params) for r in self.requests if r.method == method and r.url.path == path
        ]


@pytest.fixture
def clock() -> ManualClock:
    """Virtual time: every wait in these tests is instant."""
    return ManualClock()


@pytest.fixture
def api() -> FakeAPI:
    """An empty script."""
    return FakeAPI()


def _policies() -> dict[str, Any]:
    # random() == 0.5 makes jitter deterministic: backoff n -> min(0.5 * 2**n, 8) * 0.875.
    return {
        "retry_policy": RetryPolicy(random=lambda: 0.5),
        "poll_interval": PollPolicy(random=lambda: 0.5),
    }


@pytest.fixture
def client(api: FakeAPI, clock: ManualClock) -> Iterator[Client]:
    """A sync client on the fake API and the manual clock."""
    with Client(api_key=API_KEY, transport=api.transport, clock=clock, **_policies()) as c:
        yield c


@pytest.fixture
def make_async_client(api: FakeAPI, clock: ManualClock) -> Callable[[], AsyncClient]:
    """Build an AsyncClient on the fake API (inside the test's own event loop)."""

    def make() -> AsyncClient:
        return AsyncClient(api_key=API_KEY, transport=api.transport, clock=clock, **_policies())

    return make
