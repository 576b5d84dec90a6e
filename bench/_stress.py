"""Shared pieces of the stress benchmarks (``bench/soak.py``, ``kill_attach.py``, ...).

* ``RestartableEmulator``: an emulator served by uvicorn on 127.0.0.1 that can be
  stopped and started again on the same port and the same ``--db`` file, keeping the
  created counters of every incarnation (the emulator's own stats are per process).
* ``store_duplicates``: runs and invocations the server holds more than once for one
  input, read from the emulator's own records.
* ``print_figures`` / ``parser``: one output format for every script: an aligned
  table for people and one ``FIGURES {...}`` JSON line for machines (tests, README).

The scripts are also imported by ``tests/stress`` (through ``load_bench``), so the
figures CI checks are computed by the very code that prints them.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import threading
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from bbnb._clock import Clock
from bbnb.emulator import Emulator, EmulatorConfig, RunningEmulator, serve_in_thread

__all__ = [
    "RestartableEmulator",
    "parser",
    "print_figures",
    "store_duplicates",
]


class RestartableEmulator:
    """One emulator config served on a fixed port, restartable with its database."""

    def __init__(self, config: EmulatorConfig, *, clock: Clock | None = None) -> None:
        if config.db_path is None:
            raise ValueError("a restartable emulator needs config.db_path (its --db file)")
        self.config = config
        self.clock = clock
        self.instances: list[Emulator] = []
        self.server: RunningEmulator | None = None
        self.port = 0
        self.restarts = 0
        self._lock = threading.Lock()

    @property
    def emulator(self) -> Emulator:
        """The emulator serving now (the latest incarnation)."""
        return self.instances[-1]

    @property
    def base_url(self) -> str:
        assert self.server is not None, "start() the emulator first"
        return self.server.base_url

    def start(self) -> RestartableEmulator:
        """Serve a new incarnation (on the port of the previous one, if any)."""
        with self._lock:
            emu = Emulator(self.config, clock=self.clock)
            self.server = serve_in_thread(emulator=emu, port=self.port)
            self.port = self.server.port
            self.instances.append(emu)
        return self

    def stop(self) -> None:
        """Stop serving (the database file stays)."""
        with self._lock:
            if self.server is not None:
                self.server.stop()

    def restart(self) -> None:
        """Stop the server and serve a fresh emulator on the same port and database."""
        self.stop()
        self.start()
        self.restarts += 1

    def created(self) -> int:
        """Agent runs plus invocations created, summed over every incarnation."""
        return sum(e.stats.runs_created + e.stats.invocations_created for e in self.instances)

    def stat(self, name: str) -> int:
        """A counter of ``EmulatorStats`` summed over every incarnation."""
        return sum(int(getattr(e.stats, name)) for e in self.instances)

    def faults(self) -> Counter[str]:
        """Injected faults by kind, over every incarnation."""
        total: Counter[str] = Counter()
        for emu in self.instances:
            total.update(emu.stats.faults)
        return total

    def __enter__(self) -> RestartableEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def store_duplicates(
    emu: Emulator, *, tasks: Iterable[str] = (), params: Iterable[dict[str, Any]] = ()
) -> dict[str, int]:
    """What the server's own records hold for these inputs.

    ``records``: runs/invocations created for them; ``distinct``: inputs with at least
    one; ``duplicates``: records beyond the first per input.
    """
    wanted_tasks = set(tasks)
    wanted_params = {json.dumps(p, sort_keys=True) for p in params}
    per_input: Counter[str] = Counter()
    for run in emu.store.runs.order:
        if run.task in wanted_tasks:
            per_input["task:" + run.task] += 1
    for inv in emu.store.invocations.order:
        key = json.dumps(inv.params or {}, sort_keys=True)
        if key in wanted_params:
            per_input["params:" + key] += 1
    records = sum(per_input.values())
    return {
        "records": records,
        "distinct": len(per_input),
        "duplicates": records - len(per_input),
    }


def parser(description: str, *, seed: int = 1) -> argparse.ArgumentParser:
    """An argument parser with the options every stress script has."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--seed", type=int, default=seed, help="random seed (figures reproduce)")
    p.add_argument("--json", action="store_true", help="print only the FIGURES JSON line")
    return p


def print_figures(title: str, figures: dict[str, Any], *, only_json: bool = False) -> None:
    """Print ``figures`` as a table and as one ``FIGURES {json}`` line."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    payload = {"bench": title, "date": stamp, "python": platform.python_version(), **figures}
    if not only_json:
        width = max(len(k) for k in figures) if figures else 0
        print(f"{title}  ({stamp}, Python {platform.python_version()})")
        for key, value in figures.items():
            shown = f"{value:.4g}" if isinstance(value, float) else value
            print(f"  {key:<{width}}  {shown}")
    print("FIGURES " + json.dumps(payload, default=str, sort_keys=False))
    sys.stdout.flush()
