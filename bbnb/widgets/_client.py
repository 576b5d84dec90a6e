"""The client a widget talks to: the one it was given, else a default ``bbnb.Client()``."""

from __future__ import annotations

from typing import Any

__all__ = ["UsesClient"]


class UsesClient:
    """Mixin for widgets that talk to Browserbase (forms, live view, replay, monitor);
    the default client is made on first use."""

    _client: Any = None

    @property
    def client(self) -> Any:
        """The client this widget talks to (a default ``bbnb.Client()`` on first use)."""
        if self._client is None:
            from bbnb.client._client import Client

            self._client = Client()
        return self._client
