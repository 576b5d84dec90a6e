"""Every error bbnb raises, in one tree.

::

    BBNBError
     ├── ConfigurationError            bad or missing api_key / base_url / options
     ├── APIError                      something went wrong talking to the API
     │    ├── APIStatusError           the server answered with a 4xx/5xx
     │    │    ├── BadRequestError             400
     │    │    ├── AuthenticationError         401
     │    │    ├── PermissionDeniedError       403
     │    │    ├── NotFoundError               404
     │    │    ├── ConflictError               409 (a state answer; never retried)
     │    │    ├── PayloadTooLargeError        413
     │    │    ├── UnprocessableEntityError    422
     │    │    ├── RateLimitError              429 (.retry_after)
     │    │    └── InternalServerError         >= 500
     │    ├── APIConnectionError       no usable answer (refused, dropped, ...)
     │    │    ├── APITimeoutError     the request timed out
     │    │    └── CreateOutcomeUnknownError
     │    │                            a create/invoke POST was sent but its answer
     │    │                            was lost; it was NOT resent
     │    └── APIResponseValidationError
     │                                 a 2xx body that does not match the API's shape
     ├── RunError                      a run or invocation ended badly (.run, .cause)
     │    ├── RunFailedError           FAILED
     │    ├── RunTimedOutError         TIMED_OUT (or an invocation FAILED by TIMED_OUT)
     │    └── RunStoppedError          STOPPED
     ├── WaitTimeoutError              wait() hit its deadline (.last_seen)
     └── RunUnavailableError           attach(): the run is unfinished and its server
                                       is gone, or is not the client's server

No message built here ever contains the API key: messages are made from the
method, the path, the status and the server's error body only.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from bbnb.models import AgentRun, Cause, ErrorBody, Invocation

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BBNBError",
    "BadRequestError",
    "ConfigurationError",
    "ConflictError",
    "CreateOutcomeUnknownError",
    "InternalServerError",
    "NotFoundError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "RateLimitError",
    "RunError",
    "RunFailedError",
    "RunStoppedError",
    "RunTimedOutError",
    "RunUnavailableError",
    "UnprocessableEntityError",
    "WaitTimeoutError",
    "raise_for_run",
    "status_error_class",
]


class BBNBError(Exception):
    """Base class of every error raised by bbnb."""


class ConfigurationError(BBNBError, ValueError):
    """The client was given (or found in the environment) settings it cannot use."""


class APIError(BBNBError):
    """A request to the Browserbase API (or the emulator) did not succeed.

    ``method`` and ``path`` name the request; ``request`` is the httpx request when
    one was built.  Its headers hold the API key, so never print them.
    """

    def __init__(
        self,
        message: str,
        *,
        method: str,
        path: str,
        request: httpx.Request | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.method = method
        self.path = path
        self.request = request


class APIStatusError(APIError):
    """The server answered with an error status.

    ``body`` is the parsed Browserbase error body ``{statusCode, error, message}``
    when the server sent one, else ``None`` (then ``text`` holds what it sent).
    """

    status_code: int

    def __init__(
        self,
        message: str,
        *,
        method: str,
        path: str,
        response: httpx.Response,
        body: ErrorBody | None,
        text: str = "",
    ) -> None:
        super().__init__(message, method=method, path=path, request=response.request)
        self.response = response
        self.status_code = response.status_code
        self.body = body
        self.text = text


class BadRequestError(APIStatusError):
    """400: the request body or query was rejected."""


class AuthenticationError(APIStatusError):
    """401: the API key is missing or wrong."""


class PermissionDeniedError(APIStatusError):
    """403: the key may not do this."""


class NotFoundError(APIStatusError):
    """404: no such run, invocation, function, agent or session."""


class ConflictError(APIStatusError):
    """409: the request conflicts with the object's state (e.g. stopping a finished run).

    This is an answer, not a fault, and is never retried.
    """


class PayloadTooLargeError(APIStatusError):
    """413: the body is too large (e.g. function params over 64 KB)."""


class UnprocessableEntityError(APIStatusError):
    """422: well-formed but semantically invalid."""


class RateLimitError(APIStatusError):
    """429: a plan limit was hit.  ``retry_after`` is the server's hint in seconds, if any."""

    def __init__(
        self,
        message: str,
        *,
        method: str,
        path: str,
        response: httpx.Response,
        body: ErrorBody | None,
        text: str = "",
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, method=method, path=path, response=response, body=body, text=text)
        self.retry_after = retry_after


