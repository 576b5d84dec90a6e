"""Rules that Browserbase's docs state but an endpoint's own reference page does not.

The reference pages in ``../shared/reference/seeds/`` are the contract: every field
they list is accepted with its documented type.  Where another source is narrower
(the Functions limits page: a function runs at most 15 minutes; the OpenAPI document:
a proxy country is two letters), bbnb sends the request as given and says so once
per process with an ``ApiRuleWarning``, instead of refusing it.

The emulator validates with ``context={"rule_warnings": False}``: it is the server,
and the client already warned the person who typed the value.
"""

from __future__ import annotations

import sys
import threading
import warnings
from typing import Any

__all__ = ["ApiRuleWarning", "reset_rule_warnings", "warn_rule"]


class ApiRuleWarning(UserWarning):
    """A value the endpoint accepts but another Browserbase source says will not work as meant."""


_warned: set[str] = set()
_lock = threading.Lock()
_QUIET_PREFIXES = ("pydantic", "bbnb.")


def _outside_level() -> int:
    """The ``stacklevel`` of the first frame outside pydantic and bbnb: the caller's line."""
    level = 1
    frame = sys._getframe(1)
    while frame is not None and str(frame.f_globals.get("__name__", "")).startswith(
        _QUIET_PREFIXES
    ):
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    return level


def warn_rule(message: str, context: Any = None) -> None:
    """Warn ``message`` once per process, unless ``context`` says ``rule_warnings: False``."""
    if isinstance(context, dict) and context.get("rule_warnings") is False:
        return
    with _lock:
        if message in _warned:
            return
        _warned.add(message)
    warnings.warn(message, ApiRuleWarning, stacklevel=_outside_level())


def reset_rule_warnings() -> None:
    """Forget which warnings were shown, so each shows again (tests use this)."""
    with _lock:
        _warned.clear()
