"""Kill and attach: SIGKILL the submitting process at random points; a new one attaches.

For each seed, an emulator is served on 127.0.0.1 by *this* process, and a child
process submits a batch (``bbnb.runs.run_many`` for even seeds, ``invoke_many`` of
the built-in ``echo`` function for odd seeds) with a journal file.  A small ASGI
wrapper in front of the emulator counts create POSTs and, at a create drawn from the
seed, SIGKILLs the child at one of three points:

* ``arrival``  - the POST reached the server but is never handled (no run exists);
* ``handled``  - the run was created but the answer is never sent;
* ``answered`` - the answer was sent (the child may not have journaled it yet).

Other creates the child had on the wire at that moment still land, as they would.
A second child process then reads the journal, finds the batch and calls
``bbnb.runs.attach(batch_id)``.  Figures: runs recovered (inputs that end with a
settled run), duplicates (the emulator's created counter against distinct ids, and
its records per input), orphans (runs no input got).

Usage: ``python bench/kill_attach.py [--seeds 10] [--runs 40]``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent))

from _stress import parser, print_figures, store_duplicates

from bbnb.emulator import Emulator, EmulatorConfig, serve_in_thread

__all__ = ["KillPlan", "main", "measure", "one_seed"]

PHASES = ("arrival", "handled", "answered")
CREATE_PATHS = ("/v1/agents/runs", "/invoke")
CHILD_TIMEOUT = 240.0


@dataclass(frozen=True)
class KillPlan:
    """One seed's batch and where the kill lands."""

    seed: int
    runs: int
    concurrency: int
    at: int | None = None  # the create to kill at (default: drawn from the seed)
    where: str | None = None  # the phase (default: drawn from the seed)

    @property
    def kind(self) -> str:
        return "agent" if self.seed % 2 == 0 else "function"

    @property
    def kill_at(self) -> int:
        """The 1-based create POST at which the child dies."""
        if self.at is not None:
            return self.at
        return random.Random(f"kill:{self.seed}").randint(1, self.runs)

    @property
    def phase(self) -> str:
        if self.where is not None:
            return self.where
        return random.Random(f"phase:{self.seed}").choice(PHASES)

    def tasks(self) -> list[str]:
        return [
            f"kill {self.seed}/{i}: title of https://k{i}.example.com" for i in range(self.runs)
        ]

    def params(self) -> list[dict[str, Any]]:
        return [{"kill": self.seed, "i": i} for i in range(self.runs)]


def emulator_config(seed: int) -> EmulatorConfig:
    """Short simulated runs and no plan limits (the kill is the only fault)."""
    return EmulatorConfig(
        seed=seed,
        max_concurrent_sessions=None,
        sessions_per_minute=None,
        run_pending_seconds=(0.05, 0.2),
        run_seconds=(0.3, 1.5),
        invocation_pending_seconds=(0.02, 0.1),
        invocation_seconds=(0.2, 0.8),
    )


