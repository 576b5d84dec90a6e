"""The result cache in the journal: identical requests on the same server are answered from it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bbnb import ManualClock
from bbnb.client._client import Client
from bbnb.emulator import Emulator, EmulatorConfig
from bbnb.runs import Journal, cache_info, clear_cache, invoke_many, run_many

UNLIMITED = {"max_concurrent_sessions": None, "sessions_per_minute": None}
SCHEMA = {"type": "object", "properties": {"title": {"type": "string"}}, "required": ["title"]}
TASKS = [f"Title of shop{i}.example" for i in range(5)]
SECRET = "hunter2-cache-sentinel"


@pytest.fixture
def many(client: Client, journal_path: Path) -> Any:
    """``run_many`` on the test's client and journal, without progress."""

    def go(tasks: list[str] = TASKS, **kwargs: Any) -> Any:
        return run_many(client, tasks, progress="none", journal=str(journal_path), **kwargs)

    return go


@pytest.mark.parametrize("emulator_config", [UNLIMITED], indirect=True, ids=["unlimited"])
def test_identical_batch_is_answered_from_the_cache(many: Any, emulator: Emulator) -> None:
    """Second run: 0 new runs, the same answers, every row marked _cached with its time."""
    first = many(cache=True, result_schema=SCHEMA)
    assert emulator.stats.runs_created == 5 and first.stats.cached == 0
    second = many(cache=True, result_schema=SCHEMA)
    assert emulator.stats.runs_created == 5
    assert second.stats.cached == 5 and second.stats.created == 0
    assert [i.run.result for i in second.items] == [i.run.result for i in first.items]  # type: ignore[union-attr]
    assert [i.id for i in second.items] == [i.id for i in first.items]
    frame = second.to_frame()
    assert frame["_cached"].tolist() == [True] * 5
    assert frame["_cached_at"].notna().all()
    assert first.to_frame()["_cached"].tolist() == [False] * 5


@pytest.mark.parametrize("emulator_config", [UNLIMITED], indirect=True, ids=["unlimited"])
def test_one_changed_row_runs_once(many: Any, emulator: Emulator) -> None:
    """Only the input whose task changed creates a run."""
    many(cache=True)
    changed = [*TASKS[:4], "Title of a-new-shop.example"]
    batch = many(changed, cache=True)
    assert emulator.stats.runs_created == 6
    assert [i.cached for i in batch.items] == [True, True, True, True, False]


@pytest.mark.parametrize("emulator_config", [UNLIMITED], indirect=True, ids=["unlimited"])
@pytest.mark.parametrize(
    ("first", "second", "new_runs"),
    [
        ({}, {"result_schema": SCHEMA}, 5),
        ({"variables": {"pw": SECRET}}, {"variables": {"pw": SECRET + "x"}}, 5),
        ({"variables": {"pw": SECRET}}, {"variables": {"pw": SECRET}}, 0),
        ({}, {"agent_id": None, "pause_when": "asked for a password"}, 5),
    ],
    ids=["schema-changed", "variable-value-changed", "same-variable-value", "pause-when-added"],
)
def test_the_key_is_the_whole_request(
    many: Any,
    emulator: Emulator,
    journal_path: Path,
    first: dict[str, Any],
    second: dict[str, Any],
    new_runs: int,
) -> None:
    """Schema, variable values (hashed) and every other field are part of the key."""
    many(cache=True, **first)
    many(cache=True, **second)
    assert emulator.stats.runs_created == 5 + new_runs
    raw = b"".join(p.read_bytes() for p in journal_path.parent.iterdir() if p.is_file())
    assert SECRET.encode() not in raw


@pytest.mark.parametrize("emulator_config", [UNLIMITED], indirect=True, ids=["unlimited"])
def test_refresh_runs_again_and_stores_the_new_answers(many: Any, emulator: Emulator) -> None:
    """'refresh' creates every run anew; the next cached run returns the refreshed ones."""
    many(cache=True)
    fresh = many(cache="refresh")
    assert emulator.stats.runs_created == 10 and fresh.stats.cached == 0
    again = many(cache=True)
    assert [i.id for i in again.items] == [i.id for i in fresh.items]
    assert emulator.stats.runs_created == 10


