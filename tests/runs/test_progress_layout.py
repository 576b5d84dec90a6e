"""Progress in a notebook: parts of the line never break inside, and text progress is not an error."""

from __future__ import annotations

import re
import sys

import pytest

from bbnb.runs.progress import ProgressState, TextProgress, WidgetProgress


class ZMQInteractiveShell:
    """Stands for ipykernel's shell: only its type name matters to the reporter."""


def _state(note: str = "") -> ProgressState:
    return ProgressState(
        label="batch-bff5be19fec9",
        total=100,
        started=0.0,
        now=111.7,
        counts={"COMPLETED": 57, "FAILED": 2, "TIMED_OUT": 1},
        done=60,
        note=note,
    )


def test_widget_label_keeps_each_part_whole() -> None:
    """'0.54 runs/s' and 'interrupted' are each one unbreakable piece; the bar is narrow."""
    widget = WidgetProgress(display=False)
    widget.update(_state(note="interrupted"))
    pieces = re.findall(r"<span style='white-space:nowrap'>(.*?)</span>", widget.label.value)
    assert "0.54 runs/s" in pieces
    assert "interrupted" in pieces
    assert widget.bar.layout.width == "160px"


def test_text_progress_goes_to_stdout_in_a_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    """In a Jupyter kernel text progress is ordinary output, not a pink stderr box."""
    monkeypatch.setattr("IPython.get_ipython", ZMQInteractiveShell)
    assert TextProgress().stream is sys.stdout


def test_text_progress_goes_to_stderr_outside_a_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    """In a terminal or script text progress stays on stderr, away from data on stdout."""
    monkeypatch.setattr("IPython.get_ipython", lambda: None)
    assert TextProgress().stream is sys.stderr


def test_an_attach_rate_counts_only_runs_it_saw_finish() -> None:
    """Runs already over when an attach starts do not inflate its runs/s (nor idle time)."""
    state = ProgressState(label="b", total=10, started=100.0, now=110.0, done=6, done_before=4)
    assert state.rate == 0.2
    assert "10.0s · 0.20 runs/s" in state.line()
