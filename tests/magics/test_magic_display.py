"""What a person sees from ``%bb_run``: the simulated note, the answer first, summaries, help."""

from __future__ import annotations

import html
from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd
import pytest
from IPython.core.interactiveshell import InteractiveShell

from bbnb.emulator import Emulator
from bbnb.magics import BBMagic

CellRunner = Callable[[str], Any]


def ok(cell: Any) -> Any:
    """Assert the cell raised nothing and return it."""
    assert cell.error is None, (cell.out, cell.err)
    return cell


@pytest.fixture
def published(shell: InteractiveShell, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Every display bundle the shell publishes (what a notebook would render)."""
    bundles: list[Any] = []
    original = shell.display_pub.publish

    def publish(data: Any, *args: Any, **kwargs: Any) -> None:
        bundles.append(data)
        original(data, *args, **kwargs)

    monkeypatch.setattr(shell.display_pub, "publish", publish)
    yield bundles


def test_simulated_note_is_calm_html_output_not_stderr(
    shell: InteractiveShell,
    run: CellRunner,
    magic: BBMagic,
    isolated_env: Any,
    published: list[Any],
) -> None:
    """In IPython the simulated note is displayed once as HTML output, saying what is simulated."""
    from bbnb.client._config import _reset_notice
    from bbnb.emulator import embedded

    embedded(speed=200.0, run_failure_rate=0.0, run_timeout_rate=0.0)
    _reset_notice()
    magic.progress = "none"
    first = ok(run("%bb_run agent 'Title of example.com' -o a"))
    second = ok(run("%bb_run agent 'Title of example.org' -o b"))
    assert "SIMULATED" not in first.err + second.err, "the note must not be an error box"
    notes = [b for b in published if "bbnb-simulated-notice" in b.get("text/html", "")]
    assert len(notes) == 1
    html_text = notes[0]["text/html"]
    assert "no cloud" in html_text and "rule-based" in html_text
    assert "no browser" in html_text or "real headless Chromium" in html_text
    assert "SIMULATED" in notes[0]["text/plain"]


def test_help_is_plain_text(run: CellRunner, magic: BBMagic) -> None:
    """``%bb_run?`` shows no reStructuredText markup (no ``::``, no double backticks)."""
    cell = ok(run("%bb_run?"))
    text = cell.out
    assert "Run Browserbase agents or functions" in text
    assert "``" not in text
    assert not [line for line in text.splitlines() if line.rstrip().endswith("::")]
    assert "%bb_run history BATCH_ID" in text or "history batch-" in text


def test_single_answer_is_shown_in_full_first(
    run: CellRunner, bb: Emulator, published: list[Any]
) -> None:
    """A schema-less line magic displays its whole answer before the DataFrame."""
    cell = ok(run("%bb_run agent 'What is the title of https://example.com?'"))
    frame = cell.value
    answer = frame["value"].iloc[0]
    assert len(answer) > 50, "the answer is longer than a table cell shows"
    answers = [b for b in published if "bbnb-answer" in b.get("text/html", "")]
    assert len(answers) == 1
    assert html.escape(answer) in answers[0]["text/html"]
    assert answers[0]["text/plain"] == f"Answer: {answer}"
    assert frame.columns[0] == "value"


def test_no_answer_block_with_out_or_schema(
    run: CellRunner, bb: Emulator, published: list[Any]
) -> None:
    """With -o (a summary line) or a schema (typed columns) no answer block is added."""
    ok(run("%bb_run agent 'Title of example.com' -o t"))
    ok(
        run(
            '%bb_run agent \'Title of example.com\' --schema \'{"type": "object", "properties": {"title": {"type": "string"}}}\''
        )
    )
    assert not [b for b in published if "bbnb-answer" in b.get("text/html", "")]


def test_status_counts_have_no_zero_rows_and_function_task_is_na(
    shell: InteractiveShell, run: CellRunner, bb: Emulator
) -> None:
    """``_status.value_counts()`` lists only statuses that occur; a function's ``_task`` is <NA>."""
    fid = bb.register_function("echo-d", lambda params, _ctx: {"echo": params["q"]}, duration=1)
    frame = ok(run(f"%bb_run fn {fid} --params '{{\"q\": 1}}'")).value
    counts = frame["_status"].value_counts()
    assert dict(counts) == {"COMPLETED": 1}
    assert frame["_task"].isna().all()
    assert "NaN" not in frame.to_string()
    assert "<NA>" in str(frame["_task"].iloc[0]) or frame["_task"].dtype == "string"


def test_summary_says_one_row(shell: InteractiveShell, run: CellRunner, bb: Emulator) -> None:
    """The -o summary line says '1 row', not '1 rows'."""
    cell = ok(run("%bb_run agent 'Title of example.com' -o t"))
    assert cell.out.startswith("t: 1 row × ")  # noqa: RUF001


def test_history_is_one_row_per_batch_with_drill_down(
    shell: InteractiveShell, run: CellRunner, bb: Emulator
) -> None:
    """``%bb_run history`` shows batches; ``%bb_run history BATCH_ID`` shows that batch's runs."""
    shell.user_ns["sites"] = ["a.example", "b.example", "c.example"]
    ok(run("%bb_run agent 'Title of {{row}}' --foreach sites -o titles"))
    ok(run("%bb_run agent 'Second task' -o second"))
    batches = ok(run("%bb_run history")).value
    assert isinstance(batches, pd.DataFrame)
    assert len(batches) == 2
    assert list(batches.columns) == [
        "batch_id",
        "created",
        "kind",
        "state",
        "runs",
        "statuses",
        "task",
    ]
    fanned = batches[batches["runs"] == 3].iloc[0]
    assert fanned["statuses"] == "COMPLETED 3"
    assert fanned["task"].startswith("Title of")
    runs = ok(run(f"%bb_run history {fanned['batch_id']}")).value
    assert len(runs) == 3
    assert {"status", "id"} <= set(runs.columns)
    assert len(runs.columns) <= 7
    missing = run("%bb_run history batch-nope")
    assert missing.error is not None and "no batch 'batch-nope'" in str(missing.error)
