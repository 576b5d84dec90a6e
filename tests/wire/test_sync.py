"""The private-loop runner: results, errors, running loops, Ctrl-C."""

from __future__ import annotations

import _thread
import asyncio
import threading

import pytest

from bbnb.wire._sync import private_loop, run_sync, submit


async def _answer(value: int) -> int:
    await asyncio.sleep(0)
    return value


async def _fail() -> None:
    raise LookupError("boom")


def test_returns_the_coroutine_result() -> None:
    """A plain call returns what the coroutine returns."""
    assert run_sync(_answer(42)) == 42


def test_reraises_the_coroutine_error() -> None:
    """The coroutine's exception reaches the caller unchanged."""
    with pytest.raises(LookupError, match="boom"):
        run_sync(_fail())


def test_runs_on_the_private_loop_thread() -> None:
    """The work happens on bbnb's own daemon thread, not the caller's."""

    async def where() -> str:
        return threading.current_thread().name

    assert run_sync(where()) == "bbnb-event-loop"
    assert private_loop() is private_loop()


def test_works_inside_a_running_event_loop() -> None:
    """Called from a coroutine (as in a Jupyter cell), it neither fails nor deadlocks."""

    async def cell() -> int:
        asyncio.get_running_loop()  # a loop is running here, as in a kernel
        return run_sync(_answer(7)) + run_sync(_answer(8))

    assert asyncio.run(cell()) == 15


def test_submit_gives_a_concurrent_future() -> None:
    """``submit`` schedules without blocking and yields a thread-safe future."""
    assert submit(_answer(3)).result(timeout=5) == 3


def test_refuses_to_deadlock_on_its_own_thread() -> None:
    """Calling run_sync from the private loop raises instead of hanging."""

    async def nested() -> None:
        run_sync(_answer(1))

    with pytest.raises(RuntimeError, match="deadlock"):
        run_sync(nested())


def test_rejects_a_bad_slice() -> None:
    """A non-positive slice is a usage error."""
    with pytest.raises(ValueError, match="slice_seconds"):
        run_sync(_answer(1), slice_seconds=0)


def test_ctrl_c_cancels_the_task_and_reraises() -> None:
    """KeyboardInterrupt while waiting cancels the task on the private loop and propagates."""
    started = threading.Event()
    cancelled = threading.Event()
    never = asyncio.Event()

    async def forever() -> None:
        started.set()
        try:
            await never.wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    timer = threading.Timer(0.05, _thread.interrupt_main)
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            run_sync(forever(), slice_seconds=0.02)
    finally:
        timer.cancel()
    assert started.is_set()
    assert cancelled.wait(5), "the task on the private loop was not cancelled"
    assert run_sync(_answer(5)) == 5  # the loop survives the interrupt