class KillSwitch:
    """ASGI wrapper: SIGKILL ``pid`` at the ``kill_at``-th create POST, at ``phase``."""

    def __init__(self, app: Any, *, kill_at: int, phase: str) -> None:
        self.app = app
        self.kill_at = kill_at
        self.phase = phase
        self.pid: int | None = None
        self.creates = 0
        self.fired = False

    def _kill(self) -> None:
        if self.pid is not None and not self.fired:
            self.fired = True
            os.kill(self.pid, signal.SIGKILL)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        is_create = (
            scope.get("type") == "http"
            and scope.get("method") == "POST"
            and any(scope.get("path", "").endswith(p) for p in CREATE_PATHS)
        )
        if not is_create or self.fired:
            await self.app(scope, receive, send)
            return
        self.creates += 1
        if self.creates != self.kill_at:
            await self.app(scope, receive, send)
            return
        if self.phase == "arrival":
            self._kill()
            await send({"type": "http.response.start", "status": 503, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return  # never handled: no run exists

        async def guarded(message: Any) -> None:
            if self.phase == "handled" and message["type"] == "http.response.start":
                self._kill()
            if self.fired and self.phase == "handled":
                return
            await send(message)
            last_body = message["type"] == "http.response.body" and not message.get("more_body")
            if self.phase == "answered" and last_body:
                self._kill()

        await self.app(scope, receive, guarded)


def _finish(child: subprocess.Popen[str]) -> tuple[str, str]:
    """Wait for a child; one that outlives ``CHILD_TIMEOUT`` is killed (and reported)."""
    try:
        return child.communicate(timeout=CHILD_TIMEOUT)
    except subprocess.TimeoutExpired:
        child.kill()
        _out, err = child.communicate()
        raise RuntimeError(
            f"child {child.args!r} still running after {CHILD_TIMEOUT:g} s (killed); "
            f"stderr tail:\n{err[-2000:]}"
        ) from None


def _child(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "--child", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def one_seed(plan: KillPlan, workdir: Path) -> dict[str, Any]:
    """Submit, kill, attach for one seed; the figures of that seed."""
    journal = workdir / f"journal-{plan.seed}.sqlite"
    emu = Emulator(emulator_config(plan.seed))
    switch = KillSwitch(emu.app, kill_at=plan.kill_at, phase=plan.phase)
    emu.app = switch
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "BBNB_HOME": str(workdir / f"home-{plan.seed}")}
    env.pop("BROWSERBASE_API_KEY", None)
    with serve_in_thread(emulator=emu) as server:
        common = [
            "--base-url",
            server.base_url,
            "--journal",
            str(journal),
            "--seed",
            str(plan.seed),
        ]
        submit = _child(
            ["submit", *common, "--runs", str(plan.runs), "--concurrency", str(plan.concurrency)],
            env,
        )
        switch.pid = submit.pid
        _out, err = _finish(submit)
        killed = submit.returncode == -signal.SIGKILL
        attach = _child(["attach", *common], env)
        a_out, a_err = _finish(attach)
        if attach.returncode != 0:
            raise RuntimeError(f"attach child failed ({attach.returncode}):\n{a_err[-3000:]}")
        report = json.loads(a_out.strip().splitlines()[-1])
        held = store_duplicates(emu, tasks=plan.tasks(), params=plan.params())
        server_ids = {r.run_id for r in emu.store.runs.order} | {
            v.invocation_id for v in emu.store.invocations.order
        }
        created = emu.stats.runs_created + emu.stats.invocations_created
    ids = [row[1] for row in report["items"] if row[1]]
    settled = [row for row in report["items"] if row[2] in TERMINAL]
    return {
        "seed": plan.seed,
        "kind": plan.kind,
        "kill_at": plan.kill_at,
        "phase": plan.phase,
        "killed": killed,
        "child_finished_first": submit.returncode == 0,
        "submitted": plan.runs,
        "recovered": len(settled),
        "lost": plan.runs - len(settled),
        "created_by_emulator": created,
        "duplicates_by_counter": created - len(set(ids)),
        "duplicates_in_store": held["duplicates"],
        "orphans": len(server_ids - set(ids)),
        "journal_states_at_kill": report["states_before"],
        "reconciled": report["stats"].get("reconciled", 0),
        "submit_stderr_tail": err[-300:] if not killed and submit.returncode else "",
    }


TERMINAL = {"COMPLETED", "FAILED", "TIMED_OUT", "STOPPED"}


def measure(seeds: list[int], runs: int, concurrency: int, *, workers: int = 4) -> dict[str, Any]:
    """Every seed (``workers`` at a time); the per-seed rows and their totals."""
    with tempfile.TemporaryDirectory(prefix="bbnb-kill-") as tmp:
        plans = [KillPlan(seed, runs, concurrency) for seed in seeds]
        run: Callable[[KillPlan], dict[str, Any]] = lambda p: one_seed(p, Path(tmp))  # noqa: E731
        with ThreadPoolExecutor(max_workers=workers) as pool:
            rows = list(pool.map(run, plans))
    return {
        "seeds": len(rows),
        "killed": sum(r["killed"] for r in rows),
        "recovered/submitted": f"{sum(r['recovered'] for r in rows)}/{sum(r['submitted'] for r in rows)}",
        "lost": sum(r["lost"] for r in rows),
        "duplicates_by_counter": sum(r["duplicates_by_counter"] for r in rows),
        "duplicates_in_store": sum(r["duplicates_in_store"] for r in rows),
        "orphans": sum(r["orphans"] for r in rows),
        "per_seed": [
            {
                k: r[k]
                for k in (
                    "seed",
                    "kind",
                    "kill_at",
                    "phase",
                    "killed",
                    "recovered",
                    "lost",
                    "duplicates_by_counter",
                    "orphans",
                    "journal_states_at_kill",
                )
            }
            for r in rows
        ],
        "rows": rows,
    }


# -- the child processes ------------------------------------------------------------------


def _child_submit(args: argparse.Namespace) -> int:
    from bbnb.client._client import Client
    from bbnb.runs import invoke_many, run_many

    plan = KillPlan(args.seed, args.runs, args.concurrency)
    with Client(api_key=emulator_config(0).api_key, base_url=args.base_url) as client:
        if plan.kind == "agent":
            batch = run_many(
                client,
                plan.tasks(),
                concurrency=plan.concurrency,
                progress="none",
                journal=args.journal,
            )
        else:
            echo = next(f.id for f in client.functions.list() if f.name == "echo")
            batch = invoke_many(
                client,
                echo,
                plan.params(),
                concurrency=plan.concurrency,
                progress="none",
                journal=args.journal,
            )
    print(json.dumps({"batch": batch.id, "finished": True}))
    return 0


def _child_attach(args: argparse.Namespace) -> int:
    from collections import Counter

    from bbnb.client._client import Client
    from bbnb.runs import Journal, attach

    journal = Journal(args.journal)
    batches = journal.batches()
    if len(batches) != 1:
        print(f"expected one batch in the journal, found {len(batches)}", file=sys.stderr)
        return 2
    batch_id = batches[0].batch_id
    states = dict(Counter(row.state for row in journal.runs(batch_id)))
    journal.close()
    with Client(api_key=emulator_config(0).api_key, base_url=args.base_url) as client:
        batch = attach(batch_id, client=client, journal=args.journal, progress="none")
    items = [[str(i.key), i.id, i.status] for i in batch.items]  # type: ignore[union-attr]
    stats = batch.stats.as_dict()  # type: ignore[union-attr]
    print(json.dumps({"batch": batch_id, "items": items, "stats": stats, "states_before": states}))
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--child"]:
        child = argparse.ArgumentParser()
        child.add_argument("mode", choices=["submit", "attach"])
        child.add_argument("--base-url", required=True)
        child.add_argument("--journal", required=True)
        child.add_argument("--seed", type=int, required=True)
        child.add_argument("--runs", type=int, default=0)
        child.add_argument("--concurrency", type=int, default=0)
        cargs = child.parse_args(argv[1:])
        return _child_submit(cargs) if cargs.mode == "submit" else _child_attach(cargs)
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=10, help="how many seeds (kills)")
    p.add_argument("--runs", type=int, default=40, help="inputs per batch")
    p.add_argument("--concurrency", type=int, default=8, help="creates in flight")
    p.add_argument("--workers", type=int, default=4, help="seeds run at once")
    args = p.parse_args(argv)
    seeds = list(range(args.seed, args.seed + args.seeds))
    figures = measure(seeds, args.runs, args.concurrency, workers=args.workers)
    figures.pop("rows")
    print_figures("kill and attach", figures, only_json=args.json)
    bad = figures["lost"] + figures["duplicates_by_counter"] + figures["orphans"]
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