class InternalServerError(APIStatusError):
    """5xx: the server failed."""


_STATUS_CLASSES: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    413: PayloadTooLargeError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def status_error_class(status_code: int) -> type[APIStatusError]:
    """The exception class for an HTTP error status."""
    if status_code >= 500:
        return InternalServerError
    return _STATUS_CLASSES.get(status_code, APIStatusError)


class APIConnectionError(APIError):
    """No usable answer came back: connection refused, dropped, reset, or TLS failure."""


class APITimeoutError(APIConnectionError):
    """The request timed out."""


class CreateOutcomeUnknownError(APIConnectionError):
    """A create/invoke POST was sent, but its answer was lost.

    The run (or invocation, session, agent) may exist on the server.  bbnb did not
    send the request again, because that could start a duplicate.  ``find_hint``
    says how to look for it; ``sent_at`` is when the request went out (UTC).
    """

    def __init__(
        self,
        message: str,
        *,
        method: str,
        path: str,
        request: httpx.Request | None,
        sent_at: datetime,
        find_hint: str,
    ) -> None:
        super().__init__(message, method=method, path=path, request=request)
        self.sent_at = sent_at
        self.find_hint = find_hint


class APIResponseValidationError(APIError):
    """A success response whose body is not the shape the API documents."""


class RunError(BBNBError):
    """A run or invocation reached a bad end.  ``run`` is the final object, ``cause`` its cause."""

    def __init__(self, message: str, *, run: AgentRun | Invocation, cause: Cause | None) -> None:
        super().__init__(message)
        self.message = message
        self.run = run
        self.cause = cause


class RunFailedError(RunError):
    """The run or invocation FAILED."""


class RunTimedOutError(RunError):
    """The run TIMED_OUT on the server (or an invocation FAILED with cause TIMED_OUT)."""


class RunStoppedError(RunError):
    """The run was STOPPED."""


class WaitTimeoutError(BBNBError, TimeoutError):
    """``wait()`` reached its deadline.  The work goes on on the server.

    ``last_seen`` is the newest object fetched before giving up.
    """

    def __init__(self, message: str, *, last_seen: Any, timeout: float) -> None:
        super().__init__(message)
        self.message = message
        self.last_seen = last_seen
        self.timeout = timeout


def _run_label(run: AgentRun | Invocation) -> tuple[str, str]:
    """("Run 'id'" or "Invocation 'id'", the status) for messages."""
    run_id = getattr(run, "run_id", None)
    if run_id is not None:
        return f"Run {run_id!r}", str(run.status)
    return f"Invocation {getattr(run, 'id', '?')!r}", str(run.status)


def raise_for_run(run: AgentRun | Invocation) -> None:
    """Raise the matching ``RunError`` if ``run`` ended FAILED, TIMED_OUT or STOPPED.

    COMPLETED, PAUSED and unfinished runs pass silently.
    """
    status = str(run.status)
    cause = getattr(run, "cause", None)
    code = getattr(cause, "code", None)
    if status == "TIMED_OUT" or (status == "FAILED" and code == "TIMED_OUT"):
        cls: type[RunError] = RunTimedOutError
    elif status == "FAILED":
        cls = RunFailedError
    elif status == "STOPPED":
        cls = RunStoppedError
    else:
        return
    label, _ = _run_label(run)
    detail = ""
    if cause is not None:
        message = getattr(cause, "message", None)
        detail = f": {code}" + (f": {message}" if message else "")
    raise cls(f"{label} ended {status}{detail}", run=run, cause=cause)


class RunUnavailableError(BBNBError, LookupError):
    """``attach`` cannot answer: an unfinished run whose server is gone, or is another.

    bbnb never asks one server about another's run.  The message names the server the
    run belongs to and what can be done.
    """
