"""``%bb_run`` in a real IPython shell against the in-process emulator (manual clock)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from bbnb.emulator import Emulator
from bbnb.magics import BBMagic, BBRunError
from bbnb.models import AgentRun, Invocation
from bbnb.runs import Batch

CellRunner = Callable[[str], Any]

SCHEMA = {
    "type": "object",
    "properties": {"title": {"type": "string"}, "words": {"type": "integer"}},
    "required": ["title", "words"],
}
LONG_RUNS = {"run_seconds": (5000.0, 5000.0)}


def ok(cell: Any) -> Any:
    """Assert the cell raised nothing and return it."""
    assert cell.error is None, (cell.out, cell.err)
    return cell


def test_agent_line_form_returns_a_typed_frame(
    shell: InteractiveShell, run: CellRunner, bb: Emulator
) -> None:
    """A line-form agent task with a schema returns a DataFrame with the schema's columns."""
    shell.user_ns["S"] = SCHEMA
    cell = ok(run("%bb_run agent 'Title of https://example.com' --schema-var S"))
    frame = cell.value
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns[:2]) == ["title", "words"]
    assert frame.loc[0, "_status"] == "COMPLETED"
    assert frame.loc[0, "_task"] == "Title of https://example.com"
    assert isinstance(frame.loc[0, "title"], str)
    assert frame.attrs["task_template"] == "Title of https://example.com"
    assert shell.user_ns["_bb_last"] is frame
    assert bb.stats.runs_created == 1


def test_agent_cell_form_and_assignment(
    shell: InteractiveShell, run: CellRunner, bb: Emulator
) -> None:
    """``x = %bb_run`` assigns the frame; the cell form takes the task from the body."""
    shell.user_ns["site"] = "example.com"
    ok(run("x = %bb_run agent 'Title of {{site}}' --schema '" + _json(SCHEMA) + "'"))
    assert shell.user_ns["x"].loc[0, "_task"] == "Title of example.com"
    cell = ok(run("%%bb_run agent\nSummarise {{site}} in one line.\n"))
    assert cell.value.loc[0, "_task"] == "Summarise example.com in one line."
    assert bb.stats.runs_created == 2


def test_out_stores_result_and_prints_one_summary_line(
    shell: InteractiveShell, run: CellRunner, bb: Emulator
) -> None:
    """``-o NAME`` stores the frame, prints exactly one summary line and returns nothing."""
    cell = ok(run("%bb_run agent 'Title of example.com' -o titles"))
    assert cell.value is None
    frame = shell.user_ns["titles"]
    assert shell.user_ns["_bb_last"] is frame
    lines = cell.out.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"titles: 1 row × {frame.shape[1]} columns · runs: COMPLETED 1")  # noqa: RUF001
    assert lines[0].endswith(" s")


def test_foreach_list_keeps_keys_and_order(
    shell: InteractiveShell, run: CellRunner, bb: Emulator
) -> None:
    """``--foreach`` over a list runs once per element, keyed by position."""
    shell.user_ns["shops"] = ["a.com", "b.com", "c.com", "d.com"]
    cell = ok(run("%%bb_run agent --foreach shops --concurrency 2\nTitle of {{row}}"))
    frame = cell.value
    assert list(frame["_key"]) == [0, 1, 2, 3]
    assert list(frame["_task"]) == [f"Title of {s}" for s in shell.user_ns["shops"]]
    assert set(frame["_status"]) == {"COMPLETED"}
    assert frame.attrs["batch_id"].startswith("batch-")
    assert bb.stats.runs_created == 4


def test_foreach_dataframe_keys_by_index(
    shell: InteractiveShell, run: CellRunner, bb: Emulator
) -> None:
    """``--foreach`` over a DataFrame keys results by the index and fills row columns."""
    shell.user_ns["df"] = pd.DataFrame({"domain": ["a.com", "b.com"]}, index=["acme", "bolt"])
    shell.user_ns["S"] = SCHEMA
    ok(run("%bb_run agent 'Title of {{row.domain}}' --foreach df --schema-var S -o out"))
    frame = shell.user_ns["out"]
    assert list(frame["_key"]) == ["acme", "bolt"]
    assert list(frame["_task"]) == ["Title of a.com", "Title of b.com"]
    assert frame["words"].notna().all()


