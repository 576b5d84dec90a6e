"""Small helpers shared by the resources: argument checks, limits and the wait for a settled run."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from bbnb._exceptions import raise_for_run
from bbnb.models import AgentRun, Invocation
from bbnb.wire._polling import PollPolicy, poll_until

if TYPE_CHECKING:
    from bbnb.client._client import AsyncClient

__all__ = [
    "check_choice",
    "check_limit",
    "iso_time",
    "model_from",
    "recent_bound",
    "wait_until_settled",
]

RunT = TypeVar("RunT", AgentRun, Invocation)


async def wait_until_settled(
    client: AsyncClient,
    fetch: Callable[[], Awaitable[RunT]],
    settled: Callable[[RunT], bool],
    *,
    first: RunT | None,
    timeout: float | None,  # noqa: ASYNC109 - a deadline on the client's clock
    poll: float | PollPolicy | None,
    describe: Callable[[RunT | None, float], str],
    raise_on_failure: bool,
) -> RunT:
    """Poll a run or invocation on the client's clock until ``settled``; the ``wait()`` of both."""
    found = await poll_until(
        fetch,
        settled,
        clock=client.clock,
        policy=client.poll_policy if poll is None else PollPolicy.coerce(poll),
        timeout=timeout,
        describe=describe,
        first=first,
    )
    if raise_on_failure:
        raise_for_run(found)
    return found


def iso_time(value: datetime | str | None, name: str) -> str | None:
    """An RFC 3339 UTC timestamp (``...Z``) for a query parameter."""
    if value is None or isinstance(value, str):
        return value
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime or an RFC 3339 string, got {value!r}")
    if value.tzinfo is None:
        raise ValueError(
            f"{name}={value!r} has no time zone; pass an aware datetime, "
            "e.g. datetime.now(timezone.utc)"
        )
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def check_limit(limit: int | None, low: int, high: int, name: str = "limit") -> int | None:
    """``limit`` if it is within ``low..high`` (or None)."""
    if limit is None:
        return None
    if isinstance(limit, bool) or not isinstance(limit, int) or not low <= limit <= high:
        raise ValueError(f"{name} must be an integer from {low} to {high}, got {limit!r}")
    return limit


def check_choice(value: str | None, allowed: Iterable[str], name: str) -> str | None:
    """``value`` if it is one of ``allowed`` (or None)."""
    if value is None:
        return None
    choices = list(allowed)
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}; got {value!r}")
    return value


def model_from(model: type[Any], params: Any, fields: dict[str, Any], what: str) -> Any:
    """Build a request model from ``params=`` (model or dict) or from keyword fields."""
    given = {k: v for k, v in fields.items() if v is not None}
    if params is None:
        return model.model_validate(given)
    if given:
        raise TypeError(
            f"{what}: pass either params=... or keyword fields, not both "
            f"(got params and {', '.join(sorted(given))})"
        )
    if isinstance(params, model):
        return params
    return model.model_validate(params)


def recent_bound() -> datetime:
    """A minute before now (UTC): a safe lower bound for finding what a create made."""
    return datetime.now(UTC) - timedelta(minutes=1)
