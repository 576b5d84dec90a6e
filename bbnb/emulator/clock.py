"""The emulator's default clock: wall time, because its timestamps go on the wire.

``bbnb.SystemClock`` is monotonic (an arbitrary origin), which would make
``createdAt`` meaningless and break persistence across restarts.  Tests pass a
``bbnb.ManualClock`` instead, whose origin is a fixed date.
"""

from __future__ import annotations

import asyncio
import time

__all__ = ["WallClock"]


class WallClock:
    """Real time as epoch seconds; ``sleep`` really waits."""

    def now(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))

    def __repr__(self) -> str:
        return "WallClock()"
