"""Browserbase's error body: ``{"statusCode": 404, "error": "Not Found", "message": "..."}``."""

from __future__ import annotations

from bbnb.models._base import ResponseModel

__all__ = ["ErrorBody"]


class ErrorBody(ResponseModel):
    """The JSON body of every 4xx/5xx answer (extra keys such as ``id`` are kept)."""

    status_code: int
    error: str
    message: str

    def __str__(self) -> str:
        return f"{self.status_code} {self.error}: {self.message}"
