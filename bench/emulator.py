"""Emulator benchmark: run-retrieval throughput and memory per stored run, 10,000 runs.

    python bench/emulator.py [--runs 10000] [--seconds 10] [--clients 3]

Memory: ``tracemalloc`` measures what storing N runs (created through the same
code path as ``POST /v1/agents/runs``, each with a result schema and a generated
result) adds to an in-process emulator.  Throughput: a server process holding N
runs serves ``GET /v1/agents/runs/{id}`` on 127.0.0.1 through uvicorn, pinned to
one core where the OS allows, and is hammered by concurrent httpx clients
(separate processes, each a keep-alive ``httpx.Client``) for a fixed time.  The one-core rate is requests divided by the server process's CPU time,
so it does not depend on how busy the (shared) machine is; the wall-clock rate
is printed too.  Targets: >= 1,000 retrievals/s and <= 20 KB per stored run.

(An ``httpx.AsyncClient`` with many connections tops out near 250 requests/s
here, below the server, which is why the clients are processes.)
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import random
import subprocess
import sys
import time
import tracemalloc
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

from bbnb import ManualClock
from bbnb.emulator import Emulator, EmulatorConfig
from bbnb.models import AgentRunCreateParams

SCHEMA = {
    "type": "object",
    "properties": {
        "products": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "title": {"type": "string"},
                    "price": {"type": "number"},
                    "url": {"type": "string", "format": "uri"},
                    "rating": {"type": "number"},
                },
                "required": ["title", "price", "url"],
            },
        }
    },
    "required": ["products"],
}
TARGET_RPS = 1000.0
TARGET_KB = 20.0


def bench_config() -> EmulatorConfig:
    """No limits (10,000 runs at once) and realistic failure rates."""
    return EmulatorConfig.realistic(seed=42, max_concurrent_sessions=None, sessions_per_minute=None)


def populate(emu: Emulator, runs: int) -> list[str]:
    """Create ``runs`` runs through the emulator's create path; returns their ids."""
    ids = []
    for n in range(runs):
        params = AgentRunCreateParams.model_validate(
            {
                "task": f"Find the top {n % 9 + 1} products on shop{n}.example.com",
                "resultSchema": SCHEMA,
            }
        )
        ids.append(emu.create_run(params).run_id)
    return ids


def measure_memory(runs: int) -> float:
    """Bytes added per stored run."""
    clock = ManualClock()
    emu = Emulator(bench_config(), clock=clock)
    populate(emu, 10)  # warm caches and imports
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    populate(emu, runs)
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    clock.advance(3600)
    sample = emu.store.runs.order[-1].to_wire(clock.now())
    assert sample["status"] in ("COMPLETED", "FAILED", "TIMED_OUT"), sample["status"]
    return (after - before) / runs


def write_port_file(port_file: str, port: int, ids: list[str]) -> None:
    """Publish the port and run ids atomically for the parent process."""
    Path(port_file + ".tmp").write_text(f"{port}\n" + "\n".join(ids))
    os.replace(port_file + ".tmp", port_file)


def serve(runs: int, port_file: str) -> None:
    """Server process: hold ``runs`` runs and serve them on 127.0.0.1 until killed."""
    import uvicorn

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {0})
    emu = Emulator(bench_config())
    ids = populate(emu, runs)
    config = uvicorn.Config(
        emu.app, host="127.0.0.1", port=0, log_level="warning", access_log=False, lifespan="off"
    )
    server = uvicorn.Server(config)

    async def main() -> None:
        task = asyncio.ensure_future(server.serve())
        while not server.started:  # noqa: ASYNC110 (uvicorn offers no started event)
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        write_port_file(port_file, port, ids)
        await task

    asyncio.run(main())


