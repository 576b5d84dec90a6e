"""How much time a ``%bb_run agent`` cell adds beyond the run's own (simulated) duration.

The cell runs in a real IPython ``InteractiveShell`` against an in-process emulator on
a ``ManualClock``: the simulated agent run (6..30 s of virtual time) takes no wall
time at all, so the whole wall time of the cell is bbnb's overhead: parsing the
line, templating, validating the body, the journal (SQLite), creating the run and
polling it over HTTP (ASGI, in process), and turning the result into a DataFrame.

    python bench/magic_overhead.py            # 50 cells, target: median <= 50 ms
    python bench/magic_overhead.py --runs 200 --seed 3

Prints the median, the 90th percentile and the HTTP requests per cell, and the same
median with the in-process emulator's own request handling taken out (what the
server side costs here is not bbnb's overhead; against Browserbase it is network and
server time instead).  The machine's load average is printed because on a shared
machine it moves these figures more than anything bbnb does.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import sys
import tempfile
import time
from typing import Any

import httpx

TARGET_MS = 50.0
CELL = (
    "%bb_run agent 'Find the title and word count of https://example.com/{{page}}' "
    "--schema-var Schema --progress none -o result"
)
SCHEMA = {
    "type": "object",
    "properties": {"title": {"type": "string"}, "words": {"type": "integer"}},
    "required": ["title", "words"],
}


class TimedTransport(httpx.AsyncBaseTransport):
    """Wraps the emulator's transport and adds up the time spent inside the emulator."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.seconds = 0.0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        started = time.perf_counter()
        try:
            return await self.inner.handle_async_request(request)
        finally:
            self.seconds += time.perf_counter() - started

    async def aclose(self) -> None:
        await self.inner.aclose()


def measure(runs: int, seed: int) -> dict[str, Any]:
    """Run the cell ``runs`` times (after one warm-up) and return the timings in ms."""
    from IPython.core.interactiveshell import InteractiveShell

    from bbnb import Client, ManualClock
    from bbnb.emulator import Emulator, EmulatorConfig
    from bbnb.magics import BBMagic, load_ipython_extension

    clock = ManualClock()
    emulator = Emulator(EmulatorConfig(seed=seed), clock=clock)
    transport = TimedTransport(emulator.transport())
    client = Client(
        api_key=emulator.config.api_key,
        base_url="http://127.0.0.1:9",
        transport=transport,
        clock=clock,
    )
    shell = InteractiveShell.instance()
    load_ipython_extension(shell)
    magic = next(c for c in shell.configurables if isinstance(c, BBMagic))
    magic.client_factory = lambda _magic: client
    shell.user_ns.update(Schema=SCHEMA, page="index.html")

    def one_cell() -> tuple[float, float]:
        server_before = transport.seconds
        with contextlib.redirect_stdout(io.StringIO()):  # the magic's one summary line
            started = time.perf_counter()
            result = shell.run_cell(CELL, store_history=False, silent=True)
            elapsed = time.perf_counter() - started
        if not result.success:
            raise SystemExit(f"the cell failed: {result.error_in_exec!r}")
        return elapsed * 1000.0, (elapsed - (transport.seconds - server_before)) * 1000.0

    one_cell()  # warm-up: imports, the private event loop, the journal file
    before = emulator.stats.total_requests
    pairs = [one_cell() for _ in range(runs)]
    timings = [total for total, _ in pairs]
    requests = (emulator.stats.total_requests - before) / runs
    frame = shell.user_ns["result"]
    if frame.loc[0, "_status"] != "COMPLETED":
        raise SystemExit(f"unexpected run status {frame.loc[0, '_status']!r}")
    client.close()
    ordered = sorted(timings)
    return {
        "median_ms": statistics.median(timings),
        "client_median_ms": statistics.median(client_only for _, client_only in pairs),
        "p90_ms": ordered[int(0.9 * (len(ordered) - 1))],
        "min_ms": ordered[0],
        "requests_per_cell": requests,
        "simulated_run_s": float(frame.loc[0, "_duration_s"] or 0.0),
    }


def main(argv: list[str] | None = None) -> int:
    """Parse options, measure, print the figures; exit 1 if the median misses the target."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50, help="cells to time (default 50)")
    parser.add_argument("--seed", type=int, default=1, help="emulator seed (default 1)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as home:
        os.environ["BBNB_HOME"] = home
        figures = measure(args.runs, args.seed)
    verdict = "OK" if figures["median_ms"] <= TARGET_MS else "MISSED"
    print(f"%bb_run agent cell overhead over {args.runs} cells (simulated run time excluded):")
    print(
        f"  median {figures['median_ms']:.1f} ms  p90 {figures['p90_ms']:.1f} ms  "
        f"min {figures['min_ms']:.1f} ms  (target <= {TARGET_MS:.0f} ms: {verdict})"
    )
    print(
        f"  without the in-process emulator's request handling: median "
        f"{figures['client_median_ms']:.1f} ms; load average {os.getloadavg()[0]:.2f} "
        f"on {os.cpu_count()} CPUs"
    )
    print(
        f"  HTTP requests per cell: {figures['requests_per_cell']:.1f}; "
        f"last run's simulated duration: {figures['simulated_run_s']:.1f} s"
    )
    return 0 if verdict == "OK" else 1


if __name__ == "__main__":
    sys.exit(main())
