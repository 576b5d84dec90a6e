"""Real-browser harness: start JupyterLab, drive a page of it with Playwright.

Everything here talks to 127.0.0.1 only.  The server is started with a token, no
browser, a temporary root folder and settings that switch off every network check
(news, update checks, the PyPI extension manager, language-server discovery).
Chromium is Debian's ``/usr/bin/chromium`` (``playwright install`` cannot download
browsers here), launched with the flags listed in DESIGN.md; each test gets a fresh
browser context, and any request to a host other than 127.0.0.1 is aborted and
recorded so a test can prove nothing tried to reach the internet.

The fixtures that use these helpers are in ``conftest.py``.

Screenshots go to ``test-artifacts/e2e/`` at the repository root (gitignored).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import nbformat

CHROMIUM = os.environ.get("BBNB_E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / "test-artifacts" / "e2e"
SERVER_START_TIMEOUT = 60.0
KERNEL_START_TIMEOUT = 90.0
WIDGET_ERROR_TEXT = "Error displaying widget"
SENTINEL_API_KEY = "bb_SENTINEL_API_KEY_e2e_5f3c"
"""The API key the kernels get; the secrets test proves it never reaches a saved notebook."""


def _free_port() -> int:
    """Ask the OS for a free TCP port on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_for(predicate: Any, timeout: float, what: str, on_fail: Any = None) -> None:
    """Poll ``predicate`` every 0.25 s (on an Event, not a sleep) until true or timeout."""
    pause = threading.Event()
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            detail = on_fail() if on_fail else ""
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}{detail}")
        pause.wait(0.25)


@dataclass
class LabServer:
    """A running JupyterLab: where it is, how to log in, where its files live."""

    url: str
    token: str
    root: Path
    log_path: Path
    process: subprocess.Popen[bytes]
    env: dict[str, str] = field(default_factory=dict)

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of the server log, for error messages."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no server log)"
        return "\n".join(text.splitlines()[-lines:])

    def lab_url(self, notebook: str) -> str:
        """The URL that opens ``notebook`` in a fresh (reset) workspace."""
        return f"{self.url}/lab/tree/{notebook}?reset&token={self.token}"


def _write_server_config(config_dir: Path, settings_dir: Path) -> None:
    """Write Jupyter config that keeps the server and the front end offline."""
    config = {
        "LabApp": {
            "news_url": None,
            "check_for_updates_class": "jupyterlab.handlers.announcements.NeverCheckForUpdate",
            "extension_manager": "readonly",
            "expose_app_in_browser": True,
            "user_settings_dir": str(settings_dir),
            "workspaces_dir": str(settings_dir / "workspaces"),
        },
        "LanguageServerManager": {"autodetect": False},
        "ServerApp": {"open_browser": False, "port_retries": 0},
    }
    (config_dir / "jupyter_server_config.json").write_text(json.dumps(config))
    # Front-end settings: no news prompt, no update check.
    notification = settings_dir / "@jupyterlab" / "apputils-extension"
    notification.mkdir(parents=True, exist_ok=True)
    (notification / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )
    # Save widget state into notebooks, so the secrets test inspects the most it can.
    widgets = settings_dir / "@jupyter-widgets" / "jupyterlab-manager"
    widgets.mkdir(parents=True, exist_ok=True)
    (widgets / "plugin.jupyterlab-settings").write_text(json.dumps({"saveState": True}))