def test_concurrency_above_max_is_capped_with_a_note(
    run: CellRunner, shell: InteractiveShell, magic: BBMagic, bb: Emulator
) -> None:
    """``--concurrency`` above ``BBMagic.max_concurrency`` is capped and says so."""
    magic.max_concurrency = 2
    shell.user_ns["items"] = list(range(5))
    cell = ok(run("%bb_run agent 'Item {{row}}' --foreach items --concurrency 50 -o r"))
    assert "above BBMagic.max_concurrency (2); using 2" in cell.err
    assert len(shell.user_ns["r"]) == 5


@pytest.mark.parametrize(
    "source",
    [
        '%%bb_run function {fid}\n{{"q": "hello"}}',
        '%bb_run fn {fid} --params \'{{"q": "hello"}}\'',
        "%bb_run fn {fid} --params-var p",
    ],
    ids=["cell-json", "params-option", "params-var"],
)
def test_function_invocation_forms(
    shell: InteractiveShell, run: CellRunner, bb: Emulator, source: str
) -> None:
    """Each way of giving params invokes the function and returns its results as a frame."""
    fid = bb.register_function("echo-q", lambda params, _ctx: {"echo": params["q"]}, duration=1)
    shell.user_ns["p"] = {"q": "hello"}
    frame = ok(run(source.format(fid=fid))).value
    assert frame.loc[0, "echo"] == "hello"
    assert frame.loc[0, "_status"] == "COMPLETED"
    assert bb.stats.invocations_created == 1


def test_function_foreach_dataframe(shell: InteractiveShell, run: CellRunner, bb: Emulator) -> None:
    """``--foreach`` over a DataFrame without a template sends each row as params."""
    fid = bb.register_function("double", lambda p, _c: {"twice": p["n"] * 2}, duration=1)
    shell.user_ns["rows"] = pd.DataFrame({"n": [1, 2, 3]}, index=[10, 20, 30])
    frame = ok(run(f"%bb_run function {fid} --foreach rows -o d")) and shell.user_ns["d"]
    assert list(frame["_key"]) == [10, 20, 30]
    assert list(frame["twice"]) == [2, 4, 6]


def test_raw_returns_run_objects(shell: InteractiveShell, run: CellRunner, bb: Emulator) -> None:
    """``--raw`` gives the run model for one run and the ``Batch`` for ``--foreach``."""
    single = ok(run("%bb_run agent 'One' --raw")).value
    assert isinstance(single, AgentRun) and single.status == "COMPLETED"
    shell.user_ns["xs"] = [1, 2]
    batch = ok(run("%bb_run agent 'N {{row}}' --foreach xs --raw")).value
    assert isinstance(batch, Batch) and len(batch) == 2
    fid = bb.register_function("one", lambda _p, _c: 1, duration=1)
    invocation = ok(run(f"%bb_run fn {fid} --raw")).value
    assert isinstance(invocation, Invocation) and invocation.results == 1


@pytest.mark.parametrize("emulator_config", [LONG_RUNS], indirect=True, ids=["long-runs"])
def test_no_wait_then_attach(shell: InteractiveShell, run: CellRunner, bb: Emulator) -> None:
    """``--no-wait`` returns PENDING runs at once; ``attach`` collects them without resubmitting."""
    shell.user_ns["xs"] = ["a", "b", "c"]
    cell = ok(run("%bb_run agent 'Slow {{row}}' --foreach xs --no-wait -o handle"))
    handle = shell.user_ns["handle"]
    assert set(handle["_status"]) <= {"PENDING", "RUNNING"}
    batch_id = handle.attrs["batch_id"]
    assert f"%bb_run attach {batch_id}" in cell.err
    assert bb.stats.runs_created == 3
    done = ok(run(f"%bb_run attach {batch_id}")).value
    assert list(done["_key"]) == [0, 1, 2]
    assert set(done["_status"]) == {"COMPLETED"}
    assert bb.stats.runs_created == 3


@pytest.mark.parametrize("emulator_config", [LONG_RUNS], indirect=True, ids=["long-runs"])
def test_no_wait_beyond_the_cap_leaves_inputs_queued_for_attach(
    shell: InteractiveShell, run: CellRunner, bb: Emulator
) -> None:
    """Inputs beyond the concurrency cap are not lost: ``attach`` submits them later."""
    shell.user_ns["xs"] = list(range(5))
    cell = ok(run("%bb_run agent 'Slow {{row}}' --foreach xs --concurrency 2 --no-wait --raw"))
    batch = cell.value
    assert bb.stats.runs_created == 2
    assert "3 input(s) not yet submitted" in cell.err
    done = ok(run(f"%bb_run attach {batch.id}")).value
    assert len(done) == 5 and set(done["_status"]) == {"COMPLETED"}
    assert bb.stats.runs_created == 5


