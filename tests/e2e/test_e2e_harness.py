"""The harness itself: a plain ipywidgets button renders in JupyterLab and reaches the kernel."""

from __future__ import annotations

import pytest
from lab_harness import Lab, write_notebook

pytestmark = pytest.mark.e2e

BUTTON_NOTEBOOK = [
    "import ipywidgets as w\n"
    "out = w.Output()\n"
    "btn = w.Button(description='Press me')\n"
    "btn.on_click(lambda _: out.append_stdout('kernel saw the click'))\n"
    "w.VBox([btn, out])",
]


def test_button_click_reaches_kernel(lab: Lab) -> None:
    """A widget button renders without error and its click runs the kernel callback."""
    write_notebook(lab.server.root / "button.ipynb", BUTTON_NOTEBOOK)
    lab.open("button.ipynb")
    lab.run_all()
    button = lab.wait_widget(".widget-button")
    button.click()
    lab.page.locator(".jp-OutputArea-output .widget-output").get_by_text(
        "kernel saw the click"
    ).wait_for(timeout=30_000)
    lab.screenshot("button")
    assert lab.widget_errors() == []
    assert lab.blocked == [], f"requests left 127.0.0.1: {lab.blocked}"
