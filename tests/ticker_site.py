"""A page server on 127.0.0.1 whose pages keep changing while they load.

``/ticker`` paints a counter and a shifting colour ten times a second and holds its
``load`` event back for ``LOAD_SECONDS`` (a slow image), so an agent that opens it is
busy for that long on a page that visibly changes: what a live view must follow.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

LOAD_SECONDS = 3.0

TICKER_PAGE = b"""<!doctype html><html><head><title>Ticker</title>
<style>body{margin:0;font:48px sans-serif}#n{padding:40px}</style></head><body>
<div id="n">0</div><img src="/slow.gif" width="1" height="1" alt="">
<script>
let n = 0;
setInterval(() => {
  n += 1;
  const el = document.getElementById("n");
  el.textContent = "tick " + n;
  el.style.background = "hsl(" + (n * 37 % 360) + ",70%,60%)";
}, 100);
</script></body></html>"""

# A 1x1 transparent GIF.
GIF = bytes.fromhex(
    "47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b"
)


class _Pages(BaseHTTPRequestHandler):
    release = threading.Event()  # set when the server shuts down: no slow image holds it
    load_seconds = LOAD_SECONDS

    def do_GET(self) -> None:
        if self.path.startswith("/slow"):
            self.release.wait(self.load_seconds)  # the page's load event waits for this image
            body, kind = GIF, "image/gif"
        else:
            body, kind = TICKER_PAGE, "text/html; charset=utf-8"
        self.send_response(200)
        self.send_header("content-type", kind)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        """Quiet."""


@contextmanager
def ticker_site(
    load_seconds: float = LOAD_SECONDS, release: threading.Event | None = None
) -> Iterator[str]:
    """Serve the ticker pages; yields the base URL (``http://127.0.0.1:PORT``).

    ``release``: set it to let the pages finish loading before ``load_seconds`` (a test
    can hold a run busy until it has seen what it waits for)."""
    release = release if release is not None else threading.Event()
    handler = type("Pages", (_Pages,), {"release": release, "load_seconds": load_seconds})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        handler.release.set()
        server.shutdown()
        server.server_close()
        thread.join()
