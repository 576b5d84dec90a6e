"""The client against bbnb's emulator: in process, over real sockets, and under faults."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bbnb import ManualClock
from bbnb._exceptions import APIStatusError, ConflictError, CreateOutcomeUnknownError
from bbnb.client._client import Client
from bbnb.emulator import Emulator, RunningEmulator

SCHEMA = {"type": "object", "properties": {"price": {"type": "number"}}}


@pytest.fixture
def emu_client(emulator: Emulator, clock: ManualClock) -> Iterator[Client]:
    """A client on the in-process emulator's transport and the shared manual clock."""
    with Client(
        api_key=emulator.config.api_key,
        base_url="http://emulator.local",
        transport=emulator.transport(),
        clock=clock,
    ) as client:
        yield client


def test_one_line_run_in_process(emu_client: Client) -> None:
    """A run goes PENDING to COMPLETED on virtual time, with a transcript, and is labelled simulated."""
    run = emu_client.agents.run("find the price of milk", result_schema=SCHEMA)
    assert run.status == "COMPLETED" and isinstance(run.output["price"], float)
    assert emu_client.simulated is True
    assert list(emu_client.agents.runs.messages(run.run_id))
    with pytest.raises(ConflictError):
        emu_client.agents.runs.stop(run.run_id)


@pytest.mark.e2e
def test_one_line_run_over_real_sockets(
    emulator_server: RunningEmulator, clock: ManualClock
) -> None:
    """Over uvicorn on 127.0.0.1 the same calls work; loopback means simulated."""
    with Client(
        api_key=emulator_server.api_key, base_url=emulator_server.base_url, clock=clock
    ) as client:
        assert client.simulated is True
        run = client.agents.run("find the price of bread", result_schema=SCHEMA)
        assert run.status == "COMPLETED"
        assert client.agents.runs.retrieve(run.run_id).run_id == run.run_id


@pytest.mark.stress
@pytest.mark.parametrize(
    "emulator_config",
    # No session limits: a 429 (which creates nothing) is resent by design; this test is
    # about 5xx and dropped answers, which never are.
    [
        {
            "fault_5xx_rate": 0.2,
            "fault_drop_rate": 0.2,
            "max_concurrent_sessions": None,
            "sessions_per_minute": None,
        }
    ],
    indirect=True,
    ids=["faulty"],
)
def test_faults_never_duplicate_a_create(
    emulator: Emulator, emu_client: Client, clock: ManualClock
) -> None:
    """Under injected 5xx and drops, each create POST makes at most one run, and lost ones are findable."""
    made, unknown, refused = [], 0, 0
    for i in range(40):
        try:
            made.append(emu_client.agents.runs.create(f"task {i}").run_id)
        except CreateOutcomeUnknownError:
            unknown += 1
        except APIStatusError:
            refused += 1
    posts = emu_client.stats.count("POST", "/v1/agents/runs")
    assert posts == 40  # never a second POST for the same create
    assert unknown > 0 and refused > 0  # the faults really happened
    assert emulator.stats.runs_created == len(made) + unknown
    listed: set[str] = set()
    for _ in range(5):  # listing itself may hit faults; reads are retried
        try:
            listed = {r.run_id for r in emu_client.agents.runs.list(limit=10)}
            break
        except APIStatusError:
            continue
    assert set(made) <= listed and len(listed) == emulator.stats.runs_created


@pytest.mark.e2e
def test_no_key_starts_the_embedded_emulator(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """With no key and no URL the client uses the embedded emulator and says results are simulated."""
    from bbnb.client import _config

    monkeypatch.delenv("BROWSERBASE_API_KEY", raising=False)
    monkeypatch.delenv("BROWSERBASE_BASE_URL", raising=False)
    monkeypatch.setattr("IPython.get_ipython", lambda: None)  # a script: the note goes to stderr
    _config._reset_notice()
    with Client() as client:
        assert client.simulated is True
        assert client.base_url.startswith("http://127.0.0.1:")
        page = client.agents.runs.list_page(limit=5)
        assert page.limit == 5
    assert "SIMULATED" in capsys.readouterr().err
