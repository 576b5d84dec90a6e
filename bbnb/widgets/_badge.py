"""The "simulated" badge every widget that talks to Browserbase shows.

A run started from a widget happens in a comm handler, whose printed output never
reaches the notebook, so the widget itself says when its results are simulated and
what that means (the same words as the client's once-per-process note).
"""

from __future__ import annotations

import html
import os
from typing import Any

import ipywidgets as w

from bbnb.client._config import ENV_API_KEY, ENV_BASE_URL, is_loopback_url, simulated_parts

__all__ = ["SimulatedBadge", "predict_simulated"]

_BADGE_STYLE = (
    "background:#e0e7ff;color:#3730a3;border-radius:4px;padding:1px 6px;"
    "font-weight:600;font-size:11px;margin-right:6px"
)


def predict_simulated() -> bool:
    """Whether a default ``bbnb.Client()`` made now would be simulated (no key, or loopback)."""
    key = os.environ.get(ENV_API_KEY, "").strip()
    url = os.environ.get(ENV_BASE_URL, "").strip()
    if not key:
        return not url or is_loopback_url(url)
    return bool(url) and is_loopback_url(url)


def _is_simulated(client: Any) -> bool:
    if client is None:
        return predict_simulated()
    return getattr(client, "simulated", False) is True


class SimulatedBadge:
    """A small calm line: SIMULATED and what is simulated; hidden for real Browserbase."""

    def __init__(self, client: Any = None, *, simulated: bool | None = None) -> None:
        self.widget = w.HTML(value="")
        self.widget.add_class("bbnb-simulated-badge")
        self.simulated = False
        self.update(client, simulated=simulated)

    def update(self, client: Any = None, *, simulated: bool | None = None) -> None:
        """Show or hide the badge for ``client`` (``None``: the default client, predicted)."""
        self.simulated = _is_simulated(client) if simulated is None else simulated
        if not self.simulated:
            self.widget.value = ""
            self.widget.layout.display = "none"
            return
        local_browser = getattr(getattr(client, "_config", None), "emulator", None)
        uses_browser = getattr(local_browser, "local_browser", False) is True
        self.widget.value = (
            f"<div style='font-size:12px;line-height:1.4;color:#374151;margin:2px 0'>"
            f"<span style='{_BADGE_STYLE}'>SIMULATED</span>"
            f"Results are simulated: {html.escape(simulated_parts(uses_browser))}.</div>"
        )
        self.widget.layout.display = "flex"
