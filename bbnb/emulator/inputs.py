"""Reading what a client sent: JSON bodies, query values, and model validation.

Every problem becomes an ``ApiError`` with a 4xx status and a message in
Browserbase's style (``body/timeout must be ...``, ``querystring/limit ...``) that
names what was wrong and what is accepted.  Nothing a client sends may cause a 500.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request

from bbnb.emulator.wire import ApiError, echo, parse_iso

__all__ = [
    "decode_cursor",
    "encode_cursor",
    "query_bool",
    "query_choice",
    "query_int",
    "query_time",
    "read_json",
    "validate",
]

M = TypeVar("M", bound=BaseModel)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


async def read_json(request: Request, *, required: bool) -> dict[str, Any]:
    """The body as a JSON object; an empty body is ``{}`` unless ``required``."""
    raw = await request.body()
    if not raw.strip():
        if required:
            raise ApiError(400, "body must be a JSON object; the request had no body")
        return {}
    try:
        text = raw.decode("utf-8")
        data = json.loads(text, parse_constant=_reject_constant)
    except UnicodeDecodeError:
        raise ApiError(400, "body must be UTF-8 encoded JSON") from None
    except (ValueError, RecursionError) as exc:
        raise ApiError(400, f"body is not valid JSON: {str(exc)[:200]}") from None
    if not isinstance(data, dict):
        raise ApiError(400, f"body must be a JSON object, not {_json_type(data)}")
    return data


def _json_type(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return "null"


def validate(model: type[M], data: Any, *, context: dict[str, Any] | None = None) -> M:
    """``model.model_validate(data)`` with errors turned into one 400 message.

    The server accepts what the endpoint's reference accepts and does not warn: the
    client warned whoever typed the value (``bbnb.models.ApiRuleWarning``).
    """
    try:
        return model.model_validate(data, context={"rule_warnings": False, **(context or {})})
    except ValidationError as exc:
        raise ApiError(400, validation_message(exc)) from None
    except (RecursionError, ValueError, TypeError) as exc:
        raise ApiError(400, f"body is not acceptable: {str(exc)[:300]}") from None


def validation_message(exc: ValidationError, prefix: str = "body") -> str:
    """Pydantic errors as ``body/<path> <message>`` lines joined by ``; ``."""
    parts: list[str] = []
    errors = exc.errors(include_url=False, include_input=False)
    for error in errors[:5]:
        loc = "/".join(str(p) for p in error["loc"] if not str(p).startswith("function-"))
        msg = str(error["msg"]).removeprefix("Value error, ")
        parts.append(f"{prefix}/{loc}: {msg}" if loc else f"{prefix}: {msg}")
    if len(errors) > 5:
        parts.append(f"and {len(errors) - 5} more problems")
    return "; ".join(parts)[:2000]


def query_int(request: Request, name: str, default: int, low: int, high: int | None) -> int:
    """An integer query value within ``low..high``."""
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        value = None
    if value is None or value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f">= {low}"
        raise ApiError(400, f"querystring/{name} must be an integer {bound}, got {echo(raw)}")
    return value


def query_bool(request: Request, name: str, default: bool) -> bool:
    """``true``/``false`` (also ``1``/``0``)."""
    raw = request.query_params.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in ("true", "1"):
        return True
    if value in ("false", "0"):
        return False
    raise ApiError(400, f"querystring/{name} must be true or false, got {echo(raw)}")


def query_choice(request: Request, name: str, choices: tuple[str, ...]) -> str | None:
    """One of ``choices`` or None when absent."""
    raw = request.query_params.get(name)
    if raw is None:
        return None
    if raw not in choices:
        raise ApiError(
            400, f"querystring/{name} must be one of {', '.join(choices)}; got {echo(raw)}"
        )
    return raw


def query_time(request: Request, name: str) -> float | None:
    """An RFC 3339 date-time as epoch seconds, or None when absent."""
    raw = request.query_params.get(name)
    if raw is None:
        return None
    try:
        return parse_iso(raw)
    except (ValueError, OverflowError, OSError):
        raise ApiError(
            400,
            f"querystring/{name} must be an RFC 3339 date-time such as "
            f"2026-01-01T00:00:00Z, got {echo(raw)}",
        ) from None


def encode_cursor(seq: int) -> str:
    """An opaque cursor pointing after the record with sequence number ``seq``."""
    return base64.urlsafe_b64encode(f"c:{seq}".encode()).decode().rstrip("=")


def decode_cursor(request: Request) -> int | None:
    """The sequence number a ``cursor`` query value points after (None when absent)."""
    raw = request.query_params.get("cursor")
    if raw is None or raw == "":
        return None
    try:
        text = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
        if not text.startswith("c:"):
            raise ValueError(text)
        return int(text[2:])
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ApiError(
            400,
            f"querystring/cursor is not a cursor from this API (use nextCursor), got {echo(raw)}",
        ) from None