@pytest.mark.parametrize("emulator_config", [UNLIMITED], indirect=True, ids=["unlimited"])
def test_off_by_default_in_python(many: Any, emulator: Emulator, journal_path: Path) -> None:
    """run_many without cache= neither reads nor writes the cache."""
    many()
    many()
    assert emulator.stats.runs_created == 10
    assert cache_info(journal=str(journal_path))["entries"] == 0


@pytest.mark.parametrize(
    "emulator_config",
    [{**UNLIMITED, "run_failure_rate": 0.5, "run_timeout_rate": 0.2}],
    indirect=True,
    ids=["failing"],
)
def test_failed_runs_are_never_served(many: Any, emulator: Emulator) -> None:
    """Only COMPLETED answers are cached; every other input runs again."""
    tasks = [f"Title of site{i}.example" for i in range(20)]
    first = many(tasks, cache=True)
    done = sum(1 for i in first.items if i.ok)
    assert 0 < done < 20
    second = many(tasks, cache=True)
    assert emulator.stats.runs_created == 20 + (20 - done)
    assert [i.cached for i in second.items] == [i.ok for i in first.items]
    assert all(i.ok for i in second.items if i.cached)


@pytest.mark.parametrize("emulator_config", [UNLIMITED], indirect=True, ids=["unlimited"])
def test_expired_answers_run_again(many: Any, emulator: Emulator, clock: ManualClock) -> None:
    """An answer older than the TTL is not served."""
    many(cache=True, cache_ttl=3600)
    clock.advance(3000)
    many(cache=True, cache_ttl=3600)
    assert emulator.stats.runs_created == 5
    clock.advance(3601)
    many(cache=True, cache_ttl=3600)
    assert emulator.stats.runs_created == 10


@pytest.mark.parametrize("emulator_config", [UNLIMITED], indirect=True, ids=["unlimited"])
def test_another_server_gets_no_answers(
    many: Any, emulator: Emulator, clock: ManualClock, journal_path: Path
) -> None:
    """A cached answer belongs to the server (and key) it ran on."""
    many(cache=True)
    other = Emulator(EmulatorConfig(seed=1234, **UNLIMITED), clock=clock)
    with Client(
        api_key=other.config.api_key,
        base_url="http://other.local",
        transport=other.transport(),
        clock=clock,
    ) as elsewhere:
        run_many(elsewhere, TASKS, progress="none", journal=str(journal_path), cache=True)
    assert other.stats.runs_created == 5
    other.close()


@pytest.mark.parametrize("emulator_config", [UNLIMITED], indirect=True, ids=["unlimited"])
def test_cache_info_clear_and_eviction(many: Any, journal_path: Path) -> None:
    """cache_info counts entries and bytes; eviction drops the oldest; clear_cache empties it."""
    many(cache=True)
    info = cache_info(journal=str(journal_path))
    assert info["entries"] == 5 and info["bytes"] > 0 and info["oldest"] is not None
    with Journal(journal_path) as journal:
        assert journal.cache_evict(max_entries=2) == 3
        assert journal.cache_info()["entries"] == 2
    assert clear_cache(journal=str(journal_path)) == 2
    assert cache_info(journal=str(journal_path))["entries"] == 0


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [({"cache": "maybe"}, "cache must be True"), ({"cache_ttl": -1}, "cache_ttl must be")],
    ids=["bad-mode", "negative-ttl"],
)
def test_bad_cache_arguments_say_what_to_use(
    many: Any, kwargs: dict[str, Any], needle: str
) -> None:
    """A bad cache mode or TTL is a ValueError naming the accepted values."""
    with pytest.raises(ValueError, match=needle):
        many(**kwargs)


@pytest.mark.parametrize("emulator_config", [UNLIMITED], indirect=True, ids=["unlimited"])
def test_invoke_many_uses_the_cache(client: Client, emulator: Emulator, journal_path: Path) -> None:
    """Function invocations with the same params (and settings) are answered from the cache."""
    params = [{"url": f"https://s{i}.example"} for i in range(4)]

    def invoke(**kwargs: Any) -> Any:
        return invoke_many(
            client, "echo", params, progress="none", journal=str(journal_path), **kwargs
        )

    first = invoke(cache=True)
    second = invoke(cache=True)
    assert emulator.stats.invocations_created == 4
    assert [i.cached for i in second.items] == [True] * 4
    assert [i.run.results for i in second.items] == [i.run.results for i in first.items]  # type: ignore[union-attr]
    invoke(cache=True, session_create_params={"timeout": 120})
    assert emulator.stats.invocations_created == 8
