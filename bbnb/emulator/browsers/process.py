"""Launching and killing one headless Chromium.

``launch_chromium(executable, workdir, options)`` starts Chromium in its own process
group with a fresh ``--user-data-dir`` under ``workdir`` and ``--remote-debugging-port=0``,
then reads the port and browser path from ``DevToolsActivePort``.  ``kill()`` ends the
whole group and removes ``workdir``.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["BASE_FLAGS", "ChromiumProcess", "LaunchError", "LaunchOptions", "launch_chromium"]

# The flags of ../shared/DESIGN.md: without --disable-background-networking Chromium
# floods a closed network with connection attempts.
BASE_FLAGS = (
    "--headless",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--remote-debugging-port=0",
)
_PR_SET_PDEATHSIG = 1
_START_TIMEOUT = 30.0


class LaunchError(RuntimeError):
    """Chromium did not start (its exit code and last stderr lines are in the message)."""


@dataclass(frozen=True)
class LaunchOptions:
    """What differs between launches: window, user agent, host mappings, a profile to start from."""

    window: tuple[int, int] = (1280, 720)
    user_agent: str | None = None
    host_rules: tuple[str, ...] = ()
    profile_from: Path | None = None
    extra_args: tuple[str, ...] = ()

    def args(self) -> list[str]:
        out = [f"--window-size={self.window[0]},{self.window[1]}"]
        if self.user_agent:
            out.append(f"--user-agent={self.user_agent}")
        if self.host_rules:
            out.append(f"--host-resolver-rules={', '.join(self.host_rules)}")
        out.extend(self.extra_args)
        return out


def _die_with_parent() -> None:  # runs in the child between fork and exec
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


@dataclass(eq=False)
class ChromiumProcess:
    """A running Chromium: its process, its DevTools endpoint and its folders."""

    process: subprocess.Popen[bytes]
    port: int
    ws_path: str
    workdir: Path
    started: float = field(default_factory=time.monotonic)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def ws_url(self) -> str:
        """The browser's own CDP endpoint, ``ws://127.0.0.1:<port>/devtools/browser/<id>``."""
        return f"ws://127.0.0.1:{self.port}{self.ws_path}"

    @property
    def profile_dir(self) -> Path:
        return self.workdir / "profile"

    @property
    def downloads_dir(self) -> Path:
        return self.workdir / "downloads"

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """Kill the browser and its helpers (the process group), wait, remove the folders."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(10)
        shutil.rmtree(self.workdir, ignore_errors=True)

    def stderr_tail(self, lines: int = 5) -> str:
        try:
            text = (self.workdir / "stderr.log").read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.strip().splitlines()[-lines:])


def command_line(executable: str, workdir: Path, options: LaunchOptions) -> list[str]:
    """Chromium's argv for one launch."""
    args = [executable, *BASE_FLAGS, f"--user-data-dir={workdir / 'profile'}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--no-sandbox")  # Chromium refuses to run its sandbox as root
    args.extend(options.args())
    args.append("about:blank")
    return args


async def launch_chromium(
    executable: str,
    workdir: Path,
    options: LaunchOptions,
    *,
    on_spawn: Callable[[ChromiumProcess], None] | None = None,
) -> ChromiumProcess:
    """Start Chromium and wait (on the event loop) until its DevTools endpoint is up.

    ``on_spawn`` sees the process as soon as it exists (so its owner can kill it even if
    this coroutine never finishes)."""
    # Blocking on purpose: Popen must run on the loop's own long-lived thread, because
    # PR_SET_PDEATHSIG follows the thread that forked; the file work here is tiny.
    workdir.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240
    profile = workdir / "profile"
    if options.profile_from is not None and options.profile_from.is_dir():
        shutil.copytree(options.profile_from, profile, dirs_exist_ok=True)
    profile.mkdir(exist_ok=True)
    (workdir / "downloads").mkdir(exist_ok=True)
    port_file = profile / "DevToolsActivePort"
    port_file.unlink(missing_ok=True)
    with open(workdir / "stderr.log", "wb") as stderr:  # noqa: ASYNC230
        process = subprocess.Popen(  # noqa: ASYNC220
            command_line(executable, workdir, options),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,
            preexec_fn=_die_with_parent,  # only prctl: safe between fork and exec
        )
    chromium = ChromiumProcess(process, 0, "", workdir)
    if on_spawn is not None:
        on_spawn(chromium)
    deadline = time.monotonic() + _START_TIMEOUT
    while True:
        with contextlib.suppress(OSError):
            lines = port_file.read_text().splitlines()
            if len(lines) >= 2 and lines[0].strip().isdigit():
                chromium.port = int(lines[0])
                chromium.ws_path = lines[1].strip()
                return chromium
        if process.poll() is not None or time.monotonic() > deadline:
            code = process.poll()
            tail = chromium.stderr_tail()
            chromium.kill()
            why = f"exited with code {code}" if code is not None else "did not open DevTools"
            raise LaunchError(
                f"Chromium ({executable}) {why} within {_START_TIMEOUT:g} s"
                + (f":\n{tail}" if tail else "")
            )
        await asyncio.sleep(0.01)