@pytest.mark.parametrize("emulator_config", [LONG_RUNS], indirect=True, ids=["long-runs"])
def test_stop_run_and_batch(shell: InteractiveShell, run: CellRunner, bb: Emulator) -> None:
    """``stop ID`` stops a run (and says so when it had ended); a batch id stops its runs."""
    run_id = ok(run("%bb_run agent 'Slow' --no-wait --raw")).value.id
    cell = ok(run(f"%bb_run stop {run_id}"))
    assert f"stop requested for run {run_id}" in cell.out
    assert cell.value.loc[0, "_status"] == "STOPPED"
    again = ok(run(f"%bb_run stop {run_id}"))
    assert "had already ended (STOPPED); nothing to stop" in again.out
    shell.user_ns["xs"] = [1, 2]
    batch = ok(run("%bb_run agent 'Slow {{row}}' --foreach xs --no-wait --raw")).value
    stopped = ok(run(f"%bb_run stop {batch.id} -o s"))
    assert stopped.out.count("stop requested") == 2
    assert set(shell.user_ns["s"]["_status"]) == {"STOPPED"}


def test_history_lists_batches(shell: InteractiveShell, run: CellRunner, bb: Emulator) -> None:
    """``history`` returns the journal as a DataFrame including the runs just made."""
    ok(run("%bb_run agent 'First'"))
    ok(run("%bb_run agent 'Second'"))
    frame = ok(run("%bb_run history")).value
    assert isinstance(frame, pd.DataFrame)
    assert len(frame) >= 2


@pytest.mark.parametrize(
    "source",
    [
        "%bb_run agent 'Title of {{row}}' --foreach xs --var pw={{secret}} --dry-run",
        '%%bb_run fn some-fn --foreach xs --dry-run\n{"u": "{{row}}"}',
    ],
    ids=["agent", "function"],
)
def test_dry_run_sends_nothing(
    shell: InteractiveShell, run: CellRunner, bb: Emulator, source: str
) -> None:
    """``--dry-run`` prints the bodies and the emulator sees no request at all."""
    shell.user_ns.update(xs=["a", "b"], secret="s3cret-value")
    cell = ok(run(source))
    assert "nothing was sent" in cell.out
    assert "s3cret-value" not in cell.out
    assert bb.stats.total_requests == 0
    assert "_bb_last" not in shell.user_ns


@pytest.mark.parametrize("emulator_config", [LONG_RUNS], indirect=True, ids=["long-runs"])
def test_timeout_leaves_runs_running_with_attach_hint(
    shell: InteractiveShell, run: CellRunner, bb: Emulator
) -> None:
    """``--timeout`` stops waiting; the runs keep going and the note says how to collect them."""
    cell = ok(run("%bb_run agent 'Slow' --timeout 30 -o t"))
    frame = shell.user_ns["t"]
    assert frame.loc[0, "_status"] in {"PENDING", "RUNNING"}
    assert "still running; collect them with %bb_run attach batch-" in cell.err


@pytest.mark.parametrize(
    ("mode", "expect_line"), [("text", True), ("none", False)], ids=["text", "none"]
)
def test_progress_option(run: CellRunner, bb: Emulator, mode: str, expect_line: bool) -> None:
    """``--progress text`` writes a progress line; ``none`` writes none."""
    cell = ok(run(f"%bb_run agent 'Title' --progress {mode} -o p"))
    assert ("1/1 done" in cell.err) is expect_line


def test_config_traits(shell: InteractiveShell, magic: BBMagic, bb: Emulator) -> None:
    """``%config BBMagic.x = ...`` sets the traits the magic uses."""
    shell.run_line_magic("config", "BBMagic.poll_interval = 2")
    shell.run_line_magic("config", "BBMagic.max_concurrency = 7")
    shell.run_line_magic("config", "BBMagic.on_interrupt = 'detach'")
    shell.run_line_magic("config", "BBMagic.short_errors = False")
    shell.run_line_magic("config", "BBMagic.progress = 'text'")
    shell.run_line_magic("config", "BBMagic.base_url = 'http://127.0.0.1:1'")
    assert (magic.poll_interval, magic.max_concurrency) == (2.0, 7)
    assert (magic.on_interrupt, magic.short_errors) == ("detach", False)
    assert (magic.progress, magic.base_url) == ("text", "http://127.0.0.1:1")


