"""The embedded emulator's pace: ten times real time unless BBNB_EMULATOR_SPEED says otherwise."""

from __future__ import annotations

import pytest

from bbnb.emulator.server import EMBEDDED_DEFAULT_SPEED, embedded_speed


def test_default_speed(monkeypatch: pytest.MonkeyPatch) -> None:
    """With no setting, simulated time runs at the documented default."""
    monkeypatch.delenv("BBNB_EMULATOR_SPEED", raising=False)
    assert embedded_speed() == EMBEDDED_DEFAULT_SPEED == 10.0


@pytest.mark.parametrize(
    ("raw", "speed"),
    [("1", 1.0), (" 2.5 ", 2.5), ("100", 100.0)],
    ids=["real-time", "spaces", "fast"],
)
def test_speed_from_environment(monkeypatch: pytest.MonkeyPatch, raw: str, speed: float) -> None:
    """BBNB_EMULATOR_SPEED sets the pace."""
    monkeypatch.setenv("BBNB_EMULATOR_SPEED", raw)
    assert embedded_speed() == speed


@pytest.mark.parametrize(
    "raw", ["fast", "0", "-3", "inf", "nan"], ids=["word", "zero", "negative", "inf", "nan"]
)
def test_bad_speed_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    """A speed that is not a positive number is refused with what to write instead."""
    monkeypatch.setenv("BBNB_EMULATOR_SPEED", raw)
    with pytest.raises(ValueError, match=r"BBNB_EMULATOR_SPEED=.*positive number"):
        embedded_speed()
