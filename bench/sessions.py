"""Real-browser sessions through the emulator, against Playwright driving Chromium itself.

    python bench/sessions.py [--rounds 10] [--evals 300] [--max-concurrent 10] [--idle 4]

1. Cold path: SDK-style ``POST /v1/sessions`` -> ``connect_over_cdp(connectUrl)`` -> first
   page loaded, p50/p95, against ``chromium.launch(executable_path=/usr/bin/chromium)`` +
   ``new_page()`` + the same page (target: ratio <= 1.0 with the warm pool).
2. 300 ``page.evaluate`` round trips through ``connectUrl`` against a direct CDP
   connection to the same browser (target: <= 1.15).
3. The most concurrent sessions that each load 20 pages with no error (4, 8, 10, 12 ...;
   target: >= 8 on 2 cores).
4. Resident memory per idle session (the browser's process tree: RSS and USS).

The emulator runs as a standalone ``bbnb emulator`` process (so the client's Python and
the emulator's do not share one GIL); the direct CDP endpoint of a session's browser is
read from its ``DevToolsActivePort``.  The page is served on 127.0.0.1 by this script.
The default run takes about 100 s.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.server
import json
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import psutil
from playwright.async_api import Playwright, async_playwright

from bbnb.emulator import DEFAULT_API_KEY
from bbnb.emulator.browsers import find_browser
from bbnb.emulator.browsers.process import BASE_FLAGS

PAGE = b"<!doctype html><title>bench</title><h1>hello</h1>" + b"<p>text</p>" * 200


class _Site(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/html")
        self.send_header("content-length", str(len(PAGE)))
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(PAGE)

    def log_message(self, *args: Any) -> None:
        pass


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def _timed(fn: Callable[[], Awaitable[None]], rounds: int) -> list[float]:
    out = []
    for _ in range(rounds):
        start = time.perf_counter()
        await fn()
        out.append(time.perf_counter() - start)
    return out


class Emulator:
    """A standalone ``bbnb emulator`` process with real browsers."""

    def __init__(self, max_browsers: int, warm: int) -> None:
        argv = [sys.executable, "-m", "bbnb.emulator", "--port", "0", "--browsers", "real"]
        argv += ["--max-browsers", str(max_browsers), "--warm-browsers", str(warm)]
        argv += ["--per-minute", "none", "--max-concurrent", "none"]
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        self.base_url = self.proc.stdout.readline().rsplit(" ", 1)[1].strip()

    def browsers(self) -> list[psutil.Process]:
        """The main Chromium processes the emulator runs (sessions and warm pool)."""
        out = []
        for proc in psutil.Process(self.proc.pid).children(recursive=True):
            try:
                if "chrom" in proc.name().lower() and not any(
                    a.startswith("--type=") for a in proc.cmdline()
                ):
                    out.append(proc)
            except psutil.Error:  # exiting while we look
                continue
        return out

    def endpoints(self) -> dict[int, str]:
        """pid -> the browser's own CDP websocket URL (from its DevToolsActivePort)."""
        out = {}
        for proc in self.browsers():
            args: list[str] = []
            with contextlib.suppress(psutil.Error):
                args = proc.cmdline()
            for arg in args:
                if arg.startswith("--user-data-dir="):
                    try:  # a browser being shut down has no folder any more
                        port_file = Path(arg.split("=", 1)[1]) / "DevToolsActivePort"
                        lines = port_file.read_text().split()
                    except OSError:
                        continue
                    out[proc.pid] = f"ws://127.0.0.1:{lines[0]}{lines[1]}"
        return out

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class Bench:
    def __init__(self, emu: Emulator, pw: Playwright, url: str, chromium: str) -> None:
        self.emu = emu
        self.pw = pw
        self.url = url
        self.chromium = chromium
        self.http = httpx.AsyncClient(
            base_url=emu.base_url, headers={"X-BB-API-Key": DEFAULT_API_KEY}, timeout=60
        )

    async def create(self, **body: Any) -> dict[str, Any]:
        answer = await self.http.post("/v1/sessions", json=body)
        answer.raise_for_status()
        return dict(answer.json())

    async def through_emulator(self) -> None:
        session = await self.create()
        browser = await self.pw.chromium.connect_over_cdp(session["connectUrl"])
        page = browser.contexts[0].pages[0]
        await page.goto(self.url)
        await browser.close()  # the last client leaving ends the session

    async def playwright_alone(self) -> None:
        browser = await self.pw.chromium.launch(
            executable_path=self.chromium, args=[f for f in BASE_FLAGS if "debugging" not in f]
        )
        page = await browser.new_page()
        await page.goto(self.url)
        await browser.close()

    async def round_trips(self, evals: int) -> tuple[float, float]:
        session = await self.create(keepAlive=True)
        proxied = await self.pw.chromium.connect_over_cdp(session["connectUrl"])
        marker = f"{self.url}?session={session['id']}"
        await proxied.contexts[0].pages[0].goto(marker)
        direct = None
        for url in self.emu.endpoints().values():  # find the browser showing the marker
            candidate = await self.pw.chromium.connect_over_cdp(url)
            if any(p.url == marker for c in candidate.contexts for p in c.pages):
                direct = candidate
                break
            await candidate.close()
        assert direct is not None, "could not find the session's browser"
        pages = [proxied.contexts[0].pages[0], direct.contexts[0].pages[0]]
        for page in pages:  # warm both
            for i in range(20):
                await page.evaluate("(i) => i + 1", i)
        totals = [0.0, 0.0]
        block = max(1, evals // 10)
        for n, done in enumerate(range(0, evals, block)):  # interleaved: load hits both alike
            for side in (0, 1) if n % 2 == 0 else (1, 0):
                page = pages[side]
                start = time.perf_counter()
                for i in range(done, min(evals, done + block)):
                    await page.evaluate("(i) => i + 1", i)
                totals[side] += time.perf_counter() - start
        await direct.close()
        await proxied.close()
        await self.http.post(f"/v1/sessions/{session['id']}", json={"status": "REQUEST_RELEASE"})
        return totals[0], totals[1]

    async def one_worker(self, pages: int) -> None:
        session = await self.create()
        browser = await self.pw.chromium.connect_over_cdp(session["connectUrl"])
        page = browser.contexts[0].pages[0]
        for _ in range(pages):
            await page.goto(self.url)
            assert await page.title() == "bench"
        await browser.close()

    async def concurrency(self, ceiling: int, pages: int) -> tuple[int, dict[int, float]]:
        best = 0
        walls: dict[int, float] = {}
        for n in [k for k in (4, 8, *range(10, ceiling + 1, 2)) if k <= ceiling]:
            start = time.perf_counter()
            results = await asyncio.gather(
                *(self.one_worker(pages) for _ in range(n)), return_exceptions=True
            )
            walls[n] = time.perf_counter() - start
            errors = [r for r in results if isinstance(r, BaseException)]
            if errors:
                print(f"  {n} concurrent: {len(errors)} failed, e.g. {errors[0]!r:.200}")
                break
            best = n
        return best, walls

    async def idle_memory(self, count: int) -> tuple[float, float]:
        before = {p.pid for p in self.emu.browsers()}
        ids = [(await self.create(keepAlive=True))["id"] for _ in range(count)]
        await asyncio.sleep(2.0)  # let the browsers settle
        rss = uss = 0
        # The sessions' browsers are the ones that were warm or started since (minus the
        # one now warming in their place): take the `count` oldest of those.
        mains = sorted(self.emu.browsers(), key=lambda p: p.create_time())
        mains = [p for p in mains if p.pid in before][:count] + [
            p for p in mains if p.pid not in before
        ]
        for root in mains[:count]:
            for proc in [root, *root.children(recursive=True)]:
                info = proc.memory_full_info()
                rss += info.rss
                uss += info.uss
        for sid in ids:
            await self.http.post(f"/v1/sessions/{sid}", json={"status": "REQUEST_RELEASE"})
        return rss / count / 2**20, uss / count / 2**20


async def main(args: argparse.Namespace) -> dict[str, Any]:
    chromium = find_browser()
    if chromium is None:
        raise SystemExit("no Chromium found; apt-get install chromium")
    site = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Site)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{site.server_port}/"
    emu = Emulator(args.max_concurrent + 2, args.warm)
    try:
        async with async_playwright() as pw:
            bench = Bench(emu, pw, url, chromium)
            await bench.through_emulator()  # warm caches on both sides
            await bench.playwright_alone()
            ours: list[float] = []
            theirs: list[float] = []
            for _ in range(args.rounds):  # interleaved, so machine load hits both alike
                ours += await _timed(bench.through_emulator, 1)
                theirs += await _timed(bench.playwright_alone, 1)
            proxied, direct = await bench.round_trips(args.evals)
            best, walls = await bench.concurrency(args.max_concurrent, args.pages)
            rss, uss = await bench.idle_memory(args.idle)
            await bench.http.aclose()
    finally:
        emu.stop()
        site.shutdown()
    figures = {
        "create_to_loaded_p50_ms": round(statistics.median(ours) * 1000, 1),
        "create_to_loaded_p95_ms": round(_pct(ours, 0.95) * 1000, 1),
        "playwright_launch_to_loaded_p50_ms": round(statistics.median(theirs) * 1000, 1),
        "playwright_launch_to_loaded_p95_ms": round(_pct(theirs, 0.95) * 1000, 1),
        "cold_path_ratio_p50": round(statistics.median(ours) / statistics.median(theirs), 2),
        "evaluate_proxied_ms": round(proxied / args.evals * 1000, 3),
        "evaluate_direct_ms": round(direct / args.evals * 1000, 3),
        "evaluate_ratio": round(proxied / direct, 2),
        "max_concurrent_sessions_ok": best,
        "concurrency_wall_s": {str(k): round(v, 1) for k, v in walls.items()},
        "idle_session_rss_mb": round(rss, 1),
        "idle_session_uss_mb": round(uss, 1),
    }
    return figures


