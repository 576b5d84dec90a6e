"""The browser watchdog's own process (run by path with ``python -I``; imports no bbnb).

It reads lines from stdin: ``+pg <pgid>`` / ``-pg <pgid>`` (a browser's process group to
kill) and ``+dir <path>`` / ``-dir <path>`` (a folder to remove).  When stdin ends, which
happens when the emulator process exits for any reason, SIGKILL included, it kills every
group still listed and every process whose command line names a listed folder (a helper
that left its group, a launch it never heard of), waits for them, removes the folders,
and exits.
"""

import contextlib
import os
import shutil
import signal
import sys
import time


def _alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except OSError:
        return False
    return True


def _strays(folders: list[str]) -> list[int]:
    """Processes whose command line mentions one of ``folders``."""
    found = []
    for name in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if not name.isdigit() or int(name) == os.getpid():
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as handle:
                cmdline = handle.read().decode(errors="replace")
        except OSError:
            continue
        if any(folder + "/" in cmdline for folder in folders):
            found.append(int(name))
    return found


def main() -> None:
    groups: set[int] = set()
    folders: list[str] = []
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in a terminal hits the group
    for line in sys.stdin:
        op, _, arg = line.strip().partition(" ")
        if op == "+pg":
            groups.add(int(arg))
        elif op == "-pg":
            groups.discard(int(arg))
        elif op == "+dir":
            folders.append(arg)
        elif op == "-dir" and arg in folders:
            folders.remove(arg)
    for pgid in groups:
        with contextlib.suppress(OSError):
            os.killpg(pgid, signal.SIGKILL)
    for _ in range(3):  # kill strays until none is left (a dying group may fork no more)
        strays = _strays(folders)
        if not strays:
            break
        for pid in strays:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.1)
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline and any(_alive(g) for g in groups):
        time.sleep(0.05)
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