def test_api_error_is_one_line(shell: InteractiveShell, run: CellRunner, bb: Emulator) -> None:
    """A refused create shows one line with the status and Browserbase's message."""
    cell = run("%bb_run fn no-such-function --params '{\"a\": 1}'")
    assert isinstance(cell.error, BBRunError)
    assert isinstance(shell.user_ns["_bb_last"], pd.DataFrame)
    assert cell.out.strip().count("\n") == 0
    assert "404" in cell.out and "not found" in cell.out
    assert "Traceback" not in cell.out + cell.err


def test_api_error_on_stop_names_the_run(run: CellRunner, bb: Emulator) -> None:
    """Stopping an unknown run shows one line naming the status and the run id."""
    cell = run("%bb_run stop 00000000-0000-0000-0000-000000000000")
    assert isinstance(cell.error, BBRunError)
    assert "NotFoundError 404" in cell.out
    assert "00000000-0000-0000-0000-000000000000" in cell.out
    assert "Traceback" not in cell.out + cell.err


def test_short_errors_off_shows_the_traceback(
    run: CellRunner, magic: BBMagic, bb: Emulator
) -> None:
    """With ``short_errors = False`` the original exception and its traceback are shown."""
    magic.short_errors = False
    cell = run("%bb_run stop 00000000-0000-0000-0000-000000000000")
    assert type(cell.error).__name__ == "NotFoundError"
    assert "Traceback" in cell.out
    refused = run("%bb_run fn no-such-function")
    assert type(refused.error).__name__ == "BBNBError"
    assert "Traceback" in refused.out


def test_wrong_key_is_one_line(
    run: CellRunner, magic: BBMagic, emulator: Emulator, clock: Any, isolated_env: Any
) -> None:
    """A wrong API key gives one 401 line, not a traceback."""
    from bbnb.client._client import Client

    client = Client(
        api_key="bb_wrong",
        base_url="http://127.0.0.1:9",
        transport=emulator.transport(),
        clock=clock,
    )
    magic.client_factory = lambda _m: client
    magic.progress = "none"
    cell = run("%bb_run agent 'Title'")
    client.close()
    assert isinstance(cell.error, BBRunError)
    assert "401" in cell.out
    assert "bb_wrong" not in cell.out + cell.err


def test_attach_unknown_id_is_a_usage_error(run: CellRunner, bb: Emulator) -> None:
    """Attaching to an id the journal does not know is a ``UsageError``."""
    cell = run("%bb_run attach batch-nope")
    assert isinstance(cell.error, UsageError)
    assert "no batch or run with id 'batch-nope'" in str(cell.error)


def test_failed_runs_are_rows_not_errors(
    shell: InteractiveShell, run: CellRunner, bb: Emulator
) -> None:
    """A function that raises gives a FAILED row with its cause, and the cell succeeds."""
    cell = ok(run('%bb_run fn fail --params \'{"message": "boom"}\' -o f'))
    frame = shell.user_ns["f"]
    assert frame.loc[0, "_status"] == "FAILED"
    assert "boom" in str(frame.loc[0, "_cause_message"])
    assert "runs: FAILED 1" in cell.out


def _json(value: Any) -> str:
    import json

    return json.dumps(value)


@pytest.mark.parametrize("emulator_config", [LONG_RUNS], indirect=True, ids=["long-runs"])
def test_attach_single_run_by_id(shell: InteractiveShell, run: CellRunner, bb: Emulator) -> None:
    """``attach RUN_ID`` waits for one journalled run and returns it as a frame."""
    pending = ok(run("%bb_run agent 'Slow one' --no-wait --raw")).value
    assert pending.status in {"PENDING", "RUNNING"}
    frame = ok(run(f"%bb_run attach {pending.id} -o one")) and shell.user_ns["one"]
    assert list(frame["_id"]) == [pending.id]
    assert frame.loc[0, "_status"] == "COMPLETED"
    assert bb.stats.runs_created == 1
