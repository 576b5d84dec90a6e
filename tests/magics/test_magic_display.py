"""What a person sees from ``%bb_run``: the simulated note, the answer first, summaries, help."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell

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
    assert "no cloud" in html_text and "no browser" in html_text and "rule-based" in html_text
    assert "SIMULATED" in notes[0]["text/plain"]
