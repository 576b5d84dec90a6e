"""bbnb: Browserbase's cloud browsers inside Jupyter.

Public API is re-exported here; implementation lives in private modules.
"""

from __future__ import annotations

from bbnb._clock import Clock, ManualClock, SystemClock

__version__ = "0.1.0"

__all__ = sorted(
    [
        "Clock",
        "ManualClock",
        "SystemClock",
        "__version__",
    ]
)
