"""AgentTask in a real JupyterLab and Chromium: type, build a schema, Run, see the table;
then save the notebook and prove no secret reached the .ipynb file."""

from __future__ import annotations

import json

import pytest
from lab_harness import SENTINEL_API_KEY, Lab, write_notebook

pytestmark = pytest.mark.e2e

NOTEBOOK = [
    "from bbnb.widgets import AgentTask\ntask = AgentTask(poll_interval=0.25)\ntask",
]
RESULT_ROWS = ".bbnb-result .bbnb-result-table tbody tr"
SENTINEL_VARIABLE = "SENTINEL-VARIABLE-VALUE-81d2"
SENTINEL_PROXY_PW = "SENTINEL-PROXY-PASSWORD-a9e4"


def _open_task(lab: Lab, name: str) -> None:
    write_notebook(lab.server.root / name, NOTEBOOK)
    lab.open(name)
    lab.run_all()
    lab.wait_widget(".bbnb-agent-task .bbnb-run")


def _type_task_and_fields(lab: Lab) -> None:
    page = lab.page
    page.locator(".bbnb-task textarea").fill("List the laptops on example.com with their prices")
    add = page.locator(".bbnb-schema .bbnb-add-field")
    add.click()
    add.click()
    names = page.locator(".bbnb-schema-field input[placeholder='field name']")
    names.nth(0).fill("name")
    names.nth(1).fill("price")
    page.locator(".bbnb-schema-field select").nth(1).select_option("number")
    names.nth(1).press("Tab")


def _run_and_wait_for_rows(lab: Lab) -> int:
    lab.page.locator(".bbnb-agent-task .bbnb-run").click()
    rows = lab.page.locator(RESULT_ROWS)
    rows.first.wait_for(state="visible", timeout=60_000)
    return rows.count()


def test_agent_task_runs_and_shows_result_table(lab: Lab) -> None:
    """Type a task, add two schema fields, Run, and the result table shows rows."""
    _open_task(lab, "agent_task.ipynb")
    _type_task_and_fields(lab)
    lab.screenshot("form", ".bbnb-agent-task")
    assert _run_and_wait_for_rows(lab) >= 1
    header = lab.page.locator(".bbnb-result-table thead").inner_text()
    assert "name" in header and "price" in header
    assert "COMPLETED" in lab.page.locator(".bbnb-status").inner_text()
    lab.screenshot("result", ".bbnb-agent-task")
    assert lab.widget_errors() == []
    assert lab.blocked == [], f"requests left 127.0.0.1: {lab.blocked}"


def test_saved_notebook_holds_no_secret(lab: Lab) -> None:
    """Variable values, proxy passwords and the API key never reach the saved .ipynb."""
    _open_task(lab, "secrets.ipynb")
    page = lab.page
    _type_task_and_fields(lab)
    page.locator(".bbnb-add-variable").click()
    page.locator(".bbnb-variable-row input[placeholder='name']").fill("code")
    secret_box = page.locator(".bbnb-variable-row input[type='password']")
    secret_box.fill(SENTINEL_VARIABLE)
    secret_box.press("Enter")
    page.get_by_text("Browser settings", exact=True).first.click()
    page.get_by_role("button", name="Custom rules").click()
    page.get_by_role("button", name="Add proxy rule").click()
    page.locator(".bbnb-proxy-row select").first.select_option("external")
    page.locator(".bbnb-proxy-row input[placeholder^='server']").fill("http://127.0.0.1:9")
    proxy_pw = page.locator(".bbnb-proxy-row input[type='password']")
    proxy_pw.fill(SENTINEL_PROXY_PW)
    proxy_pw.press("Enter")
    # The kernel captured both secrets and emptied the boxes.
    page.wait_for_function(
        """() => [...document.querySelectorAll('.bbnb-agent-task input[type=password]')]
              .every(e => e.value === '' && e.placeholder.includes('set'))""",
        timeout=30_000,
    )
    lab.screenshot("secrets-form")
    assert _run_and_wait_for_rows(lab) >= 1  # the kernel used the sentinel key
    lab.save()
    text = (lab.server.root / "secrets.ipynb").read_text()
    notebook = json.loads(text)
    assert "application/vnd.jupyter.widget-state+json" in notebook["metadata"].get("widgets", {}), (
        "widget state was saved, so this check covers it"
    )
    for sentinel in (SENTINEL_VARIABLE, SENTINEL_PROXY_PW, SENTINEL_API_KEY):
        assert sentinel not in text, f"{sentinel} leaked into the saved notebook"
    assert lab.widget_errors() == []
