"""Everything that shapes an emulator: seed, speed, key, limits, faults and failure rates.

``EmulatorConfig()`` is the predictable default for tests: no faults, no failed or
partly-conforming runs.  ``EmulatorConfig.realistic()`` is what the embedded
emulator and ``bbnb emulator`` use: a few runs fail and a few return results that
only partly match their schema, as real agents do, so notebooks meet the same
mess they will meet in the cloud.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

__all__ = ["DEFAULT_API_KEY", "OPEN_WEB_ENV", "EmulatorConfig"]

DEFAULT_API_KEY = "bb_emulator_local_key"
#: ``BBNB_OPEN_WEB=1``: the embedded emulator's agent and built-ins may open any page.
OPEN_WEB_ENV = "BBNB_OPEN_WEB"


def _check_rate(name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be a share between 0 and 1, got {value!r}")


def _check_range(name: str, value: tuple[float, float]) -> None:
    low, high = value
    if not 0.0 <= low <= high:
        raise ValueError(f"{name} must be (low, high) with 0 <= low <= high, got {value!r}")


@dataclass(frozen=True)
class EmulatorConfig:
    """Settings of one emulator. Durations are simulated seconds (divided by ``speed``)."""

    seed: int = 0
    speed: float = 1.0
    api_key: str = dataclasses.field(default=DEFAULT_API_KEY, repr=False)
    db_path: str | None = None
    region: str = "us-west-2"
    # Limits (Developer plan defaults); None switches a limit off.
    max_concurrent_sessions: int | None = 25
    sessions_per_minute: int | None = 25
    retry_after: float | None = None
    max_body_bytes: int = 1_048_576
    default_session_timeout: int = 300
    # Simulated agent runs.
    run_pending_seconds: tuple[float, float] = (0.5, 2.0)
    run_seconds: tuple[float, float] = (6.0, 30.0)
    run_max_seconds: float = 600.0
    run_failure_rate: float = 0.0
    run_timeout_rate: float = 0.0
    partial_result_rate: float = 0.0
    # Function invocations.
    invocation_pending_seconds: tuple[float, float] = (0.2, 1.0)
    invocation_seconds: tuple[float, float] = (1.0, 4.0)
    handler_inline_wait: float = 2.0
    builtin_functions: bool = True
    # Faults for testing clients (shares of /v1 requests).
    fault_5xx_rate: float = 0.0
    fault_slow_rate: float = 0.0
    fault_drop_rate: float = 0.0
    slow_seconds: float = 2.0
    # Real browsers behind sessions: "real", "simulated" or "auto" (real when one is found).
    browsers: str = "simulated"
    max_browsers: int | None = None  # None: from the machine's cores and memory
    warm_browsers: int = 1
    # The agent and built-in functions open only the local web and 127.0.0.1 unless this
    # is True (then any http(s) page, the internet included, on a machine that has it).
    open_web: bool = False
    # Chromium --host-resolver-rules; {port} and {host} are the emulator's own address.
    host_rules: tuple[str, ...] = ("MAP *.bbnb.test 127.0.0.1:{port}",)

    def __post_init__(self) -> None:
        if not self.speed > 0:
            raise ValueError(f"speed must be > 0, got {self.speed!r}")
        for name in (
            "run_failure_rate",
            "run_timeout_rate",
            "partial_result_rate",
            "fault_5xx_rate",
            "fault_slow_rate",
            "fault_drop_rate",
        ):
            _check_rate(name, getattr(self, name))
        if self.run_failure_rate + self.run_timeout_rate > 1.0:
            raise ValueError("run_failure_rate + run_timeout_rate must not exceed 1")
        if self.fault_5xx_rate + self.fault_slow_rate + self.fault_drop_rate > 1.0:
            raise ValueError("the fault rates together must not exceed 1")
        for name in (
            "run_pending_seconds",
            "run_seconds",
            "invocation_pending_seconds",
            "invocation_seconds",
        ):
            _check_range(name, getattr(self, name))
        for name in ("max_concurrent_sessions", "sessions_per_minute"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{name} must be >= 1 or None (no limit), got {value!r}")
        if self.retry_after is not None and self.retry_after < 0:
            raise ValueError(f"retry_after must be >= 0 seconds, got {self.retry_after!r}")
        if self.max_body_bytes < 1024:
            raise ValueError(f"max_body_bytes must be >= 1024, got {self.max_body_bytes!r}")
        if self.browsers not in ("real", "simulated", "auto"):
            raise ValueError(
                f"browsers must be 'real', 'simulated' or 'auto', got {self.browsers!r}"
            )
        if self.max_browsers is not None and self.max_browsers < 1:
            raise ValueError(f"max_browsers must be >= 1 or None, got {self.max_browsers!r}")
        if self.warm_browsers < 0:
            raise ValueError(f"warm_browsers must be >= 0, got {self.warm_browsers!r}")
        if not self.api_key:
            raise ValueError("api_key must not be empty")

    @classmethod
    def realistic(cls, **overrides: Any) -> EmulatorConfig:
        """The notebook default: 3% FAILED, 2% TIMED_OUT, 10% partly-conforming results,
        and a real browser behind each session when one is installed."""
        values: dict[str, Any] = {
            "browsers": "auto",
            "run_failure_rate": 0.03,
            "run_timeout_rate": 0.02,
            "partial_result_rate": 0.10,
        }
        values.update(overrides)
        return cls(**values)

    def replace(self, **changes: Any) -> EmulatorConfig:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)
