"""Polling one run or invocation until it settles.

``PollPolicy`` says how often: the first pause is ``initial`` seconds, each next
one ``factor`` times longer, capped at ``max_interval``, each shifted by up to
``jitter`` (a fraction) either way so that many waiters do not poll in step.
The default (1 s growing to 5 s) follows the API notes' advice of polling every
1-5 s.  ``poll_until`` does the waiting on an injectable clock, so tests with a
``ManualClock`` wait no real time.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from bbnb._clock import Clock
from bbnb._exceptions import WaitTimeoutError

__all__ = ["PollPolicy", "poll_until"]

T = TypeVar("T")


@dataclass(frozen=True)
class PollPolicy:
    """How often ``wait()`` polls.  ``random`` is injectable for tests."""

    initial: float = 1.0
    factor: float = 1.5
    max_interval: float = 5.0
    jitter: float = 0.1
    random: Callable[[], float] = field(default=random.random, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.initial <= 0 or self.max_interval <= 0:
            raise ValueError(
                f"poll intervals must be > 0 (initial={self.initial!r}, "
                f"max_interval={self.max_interval!r})"
            )
        if self.factor < 1:
            raise ValueError(f"factor must be >= 1, got {self.factor!r}")
        if not 0.0 <= self.jitter < 1.0:
            raise ValueError(f"jitter must be within 0..1, got {self.jitter!r}")

    @classmethod
    def coerce(cls, value: float | PollPolicy) -> PollPolicy:
        """A policy from a policy, or from a number meaning a fixed interval in seconds."""
        if isinstance(value, PollPolicy):
            return value
        seconds = float(value)
        return cls(initial=seconds, factor=1.0, max_interval=seconds, jitter=0.0)

    def interval(self, polls_done: int) -> float:
        """The pause after poll number ``polls_done`` (0-based), jitter included."""
        base = min(self.initial * self.factor**polls_done, self.max_interval)
        return base * (1.0 + self.jitter * (2.0 * self.random() - 1.0))


async def poll_until(
    fetch: Callable[[], Awaitable[T]],
    settled: Callable[[T], bool],
    *,
    clock: Clock,
    policy: PollPolicy,
    timeout: float | None,  # noqa: ASYNC109 - virtual time: asyncio.timeout cannot apply
    describe: Callable[[T | None, float], str],
    first: T | None = None,
) -> T:
    """Fetch until ``settled(obj)``; raise ``WaitTimeoutError`` at the deadline.

    ``first`` is an object already in hand (checked before any request).
    ``describe(last_seen, timeout)`` builds the timeout message.
    """
    if timeout is not None and timeout < 0:
        raise ValueError(f"timeout must be >= 0 seconds or None, got {timeout!r}")
    deadline = None if timeout is None else clock.now() + timeout
    last = await fetch() if first is None else first
    polls = 0
    while not settled(last):
        pause = policy.interval(polls)
        if deadline is not None:
            remaining = deadline - clock.now()
            if remaining <= 0:
                assert timeout is not None
                raise WaitTimeoutError(describe(last, timeout), last_seen=last, timeout=timeout)
            pause = min(pause, remaining)
        await clock.sleep(pause)
        last = await fetch()
        polls += 1
    return last
