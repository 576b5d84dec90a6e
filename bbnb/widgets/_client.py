"""The client a form runs with: the one it was given, else a default ``bbnb.Client()``."""

from __future__ import annotations

from typing import Any

__all__ = ["UsesClient"]


class UsesClient:
    """Mixin for forms with a Run button; the default client is made on first use."""

    _client: Any = None

    @property
    def client(self) -> Any:
        """The client used by Run (a default ``bbnb.Client()`` on first use)."""
        if self._client is None:
            from bbnb.client._client import Client

            self._client = Client()
        return self._client
