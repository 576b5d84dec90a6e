"""``Watchdog``: a helper process that kills our browsers if the emulator dies unannounced.

Each browser also gets ``PR_SET_PDEATHSIG`` (Linux), which kills its main process when
the launching thread dies; the watchdog covers the rest: Chromium's helper processes
(the whole process group) and the temp profiles, which a killed process cannot remove.
The emulator tells it what to clean over a pipe; the pipe closing is the signal.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

__all__ = ["Watchdog"]

_MAIN = Path(__file__).with_name("_watchdog_main.py")


class Watchdog:
    """Started once per browser manager; ``close()`` ends it without killing anything."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._proc = subprocess.Popen(
            [sys.executable, "-I", str(_MAIN)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # a terminal's Ctrl-C must not reach it first
            text=True,
        )

    @property
    def pid(self) -> int:
        return self._proc.pid

    def _tell(self, line: str) -> None:
        with self._lock:
            stdin = self._proc.stdin
            if stdin is None or stdin.closed:
                return
            try:
                stdin.write(line + "\n")
                stdin.flush()
            except (BrokenPipeError, ValueError):
                pass

    def watch_group(self, pgid: int) -> None:
        self._tell(f"+pg {pgid}")

    def forget_group(self, pgid: int) -> None:
        self._tell(f"-pg {pgid}")

    def watch_folder(self, path: str) -> None:
        self._tell(f"+dir {path}")

    def forget_folder(self, path: str) -> None:
        self._tell(f"-dir {path}")

    def close(self) -> None:
        """Let the watchdog end (it cleans what is still listed, normally nothing)."""
        with self._lock:
            if self._proc.stdin is not None and not self._proc.stdin.closed:
                self._proc.stdin.close()
        try:
            self._proc.wait(10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
