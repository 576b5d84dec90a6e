"""What goes on the wire: timestamps, ids, JSON bodies and Browserbase's error body.

Every 4xx and 5xx the emulator sends has the shape Browserbase uses::

    {"statusCode": 404, "error": "Not Found", "message": "..."}

Bodies are encoded with ``ensure_ascii=True`` so that any string a client sent,
even one holding a lone surrogate, can be echoed back without an encoding error.
"""

from __future__ import annotations

import hashlib
import json
import time
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from starlette.responses import Response

__all__ = [
    "ApiError",
    "error_body",
    "error_response",
    "iso",
    "json_response",
    "parse_iso",
    "stable_uuid",
]

MAX_ECHO = 80


class ApiError(Exception):
    """An HTTP error answer: status, message, and optional extra headers."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def reason(status: int) -> str:
    """The HTTP reason phrase, e.g. ``Not Found``."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def error_body(status: int, message: str) -> dict[str, Any]:
    """Browserbase's error body."""
    return {"statusCode": status, "error": reason(status), "message": message}


def dumps(data: Any) -> bytes:
    """Compact JSON, ASCII-safe."""
    return json.dumps(data, separators=(",", ":"), allow_nan=False).encode("ascii")


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON response, encoded once."""
    return Response(dumps(data), status_code=status, headers=headers, media_type="application/json")


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """A JSON error response with Browserbase's body."""
    return json_response(error_body(status, message), status, headers)


def echo(value: str) -> str:
    """A user-supplied value, shortened and quoted for an error message."""
    text = value if len(value) <= MAX_ECHO else value[:MAX_ECHO] + "..."
    return repr(text)


def iso(t: float) -> str:
    """Epoch seconds as ISO 8601 UTC with milliseconds and ``Z``."""
    ms = round(t * 1000)
    seconds, millis = divmod(ms, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"


def parse_iso(text: str) -> float:
    """An RFC 3339 date-time as epoch seconds (naive means UTC); ``ValueError`` if not one."""
    value = datetime.fromisoformat(text.strip())
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


def stable_uuid(*parts: object) -> str:
    """A version-4-shaped UUID derived from ``parts``: the same parts give the same id."""
    digest = bytearray(
        hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=16).digest()
    )
    digest[6] = (digest[6] & 0x0F) | 0x40
    digest[8] = (digest[8] & 0x3F) | 0x80
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
