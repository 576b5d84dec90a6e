"""bbnb: Browserbase's cloud browsers inside Jupyter.

The public API is re-exported here from private modules.  Notebook integrations
live in public submodules that this package does not import: ``bbnb.magics``
(loaded by ``%load_ext bbnb``), ``bbnb.widgets`` and ``bbnb.emulator``.
"""

from __future__ import annotations

from typing import Any

from bbnb._clock import Clock, ManualClock, SystemClock
from bbnb._exceptions import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    BBNBError,
    ConfigurationError,
    ConflictError,
    CreateOutcomeUnknownError,
    InternalServerError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    RateLimitError,
    RunError,
    RunFailedError,
    RunStoppedError,
    RunTimedOutError,
    RunUnavailableError,
    UnprocessableEntityError,
    WaitTimeoutError,
)
from bbnb.client import AsyncClient, Client
from bbnb.models import (
    AgentRun,
    AgentRunCreateParams,
    FunctionInvokeParams,
    Invocation,
    SessionCreateParams,
)
from bbnb.results import ResultValidationError, messages_frame, to_frame
from bbnb.runs import (
    Batch,
    BatchItem,
    BatchStats,
    Journal,
    attach,
    cache_info,
    clear_cache,
    history,
    last_batch,
)
from bbnb.wire import PollPolicy, RequestCounts, RequestStats, RetryPolicy

__version__ = "0.1.0"


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext bbnb``: register the ``%bb_run`` magic (imported only now)."""
    from bbnb.magics import load_ipython_extension as load

    load(ipython, live_view=_live_view)


def _live_view(client: Any, find_run: Any) -> Any:
    """``%bb_run ... --live``: a ``LiveFollow`` widget (ipywidgets is imported only now)."""
    from bbnb.widgets.live_follow import LiveFollow

    return LiveFollow(client, find_run)


def replay(row: Any, *, client: Any = None, **options: Any) -> Any:
    """The recording of one row of a ``to_frame`` DataFrame: ``bbnb.replay(df.iloc[i])``.

    Returns a ``bbnb.widgets.Replay`` (ipywidgets is imported only now); also takes a
    run, an invocation or a session id.  ``options``: ``max_frames``, ``max_width``.
    """
    from bbnb.widgets.replay import replay as open_replay

    return open_replay(row, client=client, **options)


def unload_ipython_extension(ipython: Any) -> None:
    """``%unload_ext bbnb``."""
    from bbnb.magics import unload_ipython_extension as unload

    unload(ipython)


__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AgentRun",
    "AgentRunCreateParams",
    "AsyncClient",
    "AuthenticationError",
    "BBNBError",
    "BadRequestError",
    "Batch",
    "BatchItem",
    "BatchStats",
    "Client",
    "Clock",
    "ConfigurationError",
    "ConflictError",
    "CreateOutcomeUnknownError",
    "FunctionInvokeParams",
    "InternalServerError",
    "Invocation",
    "Journal",
    "ManualClock",
    "NotFoundError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "PollPolicy",
    "RateLimitError",
    "RequestCounts",
    "RequestStats",
    "ResultValidationError",
    "RetryPolicy",
    "RunError",
    "RunFailedError",
    "RunStoppedError",
    "RunTimedOutError",
    "RunUnavailableError",
    "SessionCreateParams",
    "SystemClock",
    "UnprocessableEntityError",
    "WaitTimeoutError",
    "__version__",
    "attach",
    "cache_info",
    "clear_cache",
    "history",
    "last_batch",
    "load_ipython_extension",
    "messages_frame",
    "replay",
    "to_frame",
    "unload_ipython_extension",
]
