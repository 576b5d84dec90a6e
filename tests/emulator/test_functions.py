"""Functions: the registry, invoke (by id or name), invocations, logs, failures and timeouts."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from starlette.testclient import TestClient

from bbnb import ManualClock
from bbnb.emulator import Emulator, FunctionContext
from bbnb.emulator.web import ground_truth
from tests.emulator.contract import OpenAPI, check_response


def invoke(api: TestClient, key: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    response = api.post(f"/v1/functions/{key}/invoke", json=body or {})
    assert response.status_code == 202, response.text
    return dict(response.json())


def get(api: TestClient, invocation_id: str) -> dict[str, Any]:
    response = api.get(f"/v1/functions/invocations/{invocation_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_list_and_get_functions(api: TestClient, openapi: OpenAPI) -> None:
    """Built-ins are listed with offset/limit and retrievable by id or name."""
    listing = api.get("/v1/functions").json()
    check_response(openapi, "Functions_list", 200, listing)
    names = [f["name"] for f in listing["data"]]
    assert {"echo", "page-title", "extract", "screenshot", "pdf", "sleep", "fail"} <= set(names)
    assert listing["total"] == len(names)
    page = api.get("/v1/functions", params={"offset": 1, "limit": 2}).json()
    assert [f["name"] for f in page["data"]] == names[1:3]
    by_name = api.get("/v1/functions/page-title").json()
    check_response(openapi, "Functions_get", 200, by_name)
    assert api.get(f"/v1/functions/{by_name['id']}").json() == by_name


def test_versions(api: TestClient, openapi: OpenAPI) -> None:
    """Each function has one version, listed and retrievable."""
    function = api.get("/v1/functions/echo").json()
    versions = api.get(f"/v1/functions/{function['id']}/versions").json()
    check_response(openapi, "Functions_listVersions", 200, versions)
    version = versions["results"][0]
    assert versions["total"] == 1 and version["functionId"] == function["id"]
    got = api.get(f"/v1/functions/versions/{version['id']}").json()
    check_response(openapi, "FunctionVersions_get", 200, got)
    assert got == version


def test_invoke_pending_to_completed(api: TestClient, clock: ManualClock, openapi: OpenAPI) -> None:
    """Invoke is 202 PENDING; it then runs and completes with the handler's results."""
    inv = invoke(api, "page-title", {"params": {"url": "news.bbnb.test"}})
    check_response(openapi, "Functions_invoke", 202, inv)
    assert inv["status"] == "PENDING" and "results" not in inv
    seen = [inv["status"]]
    for _ in range(40):
        clock.advance(0.25)
        status = get(api, inv["id"])["status"]
        if status != seen[-1]:
            seen.append(status)
    assert seen == ["PENDING", "RUNNING", "COMPLETED"]
    done = get(api, inv["id"])
    check_response(openapi, "Invocations_get", 200, done)
    assert done["results"] == {
        "url": "http://news.bbnb.test/",
        "title": "bbnb News: front page",
        "status": 200,
    }
    logs = api.get(f"/v1/functions/invocations/{inv['id']}/logs").json()
    check_response(openapi, "Invocations_getLogs", 200, logs)
    assert logs["total"] == 3 and "navigating to" in logs["logs"][0]["message"]


def test_invoke_by_id_and_extract(api: TestClient, clock: ManualClock, emulator: Emulator) -> None:
    """Invoking by id works; extract reads the product page's data in the given schema."""
    function = api.get("/v1/functions/extract").json()
    product = ground_truth(emulator.config.seed).products[1]
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "price": {"type": "number"}},
        "required": ["price"],
    }
    inv = invoke(api, function["id"], {"params": {"url": product["url"], "schema": schema}})
    clock.advance(60)
    results = get(api, inv["id"])["results"]
    assert results["data"] == {"name": product["name"], "price": product["price"]}
    assert results["missing"] == [] and "microdata" in results["sources"]["price"]


