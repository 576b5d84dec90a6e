"""Injected faults for testing clients: 5xx answers, slow answers, dropped connections.

Each ``/v1`` request draws once from a random source seeded by the emulator seed,
so a given seed and request order reproduce the same faults.  A dropped
connection is dropped *after* the request was handled, the worst case for a
client: a create may have happened although no answer arrived.
"""

from __future__ import annotations

import random
import threading
from typing import Literal

__all__ = ["DroppedConnection", "Fault", "FaultInjector"]

Fault = Literal["5xx", "slow", "drop"]


class DroppedConnection(Exception):
    """Raised inside the app to make the server close the connection mid-response."""


class FaultInjector:
    """Decides, per request, whether to misbehave."""

    def __init__(self, seed: int, *, error_rate: float, slow_rate: float, drop_rate: float) -> None:
        self._rng = random.Random(f"faults:{seed}")
        self._lock = threading.Lock()
        self.error_rate = error_rate
        self.slow_rate = slow_rate
        self.drop_rate = drop_rate

    @property
    def enabled(self) -> bool:
        return self.error_rate + self.slow_rate + self.drop_rate > 0

    def draw(self) -> tuple[Fault | None, int]:
        """The fault for the next request (or None), and a 5xx status to use for it."""
        if not self.enabled:
            return None, 0
        with self._lock:
            roll = self._rng.random()
            status = self._rng.choice((500, 502, 503))
        if roll < self.error_rate:
            return "5xx", status
        if roll < self.error_rate + self.slow_rate:
            return "slow", 0
        if roll < self.error_rate + self.slow_rate + self.drop_rate:
            return "drop", 0
        return None, 0
