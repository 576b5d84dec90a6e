"""Browser contexts: saved profiles (cookies, storage) that sessions can reuse.

Shapes of ``/v1/contexts`` as Browserbase's OpenAPI and the official SDK (1.22.0) give
them.  ``POST`` and ``PUT`` answer the upload keys (``ContextCreateResponse``); ``GET``
answers the ``Context`` itself.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from bbnb.models._base import RequestModel, ResponseModel

__all__ = ["Context", "ContextCreateParams", "ContextCreateResponse", "ContextUpdateResponse"]


class ContextCreateParams(RequestModel):
    """Body of ``POST /v1/contexts``: an optional name (unique per project) and project."""

    name: str | None = Field(default=None, min_length=1, max_length=256)
    project_id: str | None = Field(default=None, min_length=1)


class Context(ResponseModel):
    """A saved browser context."""

    id: str
    created_at: datetime
    updated_at: datetime
    project_id: str
    name: str | None = None


class ContextCreateResponse(ResponseModel):
    """A new context and the keys to encrypt a user-data-directory with (upload is retired)."""

    id: str
    upload_url: str
    public_key: str
    cipher_algorithm: str
    initialization_vector_size: int


class ContextUpdateResponse(ContextCreateResponse):
    """``PUT /v1/contexts/{id}``: fresh upload keys for the context."""
