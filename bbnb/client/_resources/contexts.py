"""``client.contexts``: saved browser profiles (cookies, storage) that sessions reuse.

Use a context's id in ``browser_settings={"context": {"id": ..., "persist": True}}``
when creating a session; with ``persist`` the session saves its cookies and storage
back into the context when it ends.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bbnb.models import Context, ContextCreateParams, ContextCreateResponse, ContextUpdateResponse
from bbnb.wire._sync import run_sync

if TYPE_CHECKING:
    from bbnb.client._client import AsyncClient

__all__ = ["AsyncContexts", "Contexts"]

CONTEXTS = "/v1/contexts"
CONTEXT = "/v1/contexts/{context_id}"


class AsyncContexts:
    """Browser contexts."""

    def __init__(self, client: AsyncClient) -> None:
        self._core = client._core

    async def create(
        self, *, name: str | None = None, project_id: str | None = None
    ) -> ContextCreateResponse:
        """A new, empty context (never sent twice)."""
        body = ContextCreateParams(name=name, project_id=project_id)
        return await self._core.request_model(
            ContextCreateResponse,
            "POST",
            CONTEXTS,
            body=body.to_wire(),
            kind="create",
            find_hint="Contexts cannot be listed; create another if this one is unknown.",
        )

    async def retrieve(self, context_id: str) -> Context:
        """One context."""
        return await self._core.request_model(
            Context, "GET", CONTEXT, path_params={"context_id": context_id}
        )

    async def update(self, context_id: str) -> ContextUpdateResponse:
        """Fresh upload keys for a context (deprecated by Browserbase, kept for parity)."""
        return await self._core.request_model(
            ContextUpdateResponse,
            "PUT",
            CONTEXT,
            path_params={"context_id": context_id},
            kind="action",
        )

    async def delete(self, context_id: str) -> None:
        """Delete a context (sessions that used it keep running)."""
        await self._core.request(
            "DELETE",
            CONTEXT,
            path_params={"context_id": context_id},
            headers={"Accept": "*/*"},
            kind="action",
        )


class Contexts:
    """Synchronous ``client.contexts``."""

    def __init__(self, contexts: AsyncContexts) -> None:
        self._contexts = contexts

    def create(
        self, *, name: str | None = None, project_id: str | None = None
    ) -> ContextCreateResponse:
        """A new, empty context."""
        return run_sync(self._contexts.create(name=name, project_id=project_id))

    def retrieve(self, context_id: str) -> Context:
        """One context."""
        return run_sync(self._contexts.retrieve(context_id))

    def update(self, context_id: str) -> ContextUpdateResponse:
        """Fresh upload keys for a context."""
        return run_sync(self._contexts.update(context_id))

    def delete(self, context_id: str) -> None:
        """Delete a context."""
        run_sync(self._contexts.delete(context_id))
