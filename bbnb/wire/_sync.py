"""Run coroutines from synchronous code, even inside a running event loop.

bbnb owns one private event loop that lives in a daemon thread.  ``run_sync``
hands a coroutine to that loop and blocks the calling thread until it is done, so
it works the same from a plain script and from a Jupyter cell whose kernel loop is
already running (the pattern of ``jupyter_core.utils.run_sync``; no nest-asyncio).

The caller waits in short slices (0.25 s by default) so that Ctrl-C is felt
promptly on every OS.  On ``KeyboardInterrupt`` the task is cancelled on the
private loop, given a moment to clean up, and the interrupt is re-raised.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["private_loop", "run_sync", "submit"]

T = TypeVar("T")

#: How long a cancelled task may take to unwind after Ctrl-C before we give up on it.
CANCEL_GRACE_SECONDS = 2.0

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_thread: threading.Thread | None = None


def _serve(loop: asyncio.AbstractEventLoop, ready: threading.Event) -> None:
    asyncio.set_event_loop(loop)
    loop.call_soon(ready.set)
    loop.run_forever()


def private_loop() -> asyncio.AbstractEventLoop:
    """The process-wide private loop, started on first use."""
    global _loop, _thread
    with _lock:
        if _loop is None or _thread is None or not _thread.is_alive() or _loop.is_closed():
            loop = asyncio.new_event_loop()
            ready = threading.Event()
            thread = threading.Thread(
                target=_serve, args=(loop, ready), name="bbnb-event-loop", daemon=True
            )
            thread.start()
            ready.wait()
            _loop, _thread = loop, thread
        return _loop


def _on_private_thread() -> bool:
    return _thread is not None and threading.current_thread() is _thread


def submit(coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
    """Schedule ``coro`` on the private loop; return a thread-safe future for its result."""
    return asyncio.run_coroutine_threadsafe(coro, private_loop())


def run_sync(coro: Coroutine[Any, Any, T], *, slice_seconds: float = 0.25) -> T:
    """Run ``coro`` on the private loop and return its result (or raise its error).

    Blocks the calling thread, waking every ``slice_seconds`` so that Ctrl-C can
    interrupt it; the interrupt cancels the task and is re-raised.
    """
    if slice_seconds <= 0:
        coro.close()
        raise ValueError(f"slice_seconds must be > 0, got {slice_seconds!r}")
    if _on_private_thread():
        coro.close()
        raise RuntimeError(
            "run_sync() was called from bbnb's own event loop thread, which would deadlock; "
            "await the async API (AsyncClient) there instead"
        )
    loop = private_loop()
    result: concurrent.futures.Future[T] = concurrent.futures.Future()
    task_box: list[asyncio.Task[T]] = []
    finished = threading.Event()

    def start() -> None:
        task = loop.create_task(coro)
        task_box.append(task)
        task.add_done_callback(lambda t: _settle(t, result, finished))

    try:
        # Scheduling sits inside the try: a Ctrl-C that lands right after it must still
        # cancel the task, or the work would go on unseen.
        loop.call_soon_threadsafe(start)
        while True:
            done, _ = concurrent.futures.wait([result], timeout=slice_seconds)
            if done:
                return result.result()
    except KeyboardInterrupt:
        loop.call_soon_threadsafe(lambda: task_box[0].cancel() if task_box else coro.close())
        finished.wait(CANCEL_GRACE_SECONDS)
        raise


def _settle(
    task: asyncio.Task[T], result: concurrent.futures.Future[T], finished: threading.Event
) -> None:
    """Copy a finished task's outcome into the caller's future."""
    try:
        if task.cancelled():
            result.cancel()
        elif (error := task.exception()) is not None:
            result.set_exception(error)
        else:
            result.set_result(task.result())
    finally:
        finished.set()
