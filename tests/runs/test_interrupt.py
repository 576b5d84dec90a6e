"""Ctrl-C mid-batch: submitting stops, in-flight runs are stopped, partial results stay."""

from __future__ import annotations

import _thread
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bbnb.client._client import Client
from bbnb.emulator import Emulator, EmulatorConfig
from bbnb.runs import Batch, Journal, last_batch, run_many

REAL_TIME = EmulatorConfig(
    seed=7,
    max_concurrent_sessions=None,
    sessions_per_minute=None,
    run_pending_seconds=(0.0, 0.1),
    run_seconds=(0.2, 3.0),
)


@pytest.fixture
def live_emulator() -> Iterator[Emulator]:
    """An in-process emulator on real time (the interrupt is a real signal)."""
    emu = Emulator(REAL_TIME)
    yield emu
    emu.close()


@pytest.fixture
def live_client(live_emulator: Emulator) -> Iterator[Client]:
    """A sync client on the real-time emulator."""
    with Client(
        api_key=live_emulator.config.api_key,
        base_url="http://emulator.local",
        transport=live_emulator.transport(),
    ) as client:
        yield client


def _interrupt_after(seconds: float, fired: list[float]) -> threading.Timer:
    def fire() -> None:
        fired.append(time.monotonic())
        _thread.interrupt_main()

    timer = threading.Timer(seconds, fire)
    timer.start()
    return timer


@pytest.mark.parametrize("on_interrupt", ["stop", "detach"], ids=["stop", "detach"])
def test_interrupt_keeps_partial_results_and_reraises(
    live_client: Client, live_emulator: Emulator, journal_path: Path, on_interrupt: str
) -> None:
    """KeyboardInterrupt propagates with the partial batch; nothing is submitted after it."""
    fired: list[float] = []
    timer = _interrupt_after(1.5, fired)
    try:
        with pytest.raises(KeyboardInterrupt) as info:
            run_many(
                live_client,
                [f"task {i}" for i in range(60)],
                concurrency=10,
                progress="none",
                journal=journal_path,
                on_interrupt=on_interrupt,
            )
        raised = time.monotonic()
    finally:
        timer.cancel()
    batch = info.value.batch  # type: ignore[attr-defined]
    assert isinstance(batch, Batch) and batch.interrupted
    assert last_batch() is batch
    assert raised - fired[0] < 1.0  # waits are 0.25 s slices; stops are quick
    counts = batch.counts
    assert counts.get("COMPLETED", 0) >= 1
    assert counts.get("QUEUED", 0) >= 20
    created = [item for item in batch.items if item.run is not None]
    assert live_emulator.stats.runs_created == len(created)
    server = {item.key: live_client.agents.runs.retrieve(item.run.id).status for item in created}
    unfinished = [k for k, status in server.items() if status in ("PENDING", "RUNNING")]
    if on_interrupt == "stop":
        assert batch.stats.stopped >= 1
        assert not unfinished
        assert counts.get("STOPPED", 0) >= 1
    else:
        assert batch.stats.stopped == 0
        assert unfinished
    record = Journal(journal_path).batch(batch.id)
    assert record is not None
    assert record.state == ("interrupted" if on_interrupt == "stop" else "detached")