def _client_worker(
    base_url: str, ids: list[str], key: str, seconds: float, seed: int
) -> tuple[int, int]:
    """One client process: a keep-alive ``httpx.Client`` retrieving random runs."""
    rng = random.Random(seed)
    ok = errors = 0
    deadline = time.perf_counter() + seconds
    with httpx.Client(base_url=base_url, headers={"X-BB-API-Key": key}) as client:
        while time.perf_counter() < deadline:
            response = client.get(f"/v1/agents/runs/{rng.choice(ids)}")
            if response.status_code == 200:
                ok += 1
            else:
                errors += 1
    return ok, errors


def hammer(
    base_url: str, ids: list[str], key: str, seconds: float, clients: int
) -> tuple[int, int]:
    """(successful retrievals, errors) from ``clients`` concurrent client processes."""
    with ProcessPoolExecutor(clients) as pool:
        futures = [
            pool.submit(_client_worker, base_url, ids, key, seconds, n) for n in range(clients)
        ]
        results = [f.result() for f in futures]
    return sum(r[0] for r in results), sum(r[1] for r in results)


@dataclass
class Throughput:
    """What one throughput measurement saw."""

    requests: int
    errors: int
    wall_seconds: float
    server_cpu_seconds: float

    @property
    def wall_rps(self) -> float:
        return self.requests / self.wall_seconds

    @property
    def per_core_rps(self) -> float:
        """Retrievals per CPU-second of the single-threaded server: its one-core rate."""
        return self.requests / max(self.server_cpu_seconds, 1e-9)


def measure_throughput(runs: int, seconds: float, clients: int) -> Throughput:
    """Retrievals over a real uvicorn server holding ``runs`` runs."""
    port_file = f"/tmp/bbnb-bench-emulator-{os.getpid()}"
    proc = subprocess.Popen([sys.executable, __file__, "--serve", str(runs), port_file])
    try:
        waited = 0.0
        while not os.path.exists(port_file):
            if proc.poll() is not None or waited > 300:
                raise RuntimeError("the benchmark server did not start")
            time.sleep(0.1)
            waited += 0.1
        with open(port_file) as fh:
            port, *ids = fh.read().split("\n")
        base = f"http://127.0.0.1:{port}"
        key = bench_config().api_key
        hammer(base, ids, key, 1.0, clients)  # warm up
        server = psutil.Process(proc.pid)
        cpu0 = server.cpu_times()
        start = time.perf_counter()
        ok, errors = hammer(base, ids, key, seconds, clients)
        wall = time.perf_counter() - start
        cpu1 = server.cpu_times()
        cpu = (cpu1.user + cpu1.system) - (cpu0.user + cpu0.system)
        return Throughput(ok, errors, min(wall, seconds + 1.0), cpu)
    finally:
        proc.terminate()
        proc.wait(30)
        if os.path.exists(port_file):
            os.remove(port_file)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=3, help="concurrent client processes")
    parser.add_argument("--serve", nargs=2, metavar=("RUNS", "PORT_FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(int(args.serve[0]), args.serve[1])
        return 0
    per_run = measure_memory(args.runs)
    kb = per_run / 1024
    print(
        f"memory: {kb:.2f} KB per stored run with {args.runs:,} runs (target <= {TARGET_KB:g} KB; {TARGET_KB / kb:.1f}x headroom)"
    )
    t = measure_throughput(args.runs, args.seconds, args.clients)
    print(
        f"throughput: {t.per_core_rps:,.0f} run retrievals/s per server core "
        f"({t.requests:,} GET /v1/agents/runs/{{id}} in {t.server_cpu_seconds:.2f} CPU-s of the "
        f"one-threaded uvicorn server on 127.0.0.1; target >= {TARGET_RPS:,.0f}/s; "
        f"{t.per_core_rps / TARGET_RPS:.2f}x)"
    )
    print(
        f"            {t.wall_rps:,.0f}/s wall clock with {args.clients} concurrent httpx client "
        f"processes on this (shared, {os.cpu_count()}-core) machine; {t.errors} errors; "
        f"{args.runs:,} runs stored"
    )
    ok = t.per_core_rps >= TARGET_RPS and kb <= TARGET_KB and t.errors == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
