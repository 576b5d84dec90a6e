"""Browserbase's two plan limits: concurrent sessions and sessions created per minute.

Both are checked before anything is created, on the emulator's clock; going over
either answers 429 with Browserbase's message, and, if configured, a
``retry-after`` header.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from bbnb.emulator.wire import ApiError

__all__ = ["SessionLimiter"]

WINDOW = 60.0


class SessionLimiter:
    """Counts live sessions (via a callback) and recent creations."""

    def __init__(
        self,
        *,
        max_concurrent: int | None,
        per_minute: int | None,
        retry_after: float | None,
        count_active: Callable[[float], int],
        speed: float = 1.0,
    ) -> None:
        self.max_concurrent = max_concurrent
        # Simulated durations are divided by ``speed``; the rate window is too, so a
        # sped-up emulator keeps the plan's proportions (25 per simulated minute).
        self.window = WINDOW / speed
        self.per_minute = per_minute
        self.retry_after = retry_after
        self._count_active = count_active
        self._recent: deque[float] = deque()

    def check(self, now: float) -> None:
        """Raise a 429 ``ApiError`` if one more session would break a limit."""
        if self.max_concurrent is not None:
            active = self._count_active(now)
            if active >= self.max_concurrent:
                raise self._error(
                    "You've exceeded your max concurrent sessions limit "
                    f"(limit {self.max_concurrent}, currently {active})"
                )
        if self.per_minute is not None:
            while self._recent and self._recent[0] <= now - self.window:
                self._recent.popleft()
            if len(self._recent) >= self.per_minute:
                raise self._error(
                    "You've exceeded your session creation rate limit "
                    f"(limit {self.per_minute} per minute, currently {len(self._recent)})"
                )

    def record(self, now: float) -> None:
        """Note that a session was created at ``now``."""
        if self.per_minute is not None:
            self._recent.append(now)

    def _error(self, message: str) -> ApiError:
        headers = {}
        if self.retry_after is not None:
            headers["retry-after"] = f"{self.retry_after:g}"
        return ApiError(429, message, headers)
