"""RunMonitor on a real batch of emulator runs: live counts, the table, Stop all."""

from __future__ import annotations

import html
from typing import Any

import pytest

from bbnb._clock import ManualClock
from bbnb.client._client import Client
from bbnb.emulator import Emulator, EmulatorConfig
from bbnb.runs.batch import Batch, BatchItem
from bbnb.widgets import RunMonitor

SETTLE = 30.0


def _batch(client: Any, n: int) -> Batch:
    items = [
        BatchItem(
            i,
            f"site{i}",
            f"Find the title of site{i}.example",
            client.agents.runs.create(task=f"title {i}"),
        )
        for i in range(n)
    ]
    items.append(BatchItem(n, "refused", "bad input", None, error="400: task is blank"))
    return Batch("batch_test", "agent", items)


def test_monitor_follows_batch_to_the_end(widget_client: Any) -> None:
    """The monitor refreshes runs until all finish; bar, counts and table agree."""
    batch = _batch(widget_client, 4)
    monitor = RunMonitor(batch, client=widget_client, poll_interval=1.0)
    assert monitor.wait(SETTLE)
    assert monitor.box.errors == []
    assert monitor.finished
    assert monitor.bar.value == monitor.bar.max == 5
    counts = html.unescape(monitor.counts.value)
    assert "COMPLETED 4" in counts and "NOT_SUBMITTED 1" in counts
    assert monitor.table.value.count("<tr>") == 1 + 5
    assert "400: task is blank" in monitor.table.value


@pytest.fixture
def slow_config() -> EmulatorConfig:
    """Runs long enough for Stop all to land first."""
    return EmulatorConfig(seed=5, run_seconds=(500.0, 500.0))


def test_stop_all_stops_every_run(slow_config: EmulatorConfig) -> None:
    """Stop all asks each running run to stop and the monitor sees them STOPPED."""
    emulator = Emulator(slow_config, clock=ManualClock())
    with Client(
        api_key=emulator.config.api_key,
        base_url="http://emulator.test",
        transport=emulator.transport(),
        clock=emulator.clock,
    ) as client:
        batch = _batch(client, 3)
        monitor = RunMonitor(batch, client=client, poll_interval=1.0, watch=False)
        assert monitor.stop_all() == 3
        assert monitor.wait(SETTLE)
        assert {item.status for item in batch.items} == {"STOPPED", "NOT_SUBMITTED"}


def test_monitor_rejects_non_batches() -> None:
    """Passing something that is not a batch says what is needed."""
    with pytest.raises(TypeError, match="needs a bbnb Batch"):
        RunMonitor([1, 2, 3])
