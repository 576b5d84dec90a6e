"""Fault soak: a batch of agent runs and function invocations through a misbehaving server.

The emulator is served by uvicorn on 127.0.0.1 (a thread of this process, with its
``--db`` SQLite file) and injects 5xx answers, connections dropped after the request
was handled, slow answers, a steady trickle of 429s (its concurrent-session limit is
below the client's concurrency), one 429 *storm* (the limit drops to one session
for a few seconds, so nearly every create is refused) and, mid-run, a *restart*: the server is stopped and a
fresh emulator is served on the same port from the same database file.

Half the inputs are agent runs (``run_many_async``), half invocations of the
built-in ``echo`` function (``invoke_many_async``); both batches run at once on one
event loop, each writing the same journal.  The same batches are then run against a
fault-free emulator for the wall-time ratio.

Figures: results received / submitted, lost runs, duplicates (the emulator's own
created counters, summed over both incarnations, against distinct ids; and its
records per input), orphans (runs the server holds that no input got), wall time
ratio.  Usage: ``python bench/soak.py [--runs 2000] [--seed 1]``.
"""

from __future__ import annotations

import asyncio
import random
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent))

from _stress import RestartableEmulator, parser, print_figures, store_duplicates

from bbnb.client._client import AsyncClient
from bbnb.emulator import EmulatorConfig
from bbnb.runs import Batch, invoke_many_async, run_many_async

__all__ = ["SoakPlan", "main", "measure", "run_once"]


@dataclass(frozen=True)
class SoakPlan:
    """How big and how hostile one soak is."""

    runs: int = 2000
    seed: int = 1
    concurrency: int = 40  # per batch; two batches run at once
    server_sessions: int = 60  # emulator's concurrent-session limit (< 2 x concurrency)
    fault_5xx: float = 0.05
    fault_drop: float = 0.02
    fault_slow: float = 0.02
    slow_seconds: float = 1.0
    storm_at: float = 0.2  # share of inputs created when the 429 storm starts
    storm_seconds: float = 3.0  # real seconds the storm lasts
    restart_at: float = 0.5  # share of inputs created when the server restarts

    def config(self, db_path: Path, *, faults: bool) -> EmulatorConfig:
        """The emulator config: short simulated runs and, when faulty, a session limit
        below the client's concurrency (a steady trickle of 429s) and injected faults."""
        return EmulatorConfig(
            seed=self.seed,
            db_path=str(db_path),
            max_concurrent_sessions=self.server_sessions if faults else None,
            sessions_per_minute=None,
            run_pending_seconds=(0.05, 0.2),
            run_seconds=(0.2, 1.2),
            invocation_pending_seconds=(0.02, 0.1),
            invocation_seconds=(0.1, 0.6),
            fault_5xx_rate=self.fault_5xx if faults else 0.0,
            fault_drop_rate=self.fault_drop if faults else 0.0,
            fault_slow_rate=self.fault_slow if faults else 0.0,
            slow_seconds=self.slow_seconds,
        )


def inputs(plan: SoakPlan) -> tuple[list[str], list[dict[str, Any]]]:
    """The agent tasks and the function params (every one distinct, so copies show)."""
    rng = random.Random(plan.seed)
    agents = plan.runs // 2
    tasks = [
        f"soak {plan.seed}/{i}: title of https://site{rng.randrange(10**6)}.example.com/{i}"
        for i in range(agents)
    ]
    params = [
        {"soak": plan.seed, "i": i, "n": rng.randrange(10**6)} for i in range(plan.runs - agents)
    ]
    return tasks, params


async def _wait_until(predicate: Any, done: asyncio.Event) -> bool:
    """Poll ``predicate`` every 20 ms (real time) until it holds or the batches are done."""
    while not predicate():
        if done.is_set():
            return False
        await asyncio.sleep(0.02)
    return True


async def _saboteur(
    server: RestartableEmulator, plan: SoakPlan, done: asyncio.Event, log: dict[str, Any]
) -> None:
    """Start the 429 storm, end it after ``storm_seconds``, then restart the server."""
    storm_from = int(plan.runs * plan.storm_at)
    if await _wait_until(lambda: server.created() >= storm_from, done):
        limiter = server.emulator.limiter
        normal, limiter.max_concurrent = limiter.max_concurrent, 1
        base = server.stat("rate_limited")
        started = time.perf_counter()
        deadline = started + plan.storm_seconds
        await _wait_until(lambda: time.perf_counter() >= deadline, done)
        limiter.max_concurrent = normal
        log["storm_429s"] = server.stat("rate_limited") - base
        log["storm_seconds"] = round(time.perf_counter() - started, 2)
    restart_from = int(plan.runs * plan.restart_at)
    if await _wait_until(lambda: server.created() >= restart_from, done):
        started = time.perf_counter()
        await asyncio.to_thread(server.restart)
        log["restart_seconds"] = round(time.perf_counter() - started, 2)
        log["restarted_after_created"] = restart_from


