"""Time as bbnb sees it: one small protocol shared by the client, the runs layer
and the emulator, so that tests can drive every wait without sleeping.

``SystemClock`` is real time.  ``ManualClock`` is virtual time: nothing moves until
``advance()`` is called or somebody ``sleep()``s, and a sleep returns at once after
moving the clock to the sleeper's wake-up time.  Give the same ``ManualClock`` to an
in-process emulator and to a client and a run that "takes" ten minutes completes in
a few milliseconds, deterministically.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "ManualClock", "SystemClock"]


@runtime_checkable
class Clock(Protocol):
    """Anything that tells the time and can wait for it to pass."""

    def now(self) -> float:
        """Seconds since an arbitrary but fixed origin (only differences matter)."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait until ``seconds`` have passed on this clock."""
        ...


class SystemClock:
    """Real time: ``time.monotonic`` and ``asyncio.sleep``."""

    def now(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))

    def __repr__(self) -> str:
        return "SystemClock()"


class ManualClock:
    """Virtual time for tests: ``sleep`` jumps the clock forward instead of waiting.

    A sleeper that starts at ``t`` and asks for ``s`` seconds moves the clock to
    ``t + s`` unless another sleeper already moved it further.  ``advance`` moves it
    by hand.  Thread-safe, so a uvicorn thread may read it while a test advances it.
    """

    def __init__(self, start: float = 1_767_225_600.0) -> None:
        # Default origin: 2026-01-01T00:00:00Z, so emulator timestamps are stable.
        self._now = float(start)
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> float:
        """Move the clock forward by ``seconds`` (never backwards) and return the new time."""
        if seconds < 0:
            raise ValueError(f"a clock cannot go back in time (advance({seconds!r}))")
        with self._lock:
            self._now += seconds
            return self._now

    async def sleep(self, seconds: float) -> None:
        target = self.now() + max(0.0, seconds)
        with self._lock:
            if target > self._now:
                self._now = target
        # Yield once so other tasks see the new time, as a real sleep would allow.
        await asyncio.sleep(0)

    def __repr__(self) -> str:
        return f"ManualClock(now={self.now():.3f})"