@pytest.mark.parametrize(
    ("name", "url", "needle"),
    [
        ("page-title", "https://news.example.com/", "NAVIGATION_FAILED"),
        ("extract", "http://shop.bbnb.test/product/none", "HTTP_ERROR"),
        ("screenshot", "http://shop.bbnb.test/", "BROWSER_REQUIRED"),
        ("pdf", "http://shop.bbnb.test/", "BROWSER_REQUIRED"),
    ],
    ids=["unreachable", "404", "screenshot", "pdf"],
)
def test_builtins_fail_clearly(
    api: TestClient, clock: ManualClock, name: str, url: str, needle: str
) -> None:
    """A page that cannot be loaded or rendered fails the invocation with a coded message."""
    inv = invoke(api, name, {"params": {"url": url}})
    clock.advance(60)
    done = get(api, inv["id"])
    assert done["status"] == "FAILED" and done["cause"]["code"] == "WORKLOAD_ERROR"
    assert needle in done["cause"]["message"]


def test_handler_exception_is_workload_error(
    api: TestClient, clock: ManualClock, openapi: OpenAPI
) -> None:
    """A raising handler ends FAILED with WORKLOAD_ERROR and the error in the logs."""
    inv = invoke(api, "fail", {"params": {"message": "boom"}})
    clock.advance(60)
    done = get(api, inv["id"])
    check_response(openapi, "Invocations_get", 200, done)
    assert done["status"] == "FAILED" and done["cause"]["code"] == "WORKLOAD_ERROR"
    assert "boom" in done["cause"]["message"] and "results" not in done
    logs = api.get(f"/v1/functions/invocations/{inv['id']}/logs").json()["logs"]
    assert any("boom" in line["message"] for line in logs)


def test_exceeding_timeout_is_timed_out(api: TestClient, clock: ManualClock) -> None:
    """A run longer than the session timeout fails with TIMED_OUT at the deadline."""
    inv = invoke(api, "sleep", {"params": {"seconds": 200}, "sessionCreateParams": {"timeout": 60}})
    clock.advance(30)
    assert get(api, inv["id"])["status"] == "RUNNING"
    clock.advance(100)
    done = get(api, inv["id"])
    assert done["status"] == "FAILED" and done["cause"]["code"] == "TIMED_OUT"
    assert done["endedAt"] == done["expiresAt"]


@pytest.mark.parametrize("emulator_config", [{"speed": 10.0}], indirect=True, ids=["speed-10"])
def test_timeout_is_scaled_by_speed_like_the_work(api: TestClient, clock: ManualClock) -> None:
    """At speed 10 a 200 s sleep under a 60 s session timeout still ends TIMED_OUT (after 6 s)."""
    inv = invoke(api, "sleep", {"params": {"seconds": 200}, "sessionCreateParams": {"timeout": 60}})
    clock.advance(3)
    assert get(api, inv["id"])["status"] == "RUNNING"
    clock.advance(10)
    done = get(api, inv["id"])
    assert done["status"] == "FAILED" and done["cause"]["code"] == "TIMED_OUT"
    assert "timeout of 60 seconds" in done["cause"]["message"]


def test_custom_function_gets_context(
    emulator: Emulator, api: TestClient, clock: ManualClock
) -> None:
    """A registered handler sees params, session id and settings; its log lines show."""
    seen: dict[str, Any] = {}

    def handler(params: dict[str, Any], context: FunctionContext) -> Any:
        seen.update(session_id=context.session_id, session=context.session, params=params)
        context.logger.info("hello %s", params["who"])
        return [1, 2, 3]

    fid = emulator.register_function("greeter", handler, duration=2.0)
    inv = invoke(
        api,
        "greeter",
        {"params": {"who": "ada"}, "sessionCreateParams": {"browserSettings": {"blockAds": True}}},
    )
    assert inv["functionId"] == fid
    assert seen["session_id"] == inv["sessionId"] and seen["params"] == {"who": "ada"}
    assert seen["session"]["browserSettings"] == {"blockAds": True}
    clock.advance(10)
    assert get(api, inv["id"])["results"] == [1, 2, 3]
    logs = api.get(f"/v1/functions/invocations/{inv['id']}/logs").json()["logs"]
    assert [line["message"] for line in logs] == ["hello ada"]


