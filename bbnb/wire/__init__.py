"""The wire layer: how one request reaches Browserbase and how its answer comes back.

- ``_http``: ``HTTPCore``, one request with auth, errors and retries, and model parsing;
- ``_retry``: ``RetryPolicy`` and ``retry-after`` reading (creates are only resent when
  nothing can have been created);
- ``_pagination``: cursor, "since" and offset pagers;
- ``_polling``: ``PollPolicy`` and the poll-until-settled loop;
- ``_stats``: ``RequestStats``, every request counted by method and route;
- ``_sync``: the private event loop that lets synchronous code run coroutines inside
  Jupyter's running loop.

It imports only ``bbnb.models``, the exception tree and the clock.
"""

from __future__ import annotations

from bbnb.wire._http import HTTPCore, parse_model, user_agent
from bbnb.wire._polling import PollPolicy, poll_until
from bbnb.wire._retry import RetryPolicy, parse_retry_after
from bbnb.wire._stats import RequestCounts, RequestStats
from bbnb.wire._sync import private_loop, run_sync

__all__ = [
    "HTTPCore",
    "PollPolicy",
    "RequestCounts",
    "RequestStats",
    "RetryPolicy",
    "parse_model",
    "parse_retry_after",
    "poll_until",
    "private_loop",
    "run_sync",
    "user_agent",
]