async def _batches(
    server: RestartableEmulator, plan: SoakPlan, journal: Path, *, faults: bool
) -> tuple[Batch, Batch, dict[str, Any]]:
    tasks, params = inputs(plan)
    log: dict[str, Any] = {}
    client = AsyncClient(api_key=server.config.api_key, base_url=server.base_url)
    try:
        functions = [f async for f in _aiter(client.functions.list())]
        echo = next(f.id for f in functions if f.name == "echo")
        done = asyncio.Event()
        saboteur = asyncio.ensure_future(_saboteur(server, plan, done, log)) if faults else None
        try:
            agent_batch, fn_batch = await asyncio.gather(
                run_many_async(
                    client, tasks, concurrency=plan.concurrency, progress="none", journal=journal
                ),
                invoke_many_async(
                    client,
                    echo,
                    params,
                    concurrency=plan.concurrency,
                    progress="none",
                    journal=journal,
                ),
            )
        finally:
            done.set()
            if saboteur is not None:
                await saboteur
    finally:
        await client.aclose()
    return agent_batch, fn_batch, log


async def _aiter(result: Any) -> Any:
    """Iterate a client listing whether it is sync, async, or awaitable."""
    if hasattr(result, "__await__"):
        result = await result
    if hasattr(result, "__aiter__"):
        async for item in result:
            yield item
        return
    for item in getattr(result, "data", result):
        yield item


def run_once(plan: SoakPlan, workdir: Path, *, faults: bool) -> dict[str, Any]:
    """One soak (faulty or clean) in ``workdir``; returns its figures."""
    tag = "faulty" if faults else "clean"
    server = RestartableEmulator(plan.config(workdir / f"emulator-{tag}.sqlite", faults=faults))
    with server:
        started = time.perf_counter()
        agent_batch, fn_batch, log = asyncio.run(
            _batches(server, plan, workdir / f"journal-{tag}.sqlite", faults=faults)
        )
        wall = time.perf_counter() - started
        tasks, params = inputs(plan)
        held = store_duplicates(server.emulator, tasks=tasks, params=params)
        items = [*agent_batch.items, *fn_batch.items]
        settled = [i for i in items if i.run is not None and i.run.is_terminal]
        ids = [i.run.id for i in items if i.run is not None]
        server_ids = {r.run_id for r in server.emulator.store.runs.order} | {
            v.invocation_id for v in server.emulator.store.invocations.order
        }
        created = server.created()
        return {
            "submitted": len(items),
            "received": len(settled),
            "completed": sum(1 for i in items if i.ok),
            "lost": len(items) - len(settled),
            "errors": sorted({i.error for i in items if i.error})[:3],
            "distinct_ids": len(set(ids)),
            "ids_given_twice": len(ids) - len(set(ids)),
            "created_by_emulator": created,
            "duplicates_by_counter": created - len(set(ids)),
            "duplicates_in_store": held["duplicates"],
            "orphans": len(server_ids - set(ids)),
            "reconciled": agent_batch.stats.reconciled + fn_batch.stats.reconciled,
            "resubmitted": agent_batch.stats.resubmitted + fn_batch.stats.resubmitted,
            "faults": dict(server.faults()),
            "rate_limited": server.stat("rate_limited"),
            "restarts": server.restarts,
            "wall_s": round(wall, 2),
            **log,
        }


def measure(plan: SoakPlan) -> dict[str, Any]:
    """The clean run, then the faulty run; the figures of both and their wall-time ratio."""
    with tempfile.TemporaryDirectory(prefix="bbnb-soak-") as tmp:
        clean = run_once(plan, Path(tmp), faults=False)
        faulty = run_once(plan, Path(tmp), faults=True)
    return {
        "runs": plan.runs,
        "seed": plan.seed,
        "received/submitted": f"{faulty['received']}/{faulty['submitted']}",
        "lost": faulty["lost"],
        "duplicates_by_counter": faulty["duplicates_by_counter"],
        "duplicates_in_store": faulty["duplicates_in_store"],
        "orphans": faulty["orphans"],
        "wall_ratio": round(faulty["wall_s"] / max(clean["wall_s"], 1e-9), 2),
        "faulty": faulty,
        "clean": clean,
    }


def main(argv: list[str] | None = None) -> int:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=2000, help="inputs (half agents, half functions)")
    p.add_argument("--concurrency", type=int, default=40, help="runs in flight per batch")
    args = p.parse_args(argv)
    plan = SoakPlan(runs=args.runs, seed=args.seed, concurrency=args.concurrency)
    figures = measure(plan)
    print_figures("fault soak", figures, only_json=args.json)
    bad = figures["lost"] + figures["duplicates_by_counter"] + figures["orphans"]
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
