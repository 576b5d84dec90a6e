"""Retry rules and delays: what is retried, and how long the client waits."""

from __future__ import annotations

import email.utils

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bbnb.wire._retry import RetryPolicy, parse_retry_after


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after-ms": "1500"}, 1.5),
        ({"retry-after": "3"}, 3.0),
        ({"retry-after": "0.25"}, 0.25),
        ({"retry-after-ms": "200", "retry-after": "9"}, 0.2),
        ({"retry-after": "soon"}, None),
        ({}, None),
    ],
    ids=["ms", "seconds", "fractional", "ms-wins", "garbage", "absent"],
)
def test_parse_retry_after(headers: dict[str, str], expected: float | None) -> None:
    """Both header spellings are read; nonsense is ignored."""
    assert parse_retry_after(httpx.Headers(headers)) == expected


def test_parse_retry_after_http_date() -> None:
    """An HTTP date is turned into seconds from now."""
    stamp = email.utils.formatdate(1_000_030.0, usegmt=True)
    assert parse_retry_after(httpx.Headers({"retry-after": stamp}), wall_now=1_000_000.0) == 30.0


@given(retries=st.integers(0, 12), rnd=st.floats(0.0, 0.999999))
def test_backoff_stays_within_the_jitter_band(retries: int, rnd: float) -> None:
    """Backoff is min(0.5*2**n, 8) shrunk by at most 25 %."""
    policy = RetryPolicy(random=lambda: rnd)
    base = min(0.5 * 2**retries, 8.0)
    assert 0.75 * base - 1e-9 <= policy.backoff(retries) <= base


@pytest.mark.parametrize(
    ("hint", "expected"),
    [("3", 3.0), ("61", 0.4375), ("0", 0.4375), ("-2", 0.4375)],
    ids=["honoured", "too-long-ignored", "zero-ignored", "negative-ignored"],
)
def test_delay_honours_only_sane_hints(hint: str, expected: float) -> None:
    """A hint of 0 < s <= 60 is used as is; anything else falls back to backoff."""
    policy = RetryPolicy(random=lambda: 0.5)
    response = httpx.Response(429, headers={"retry-after": hint})
    assert policy.delay(0, response) == expected


@pytest.mark.parametrize(
    ("kind", "status", "retried"),
    [
        ("read", 408, True),
        ("read", 429, True),
        ("read", 500, True),
        ("read", 503, True),
        ("read", 409, False),
        ("read", 404, False),
        ("action", 502, True),
        ("action", 409, False),
        ("create", 429, False),
        ("create", 500, False),
    ],
    ids=[
        "read-408",
        "read-429",
        "read-500",
        "read-503",
        "read-409",
        "read-404",
        "action-502",
        "action-409-never",
        "create-429",
        "create-500",
    ],
)
def test_status_rules(kind: str, status: int, retried: bool) -> None:
    """Reads and actions retry transient statuses; 409 and creates never do."""
    assert RetryPolicy().should_retry_status(kind, status) is retried  # type: ignore[arg-type]


_REQ = httpx.Request("POST", "https://api.browserbase.com/v1/agents/runs")


@pytest.mark.parametrize(
    ("kind", "error", "retried"),
    [
        ("create", httpx.ConnectError("refused", request=_REQ), True),
        ("create", httpx.ConnectTimeout("slow connect", request=_REQ), True),
        ("create", httpx.ReadError("reset", request=_REQ), False),
        ("create", httpx.ReadTimeout("slow answer", request=_REQ), False),
        ("create", httpx.RemoteProtocolError("dropped", request=_REQ), False),
        ("read", httpx.ReadError("reset", request=_REQ), True),
        ("action", httpx.ReadTimeout("slow", request=_REQ), True),
    ],
    ids=[
        "create-refused",
        "create-connect-timeout",
        "create-read-error",
        "create-read-timeout",
        "create-dropped",
        "read-read-error",
        "action-timeout",
    ],
)
def test_transport_error_rules(kind: str, error: httpx.TransportError, retried: bool) -> None:
    """A create is retried only when it provably never left this machine."""
    assert RetryPolicy().should_retry_error(kind, error) is retried  # type: ignore[arg-type]


def test_policy_rejects_nonsense() -> None:
    """Negative retries and jitter outside 0..1 are refused."""
    with pytest.raises(ValueError, match="max_retries"):
        RetryPolicy(max_retries=-1)
    with pytest.raises(ValueError, match="jitter"):
        RetryPolicy(jitter=2.0)


@given(value=st.text(max_size=40))
def test_parse_retry_after_never_raises(value: str) -> None:
    """Any header text gives a number or None, never an exception."""
    try:
        headers = httpx.Headers({"retry-after": value})
    except (UnicodeEncodeError, ValueError):
        return
    result = parse_retry_after(headers)
    assert result is None or isinstance(result, float)
