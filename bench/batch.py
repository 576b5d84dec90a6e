"""Benchmark: a batch of agent runs through ``run_many`` against a naive poll-each loop.

Starts the emulator in a separate process on 127.0.0.1 with every run taking exactly
``--duration`` simulated seconds (no pending phase, no failures, no plan limits), then,
in this process, runs the same workload twice on real time:

* bbnb: ``run_many_async(client, tasks, concurrency=C, journal=<temp file>)``;
* naive: at most C at once, create a run, then retrieve it every second until it ends.

Ideal wall time = ceil(N / C) * duration / speed: C slots each running back-to-back
runs with zero overhead.  Printed per approach: wall time, wall / ideal (target <= 1.15
for bbnb) and HTTP requests per run excluding the creates (target <= 1.5), counted by
the client (retries included).

    python bench/batch.py                 # 1,000 runs of 2 s at concurrency 100
    python bench/batch.py --runs 200 --concurrency 20
"""

from __future__ import annotations

import argparse
import asyncio
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bbnb import AsyncClient
from bbnb.runs import run_many_async

SERVER = """
import sys, time
from bbnb.emulator import EmulatorConfig, serve_in_thread
duration, speed = float(sys.argv[1]), float(sys.argv[2])
config = EmulatorConfig(
    seed=1, speed=speed, max_concurrent_sessions=None, sessions_per_minute=None,
    run_pending_seconds=(0.0, 0.0), run_seconds=(duration, duration),
)
server = serve_in_thread(config)
print(server.base_url, server.api_key, flush=True)
sys.stdin.read()  # serve until the parent closes our stdin
server.stop()
"""


def _requests(client: AsyncClient) -> tuple[int, int]:
    """(all requests, creates) made by ``client`` so far."""
    return client.stats.total, client.stats.count("POST", "/v1/agents/runs")


async def bbnb_batch(client: AsyncClient, n: int, concurrency: int, journal: Path) -> float:
    """Wall seconds of ``run_many_async`` over ``n`` tasks."""
    start = time.perf_counter()
    batch = await run_many_async(
        client,
        [f"bbnb task {i}" for i in range(n)],
        concurrency=concurrency,
        progress="none",
        journal=journal,
    )
    wall = time.perf_counter() - start
    if batch.counts != {"COMPLETED": n}:
        raise SystemExit(f"bbnb batch did not complete: {batch.counts}")
    return wall


async def naive_batch(client: AsyncClient, n: int, concurrency: int) -> float:
    """Wall seconds of create-then-poll-every-second with ``concurrency`` at once."""
    gate = asyncio.Semaphore(concurrency)

    async def one(i: int) -> str:
        async with gate:
            run = await client.agents.runs.create(task=f"naive task {i}")
            while not run.is_terminal:
                await asyncio.sleep(1.0)
                run = await client.agents.runs.retrieve(run.run_id)
            return str(run.status)

    start = time.perf_counter()
    statuses = await asyncio.gather(*(one(i) for i in range(n)))
    wall = time.perf_counter() - start
    if set(statuses) != {"COMPLETED"}:
        raise SystemExit(f"naive batch did not complete: {set(statuses)}")
    return wall


async def measure(args: argparse.Namespace, base_url: str, api_key: str) -> None:
    """Run both approaches and print the figures."""
    ideal = math.ceil(args.runs / args.concurrency) * args.duration / args.speed
    print(
        f"{args.runs} agent runs of {args.duration:g} s (speed {args.speed:g}) at concurrency "
        f"{args.concurrency}; ideal wall time {ideal:.2f} s"
    )
    print(f"{'approach':<8} {'wall s':>8} {'wall/ideal':>11} {'req/run (no create)':>20}")
    async with AsyncClient(api_key=api_key, base_url=base_url, timeout=60.0) as client:
        with tempfile.TemporaryDirectory() as tmp:
            for name in ("bbnb", "naive"):
                total0, creates0 = _requests(client)
                if name == "bbnb":
                    wall = await bbnb_batch(
                        client, args.runs, args.concurrency, Path(tmp) / "journal.sqlite"
                    )
                else:
                    wall = await naive_batch(client, args.runs, args.concurrency)
                total1, creates1 = _requests(client)
                other = (total1 - total0) - (creates1 - creates0)
                print(f"{name:<8} {wall:>8.2f} {wall / ideal:>11.3f} {other / args.runs:>20.3f}")


def main() -> int:
    """Parse options, start the emulator process, measure, stop it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--duration", type=float, default=2.0, help="simulated run seconds")
    parser.add_argument("--speed", type=float, default=1.0, help="emulator speed factor")
    args = parser.parse_args()
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(args.duration), str(args.speed)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        base_url, api_key = server.stdout.readline().split()
        asyncio.run(measure(args, base_url, api_key))
    finally:
        if server.stdin is not None:
            server.stdin.close()
        server.wait(30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
