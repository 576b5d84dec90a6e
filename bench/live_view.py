"""Live view and recording figures: frames/s and lag in the widget, and what recording costs.

    python bench/live_view.py [--minutes 2] [--fps 5] [--live-fps 15] [--seconds 5]
                              [--real-seconds 10] [--no-real]

Recording cost: synthetic 1280x720 page pictures (a white page of text-like blocks
that scrolls, as JPEG, made beforehand) stand for ``--minutes`` of a session at
``--fps`` screencast frames per second.  They go through the emulator's frame store
(encoded to H.264 segments on its worker thread) with their session timestamps, so
no real waiting; the figures are the process CPU time per second of session (the
CPU share one recording needs) and encoded bytes per minute of session, plus the
MP4 assembly time.

Live view: an emulator served over HTTP on 127.0.0.1 and a ``bbnb.Client`` on it; a
``LiveView`` pulls frames through the kernel (``ClientFeed`` long-polling the
screencast route) while a producer thread shows a new picture ``--live-fps`` times
a second for ``--seconds``.  Figures: pictures shown per second, and the lag from a
picture entering the frame store to ``.image`` holding it (p50, p95).  Here a
producer thread stands in for Chromium's screencast, so the figures isolate bbnb.

Real browser (``real_*``; skipped with ``--no-real`` or when no Chromium is found): an
emulator with real Chromium sessions; Playwright drives each session's page over its
``connectUrl``.  *Frames per second*: the page animates (a new colour every
animation frame) for ``--real-seconds`` while a ``LiveView`` shows it.  *Latency*:
the page is then still; 20 times the bench changes it (``page.evaluate``) and times
until ``.image`` holds a picture the screencast took after the change.  *Recording
cost*: the same animated page for ``--real-seconds`` with ``recordSession`` off, then
on, no LiveView attached; the CPU share is this process's CPU time (the emulator's
screencast intake and H.264 encoding; Chromium's own work is in its processes) per
second of session, with the difference between on and off the recording's own share;
bytes per minute are the session's replay videos (what ``Replay`` downloads).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import threading
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from _stress import print_figures

from bbnb.client._client import Client
from bbnb.emulator import Emulator, EmulatorConfig, serve_in_thread
from bbnb.emulator.recording import FrameStore
from bbnb.widgets.live_view import LiveView

WIDTH, HEIGHT = 1280, 720


def page_pictures(count: int, seed: int) -> list[bytes]:
    """``count`` JPEGs of a text-like page scrolling 12 px per picture."""
    rng = np.random.default_rng(seed)
    tall = np.full((HEIGHT + 12 * count, WIDTH, 3), 255, np.uint8)
    y = 20
    while y < tall.shape[0] - 20:
        for x in range(40, WIDTH - 200, 160):
            if rng.random() < 0.8:
                width = int(rng.integers(60, 150))
                tall[y : y + 10, x : x + width] = rng.integers(0, 90)
        y += 24
    codec = av.CodecContext.create("mjpeg", "w")
    codec.width, codec.height, codec.pix_fmt = WIDTH, HEIGHT, "yuvj420p"
    codec.time_base = Fraction(1, 25)
    out = []
    for i in range(count):
        view = np.ascontiguousarray(tall[12 * i : 12 * i + HEIGHT])
        frame = av.VideoFrame.from_ndarray(view, format="rgb24").reformat(format="yuvj420p")
        out.append(b"".join(bytes(p) for p in codec.encode(frame)))
    return out


def recording_cost(minutes: float, fps: float, seed: int) -> dict[str, Any]:
    """CPU share and bytes per minute of encoding a session's screencast."""
    frames = int(minutes * 60 * fps)
    pictures = page_pictures(min(frames, 600), seed)
    store = FrameStore()
    try:
        recording = store.start("bench")
        t0 = 1_767_225_600.0
        cpu0, wall0 = time.process_time(), time.perf_counter()
        for i in range(frames):
            recording.add_frame("TAB", pictures[i % len(pictures)], t0 + i / fps)
        recording.finish(t0 + frames / fps)
        pages = recording.pages()
        cpu = time.process_time() - cpu0
        wall = time.perf_counter() - wall0
        video = sum(len(s.data) for s in pages[0].segments)
        cpu1 = time.process_time()
        recording.request_mp4("0", store.submit_mp4)
        future = recording.mp4_state("0")
        assert future is not None
        mp4 = future.result()
        mp4_cpu = time.process_time() - cpu1
    finally:
        store.close()
    seconds = frames / fps
    return {
        "recording_session_seconds": seconds,
        "recording_frames": frames,
        "recording_jpeg_mb_per_min": sum(len(pictures[i % len(pictures)]) for i in range(frames))
        / 1e6
        / (seconds / 60),
        "recording_cpu_share": cpu / seconds,
        "recording_wall_seconds": wall,
        "recording_mb_per_min": video / 1e6 / (seconds / 60),
        "recording_segments": len(pages[0].segments),
        "mp4_mb": len(mp4) / 1e6,
        "mp4_cpu_seconds": mp4_cpu,
    }


