"""When to try a request again, and how long to wait first.

The rules (DESIGN.md, "Never create a run twice"):

* **Reads** (GET, and idempotent PATCH/DELETE) and **actions** (stop, resume,
  session release) are retried on connection errors, timeouts, 408, 429 and 5xx.
* **Creates** (run create, function invoke, session/agent create) are retried only
  when the request provably created nothing: the connection could not be opened
  (``httpx.ConnectError``, ``ConnectTimeout``), no pooled connection was free
  (``PoolTimeout``), or the server answered **429** (a refusal: nothing was made).
  429s are retried honouring the server's hint, with backoff, until the next wait
  would pass ``rate_limit_wait`` seconds in all; then ``RateLimitError`` says how
  long bbnb waited.  Every other failure after sending is reported, not resent.
  Batches pace themselves (``bbnb.runs.limits``), so they run their creates inside
  ``report_rate_limits()``, where a 429 is raised at once.
* **409 is never retried**: it is the server's answer about the object's state.

The delay honours ``retry-after-ms`` / ``retry-after`` (seconds or an HTTP date)
when 0 < hint <= ``max_retry_after``; otherwise it is
``min(initial * 2**n, max_delay) * (1 - jitter * random())`` for the n-th retry.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Literal

import httpx

__all__ = [
    "RequestKind",
    "RetryPolicy",
    "parse_retry_after",
    "report_rate_limits",
]

#: read: safe to repeat; action: stop/resume/release, repeatable; create: never duplicated.
RequestKind = Literal["read", "action", "create"]

RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
#: Transport errors raised before any byte of the request left this machine.
NEVER_SENT_ERRORS: tuple[type[httpx.TransportError], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
)


_report_rate_limits: ContextVar[bool] = ContextVar("bbnb_report_rate_limits", default=False)


@contextmanager
def report_rate_limits() -> Iterator[None]:
    """Inside this block a create answered 429 raises ``RateLimitError`` at once.

    For callers that pace creates themselves (a batch halves its concurrency and
    pauses on a 429); everyone else gets the bounded retry of ``RetryPolicy``.
    """
    token = _report_rate_limits.set(True)
    try:
        yield
    finally:
        _report_rate_limits.reset(token)


def reports_rate_limits() -> bool:
    """True inside ``report_rate_limits()``."""
    return _report_rate_limits.get()


def parse_retry_after(headers: httpx.Headers, *, wall_now: float | None = None) -> float | None:
    """The server's retry hint in seconds, or None if absent or unreadable."""
    raw_ms = headers.get("retry-after-ms")
    if raw_ms is not None:
        try:
            return float(raw_ms) / 1000.0
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if raw is None:
        return None
    try:
        return float(raw)
    except ValueError:
        pass
    try:
        parsed = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    now = time.time() if wall_now is None else wall_now
    return parsed.timestamp() - now


@dataclass(frozen=True)
class RetryPolicy:
    """How many times to retry and how long to wait.  ``random`` is injectable for tests."""

    max_retries: int = 2
    initial_delay: float = 0.5
    max_delay: float = 8.0
    jitter: float = 0.25
    max_retry_after: float = 60.0
    #: Longest total wait (s) for one create answered 429 again and again; 0 never retries.
    rate_limit_wait: float = 60.0
    random: Callable[[], float] = field(default=random.random, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {self.max_retries!r}")
        if not self.rate_limit_wait >= 0:
            raise ValueError(
                f"rate_limit_wait must be >= 0 seconds (0 turns the 429 retry of creates off), "
                f"got {self.rate_limit_wait!r}"
            )
        if not 0.0 <= self.jitter <= 1.0:
            raise ValueError(f"jitter must be within 0..1, got {self.jitter!r}")

    def backoff(self, retries_taken: int) -> float:
        """The jittered exponential delay before retry number ``retries_taken + 1``."""
        base = min(self.initial_delay * 2.0**retries_taken, self.max_delay)
        return base * (1.0 - self.jitter * self.random())

    def delay(self, retries_taken: int, response: httpx.Response | None) -> float:
        """Seconds to wait before the next attempt, honouring a sane server hint."""
        if response is not None:
            hint = parse_retry_after(response.headers)
            if hint is not None and 0 < hint <= self.max_retry_after:
                return hint
        return self.backoff(retries_taken)

    def rate_limit_delay(self, retries_taken: int, response: httpx.Response) -> float:
        """Seconds to wait before resending a create answered 429: the hint, else backoff."""
        hint = parse_retry_after(response.headers)
        if hint is not None and hint > 0:
            return hint
        return self.backoff(retries_taken)

    def should_retry_status(self, kind: RequestKind, status_code: int) -> bool:
        """Whether a response with this status is worth another attempt."""
        if kind == "create" or status_code == 409:
            return False
        return status_code in RETRYABLE_STATUSES or status_code >= 500

    def should_retry_error(self, kind: RequestKind, error: httpx.TransportError) -> bool:
        """Whether a transport error is worth another attempt."""
        if kind == "create":
            return isinstance(error, NEVER_SENT_ERRORS)
        return True
