"""Load: one batch of 10,000 agent runs against the emulator; memory, CPU, journal, frame.

The emulator runs in-process on a ``ManualClock`` shared with the client (every
simulated wait is instant), so what is measured is bbnb's own work: submitting,
journaling and observing 10,000 runs, then turning them into a DataFrame.  CPU is
the whole process (client *and* the in-process emulator answering it), so it is an
upper bound on the client's cost.  Peak memory is the RSS high-water mark above
the baseline before the batch (sampled every 20 ms), and optionally the tracemalloc
peak (``--tracemalloc``, slower).

Usage: ``python bench/load.py [--runs 10000] [--concurrency 100] [--seed 1]``.
"""

from __future__ import annotations

import asyncio
import gc
import sys
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent))

import psutil
from _stress import parser, print_figures

from bbnb import ManualClock
from bbnb.client._client import AsyncClient
from bbnb.emulator import Emulator, EmulatorConfig
from bbnb.runs import run_many_async

__all__ = ["main", "measure"]

SCHEMA = {
    "type": "object",
    "properties": {
        "title": {"type": "string"},
        "price": {"type": "number"},
        "in_stock": {"type": "boolean"},
    },
    "required": ["title", "price"],
}


class PeakRSS:
    """Samples this process's RSS in a thread; ``peak`` is the high-water mark."""

    def __init__(self, every: float = 0.02) -> None:
        self.proc = psutil.Process()
        self.every = every
        self.peak = self.proc.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="rss-sampler", daemon=True)

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            self.peak = max(self.peak, self.proc.memory_info().rss)

    def __enter__(self) -> PeakRSS:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.proc.memory_info().rss)


def measure(
    runs: int, *, seed: int = 1, concurrency: int = 100, trace: bool = False
) -> dict[str, Any]:
    """Run the batch; the figures."""
    tasks = [f"load {seed}/{i}: price of item {i} on https://shop.example.com" for i in range(runs)]
    clock = ManualClock()
    config = EmulatorConfig(seed=seed, max_concurrent_sessions=None, sessions_per_minute=None)
    emu = Emulator(config, clock=clock)
    with tempfile.TemporaryDirectory(prefix="bbnb-load-") as tmp:
        journal = Path(tmp) / "journal.sqlite"

        async def go() -> Any:
            client = AsyncClient(
                api_key=config.api_key,
                base_url="http://emulator.local",
                transport=emu.transport(),
                clock=clock,
            )
            try:
                return await run_many_async(
                    client,
                    tasks,
                    result_schema=SCHEMA,
                    concurrency=concurrency,
                    progress="none",
                    journal=journal,
                )
            finally:
                await client.aclose()

        gc.collect()
        base_rss = psutil.Process().memory_info().rss
        if trace:
            tracemalloc.start()
        cpu0, wall0 = time.process_time(), time.perf_counter()
        with PeakRSS() as rss:
            batch = asyncio.run(go())
            cpu_batch, wall_batch = time.process_time() - cpu0, time.perf_counter() - wall0
            f0 = time.perf_counter()
            frame = batch.to_frame()
            frame_s = time.perf_counter() - f0
        traced = tracemalloc.get_traced_memory()[1] if trace else None
        if trace:
            tracemalloc.stop()
        journal_bytes = sum(p.stat().st_size for p in Path(tmp).glob("journal.sqlite*"))
        ids = {run.id for run in batch}
        figures: dict[str, Any] = {
            "runs": runs,
            "seed": seed,
            "completed": batch.counts.get("COMPLETED", 0),
            "lost": runs - len([r for r in batch if r.is_terminal]),
            "duplicates_by_counter": emu.stats.runs_created - len(ids),
            "wall_s": round(wall_batch, 2),
            "cpu_s": round(cpu_batch, 2),
            "cpu_ms_per_run": round(1000 * cpu_batch / runs, 3),
            "peak_rss_mb_over_baseline": round((rss.peak - base_rss) / 2**20, 1),
            "peak_rss_kb_per_run": round((rss.peak - base_rss) / 1024 / runs, 2),
            "journal_mb": round(journal_bytes / 2**20, 2),
            "journal_bytes_per_run": round(journal_bytes / runs),
            "to_frame_s": round(frame_s, 3),
            "frame_shape": list(frame.shape),
            "requests_per_run": round(batch.stats.requests_per_run, 3),
            "http_requests": emu.stats.total_requests,
        }
        if traced is not None:
            figures["tracemalloc_peak_mb"] = round(traced / 2**20, 1)
    emu.close()
    return figures


def main(argv: list[str] | None = None) -> int:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=10_000)
    p.add_argument("--concurrency", type=int, default=100)
    p.add_argument("--tracemalloc", action="store_true", help="also trace Python allocations")
    args = p.parse_args(argv)
    figures = measure(
        args.runs, seed=args.seed, concurrency=args.concurrency, trace=args.tracemalloc
    )
    print_figures("load", figures, only_json=args.json)
    return 1 if figures["lost"] or figures["duplicates_by_counter"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
