"""Benchmark: ``bbnb.results.to_frame`` vs ``pandas.json_normalize`` vs the pyarrow floor.

Builds N completed agent runs (seeded), each with a result = one page object holding
5 nested product objects, then times, in this one process and on the same data:

* ``to_frame(runs, schema)`` (typed columns, validation, provenance);
* ``pandas.json_normalize(runs, record_path=["result", "products"], meta=[...])`` with
  the same provenance and page columns ``to_frame`` outputs;
* ``pyarrow.Table.from_pylist(results)`` — the floor for turning Python objects into
  columns.

Targets: to_frame >= 10x faster than json_normalize, <= 2x the pyarrow floor, peak
memory <= 3x the results' size as JSON.  ``to_frame`` is timed as installed (with the C
extractor when it was built) and, for information, with ``BBNB_NO_SPEEDUPS=1`` (the
pure-Python paths a machine without a C compiler gets).
Usage: ``python bench/flatten.py [-n 100000]``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import threading
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import pandas as pd
import psutil
import pyarrow as pa

from bbnb.results import _native, to_frame

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "url": {"type": "string"},
        "title": {"type": "string"},
        "page": {"type": "integer"},
        "fetchedAt": {"type": "string", "format": "date-time"},
        "products": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "sku": {"type": "string"},
                    "name": {"type": "string"},
                    "price": {"type": "number"},
                    "currency": {"type": "string", "enum": ["USD", "EUR", "GBP"]},
                    "inStock": {"type": "boolean"},
                    "rating": {"type": ["number", "null"]},
                    "reviews": {"type": "integer"},
                },
                "required": ["sku", "name", "price", "currency", "inStock"],
            },
        },
    },
    "required": ["url", "title", "products"],
}
META: list[str | list[str]] = [
    "runId",
    "status",
    "task",
    "sessionId",
    "createdAt",
    "startedAt",
    "endedAt",
    *(["result", name] for name in ("url", "title", "page", "fetchedAt")),
]
RECORDS = ["result", "products"]


def make_runs(n: int, seed: int = 7) -> list[dict[str, Any]]:
    """N completed wire-shaped agent runs with page results (deterministic)."""
    rng = random.Random(seed)
    words = ["red", "blue", "steel", "oak", "mini", "pro", "max", "eco", "smart", "classic"]
    runs = []
    for i in range(n):
        products = [
            {
                "sku": f"SKU-{i:06d}-{j}",
                "name": f"{rng.choice(words)} {rng.choice(words)} {j}",
                "price": round(rng.uniform(1, 500), 2),
                "currency": rng.choice(["USD", "EUR", "GBP"]),
                "inStock": rng.random() < 0.8,
                "rating": None if rng.random() < 0.1 else round(rng.uniform(1, 5), 1),
                "reviews": rng.randrange(0, 5000),
            }
            for j in range(5)
        ]
        minute = i % 60
        runs.append(
            {
                "runId": f"run-{i:08d}",
                "task": "List the products on https://shop.example/page/{{page}}",
                "status": "COMPLETED",
                "createdAt": f"2026-01-01T10:{minute:02d}:00Z",
                "updatedAt": f"2026-01-01T10:{minute:02d}:30Z",
                "startedAt": f"2026-01-01T10:{minute:02d}:01Z",
                "endedAt": f"2026-01-01T10:{minute:02d}:29.5Z",
                "sessionId": f"sess-{i:08d}",
                "resultSchema": SCHEMA,
                "result": {
                    "url": f"https://shop.example/page/{i}",
                    "title": f"Page {i} of the catalogue",
                    "page": i,
                    "fetchedAt": f"2026-01-01T10:{minute:02d}:20.250Z",
                    "products": products,
                },
            }
        )
    return runs


def pure_python(fn: Callable[[], Any]) -> Any:
    """Call ``fn`` with the C extractor switched off."""
    os.environ["BBNB_NO_SPEEDUPS"] = "1"
    try:
        return fn()
    finally:
        del os.environ["BBNB_NO_SPEEDUPS"]


def best_times(
    contenders: dict[str, Callable[[], Any]], repeat: int
) -> dict[str, tuple[float, float]]:
    """Best (CPU, wall) seconds of each contender, round-robin so load hits all alike.

    All three contenders are single-threaded, so CPU time measures their work; on a
    shared machine wall time also counts waiting for a core.
    """
    best = {name: (float("inf"), float("inf")) for name in contenders}
    for _ in range(repeat):
        for name, fn in contenders.items():
            gc.collect()
            c0, w0 = time.process_time(), time.perf_counter()
            out = fn()
            cpu, wall = time.process_time() - c0, time.perf_counter() - w0
            best[name] = (min(best[name][0], cpu), min(best[name][1], wall))
            del out
    return best


def peak_memory(fn: Callable[[], Any]) -> tuple[int, int]:
    """(allocated peak, RSS growth) of one call, measured in a forked child.

    Allocated peak = tracemalloc's peak (Python objects and numpy buffers) plus the
    growth of pyarrow's pool high-water mark: a conservative bound on what the call
    held at once, without allocator caching.  RSS growth is sampled every 2 ms.
    """
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(read)
        gc.collect()
        pool = pa.default_memory_pool()
        base_pool = pool.bytes_allocated()
        proc = psutil.Process()
        base_rss = peak_rss = proc.memory_info().rss
        stop = threading.Event()

        def sample() -> None:
            nonlocal peak_rss
            while not stop.is_set():
                peak_rss = max(peak_rss, proc.memory_info().rss)
                stop.wait(0.002)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        tracemalloc.start()
        out = fn()
        _, py_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        stop.set()
        sampler.join()
        peak_rss = max(peak_rss, proc.memory_info().rss)
        arrow_peak = max(pool.max_memory() - base_pool, 0)
        del out
        os.write(write, json.dumps([py_peak + arrow_peak, peak_rss - base_rss]).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        data = pipe.read()
    os.waitpid(pid, 0)
    allocated, rss = json.loads(data)
    return int(allocated), int(rss)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=100_000, help="number of runs")
    parser.add_argument("--repeat", type=int, default=3, help="best of this many")
    parser.add_argument(
        "--from-json",
        action="store_true",
        help="parse each run from its own JSON text first, as when runs are fetched one "
        "by one over HTTP (no key objects shared between runs)",
    )
    parser.add_argument(
        "--wrapped",
        action="store_true",
        help="wrap each result as Browserbase does: {output, summary, stepsTaken, taskDuration}",
    )
    args = parser.parse_args()

    runs = make_runs(args.n)
    records, meta = RECORDS, META
    if args.wrapped:
        for run in runs:
            run["result"] = {
                "output": run["result"],
                "summary": "Listed the products of one catalogue page.",
                "stepsTaken": 12,
                "taskDuration": 28.5,
            }
        records = ["result", "output", "products"]
        meta = [m if isinstance(m, str) else ["result", "output", m[1]] for m in META]
    if args.from_json:
        runs = [json.loads(json.dumps(run)) for run in runs]
    results = [r["result"] for r in runs]  # as the runs hold them (wrapper included)
    json_bytes = len(json.dumps(results).encode())
    # Warm up every contender on a few runs so imports and first-use caches are not
    # counted as the cost of flattening.
    warm = make_runs(10)
    to_frame(warm, SCHEMA)
    pd.json_normalize(warm, record_path=RECORDS, meta=META)
    pa.Table.from_pylist([r["result"] for r in warm])
    gc.freeze()  # the input is long-lived: keep the collector from rescanning it

    contenders: dict[str, Callable[[], Any]] = {
        "to_frame(runs, schema)": lambda: to_frame(runs, SCHEMA),
        "to_frame, no C extension": lambda: pure_python(lambda: to_frame(runs, SCHEMA)),
        "pandas.json_normalize": lambda: pd.json_normalize(runs, record_path=records, meta=meta),
        "pyarrow.Table.from_pylist": lambda: pa.Table.from_pylist(results),
    }
    # Memory first: a forked child inherits pyarrow's pool high-water mark, so after the
    # timing runs every contender would be charged the largest arrow peak seen so far.
    memory = {name: peak_memory(fn) for name, fn in contenders.items()}
    times = best_times(contenders, args.repeat)
    df = to_frame(runs, SCHEMA)
    ref = pd.json_normalize(runs, record_path=records, meta=meta)
    assert len(df) == len(ref) == 5 * args.n, (len(df), len(ref))
    assert bool(df["_conforms"].all()), "bench data must conform"
    pd.testing.assert_frame_equal(df, pure_python(lambda: to_frame(runs, SCHEMA)))
    mb = 1024 * 1024
    made = "each parsed from its own JSON text" if args.from_json else "built in Python"
    made += ", results wrapped in output" if args.wrapped else ""
    print(
        f"runs: {args.n:,} ({made})   rows: {len(df):,}   results as JSON: {json_bytes / mb:.1f} MB"
    )
    print(f"pandas {pd.__version__}, pyarrow {pa.__version__}; best of {args.repeat}")
    built = "built" if _native.module is not None else "NOT built (pure Python only)"
    print(f"C extractor (bbnb.results._speedups): {built}")
    for name, (cpu, wall) in times.items():
        allocated, rss = memory[name]
        print(
            f"  {name:27s} cpu {cpu:6.3f} s  wall {wall:6.3f} s  "
            f"peak allocated {allocated / mb:6.1f} MB  (RSS +{rss / mb:.1f} MB)"
        )
    ours = times["to_frame(runs, schema)"]
    norm = times["pandas.json_normalize"]
    floor_t = times["pyarrow.Table.from_pylist"]
    speedup = norm[0] / ours[0]
    floor = ours[0] / floor_t[0]
    print(f"(wall-time ratios: {norm[1] / ours[1]:.1f}x faster, {ours[1] / floor_t[1]:.2f}x floor)")
    pure = times["to_frame, no C extension"]
    print(
        f"(without the C extension: {norm[0] / pure[0]:.1f}x faster, "
        f"{pure[0] / floor_t[0]:.2f}x floor; information, not a target)"
    )
    mem_ratio = memory["to_frame(runs, schema)"][0] / json_bytes
    print("CPU-time ratios:")
    verdict = {True: "OK", False: "MISSED"}
    print(f"json_normalize / to_frame = {speedup:5.1f}x  (target >= 10x)  {verdict[speedup >= 10]}")
    print(f"to_frame / pyarrow floor  = {floor:5.2f}x  (target <= 2x)   {verdict[floor <= 2]}")
    print(
        f"to_frame peak / JSON size = {mem_ratio:5.2f}x  (target <= 3x)   {verdict[mem_ratio <= 3]}"
    )


if __name__ == "__main__":
    main()