def live_view(live_fps: float, seconds: float, seed: int) -> dict[str, Any]:
    """Pictures shown per second and the lag into ``.image``, through HTTP and the kernel."""
    pictures = page_pictures(int(live_fps * seconds) + 2, seed)
    emulator = Emulator(EmulatorConfig(seed=seed))
    server = serve_in_thread(emulator=emulator)
    client = Client(api_key=emulator.config.api_key, base_url=server.base_url)
    lags: list[float] = []
    view: LiveView | None = None
    stop = threading.Event()
    try:
        session = client.sessions.create()
        recording = emulator.recordings.start(session.id)
        view = LiveView(session.id, client=client, max_fps=30)
        watched = view

        def seen(change: dict[str, Any]) -> None:
            frame = watched.last_frame
            if frame is not None:
                lags.append(time.time() - frame.t)

        view.image.observe(seen, names="value")

        def produce() -> None:
            for i, picture in enumerate(pictures):
                if stop.wait(1 / live_fps):
                    return
                recording.add_frame("TAB", picture, time.time())
                if i / live_fps >= seconds:
                    return

        producer = threading.Thread(target=produce, name="bench-producer")
        started = time.perf_counter()
        producer.start()
        producer.join()
        elapsed = time.perf_counter() - started
        shown = view.frames_shown
        client.sessions.release(session.id)
        view.wait_stopped(15)
    finally:
        stop.set()
        if view is not None:
            view.close()
        client.close()
        server.stop()
        emulator.close()
    ordered = sorted(lags)
    return {
        "live_offered_fps": live_fps,
        "live_shown_fps": shown / elapsed,
        "live_lag_ms_p50": 1000 * statistics.median(ordered),
        "live_lag_ms_p95": 1000 * ordered[int(0.95 * (len(ordered) - 1))],
    }


ANIMATED_PAGE = b"""<!doctype html><html><head><title>bench</title>
<style>body{margin:0;font:40px sans-serif}#n{height:100vh;padding:40px}</style></head>
<body><div id="n">0</div><script>
let n = 0, on = false;
function paint() {
  n += 1;
  const el = document.getElementById("n");
  el.textContent = "frame " + n;
  el.style.background = "hsl(" + (n * 7 % 360) + ",60%,70%)";
}
function tick() { if (on) { paint(); requestAnimationFrame(tick); } }
window.animate = (yes) => { on = yes; if (yes) requestAnimationFrame(tick); };
</script></body></html>"""