def _print(f: dict[str, Any], args: argparse.Namespace) -> None:
    rows = [
        (
            "create -> CDP -> page loaded, emulator (p50 / p95)",
            f"{f['create_to_loaded_p50_ms']} / {f['create_to_loaded_p95_ms']} ms",
        ),
        (
            "Playwright launching Chromium itself (p50 / p95)",
            f"{f['playwright_launch_to_loaded_p50_ms']} / {f['playwright_launch_to_loaded_p95_ms']} ms",
        ),
        ("ratio (p50; target <= 1.0)", f"{f['cold_path_ratio_p50']}"),
        (
            f"{args.evals} page.evaluate via connectUrl / direct (per call)",
            f"{f['evaluate_proxied_ms']} / {f['evaluate_direct_ms']} ms",
        ),
        ("ratio (target <= 1.15)", f"{f['evaluate_ratio']}"),
        (
            f"concurrent sessions x {args.pages} pages, no error (target >= 8)",
            f"{f['max_concurrent_sessions_ok']} (walls {f['concurrency_wall_s']})",
        ),
        (
            "memory per idle session (RSS / USS)",
            f"{f['idle_session_rss_mb']} / {f['idle_session_uss_mb']} MB",
        ),
    ]
    width = max(len(r[0]) for r in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    print("FIGURES " + json.dumps(f))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--evals", type=int, default=300)
    parser.add_argument("--max-concurrent", type=int, default=10)
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--idle", type=int, default=4)
    parser.add_argument("--warm", type=int, default=1)
    arguments = parser.parse_args()
    started = time.perf_counter()
    _print(asyncio.run(main(arguments)), arguments)
    print(f"(took {time.perf_counter() - started:.0f} s)")