@pytest.mark.parametrize(
    ("value", "status", "has_results"),
    [(None, "COMPLETED", False), ("text", "COMPLETED", True), ({1, 2}, "FAILED", False)],
    ids=["none", "string", "not-json"],
)
def test_handler_return_values(
    emulator: Emulator,
    api: TestClient,
    clock: ManualClock,
    value: Any,
    status: str,
    has_results: bool,
) -> None:
    """None gives no results; any JSON value is kept; a non-JSON value is a WORKLOAD_ERROR."""
    emulator.register_function("ret", lambda params, context: value, duration=1.0)
    inv = invoke(api, "ret")
    clock.advance(10)
    done = get(api, inv["id"])
    assert done["status"] == status and ("results" in done) is has_results


def test_async_handler(emulator: Emulator, api: TestClient, clock: ManualClock) -> None:
    """An async handler is awaited."""

    async def handler(params: dict[str, Any], context: FunctionContext) -> Any:
        await asyncio.sleep(0)
        return {"ok": True}

    emulator.register_function("async-one", handler, duration=1.0)
    inv = invoke(api, "async-one")
    clock.advance(10)
    assert get(api, inv["id"])["results"] == {"ok": True}


def test_version_invocations_listing(api: TestClient, clock: ManualClock, openapi: OpenAPI) -> None:
    """A version lists its invocations newest first, by status, with offset/limit."""
    version = api.get(f"/v1/functions/{api.get('/v1/functions/echo').json()['id']}/versions").json()
    vid = version["results"][0]["id"]
    ids = [invoke(api, "echo", {"params": {"n": n}})["id"] for n in range(4)]
    clock.advance(60)
    fail_id = invoke(api, "fail")["id"]
    listing = api.get(f"/v1/functions/versions/{vid}/invocations").json()
    check_response(openapi, "FunctionVersions_listInvocations", 200, listing)
    assert [i["id"] for i in listing["results"]] == list(reversed(ids))
    completed = api.get(
        f"/v1/functions/versions/{vid}/invocations",
        params={"status": "COMPLETED", "offset": 1, "limit": 2},
    ).json()
    assert (
        completed["total"] == 4
        and [i["id"] for i in completed["results"]] == list(reversed(ids))[1:3]
    )
    assert fail_id not in {i["id"] for i in listing["results"]}


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"params": {"blob": "x" * 70_000}}, "64 KB"),
        ({"sessionCreateParams": {"timeout": 59}}, "timeout"),
        ({"sessionCreateParams": {"region": "us-east-1"}}, "region"),
        ({"sessionCreateParams": {"keepAlive": True}}, "keepAlive"),
        ({"params": [1, 2]}, "params"),
        ({"extra": 1}, "extra"),
    ],
    ids=["params-too-big", "timeout", "region", "keep-alive", "params-type", "unknown-key"],
)
def test_invoke_rejects_bad_bodies(
    api: TestClient, emulator: Emulator, body: dict[str, Any], needle: str
) -> None:
    """Bad invoke bodies are 400 naming the problem; nothing is invoked."""
    response = api.post("/v1/functions/echo/invoke", json=body)
    assert response.status_code == 400 and needle in response.json()["message"]
    assert emulator.stats.invocations_created == 0


def test_unknown_ids_are_404(api: TestClient) -> None:
    """Unknown function, version and invocation ids are 404 with the error body."""
    for path in [
        "/v1/functions/nope",
        "/v1/functions/nope/versions",
        "/v1/functions/versions/nope",
        "/v1/functions/versions/nope/invocations",
        "/v1/functions/invocations/nope",
        "/v1/functions/invocations/nope/logs",
    ]:
        response = api.get(path)
        assert response.status_code == 404 and response.json()["statusCode"] == 404, path
    response = api.post("/v1/functions/nope/invoke", json={})
    assert response.status_code == 404 and "echo" in response.json()["message"]


def test_register_function_rejects_bad_names(emulator: Emulator) -> None:
    """Function names must be URL-safe, handlers callable."""
    with pytest.raises(ValueError, match="function name"):
        emulator.register_function("has space", lambda p, c: None)
    with pytest.raises(TypeError, match="callable"):
        emulator.register_function("ok", "not callable")  # type: ignore[arg-type]
