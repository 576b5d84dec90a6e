"""Every Python snippet in the README runs as written, in order, in one fresh kernel.

The snippets are the fenced ```python blocks of ``README.md``.  They run in a real
``python3`` kernel with no Browserbase settings (so on the embedded emulator), the
way a person pastes them into a new notebook.  The last one asks for the key with
``getpass``; the test answers the kernel's input request with a sentinel key, which
must appear in no output.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_client.manager import KernelManager, start_new_kernel

README = Path(__file__).resolve().parents[2] / "README.md"
FENCE = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def readme_snippets() -> list[str]:
    """The README's Python snippets, in order."""
    return [match.group(1) for match in FENCE.finditer(README.read_text(encoding="utf-8"))]


def test_the_readme_has_the_snippets_this_test_runs() -> None:
    """The snippet finder sees the tour, the fan-out, the widget, plain Python and getpass."""
    snippets = readme_snippets()
    assert len(snippets) >= 8
    assert snippets[0].strip() == "%load_ext bbnb"
    assert any(s.startswith("%%bb_run agent --schema-var Category") for s in snippets)
    assert any("getpass" in s for s in snippets)


@pytest.fixture
def kernel(kernel_env: Path) -> Iterator[BlockingKernelClient]:
    """A fresh python3 kernel in the clean environment of ``kernel_env``."""
    workdir = kernel_env / "readme"
    workdir.mkdir()
    manager: KernelManager
    manager, client = start_new_kernel(startup_timeout=90, kernel_name="python3", cwd=str(workdir))
    try:
        yield client
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


@pytest.mark.e2e
def test_every_readme_snippet_runs_in_a_fresh_kernel(kernel: BlockingKernelClient) -> None:
    """Pasted in order into a new notebook, each README snippet runs without an error."""
    sentinel = "bb_live_readme_" + secrets.token_hex(8)
    outputs: list[dict[str, Any]] = []

    def answer(message: dict[str, Any]) -> None:
        kernel.input(sentinel)

    def collect(message: dict[str, Any]) -> None:
        if message["msg_type"] in ("stream", "display_data", "execute_result", "error"):
            outputs.append({"type": message["msg_type"], **message["content"]})

    for snippet in readme_snippets():
        before = len(outputs)
        reply = kernel.execute_interactive(
            snippet,
            allow_stdin=True,
            stdin_hook=answer,
            output_hook=collect,
            timeout=120,
        )
        content = reply["content"]
        assert content["status"] == "ok", (snippet, content.get("evalue"), outputs[before:])
    text = json.dumps(outputs)
    assert "SIMULATED" in text
    assert sentinel not in text
    errors = [o for o in outputs if o["type"] == "error"]
    assert errors == []
    check = kernel.execute_interactive(
        "print(kitchen.shape[0] > 0, len(catalogue) > 0, type(frame).__name__)",
        output_hook=collect,
        timeout=60,
    )
    assert check["content"]["status"] == "ok"
    assert "True True DataFrame" in json.dumps(outputs[-1])
