"""A re-run ``%%bb_run --foreach`` cell answered from the journal's result cache.

A 500-row ``--foreach`` agent cell runs in a real IPython ``InteractiveShell`` against
an in-process emulator on a ``ManualClock`` (simulated run time costs no wall time), then
the identical cell runs again.  The figures: the first run's wall time, the re-run's
wall time (target <= 0.5 s) and the runs the re-run created (target 0, read from the
emulator's own counter), plus the cache's size after both.

    python bench/cache.py                # 500 rows
    python bench/cache.py --rows 200 --seed 3
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent))

from _stress import parser, print_figures

TARGET_S = 0.5
CELL = "%%bb_run agent --foreach shops --schema-var Schema --progress none -o prices\n"
CELL += "Find the price of the cheapest laptop on {{row}}"
SCHEMA = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "price": {"type": "number"}},
    "required": ["name", "price"],
}


def measure(rows: int, seed: int) -> dict[str, Any]:
    """Run the cell twice; the wall times, runs created by each and the cache's size."""
    from IPython.core.interactiveshell import InteractiveShell

    from bbnb import Client, ManualClock, cache_info
    from bbnb.emulator import Emulator, EmulatorConfig
    from bbnb.magics import BBMagic, load_ipython_extension, unload_ipython_extension

    clock = ManualClock()
    config = EmulatorConfig(seed=seed, max_concurrent_sessions=None, sessions_per_minute=None)
    emulator = Emulator(config, clock=clock)
    client = Client(
        api_key=emulator.config.api_key,
        base_url="http://127.0.0.1:9",
        transport=emulator.transport(),
        clock=clock,
    )
    shell = InteractiveShell.instance()
    load_ipython_extension(shell)
    magic = next(c for c in shell.configurables if isinstance(c, BBMagic))
    magic.client_factory = lambda _magic: client
    shell.user_ns.update(Schema=SCHEMA, shops=[f"shop{i}.example" for i in range(rows)])

    def cell() -> tuple[float, int, str]:
        before = emulator.stats.runs_created
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            started = time.perf_counter()
            result = shell.run_cell(CELL, store_history=False, silent=True)
            elapsed = time.perf_counter() - started
        if not result.success:
            raise SystemExit(f"the cell failed: {result.error_in_exec!r}")
        return elapsed, emulator.stats.runs_created - before, out.getvalue().strip()

    try:
        first_s, first_runs, _ = cell()
        first = shell.user_ns["prices"]
        again_s, again_runs, summary = cell()
        again = shell.user_ns["prices"]
        same = again["price"].tolist() == first["price"].tolist()
        info = cache_info()
    finally:
        magic.close()
        unload_ipython_extension(shell)
        client.close()
        emulator.close()
    return {
        "rows": rows,
        "first_run_s": round(first_s, 3),
        "first_run_created": first_runs,
        "rerun_s": round(again_s, 3),
        "rerun_created": again_runs,
        "rerun_all_cached": bool(again["_cached"].all()),
        "same_answers": same,
        "speedup": round(first_s / again_s, 1) if again_s else None,
        "cache_entries": info["entries"],
        "cache_bytes": info["bytes"],
        "summary": summary,
        "target_rerun_s": TARGET_S,
        "met": again_s <= TARGET_S and again_runs == 0 and same,
    }


def main(argv: list[str] | None = None) -> int:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=500, help="--foreach rows (default 500)")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bbnb-cache-bench-") as home:
        os.environ["BBNB_HOME"] = home
        figures = measure(args.rows, args.seed)
    print_figures("%bb_run re-run from the cache", figures, only_json=args.json)
    return 0 if figures["met"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
