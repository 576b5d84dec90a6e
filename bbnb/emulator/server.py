"""Serving an emulator over HTTP on 127.0.0.1: in a thread, or process-wide.

``serve_in_thread()`` starts uvicorn on its own event loop in a daemon thread and
returns once the socket listens.  ``embedded()`` is the one shared emulator bbnb
starts lazily when no API key is configured; it uses the realistic config (a few
failed and partly-conforming runs), a random free port, and stops at exit.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import logging
import os
import threading
import warnings
from collections.abc import Callable, Coroutine
from types import TracebackType
from typing import Any, TypeVar

import uvicorn

from bbnb.emulator.config import OPEN_WEB_ENV, EmulatorConfig
from bbnb.emulator.emulator import Emulator
from bbnb.emulator.faults import DroppedConnection
from bbnb.emulator.functions import Duration, Handler

__all__ = ["RunningEmulator", "embedded", "embedded_speed", "serve_in_thread"]

_START_TIMEOUT = 30.0
T = TypeVar("T")


class _QuietDrops(logging.Filter):
    """Hide uvicorn's traceback for connections the fault injector dropped on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, DroppedConnection)


_FILTER = _QuietDrops()
logging.getLogger("uvicorn.error").addFilter(_FILTER)


class RunningEmulator:
    """An emulator served on a socket. ``stop()`` it, or use it as a context manager."""

    def __init__(
        self,
        emulator: Emulator,
        server: uvicorn.Server,
        thread: threading.Thread,
        host: str,
        port: int,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self.emulator = emulator
        self.loop = loop
        self.host = host
        self.port = port
        self._server = server
        self._thread = thread

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>`` (give this to any HTTP client or SDK)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def api_key(self) -> str:
        """The key the emulator accepts in ``X-BB-API-Key``."""
        return self.emulator.config.api_key

    @property
    def speed(self) -> float:
        """How many times faster than real time simulated time runs."""
        return float(self.emulator.config.speed)

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Run ``coro`` on the server's event loop (where browsers and CDP clients live)."""
        if self.loop is None or not self.running:
            coro.close()
            raise RuntimeError("the emulator is not running")
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    @property
    def local_browser(self) -> bool:
        """True when sessions get a real local Chromium (bbnb's notice and badges say so)."""
        return bool(self.emulator.live.real)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop serving and wait for the thread (idempotent)."""
        self._server.should_exit = True
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout)
        self.emulator.close()

    def __enter__(self) -> RunningEmulator:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        kind = "real browsers" if self.emulator.live.real else "simulated"
        return f"RunningEmulator({self.base_url}, {state}, {kind})"


def serve_in_thread(
    config: EmulatorConfig | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    emulator: Emulator | None = None,
    log_level: str = "warning",
) -> RunningEmulator:
    """Serve ``emulator`` (or a new one from ``config``) on ``host:port`` (0 = any free port)."""
    if emulator is not None and config is not None:
        raise ValueError("pass either config= or emulator=, not both")
    emu = emulator or Emulator(config)
    uv_config = uvicorn.Config(
        emu.app,
        host=host,
        port=port,
        log_level=log_level,
        access_log=False,
        lifespan="off",
        loop="asyncio",
        http="h11",
        ws="websockets-sansio",
        ws_max_size=2**31 - 1,
        ws_ping_interval=None,
        ws_per_message_deflate=False,  # CDP frames are small and many: compression costs more
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(uv_config)
    started = threading.Event()
    failure: list[BaseException] = []
    loops: list[asyncio.AbstractEventLoop] = []

    def main() -> None:
        loop = asyncio.new_event_loop()
        loops.append(loop)
        asyncio.set_event_loop(loop)

        async def serve() -> None:
            task = asyncio.ensure_future(server.serve())
            while not server.started and not task.done():  # noqa: ASYNC110 (uvicorn has no event)
                await asyncio.sleep(0.01)
            if server.started:
                sockets = [s for srv in server.servers for s in srv.sockets]
                if sockets:
                    emu.live.bind(host, int(sockets[0].getsockname()[1]))
            started.set()
            try:
                await task
            finally:
                await emu.live.aclose()

        try:
            loop.run_until_complete(serve())
        except BaseException as exc:  # reported to the starting thread
            failure.append(exc)
        finally:
            started.set()
            _finish_tasks(loop)
            loop.close()

    thread = threading.Thread(target=main, name=f"bbnb-emulator-{port}", daemon=True)
    thread.start()
    if not started.wait(_START_TIMEOUT) or not server.started:
        server.should_exit = True
        reason = f": {failure[0]!r}" if failure else ""
        raise RuntimeError(f"the emulator did not start on {host}:{port}{reason}")
    sockets = [s for srv in server.servers for s in srv.sockets]
    bound_port = int(sockets[0].getsockname()[1]) if sockets else port
    return RunningEmulator(emu, server, thread, host, bound_port, loops[0])


def _finish_tasks(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel what still runs on ``loop`` and let it unwind, as ``asyncio.run`` does, so no
    task (a screencast, a watcher) is left pending on a closed loop."""
    with contextlib.suppress(Exception):
        pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())


