"""Being polite to the API: a concurrency cap that adapts, and a session-creation rate cap.

``ConcurrencyLimiter`` counts runs in flight (each holds a browser session) against a
limit that halves when the server answers 429 and grows back by one slot per quiet
period (additive increase, multiplicative decrease).  ``CreationBucket`` is a token
bucket of session creations per minute, on the injected clock; a 429 pauses it for
the server's ``retry-after`` (or an exponential backoff with jitter).  Neither ever
retries anything itself: the submitter asks them for permission before each create.
"""

from __future__ import annotations

import asyncio
import random
from collections import deque
from dataclasses import dataclass

from bbnb._clock import Clock

__all__ = ["ConcurrencyLimiter", "CreationBucket", "RateLimitPolicy"]


@dataclass(frozen=True)
class RateLimitPolicy:
    """Tuning of the 429 reaction (defaults follow the SDK's backoff)."""

    recover_after: float = 5.0
    """Quiet seconds after a 429 before each extra slot is given back."""
    base_backoff: float = 0.5
    max_backoff: float = 8.0
    max_retry_after: float = 60.0


class ConcurrencyLimiter:
    """A semaphore whose size moves between 1 and ``maximum``; releases never block."""

    def __init__(self, maximum: int, clock: Clock, policy: RateLimitPolicy | None = None) -> None:
        if maximum < 1:
            raise ValueError(f"concurrency must be at least 1, got {maximum}")
        self.maximum = maximum
        self.limit = maximum
        self.in_use = 0
        self._clock = clock
        self._policy = policy or RateLimitPolicy()
        self._last_change = clock.now()
        self._waiters: deque[asyncio.Future[None]] = deque()

    def __repr__(self) -> str:
        return f"ConcurrencyLimiter(limit={self.limit}/{self.maximum}, in_use={self.in_use})"

    @property
    def slowed(self) -> bool:
        """True while the limit is below the requested maximum."""
        return self.limit < self.maximum

    def try_acquire(self) -> bool:
        """Take a free slot now if there is one (no waiting)."""
        self._recover()
        if self.in_use < self.limit and not self._waiters:
            self.in_use += 1
            return True
        return False

    async def acquire(self) -> None:
        """Wait for a free slot under the current limit."""
        if self.try_acquire():
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # granted just as we gave up: hand it on
            else:
                self._waiters.remove(waiter)
            raise

    def release(self) -> None:
        """Give a slot back (the run ended, or its create did not happen)."""
        self.in_use = max(0, self.in_use - 1)
        self.poke()

    def poke(self) -> None:
        """Grant slots to waiters if the limit allows (time may have restored one)."""
        self._recover()
        while self._waiters and self.in_use < self.limit:
            waiter = self._waiters.popleft()
            if not waiter.done():
                self.in_use += 1
                waiter.set_result(None)

    def on_rate_limited(self) -> None:
        """A create got 429: halve the limit (never below 1, never above what is in use)."""
        busy = max(1, self.in_use - 1)
        self.limit = max(1, min(self.limit // 2, busy))
        self._last_change = self._clock.now()

    def _recover(self) -> bool:
        if self.limit >= self.maximum:
            return False
        quiet = self._clock.now() - self._last_change
        steps = int(quiet // self._policy.recover_after)
        if steps <= 0:
            return False
        self.limit = min(self.maximum, self.limit + steps)
        self._last_change = self._clock.now()
        return True


class CreationBucket:
    """Session creations per minute as a token bucket; ``None`` rate means unlimited."""

    def __init__(
        self,
        rate_per_minute: float | None,
        clock: Clock,
        policy: RateLimitPolicy | None = None,
        *,
        rng: random.Random | None = None,
    ) -> None:
        if rate_per_minute is not None and rate_per_minute <= 0:
            raise ValueError(f"rate_per_minute must be positive, got {rate_per_minute}")
        self.rate_per_minute = rate_per_minute
        self._clock = clock
        self._policy = policy or RateLimitPolicy()
        self._rng = rng or random.Random()
        capacity = rate_per_minute if rate_per_minute is not None else 0.0
        self._capacity = max(1.0, capacity)
        self._tokens = self._capacity
        self._stamp = clock.now()
        self.paused_until = clock.now()
        self.strikes = 0
        self.rate_limited = 0
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"CreationBucket(rate_per_minute={self.rate_per_minute}, strikes={self.strikes})"

    def is_paused(self) -> bool:
        """True while a 429 pause is in force."""
        return self._clock.now() < self.paused_until

    async def take(self) -> None:
        """Wait until one creation is allowed, then spend it."""
        async with self._lock:
            while True:
                now = self._clock.now()
                if now < self.paused_until:
                    await self._clock.sleep(self.paused_until - now)
                    continue
                if self.rate_per_minute is None:
                    return
                self._refill(now)
                if self._tokens >= 1.0:
                    self._tokens -= 1.0
                    return
                per_second = self.rate_per_minute / 60.0
                await self._clock.sleep((1.0 - self._tokens) / per_second)

    def on_success(self) -> None:
        """A create went through: the backoff starts from scratch next time."""
        self.strikes = 0

    def on_rate_limited(self, retry_after: float | None) -> float:
        """A create got 429: pause every creation; return the pause in seconds."""
        self.rate_limited += 1
        if retry_after is not None and 0 < retry_after <= self._policy.max_retry_after:
            pause = retry_after
        else:
            pause = min(self._policy.base_backoff * 2**self.strikes, self._policy.max_backoff)
            pause *= 1 - 0.25 * self._rng.random()
        self.strikes += 1
        self.paused_until = max(self.paused_until, self._clock.now() + pause)
        self._tokens = 0.0
        self._stamp = self._clock.now()
        return pause

    def _refill(self, now: float) -> None:
        assert self.rate_per_minute is not None
        elapsed = max(0.0, now - self._stamp)
        self._stamp = now
        self._tokens = min(self._capacity, self._tokens + elapsed * self.rate_per_minute / 60.0)
