"""A local Browserbase: a real HTTP server speaking the same API, with simulated agents.

``Emulator`` is the in-process app (``.app``, ``.transport()``, ``.clock``,
``.register_function``, ``.stats``, ``.live``: the real browsers behind sessions, see
``bbnb.emulator.browsers``); ``serve_in_thread`` serves one on 127.0.0.1;
``embedded()`` is the process-wide emulator bbnb uses when no API key is set, and
``@function(name)`` registers a Python handler on it.  Agent
results from here are simulated, and bbnb says so.
"""

from __future__ import annotations

from bbnb.emulator.config import DEFAULT_API_KEY, EmulatorConfig
from bbnb.emulator.emulator import Emulator, EmulatorTransport
from bbnb.emulator.functions import FunctionContext, FunctionLogger
from bbnb.emulator.server import RunningEmulator, embedded, function, serve_in_thread
from bbnb.emulator.stats import EmulatorStats

__all__ = [
    "DEFAULT_API_KEY",
    "Emulator",
    "EmulatorConfig",
    "EmulatorStats",
    "EmulatorTransport",
    "FunctionContext",
    "FunctionLogger",
    "RunningEmulator",
    "embedded",
    "function",
    "serve_in_thread",
]
