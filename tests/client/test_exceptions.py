"""The exception tree: shape, docstring drawing, and run-level errors."""

from __future__ import annotations

import pytest

from bbnb import _exceptions as exc
from bbnb.models import AgentRun, Invocation

from .conftest import invocation_wire, run_wire


def test_docstring_draws_every_exception() -> None:
    """Each exception class appears in the module docstring's tree."""
    doc = exc.__doc__ or ""
    classes = [n for n in exc.__all__ if isinstance(getattr(exc, n), type)]
    assert classes and all(name in doc for name in classes)


@pytest.mark.parametrize(
    ("child", "parent"),
    [
        (exc.NotFoundError, exc.APIStatusError),
        (exc.APIStatusError, exc.APIError),
        (exc.APITimeoutError, exc.APIConnectionError),
        (exc.CreateOutcomeUnknownError, exc.APIConnectionError),
        (exc.RunTimedOutError, exc.RunError),
        (exc.RunError, exc.BBNBError),
        (exc.WaitTimeoutError, exc.BBNBError),
        (exc.ConfigurationError, exc.BBNBError),
        (exc.APIError, exc.BBNBError),
    ],
    ids=lambda c: c.__name__,
)
def test_tree(child: type, parent: type) -> None:
    """Catching a parent catches its children."""
    assert issubclass(child, parent)


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, exc.BadRequestError),
        (401, exc.AuthenticationError),
        (403, exc.PermissionDeniedError),
        (404, exc.NotFoundError),
        (409, exc.ConflictError),
        (413, exc.PayloadTooLargeError),
        (422, exc.UnprocessableEntityError),
        (429, exc.RateLimitError),
        (500, exc.InternalServerError),
        (504, exc.InternalServerError),
        (405, exc.APIStatusError),
    ],
    ids=str,
)
def test_status_classes(status: int, cls: type) -> None:
    """Statuses map to their classes; unlisted 4xx fall back to APIStatusError."""
    assert exc.status_error_class(status) is cls


@pytest.mark.parametrize(
    ("run", "error"),
    [
        (AgentRun.from_wire(run_wire(status="FAILED")), exc.RunFailedError),
        (AgentRun.from_wire(run_wire(status="TIMED_OUT")), exc.RunTimedOutError),
        (AgentRun.from_wire(run_wire(status="STOPPED")), exc.RunStoppedError),
        (
            Invocation.from_wire(
                invocation_wire(status="FAILED", cause={"code": "TIMED_OUT", "message": "900 s"})
            ),
            exc.RunTimedOutError,
        ),
        (
            Invocation.from_wire(
                invocation_wire(status="FAILED", cause={"code": "WORKLOAD_ERROR"})
            ),
            exc.RunFailedError,
        ),
    ],
    ids=["run-failed", "run-timed-out", "run-stopped", "invocation-timeout", "invocation-error"],
)
def test_raise_for_run(run: AgentRun | Invocation, error: type[exc.RunError]) -> None:
    """Bad ends raise the matching error carrying the run."""
    with pytest.raises(error) as info:
        exc.raise_for_run(run)
    assert info.value.run is run


@pytest.mark.parametrize("status", ["COMPLETED", "PAUSED", "RUNNING", "PENDING"], ids=str)
def test_raise_for_run_passes_good_states(status: str) -> None:
    """Completed, paused and unfinished runs raise nothing."""
    exc.raise_for_run(AgentRun.from_wire(run_wire(status=status)))


def test_invocation_timeout_message() -> None:
    """The message names the invocation, its status and its cause."""
    inv = Invocation.from_wire(
        invocation_wire(status="FAILED", cause={"code": "TIMED_OUT", "message": "900 s"})
    )
    with pytest.raises(
        exc.RunTimedOutError, match=r"^Invocation 'inv_1' ended FAILED: TIMED_OUT: 900 s$"
    ):
        exc.raise_for_run(inv)