class _Page(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/html; charset=utf-8")
        self.send_header("content-length", str(len(ANIMATED_PAGE)))
        self.end_headers()
        self.wfile.write(ANIMATED_PAGE)

    def log_message(self, *args: Any) -> None:
        """Quiet."""


def _replay_bytes(client: Client, session_id: str) -> int:
    replay = client.sessions.replays.retrieve(session_id)
    return sum(
        len(client.sessions.replays.page_video(session_id, page.page_id)) for page in replay.pages
    )


def _latencies(page: Any, view: LiveView, changes: int, stop: threading.Event) -> list[float]:
    """Change the still page ``changes`` times; seconds until ``.image`` showed each change."""
    arrived = threading.Event()
    since = [0.0]

    def seen(_change: dict[str, Any]) -> None:
        frame = view.last_frame
        if frame is not None and frame.t >= since[0]:
            arrived.set()

    view.image.observe(seen, names="value")
    out = []
    try:
        for _ in range(changes):
            stop.wait(0.3)  # the page is still: the screencast goes quiet
            arrived.clear()
            since[0] = time.time()
            page.evaluate("paint()")
            if arrived.wait(3.0):
                out.append(time.time() - since[0])
    finally:
        view.image.unobserve(seen, names="value")
    return out


def real_browser(seconds: float, seed: int) -> dict[str, Any]:
    """Frames/s and change-to-picture latency in a LiveView, and recording cost, in Chromium."""
    from playwright.sync_api import sync_playwright

    site = ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    site_thread = threading.Thread(target=site.serve_forever, daemon=True)
    site_thread.start()
    url = f"http://127.0.0.1:{site.server_address[1]}/"
    running = serve_in_thread(EmulatorConfig(browsers="real", seed=seed, warm_browsers=0))
    client = Client(api_key=running.api_key, base_url=running.base_url)
    stop = threading.Event()
    figures: dict[str, Any] = {}
    try:
        with sync_playwright() as pw:

            def session_page(record: bool) -> tuple[str, Any, Any]:
                session = client.sessions.create(
                    keep_alive=True, browser_settings={"record_session": record}
                )
                browser = pw.chromium.connect_over_cdp(session.connect_url)
                page = browser.contexts[0].pages[0]
                page.goto(url)
                return session.id, browser, page

            # Recording cost: off, then on, no viewer attached.
            cpu: dict[bool, float] = {}
            for record in (False, True):
                sid, browser, page = session_page(record)
                stop.wait(1.0)  # the first pictures of a new page
                page.evaluate("animate(true)")
                cpu0, wall0 = time.process_time(), time.perf_counter()
                stop.wait(seconds)
                cpu[record] = (time.process_time() - cpu0) / (time.perf_counter() - wall0)
                page.evaluate("animate(false)")
                browser.close()
                client.sessions.release(sid)
                if record:
                    minutes = (seconds + 1.0) / 60
                    figures["real_recording_mb_per_min"] = (
                        _replay_bytes(client, sid) / 1e6 / minutes
                    )
            figures["real_cpu_share_record_off"] = cpu[False]
            figures["real_cpu_share_record_on"] = cpu[True]
            figures["real_recording_cpu_share"] = cpu[True] - cpu[False]

            # The widget: frames per second on the animated page, then change latency.
            sid, browser, page = session_page(True)
            view = LiveView(sid, client=client, max_fps=30)
            try:
                stop.wait(1.0)
                page.evaluate("animate(true)")
                shown0, wall0 = view.frames_shown, time.perf_counter()
                stop.wait(seconds)
                fps = (view.frames_shown - shown0) / (time.perf_counter() - wall0)
                page.evaluate("animate(false)")
                lags = sorted(_latencies(page, view, 20, stop))
            finally:
                view.close()
                browser.close()
                client.sessions.release(sid)
            figures["real_live_shown_fps"] = fps
            figures["real_change_to_picture_ms_p50"] = 1000 * statistics.median(lags)
            figures["real_change_to_picture_ms_p95"] = 1000 * lags[int(0.95 * (len(lags) - 1))]
            figures["real_changes_seen"] = f"{len(lags)}/20"
    finally:
        client.close()
        running.stop()
        site.shutdown()
        site.server_close()
        site_thread.join()
    return figures


def main() -> None:
    """Measure and print."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, default=2.0, help="session length to record")
    p.add_argument("--fps", type=float, default=5.0, help="screencast frames per second")
    p.add_argument("--live-fps", type=float, default=15.0, help="pictures per second offered")
    p.add_argument("--seconds", type=float, default=5.0, help="how long to watch live")
    p.add_argument("--real-seconds", type=float, default=10.0, help="per real-browser phase")
    p.add_argument("--no-real", action="store_true", help="skip the real-browser figures")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--json", action="store_true", help="print only the FIGURES JSON line")
    args = p.parse_args()
    figures = {
        **live_view(args.live_fps, args.seconds, args.seed),
        **recording_cost(args.minutes, args.fps, args.seed),
    }
    if not args.no_real:
        if shutil.which("chromium") or Path("/usr/bin/chromium").exists():
            figures.update(real_browser(args.real_seconds, args.seed))
        else:
            print("no Chromium found: real-browser figures skipped", file=sys.stderr)
    print_figures("live view and recording", figures, only_json=args.json)


if __name__ == "__main__":
    main()
