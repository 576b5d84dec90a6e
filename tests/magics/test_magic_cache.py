"""``%bb_run`` answers a re-run cell from the journal's cache (the emulator's run count proves it)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell

from bbnb import ManualClock
from bbnb.emulator import Emulator

CellRunner = Callable[[str], Any]
SCHEMA = {"type": "object", "properties": {"title": {"type": "string"}}, "required": ["title"]}
CELL = "%%bb_run agent --foreach shops --schema-var S\nTitle of {{row}}"
SECRET = "s3cret-cache-value"


def ok(cell: Any) -> Any:
    """Assert the cell raised nothing and return it."""
    assert cell.error is None, (cell.out, cell.err)
    return cell


@pytest.fixture
def shops(shell: InteractiveShell) -> list[str]:
    """Five inputs and a schema in the notebook namespace."""
    shell.user_ns["shops"] = [f"shop{i}.example" for i in range(5)]
    shell.user_ns["S"] = SCHEMA
    return list(shell.user_ns["shops"])


def test_same_cell_twice_creates_nothing(run: CellRunner, bb: Emulator, shops: list[str]) -> None:
    """The re-run gives the same answers, marked _cached, and says so in one line."""
    first = ok(run(CELL)).value
    assert bb.stats.runs_created == 5
    assert first["_cached"].tolist() == [False] * 5
    again = ok(run(CELL))
    assert bb.stats.runs_created == 5
    frame = again.value
    assert frame["_cached"].tolist() == [True] * 5
    assert frame["title"].tolist() == first["title"].tolist()
    assert frame["_id"].tolist() == first["_id"].tolist()
    assert frame["_cached_at"].notna().all()
    assert re.search(
        r"^bbnb: 5 of 5 from cache \(\d+ s ago\) · --refresh to run again$", again.err, re.M
    )


def test_summary_line_says_how_old(
    run: CellRunner, bb: Emulator, shops: list[str], clock: ManualClock
) -> None:
    """With -o the one-line summary carries the cache part and the age of the answers."""
    ok(run(CELL))
    clock.advance(24 * 60)
    cell = ok(run(CELL.replace("--schema-var S", "--schema-var S -o titles")))
    (line,) = cell.out.splitlines()
    assert line.startswith("titles: 5 rows")
    assert line.endswith("· 5 of 5 from cache (24 min ago) · --refresh to run again")


def test_one_changed_row_runs_once(
    shell: InteractiveShell, run: CellRunner, bb: Emulator, shops: list[str]
) -> None:
    """Changing one input creates exactly one run."""
    ok(run(CELL))
    shell.user_ns["shops"] = [*shops[:4], "another.example"]
    frame = ok(run(CELL)).value
    assert bb.stats.runs_created == 6
    assert frame["_cached"].tolist() == [True, True, True, True, False]


def test_refresh_runs_all_again(run: CellRunner, bb: Emulator, shops: list[str]) -> None:
    """--refresh creates every run anew, and the next re-run serves the refreshed answers."""
    ok(run(CELL))
    fresh = ok(run(CELL.replace("--schema-var S", "--schema-var S --refresh"))).value
    assert bb.stats.runs_created == 10
    assert fresh["_cached"].tolist() == [False] * 5
    again = ok(run(CELL)).value
    assert again["_id"].tolist() == fresh["_id"].tolist()
    assert bb.stats.runs_created == 10


def test_config_turns_the_cache_off(run: CellRunner, bb: Emulator, shops: list[str]) -> None:
    """%config BBMagic.cache = False: every run is created again, and no _cached column."""
    ok(run("%config BBMagic.cache = False"))
    ok(run(CELL))
    frame = ok(run(CELL)).value
    assert bb.stats.runs_created == 10
    assert "_cached" not in frame.columns


@pytest.mark.parametrize(
    "change",
    [
        lambda ns: ns.update(S={**SCHEMA, "properties": {"title": {"type": "string"}, "n": {}}}),
        lambda ns: ns.update(pw=SECRET + "-changed"),
    ],
    ids=["schema", "variable-value"],
)
def test_a_changed_schema_or_variable_value_runs_again(
    shell: InteractiveShell,
    run: CellRunner,
    bb: Emulator,
    shops: list[str],
    change: Callable[[dict[str, Any]], None],
    isolated_env: Path,
) -> None:
    """The schema and the (hashed) variable values are part of the key; values never stored."""
    shell.user_ns["pw"] = SECRET
    cell = CELL.replace("--schema-var S", "--schema-var S --var pw={{pw}}")
    ok(run(cell))
    ok(run(cell))
    assert bb.stats.runs_created == 5
    change(shell.user_ns)
    ok(run(cell))
    assert bb.stats.runs_created == 10
    home = isolated_env / "bbnb-home"
    raw = b"".join(p.read_bytes() for p in home.iterdir() if p.is_file())
    assert SECRET.encode() not in raw


@pytest.mark.parametrize(
    "emulator_config",
    [{"run_failure_rate": 0.5, "max_concurrent_sessions": None, "sessions_per_minute": None}],
    indirect=True,
    ids=["half-fail"],
)
def test_failed_runs_run_again(run: CellRunner, bb: Emulator, shell: InteractiveShell) -> None:
    """Only COMPLETED answers are served; the failed inputs are created again."""
    shell.user_ns["shops"] = [f"site{i}.example" for i in range(12)]
    shell.user_ns["S"] = SCHEMA
    first = ok(run(CELL)).value
    completed = int((first["_status"] == "COMPLETED").sum())
    assert 0 < completed < 12
    again = ok(run(CELL)).value
    assert bb.stats.runs_created == 12 + (12 - completed)
    assert again["_cached"].tolist() == (first["_status"] == "COMPLETED").tolist()


def test_expired_answers_run_again(
    run: CellRunner, bb: Emulator, shops: list[str], clock: ManualClock
) -> None:
    """Past BBMagic.cache_ttl the cell runs again."""
    ok(run("%config BBMagic.cache_ttl = 600.0"))
    ok(run(CELL))
    clock.advance(601)
    frame = ok(run(CELL)).value
    assert bb.stats.runs_created == 10
    assert frame["_cached"].tolist() == [False] * 5


def test_function_cells_are_cached_too(
    shell: InteractiveShell, run: CellRunner, bb: Emulator
) -> None:
    """A --foreach function cell re-run creates no invocation."""
    shell.user_ns["urls"] = [{"url": f"https://s{i}.example"} for i in range(3)]
    cell = '%%bb_run fn echo --foreach urls\n{"url": "{{row.url}}"}'
    ok(run(cell))
    frame = ok(run(cell)).value
    assert bb.stats.invocations_created == 3
    assert frame["_cached"].tolist() == [True] * 3


def test_a_single_run_cell_is_cached(run: CellRunner, bb: Emulator) -> None:
    """The line form (one run) is answered from the cache too, and says so."""
    line = "%bb_run agent 'Title of https://example.com'"
    first = ok(run(line)).value
    again = ok(run(line))
    assert bb.stats.runs_created == 1
    assert again.value["_cached"].tolist() == [True]
    assert again.value.loc[0, "_id"] == first.loc[0, "_id"]
    assert "1 of 1 from cache" in again.err
