"""Keeping secrets out of anything the runs layer writes down.

A create body, revealed for the wire, holds agent variable values and external
proxy passwords.  ``mask_request`` returns a copy with those replaced by ``MASK``
plus the list of secret strings it removed; ``scrub`` replaces any occurrence of
those strings inside string values of a JSON document (an agent may echo a
``%variable%`` into its result).  The journal only ever sees masked/scrubbed data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["MASK", "fill_variables", "mask_request", "scrub"]

MASK = "**********"
_SECRET_KEYS = frozenset({"password"})


def mask_request(
    body: dict[str, Any], replace: Callable[[str], str] = lambda _secret: MASK
) -> tuple[dict[str, Any], list[str]]:
    """Return ``(masked copy, secret values removed)`` for a wire-shaped create body.

    Each secret becomes ``replace(secret)``: ``MASK`` by default (the cache puts a
    salted hash there instead, so that a changed value is a different request).
    """
    secrets: list[str] = []
    masked = _mask(body, secrets, replace, in_variables=False)
    assert isinstance(masked, dict)
    return masked, secrets


def _mask(
    value: Any, secrets: list[str], replace: Callable[[str], str], *, in_variables: bool
) -> Any:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if in_variables and isinstance(item, dict) and "value" in item:
                secrets.append(str(item["value"]))
                out[key] = {**item, "value": replace(str(item["value"]))}
            elif isinstance(item, str) and (in_variables or key in _SECRET_KEYS):
                secrets.append(item)
                out[key] = replace(item)
            else:
                out[key] = _mask(item, secrets, replace, in_variables=key == "variables")
        return out
    if isinstance(value, list):
        return [_mask(item, secrets, replace, in_variables=False) for item in value]
    return value


def scrub(value: Any, secrets: Iterable[str]) -> Any:
    """Replace every secret string found inside string values (and keys) with ``MASK``."""
    needles = sorted({s for s in secrets if s}, key=len, reverse=True)
    if not needles:
        return value
    return _scrub(value, needles)


def _scrub(value: Any, needles: list[str]) -> Any:
    if isinstance(value, str):
        for needle in needles:
            if needle in value:
                value = value.replace(needle, MASK)
        return value
    if isinstance(value, dict):
        return {_scrub(k, needles): _scrub(v, needles) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(item, needles) for item in value]
    return value


def fill_variables(
    body: dict[str, Any], values: dict[str, str]
) -> tuple[dict[str, Any], list[str]]:
    """Put variable values back into a masked body; return it and the names still missing.

    Proxy passwords cannot be refilled this way; a masked password is reported as
    missing under the name ``"proxy password"``.
    """
    missing: list[str] = []
    out = dict(body)
    variables = body.get("variables")
    if isinstance(variables, dict):
        filled: dict[str, Any] = {}
        for name, item in variables.items():
            value = item.get("value") if isinstance(item, dict) else item
            if value == MASK:
                if name in values and isinstance(item, dict):
                    filled[name] = {**item, "value": values[name]}
                elif name in values:
                    filled[name] = values[name]
                else:
                    missing.append(name)
                    filled[name] = item
            else:
                filled[name] = item
        out["variables"] = filled
    if _has_masked_password(body):
        missing.append("proxy password")
    return out, missing


def _has_masked_password(value: Any) -> bool:
    if isinstance(value, dict):
        return any(
            (k in _SECRET_KEYS and v == MASK) or _has_masked_password(v) for k, v in value.items()
        )
    if isinstance(value, list):
        return any(_has_masked_password(v) for v in value)
    return False
