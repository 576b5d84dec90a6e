"""Serving: serve_in_thread over a real socket, the shared embedded emulator, and the CLI."""

from __future__ import annotations

import argparse
import io
import threading
import warnings
from typing import Any

import httpx
import pytest

from bbnb.emulator import EmulatorConfig, RunningEmulator, embedded, serve_in_thread
from bbnb.emulator import server as server_module
from bbnb.emulator.cli import build_config, configure_parser, run
from tests.emulator.contract import OpenAPI, check_response


@pytest.mark.e2e
def test_real_server_round_trip(
    emulator_server: RunningEmulator, clock: object, openapi: OpenAPI
) -> None:
    """Over 127.0.0.1 a run is created, advanced on the shared clock and completed."""
    assert emulator_server.base_url.startswith("http://127.0.0.1:")
    headers = {"X-BB-API-Key": emulator_server.api_key}
    with httpx.Client(base_url=emulator_server.base_url, headers=headers) as client:
        created = client.post("/v1/agents/runs", json={"task": "visit example.com"})
        assert created.status_code == 201
        check_response(openapi, "AgentRuns_create", 201, created.json())
        clock.advance(3600)  # type: ignore[attr-defined]
        done = client.get(f"/v1/agents/runs/{created.json()['runId']}").json()
        assert done["status"] == "COMPLETED"
        assert client.get("/v1/agents/runs", headers={"X-BB-API-Key": "nope"}).status_code == 401


@pytest.mark.e2e
def test_serve_in_thread_context_manager() -> None:
    """The context manager stops the server; base_url and api_key describe it."""
    with serve_in_thread() as server:
        assert httpx.get(f"{server.base_url}/").json()["emulator"] is True
        assert "simulated" in repr(server)
    assert not server.running
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{server.base_url}/", timeout=2)


@pytest.mark.e2e
def test_embedded_is_shared_and_realistic() -> None:
    """embedded() starts once per process with the realistic failure rates."""
    first = embedded()
    assert embedded() is first and first.running
    config = first.emulator.config
    assert (config.run_failure_rate, config.run_timeout_rate, config.partial_result_rate) == (
        0.03,
        0.02,
        0.10,
    )


def test_cli_options_build_the_config() -> None:
    """CLI flags map onto EmulatorConfig fields."""
    parser = configure_parser(argparse.ArgumentParser())
    args = parser.parse_args(
        [
            "--seed",
            "4",
            "--speed",
            "10",
            "--max-concurrent",
            "none",
            "--per-minute",
            "50",
            "--retry-after",
            "1",
            "--failure-rate",
            "0",
            "--fault-5xx",
            "0.1",
            "--db",
            "x.sqlite",
        ]
    )
    config = build_config(args)
    assert (
        config.seed,
        config.speed,
        config.max_concurrent_sessions,
        config.sessions_per_minute,
    ) == (4, 10.0, None, 50)
    assert (config.retry_after, config.run_failure_rate, config.fault_5xx_rate, config.db_path) == (
        1.0,
        0.0,
        0.1,
        "x.sqlite",
    )
    with pytest.raises(SystemExit):
        parser.parse_args(["--failure-rate", "2"])


def test_cli_refuses_non_loopback(capsys: pytest.CaptureFixture[str]) -> None:
    """Listening beyond loopback needs --allow-remote."""
    args = configure_parser(argparse.ArgumentParser()).parse_args(["--host", "0.0.0.0"])
    assert run(args) == 2
    assert "loopback" in capsys.readouterr().err


@pytest.mark.e2e
def test_cli_run_prints_url_key_and_simulated() -> None:
    """`bbnb emulator` prints the base URL, the key and a simulated line, and serves."""
    args = configure_parser(argparse.ArgumentParser()).parse_args(["--port", "0"])
    out = io.StringIO()
    stop = threading.Event()
    result: list[int] = []
    thread = threading.Thread(target=lambda: result.append(run(args, out=out, stop=stop)))
    thread.start()
    try:
        for _ in range(200):
            if "Ctrl-C" in out.getvalue():
                break
            stop.wait(0.05)
        text = out.getvalue()
        assert "bb_emulator_local_key" in text and "simulated" in text
        base = text.split()[4]
        assert httpx.get(f"{base}/").status_code == 200
    finally:
        stop.set()
        thread.join(30)
    assert result == [0]


@pytest.mark.parametrize(
    ("env", "warns"),
    [
        pytest.param({}, False, id="no-key-uses-the-embedded-one"),
        pytest.param({"BROWSERBASE_API_KEY": "bb_live_x"}, True, id="key-goes-to-browserbase"),
        pytest.param({"BROWSERBASE_BASE_URL": "http://127.0.0.1:9"}, True, id="another-emulator"),
        pytest.param({"BROWSERBASE_BASE_URL": "{embedded}"}, False, id="this-emulator"),
    ],
)
def test_function_decorator_says_when_clients_look_elsewhere(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], warns: bool
) -> None:
    """A handler registered on the embedded emulator warns if bbnb.Client() would not see it."""
    with serve_in_thread(EmulatorConfig()) as running:
        monkeypatch.setattr(server_module, "embedded", lambda: running)
        for name in ("BROWSERBASE_API_KEY", "BROWSERBASE_BASE_URL"):
            monkeypatch.delenv(name, raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value.format(embedded=running.base_url))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")

            @server_module.function("hello")
            def hello(params: dict[str, Any], context: Any) -> str:
                return "hi"

        said = [str(w.message) for w in caught if "cannot see it" in str(w.message)]
        assert bool(said) is warns, said
        listed = httpx.get(
            f"{running.base_url}/v1/functions", headers={"X-BB-API-Key": running.api_key}
        ).json()
        assert "hello" in str(listed), "registered whatever the warning says"
        if warns:
            assert "bb_live_x" not in said[0], "the key is never shown"
            assert "bbnb.Client(base_url=bbnb.emulator.embedded().base_url)" in said[0]