_embedded: RunningEmulator | None = None
_embedded_lock = threading.Lock()


EMBEDDED_BROWSERS_ENV = "BBNB_BROWSERS"
EMBEDDED_SPEED_ENV = "BBNB_EMULATOR_SPEED"
EMBEDDED_DEFAULT_SPEED = 10.0


def embedded_speed() -> float:
    """How much faster than real time the embedded emulator runs (``BBNB_EMULATOR_SPEED``).

    People wait on this emulator, not tests: a simulated agent run of 6..30 s takes
    0.6..3 s at the default of 10.  ``BBNB_EMULATOR_SPEED=1`` gives real durations.
    """
    raw = os.environ.get(EMBEDDED_SPEED_ENV, "").strip()
    if not raw:
        return EMBEDDED_DEFAULT_SPEED
    try:
        speed = float(raw)
    except ValueError:
        speed = float("nan")
    if not speed > 0 or speed == float("inf"):
        raise ValueError(
            f"{EMBEDDED_SPEED_ENV}={raw!r} is not a positive number; use e.g. 1 for real "
            f"time or 10 (the default) for runs ten times faster"
        )
    return speed


def embedded_open_web() -> bool:
    """Whether the embedded emulator's agent and built-ins may open any page (``BBNB_OPEN_WEB``).

    Off by default: they open the local web (``*.bbnb.test``) and 127.0.0.1, so nothing
    a notebook runs offline reaches the internet.  ``BBNB_OPEN_WEB=1`` opens the rest
    (on a machine that has the internet).  Sessions driven over ``connectUrl`` are never
    limited: their Chromium goes wherever your code sends it.
    """
    raw = os.environ.get(OPEN_WEB_ENV, "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise ValueError(f"{OPEN_WEB_ENV}={raw!r} is not one of 1/true/yes/on or 0/false/no/off")


def embedded_browsers() -> str:
    """Which browsers the embedded emulator gives its sessions (``BBNB_BROWSERS``).

    ``auto`` (the default): a real headless Chromium when one is installed, simulated
    sessions otherwise; ``real`` insists on one; ``simulated`` never starts a browser.
    """
    raw = os.environ.get(EMBEDDED_BROWSERS_ENV, "").strip().lower() or "auto"
    if raw not in ("auto", "real", "simulated"):
        raise ValueError(
            f"{EMBEDDED_BROWSERS_ENV}={raw!r} is not one of 'auto', 'real' or 'simulated'"
        )
    return raw


def embedded(**overrides: Any) -> RunningEmulator:
    """The process-wide emulator (started on first use, shared, stopped at exit).

    It uses ``EmulatorConfig.realistic()``: 3% of runs fail, 2% time out and 10%
    return results that only partly match their schema.  Simulated time runs
    ``embedded_speed()`` times faster than real time.  ``overrides`` apply only when
    this call starts it.
    """
    global _embedded
    with _embedded_lock:
        if _embedded is None or not _embedded.running:
            overrides.setdefault("speed", embedded_speed())
            overrides.setdefault("browsers", embedded_browsers())
            overrides.setdefault("open_web", embedded_open_web())
            _embedded = serve_in_thread(EmulatorConfig.realistic(**overrides))
            atexit.register(_embedded.stop)
        return _embedded


def _warn_if_clients_look_elsewhere(function_id: str, embedded_url: str) -> None:
    """Say so when ``bbnb.Client()`` would not talk to the emulator a handler went to."""
    key = os.environ.get("BROWSERBASE_API_KEY", "").strip()
    url = os.environ.get("BROWSERBASE_BASE_URL", "").strip().rstrip("/")
    if not key and not url:
        return  # a default client uses this very embedded emulator
    if url == embedded_url.rstrip("/"):
        return
    where = url or "Browserbase"
    warnings.warn(
        f"function {function_id!r} is registered on the embedded emulator ({embedded_url}), "
        f"but BROWSERBASE_API_KEY / BROWSERBASE_BASE_URL send a default bbnb.Client() to "
        f"{where}, which cannot see it. Invoke it with "
        "bbnb.Client(base_url=bbnb.emulator.embedded().base_url), or unset those variables.",
        UserWarning,
        stacklevel=3,
    )


def function(
    name: str | None = None,
    *,
    emulator: RunningEmulator | None = None,
    duration: Duration = None,
    session_create_params: dict[str, Any] | None = None,
) -> Callable[[Handler], Handler]:
    """Register a handler as a Function on the embedded emulator (or on ``emulator``).

    ``@bbnb.emulator.function("book-title")`` above ``def handler(params, context)``; then
    ``%bb_run fn book-title`` or ``client.functions.invoke("book-title", ...)`` runs it.
    The name defaults to the handler's, with ``_`` written ``-``.
    """

    def register(handler: Handler) -> Handler:
        target = emulator if emulator is not None else embedded()
        function_id = name or handler.__name__.replace("_", "-")
        target.emulator.register_function(
            function_id,
            handler,
            duration=duration,
            session_create_params=session_create_params,
        )
        if emulator is None:
            _warn_if_clients_look_elsewhere(function_id, target.base_url)
        return handler

    return register
