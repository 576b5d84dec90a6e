"""Batches against the in-process emulator on a manual clock: fast and deterministic."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pandas as pd
import pytest

from bbnb.client._client import AsyncClient, Client
from bbnb.emulator import Emulator
from bbnb.runs import Journal, run_many, run_many_async
from bbnb.runs.progress import TextProgress

UNLIMITED = {"max_concurrent_sessions": None, "sessions_per_minute": None}
SCHEMA = {"type": "object", "properties": {"title": {"type": "string"}}, "required": ["title"]}


@pytest.mark.parametrize("emulator_config", [UNLIMITED], indirect=True, ids=["unlimited"])
def test_200_runs_at_concurrency_20_complete_with_keys(
    client: Client, emulator: Emulator, journal_path: Path
) -> None:
    """200 runs from a DataFrame finish, each under its index label, created once each."""
    frame = pd.DataFrame(
        {"company": [f"Company {i}" for i in range(200)]},
        index=[f"row-{i}" for i in range(200)],
    )
    batch = run_many(
        client,
        frame,
        template="Find the homepage title of {{company}}",
        concurrency=20,
        progress="none",
        journal=journal_path,
        result_schema=SCHEMA,
    )
    assert batch.counts == {"COMPLETED": 200}
    assert [key for key, _ in batch.iter_keyed()] == list(frame.index)
    for key, run in batch.iter_keyed():
        assert run.task == f"Find the homepage title of Company {key.split('-')[1]}"
    assert len({run.id for run in batch}) == 200
    assert emulator.stats.runs_created == 200
    assert batch.stats.requests_per_run <= 1.5
    assert batch.failures == []
    rows = Journal(journal_path).runs(batch.id)
    assert {r.state for r in rows} == {"done"} and len(rows) == 200


@pytest.mark.parametrize(
    "emulator_config",
    [{"max_concurrent_sessions": 5, "sessions_per_minute": None}],
    indirect=True,
    ids=["5-sessions"],
)
def test_account_limit_below_concurrency_is_absorbed(
    aclient: AsyncClient, emulator: Emulator, journal_path: Path
) -> None:
    """With 5 sessions allowed and 20 requested, 429s slow the batch but nothing fails."""
    out = io.StringIO()
    batch = asyncio.run(
        run_many_async(
            aclient,
            [f"task {i}" for i in range(60)],
            concurrency=20,
            progress=TextProgress(out, tty=False, every=0.0),
            journal=journal_path,
        )
    )
    assert batch.counts == {"COMPLETED": 60}
    assert emulator.stats.rate_limited > 0
    assert batch.stats.rate_limited == emulator.stats.rate_limited
    assert emulator.stats.runs_created == 60
    assert not [item for item in batch.items if item.error]
    assert "rate-limited, slowing down" in out.getvalue()


@pytest.mark.parametrize(
    "emulator_config",
    [{"max_concurrent_sessions": None, "sessions_per_minute": 30, "retry_after": 5.0}],
    indirect=True,
    ids=["30-per-minute"],
)
def test_creation_rate_limit_is_absorbed(client: Client, emulator: Emulator) -> None:
    """A per-minute creation limit with retry-after pauses creations instead of failing them."""
    batch = run_many(
        client, [f"t{i}" for i in range(80)], concurrency=40, progress="none", journal=False
    )
    assert batch.counts == {"COMPLETED": 80}
    assert emulator.stats.rate_limited > 0
    assert emulator.stats.runs_created == 80


@pytest.mark.parametrize("emulator_config", [UNLIMITED], indirect=True, ids=["unlimited"])
def test_async_twin_and_dict_inputs(aclient: AsyncClient, emulator: Emulator) -> None:
    """run_many_async takes dicts with keys and per-run fields."""
    tasks = [{"key": f"k{i}", "task": f"task {i}", "result_schema": SCHEMA} for i in range(12)]

    async def go() -> object:
        return await run_many_async(aclient, tasks, concurrency=4, progress="none", journal=False)

    batch = asyncio.run(go())
    assert [k for k, _ in batch.iter_keyed()] == [f"k{i}" for i in range(12)]  # type: ignore[attr-defined]
    assert emulator.stats.runs_created == 12


@pytest.mark.parametrize(
    "emulator_config",
    [{**UNLIMITED, "run_failure_rate": 0.3, "run_timeout_rate": 0.1}],
    indirect=True,
    ids=["failing-agents"],
)
def test_failures_are_listed_with_their_cause(client: Client) -> None:
    """FAILED and TIMED_OUT runs are kept, listed in failures, and shown in the summary."""
    batch = run_many(client, [f"t{i}" for i in range(40)], progress="none", journal=False)
    assert len(batch) == 40 and len(batch.runs) == 40
    bad = batch.failures
    assert bad and all(item.status in ("FAILED", "TIMED_OUT") for item in bad)
    assert all(item.run is not None and item.run.cause is not None for item in bad)
    html = batch._repr_html_()
    assert "FAILED" in html and batch.id in html


@pytest.mark.parametrize("emulator_config", [UNLIMITED], indirect=True, ids=["unlimited"])
def test_refused_creates_are_reported_not_retried(client: Client, emulator: Emulator) -> None:
    """A create the server refuses (unknown agent) is recorded against its input only."""
    batch = run_many(
        client,
        [{"task": "fine"}, {"task": "bad", "agent_id": "no-such-agent"}],
        progress="none",
        journal=False,
    )
    assert batch[0].status == "COMPLETED"
    assert batch[1].status == "NOT_SUBMITTED" and "404" in (batch[1].error or "")


@pytest.mark.parametrize("emulator_config", [UNLIMITED], indirect=True, ids=["unlimited"])
def test_journal_file_never_holds_key_or_variable_values(
    client: Client, emulator: Emulator, journal_path: Path
) -> None:
    """After a batch with variables, the raw SQLite bytes hold neither key nor values."""
    secret = "s3cr3t-Pa55-4417"
    batch = run_many(
        client,
        [f"Sign in with %password% and read order {i}" for i in range(5)],
        variables={"password": {"value": secret, "description": "account password"}},
        result_schema={"type": "object", "properties": {"note": {"type": "string"}}},
        progress="none",
        journal=journal_path,
    )
    assert batch.counts == {"COMPLETED": 5}
    raw = b"".join(p.read_bytes() for p in journal_path.parent.iterdir())
    assert b"Sign in with %password%" in raw
    assert secret.encode() not in raw
    assert emulator.config.api_key.encode() not in raw
    assert b"account password" in raw  # descriptions are not secret
