"""Limits (AIMD concurrency, token bucket) and progress reporters, without a server."""

from __future__ import annotations

import asyncio
import io
import random

import pytest

from bbnb import ManualClock
from bbnb.runs.limits import ConcurrencyLimiter, CreationBucket
from bbnb.runs.progress import (
    NullProgress,
    ProgressState,
    TextProgress,
    WidgetProgress,
    make_progress,
)


def test_limiter_halves_on_429_and_recovers_one_slot_per_quiet_period() -> None:
    """A 429 halves the limit; each 5 quiet seconds give one slot back."""
    clock = ManualClock()
    limiter = ConcurrencyLimiter(20, clock)

    async def go() -> None:
        for _ in range(11):
            await limiter.acquire()

    asyncio.run(go())
    limiter.on_rate_limited()
    assert limiter.limit == 10 and limiter.slowed
    clock.advance(12)
    limiter.poke()
    assert limiter.limit == 12
    clock.advance(100)
    limiter.poke()
    assert limiter.limit == 20 and not limiter.slowed


def test_limiter_waiters_are_served_in_order_on_release() -> None:
    """Releasing a slot grants it to the oldest waiter."""
    limiter = ConcurrencyLimiter(1, ManualClock())
    order: list[int] = []

    async def worker(n: int) -> None:
        await limiter.acquire()
        order.append(n)
        await asyncio.sleep(0)
        limiter.release()

    async def go() -> None:
        await asyncio.gather(*(worker(n) for n in range(4)))

    asyncio.run(go())
    assert order == [0, 1, 2, 3] and limiter.in_use == 0


@pytest.mark.parametrize(
    ("retry_after", "low", "high"),
    [(7.0, 7.0, 7.0), (None, 0.375, 0.5), (999.0, 0.375, 0.5)],
    ids=["retry-after", "backoff", "absurd-hint-ignored"],
)
def test_bucket_pauses_after_429(retry_after: float | None, low: float, high: float) -> None:
    """A 429 pauses creations for retry-after, else a jittered backoff."""
    clock = ManualClock()
    bucket = CreationBucket(None, clock, rng=random.Random(3))
    pause = bucket.on_rate_limited(retry_after)
    assert low <= pause <= high
    start = clock.now()
    asyncio.run(bucket.take())
    assert clock.now() - start == pytest.approx(pause)


def test_bucket_spaces_creations_per_minute() -> None:
    """30 per minute lets a burst of 30 through, then one every 2 s."""
    clock = ManualClock()
    bucket = CreationBucket(30, clock)

    async def go() -> None:
        for _ in range(33):
            await bucket.take()

    start = clock.now()
    asyncio.run(go())
    assert clock.now() - start == pytest.approx(6.0)


def _state(**kw: object) -> ProgressState:
    state = ProgressState(label="batch-1", total=10, started=0.0, now=4.0)
    for key, value in kw.items():
        setattr(state, key, value)
    return state


def test_text_progress_rewrites_one_line_on_a_tty() -> None:
    """On a TTY the line is rewritten with \\r and ended once."""
    out = io.StringIO()
    reporter = TextProgress(out, tty=True)
    reporter.update(_state(done=2, counts={"COMPLETED": 2, "RUNNING": 3}))
    reporter.close(_state(done=10, counts={"COMPLETED": 10}))
    text = out.getvalue()
    assert text.startswith("\rbatch-1: 2/10 done [COMPLETED 2 · RUNNING 3]")
    assert text.count("\n") == 1 and "10/10 done" in text and "2.50 runs/s" in text


def test_text_progress_writes_periodic_lines_elsewhere() -> None:
    """Without a TTY, lines are plain and throttled; the note is shown."""
    out = io.StringIO()
    reporter = TextProgress(out, tty=False, every=3600)
    reporter.update(_state(note="rate-limited, slowing down"))
    reporter.update(_state(done=5))
    reporter.close(_state(done=10))
    lines = out.getvalue().splitlines()
    assert len(lines) == 2 and "\r" not in out.getvalue()
    assert lines[0].endswith("rate-limited, slowing down")


def test_widget_progress_sets_traits() -> None:
    """The widget reporter only sets traits: bar value/max/style and the label."""
    widget = WidgetProgress(display=False)
    widget.update(_state(done=3, counts={"COMPLETED": 3}, note="rate-limited, slowing down"))
    assert (widget.bar.value, widget.bar.max, widget.bar.bar_style) == (3, 10, "warning")
    assert "rate-limited" in widget.label.value
    widget.close(_state(done=10, counts={"COMPLETED": 9, "FAILED": 1}))
    assert widget.bar.bar_style == "warning"


@pytest.mark.parametrize(
    ("counts", "style"),
    [
        ({"COMPLETED": 10}, "success"),
        ({"COMPLETED": 7, "TIMED_OUT": 2, "STOPPED": 1}, "warning"),
        ({"FAILED": 6, "TIMED_OUT": 4}, "danger"),
    ],
    ids=["all-completed", "some-failed", "none-completed"],
)
def test_widget_progress_final_colour(counts: dict[str, int], style: str) -> None:
    """The finished bar is green, orange when some runs failed, red only when none succeeded."""
    widget = WidgetProgress(display=False)
    widget.close(_state(done=10, counts=counts))
    assert widget.bar.bar_style == style


@pytest.mark.parametrize(
    ("mode", "env", "kind"),
    [
        ("auto", None, TextProgress),
        ("auto", "none", NullProgress),
        ("text", None, TextProgress),
        ("none", None, NullProgress),
    ],
    ids=["auto-outside-kernel", "env-override", "text", "none"],
)
def test_make_progress_picks_a_reporter(
    mode: str, env: str | None, kind: type, monkeypatch: pytest.MonkeyPatch
) -> None:
    """auto is text outside a live notebook; BBNB_PROGRESS overrides auto."""
    if env is None:
        monkeypatch.delenv("BBNB_PROGRESS", raising=False)
    else:
        monkeypatch.setenv("BBNB_PROGRESS", env)
    assert isinstance(make_progress(mode), kind)


def test_make_progress_rejects_unknown_modes() -> None:
    """A typo in progress= is named with the allowed values."""
    with pytest.raises(ValueError, match="'auto', 'widget', 'text', 'none'"):
        make_progress("bar")