def start_lab_server(base: Path, extra_env: dict[str, str] | None = None) -> LabServer:
    """Start JupyterLab on 127.0.0.1 with a random port and token; wait until it answers."""
    root = base / "root"
    config_dir = base / "config"
    settings_dir = base / "settings"
    for path in (root, config_dir, settings_dir, base / "data", base / "runtime"):
        path.mkdir(parents=True, exist_ok=True)
    _write_server_config(config_dir, settings_dir)
    port = _free_port()
    token = secrets.token_hex(16)
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(config_dir),
        "JUPYTER_DATA_DIR": str(base / "data"),
        "JUPYTER_RUNTIME_DIR": str(base / "runtime"),
        "JUPYTER_PLATFORM_DIRS": "1",
        "PYTHONUNBUFFERED": "1",
        **(extra_env or {}),
    }
    args = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--allow-root")
    log_path = base / "jupyterlab.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            args, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    server = LabServer(
        url=f"http://127.0.0.1:{port}",
        token=token,
        root=root,
        log_path=log_path,
        process=process,
        env=env,
    )

    def ready() -> bool:
        if process.poll() is not None:
            raise RuntimeError(
                f"JupyterLab exited with code {process.returncode} before it was ready:\n"
                + server.log_tail()
            )
        try:
            response = httpx.get(f"{server.url}/api/status", params={"token": token}, timeout=2)
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    try:
        _wait_for(
            ready, SERVER_START_TIMEOUT, "JupyterLab to answer", lambda: "\n" + server.log_tail()
        )
    except BaseException:
        stop_lab_server(server)
        raise
    return server


def stop_lab_server(server: LabServer) -> None:
    """Stop the server (and with it its kernels), politely then firmly."""
    if server.process.poll() is None:
        server.process.terminate()
        try:
            server.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(timeout=5)


def write_notebook(path: Path, sources: list[str]) -> Path:
    """Write a notebook of code cells (no outputs) that runs on the python3 kernel."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in sources]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, path)
    return path


class Lab:
    """Drive one JupyterLab page: open a notebook, run it, find widgets, take screenshots."""

    def __init__(self, server: LabServer, page: Any, blocked: list[str], name: str) -> None:
        self.server = server
        self.page = page
        self.blocked = blocked
        self.name = name

    def open(self, notebook: str) -> None:
        """Open ``notebook`` (relative to the server root) and wait for its kernel to be idle."""
        self.page.goto(self.server.lab_url(notebook), wait_until="domcontentloaded")
        self.page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
        self.wait_kernel_idle()

    def wait_kernel_idle(self, timeout: float = KERNEL_START_TIMEOUT) -> None:
        """Wait until the notebook's kernel exists and reports idle (first start is slow)."""
        self.page.wait_for_function(
            """() => {
                const app = window.jupyterapp;
                const panel = app && app.shell.currentWidget;
                const kernel = panel && panel.sessionContext && panel.sessionContext.session
                    && panel.sessionContext.session.kernel;
                return !!kernel && kernel.status === 'idle';
            }""",
            timeout=timeout * 1000,
        )

    def command(self, command_id: str) -> None:
        """Execute a JupyterLab command (e.g. ``notebook:run-all-cells``) and await it."""
        self.page.evaluate("(id) => window.jupyterapp.commands.execute(id)", command_id)

    def run_all(self) -> None:
        """Run every cell of the open notebook."""
        self.command("notebook:run-all-cells")

    def save(self) -> None:
        """Save the open notebook (as the user's Ctrl+S would)."""
        self.command("docmanager:save")
        self.page.wait_for_function(
            """() => {
                const w = window.jupyterapp.shell.currentWidget;
                return !!w && w.context && !w.context.model.dirty;
            }""",
            timeout=30_000,
        )

    def wait_widget(self, selector: str, timeout: float = KERNEL_START_TIMEOUT) -> Any:
        """Wait for widget DOM (not text: the cell source shows the same text) and return it."""
        locator = self.page.locator(f".jp-OutputArea-output {selector}").first
        locator.wait_for(state="visible", timeout=timeout * 1000)
        return locator

    def widget_errors(self) -> list[str]:
        """Texts of any 'Error displaying widget' outputs currently on the page."""
        found: list[str] = self.page.locator(f"text={WIDGET_ERROR_TEXT}").all_inner_texts()
        return found

    def screenshot(self, label: str, selector: str | None = None) -> Path:
        """Save a PNG under test-artifacts/e2e/ (whole page, or one element)."""
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{self.name}-{label}")
        path = ARTIFACTS / f"{safe}.png"
        if selector is None:
            self.page.screenshot(path=str(path), full_page=True)
        else:
            self.page.locator(selector).first.screenshot(path=str(path))
        return path
