"""What a new user sees, in a real JupyterLab and Chromium, with screenshots of each state.

- ``AgentTask``: empty (quiet, no red), running (Stop shown), done (result table),
  and non-conforming (the form explains which fields did not match);
- ``SessionSettings`` with several errors shown at once;
- ``FunctionInvoke`` after an unknown function id (an error, a form ready to run again);
- every tutorial notebook after Run All, with no error-styled output.

Screenshots go to ``test-artifacts/e2e/``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lab_harness import REPO_ROOT, Lab, write_notebook

pytestmark = pytest.mark.e2e

ERROR_LINE = ".bbnb-error"
STDERR_OUTPUT = ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
NOTEBOOKS = sorted((REPO_ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))

# A kernel-local emulator whose every answer only partly matches its schema.
PARTIAL_CLIENT = (
    "import bbnb\n"
    "from bbnb.emulator import EmulatorConfig, serve_in_thread\n"
    "partial = serve_in_thread(EmulatorConfig(seed=5, speed=50, partial_result_rate=1.0))\n"
    "partial_client = bbnb.Client(base_url=partial.base_url, api_key=partial.api_key)"
)


# The lab's kernels get the e2e emulator's key; a new user has none.
NEW_USER_CELL = (
    "# e2e: run as a new user would, with no Browserbase key or URL\n"
    "import os\n"
    "for _name in [n for n in os.environ if n.startswith('BROWSERBASE_')]:\n"
    "    del os.environ[_name]"
)


def _cell(source: str) -> dict[str, object]:
    return {
        "cell_type": "code",
        "id": "e2e-new-user",
        "metadata": {},
        "execution_count": None,
        "outputs": [],
        "source": source,
    }


def _visible_errors(lab: Lab, scope: str) -> int:
    count: int = lab.page.locator(f"{scope} {ERROR_LINE}").count()
    return count


def _wait_all_cells_ran(lab: Lab, timeout_s: float) -> None:
    """Wait until every code cell has an execution count and the kernel is idle."""
    lab.page.wait_for_function(
        """() => {
            const panel = window.jupyterapp.shell.currentWidget;
            if (!panel || !panel.content) return false;
            const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
            if (!kernel || kernel.status !== 'idle') return false;
            return panel.content.widgets
                .filter(c => c.model.type === 'code')
                .every(c => c.model.executionCount !== null);
        }""",
        timeout=timeout_s * 1000,
    )


def test_agent_task_empty_running_done(lab: Lab) -> None:
    """Empty: no red line; running: Stop is shown; done: the table, Stop hidden, a badge."""
    write_notebook(
        lab.server.root / "agent_states.ipynb",
        ["from bbnb.widgets import AgentTask\ntask = AgentTask(poll_interval=0.25)\ntask"],
    )
    lab.open("agent_states.ipynb")
    lab.run_all()
    form = ".bbnb-agent-task"
    lab.wait_widget(f"{form} .bbnb-run")
    assert _visible_errors(lab, form) == 0, "an empty form says nothing yet"
    assert "SIMULATED" in lab.page.locator(f"{form} .bbnb-simulated-badge").inner_text()
    lab.screenshot("empty", form)
    lab.page.locator(".bbnb-task textarea").fill(
        "Open http://slow.bbnb.test/?seconds=4 and report the page title"
    )
    lab.page.locator(".bbnb-task textarea").press("Tab")
    lab.page.locator(f"{form} .bbnb-run").click()
    lab.page.locator(f"{form} .bbnb-run-panel button:has-text('Stop')").wait_for(
        state="visible", timeout=30_000
    )
    lab.screenshot("running", form)
    lab.page.locator(".bbnb-result .bbnb-result-table").wait_for(state="visible", timeout=60_000)
    assert lab.page.locator(f"{form} .bbnb-run-panel button:has-text('Stop')").is_hidden()
    lab.screenshot("done", form)
    assert "Slow page (4 s)" in lab.page.locator(f"{form} .bbnb-result-table").inner_text(), (
        "the answer was read from the local web's page, not generated"
    )
    assert lab.widget_errors() == []
    assert lab.blocked == [], f"requests left 127.0.0.1: {lab.blocked}"


def test_agent_task_non_conforming_answer(lab: Lab) -> None:
    """An answer that does not match the schema is explained in the form itself."""
    write_notebook(
        lab.server.root / "agent_partial.ipynb",
        [
            PARTIAL_CLIENT,
            "from bbnb.widgets import AgentTask\n"
            "task = AgentTask('Report the top story of news.example', client=partial_client,"
            " poll_interval=0.25)\n"
            "task.schema.fields.add_field('title', 'string', \"the story's title\")\n"
            "task.schema.fields.add_field('points', 'integer', 'points')\n"
            "task",
        ],
    )
    lab.open("agent_partial.ipynb")
    lab.run_all()
    lab.wait_widget(".bbnb-agent-task .bbnb-run").click()
    note = lab.page.locator(".bbnb-agent-task .bbnb-result-note")
    note.wait_for(state="visible", timeout=60_000)
    assert "match the result schema" in note.inner_text()
    lab.screenshot("non-conforming", ".bbnb-agent-task")
    assert lab.widget_errors() == []


def test_session_settings_show_every_error_at_once(lab: Lab) -> None:
    """A bad timeout, a half viewport and a bad country show their errors together."""
    write_notebook(
        lab.server.root / "settings_errors.ipynb",
        [
            "from bbnb.widgets import SessionSettings\n"
            "s = SessionSettings('function')\n"
            "s.field('timeout').value = '30'\n"
            "s.field('browser_settings', 'viewport', 'width').value = '-5'\n"
            "row = s.proxies.add_row()\n"
            "row.texts[('geolocation', 'country')].value = 'USA'\n"
            "s",
        ],
    )
    lab.open("settings_errors.ipynb")
    lab.run_all()
    lab.wait_widget(".bbnb-settings")
    errors = lab.page.locator(f".bbnb-settings {ERROR_LINE}")
    errors.nth(2).wait_for(state="visible", timeout=30_000)
    texts = " | ".join(errors.all_inner_texts())
    assert "set both width and height" in texts
    assert "country code" in texts
    assert "greater than or equal to 60" in texts  # the session timeout minimum
    lab.screenshot("settings-errors", ".bbnb-settings")
    assert lab.widget_errors() == []


def test_function_invoke_unknown_id_leaves_form_ready(lab: Lab) -> None:
    """An unknown function id shows one error and NOT STARTED, never SUBMITTING forever."""
    write_notebook(
        lab.server.root / "function_unknown.ipynb",
        [
            "from bbnb.widgets import FunctionInvoke\n"
            "f = FunctionInvoke('page_title', {'url': 'https://example.com'})\n"
            "f"
        ],
    )
    lab.open("function_unknown.ipynb")
    lab.run_all()
    form = ".bbnb-function-invoke"
    lab.wait_widget(f"{form} .bbnb-run").click()
    lab.page.locator(f"{form} .bbnb-status:has-text('NOT STARTED')").wait_for(timeout=30_000)
    assert _visible_errors(lab, form) >= 1
    assert lab.page.locator(f"{form} button:has-text('Stop')").is_hidden()
    lab.screenshot("function-unknown-id", form)
    assert lab.widget_errors() == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_after_run_all_has_no_error_output(lab: Lab, path: Path) -> None:
    """Run All on each tutorial notebook as a new user would (no key: the notebook's own
    embedded emulator, real Chromium when installed): every cell runs, nothing is
    error-styled."""
    notebook = json.loads(path.read_text())
    notebook["cells"].insert(0, _cell(NEW_USER_CELL))
    (lab.server.root / path.name).write_text(json.dumps(notebook))
    lab.open(path.name)
    lab.run_all()
    _wait_all_cells_ran(lab, timeout_s=300)
    lab.screenshot("run-all")
    assert lab.page.locator(STDERR_OUTPUT).count() == 0, lab.page.locator(
        STDERR_OUTPUT
    ).all_inner_texts()
    assert lab.widget_errors() == []
    assert lab.blocked == [], f"requests left 127.0.0.1: {lab.blocked}"


def test_copy_as_magic_puts_the_cell_on_the_clipboard(lab: Lab) -> None:
    """Copy as magic shows the cell and its Copy button puts exactly that text on the clipboard."""
    lab.page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=lab.server.url)
    write_notebook(
        lab.server.root / "copy_magic.ipynb",
        [
            "from bbnb.widgets import AgentTask\n"
            "task = AgentTask('Report the top story of news.example')\n"
            "task.schema.fields.add_field('title', 'string', \"the story's title\")\n"
            "task"
        ],
    )
    lab.open("copy_magic.ipynb")
    lab.run_all()
    form = ".bbnb-agent-task"
    lab.wait_widget(f"{form} .bbnb-copy-magic").click()
    button = lab.page.locator(f"{form} .bbnb-copy-button")
    button.wait_for(state="visible", timeout=30_000)
    shown = lab.page.locator(f"{form} .bbnb-magic-text textarea").input_value()
    assert shown.startswith("%%bb_run agent --schema '")
    assert "'\"'\"'" not in shown
    button.click()
    lab.page.locator(f"{form} .bbnb-copy-button:has-text('Copied')").wait_for(timeout=10_000)
    copied = lab.page.evaluate("() => navigator.clipboard.readText()")
    assert copied == shown
    lab.screenshot("copy-as-magic", form)
    assert lab.widget_errors() == []
