"""The result cache: an identical request, run again on the same server, is answered from the journal.

A request's cache key is a SHA-256 of its canonical form: the kind (agent run or
function invocation), the function id, and the whole create body as sent (the task
after templating, the result schema, the agent id, params, session settings,
variable names and descriptions), with every secret (variable values, proxy
passwords) replaced by an HMAC under the journal's own random salt.  Neither the key
nor anything stored holds a secret.  Keys are looked up per server (base URL and
key hash), so an emulator's answers never stand in for Browserbase's.

A hit is the latest COMPLETED answer for the key that completed within the TTL
(``DEFAULT_TTL``: 24 h).  Failed, stopped and timed-out runs are never cached.
``cache="refresh"`` runs everything again and stores the new answers.

``cache_info()`` and ``clear_cache()`` look at and empty the cache of the default
journal (or the one given); it holds at most ``CACHE_MAX_ENTRIES`` answers, the
oldest going first.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import time
from typing import Any, Literal

from bbnb.runs._secrets import mask_request, scrub
from bbnb.runs.journal import Journal

__all__ = [
    "DEFAULT_TTL",
    "CacheMode",
    "cache_info",
    "cache_mode",
    "clear_cache",
    "request_key",
    "scrubbed_answer",
    "server_of",
]

CacheMode = Literal["off", "use", "refresh"]
DEFAULT_TTL = 24 * 3600.0
"""Seconds a completed answer is served from the cache (24 h, as BigQuery's magics)."""

JournalArg = bool | str | os.PathLike[str] | Journal | None


def cache_mode(cache: bool | str) -> CacheMode:
    """``True``/``False``/``"refresh"`` as a mode; anything else is a ``ValueError`` saying so."""
    if cache is True:
        return "use"
    if cache is False or cache is None:
        return "off"
    if cache == "refresh":
        return "refresh"
    raise ValueError(
        f"cache must be True (answer identical requests from the journal), False (always "
        f"run) or 'refresh' (run again and store the new answers), got {cache!r}"
    )


def check_ttl(ttl: float | None) -> float:
    """The TTL in seconds (``DEFAULT_TTL`` for None); a clear error for a bad one."""
    if ttl is None:
        return DEFAULT_TTL
    if isinstance(ttl, bool) or not isinstance(ttl, int | float) or not ttl >= 0:
        raise ValueError(f"cache_ttl must be a number of seconds >= 0, got {ttl!r}")
    return float(ttl)


def server_of(base_url: str | None, key_hash: str | None) -> str:
    """The server a cached answer belongs to: base URL and key hash."""
    return f"{(base_url or '').rstrip('/')}|{key_hash or ''}"


def request_key(kind: str, function_id: str | None, body: dict[str, Any], salt: str) -> str:
    """The cache key of a create body (revealed, as sent); see the module docstring."""

    def veil(secret: str) -> str:
        return "hmac:" + hmac.new(salt.encode(), secret.encode(), hashlib.sha256).hexdigest()

    veiled, _ = mask_request(body, veil)
    canonical = json.dumps(
        {"kind": kind, "functionId": function_id, "body": veiled},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def scrubbed_answer(body: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
    """An answer's wire JSON fit for the cache: its request's secrets (``body``, revealed) masked."""
    _, secrets = mask_request(body)
    scrubbed: dict[str, Any] = scrub(answer, secrets)
    return scrubbed


def _journal(journal: JournalArg) -> Journal:
    if isinstance(journal, Journal):
        return journal
    if journal is None or journal is True:
        return Journal()
    if journal is False:
        raise ValueError("the cache lives in the journal; pass journal=True or a path")
    return Journal(journal)


def cache_info(journal: JournalArg = True) -> dict[str, Any]:
    """``{"entries", "bytes", "oldest"}`` of the result cache (``oldest``: a UTC timestamp)."""
    opened = _journal(journal)
    try:
        info = opened.cache_info()
    finally:
        if opened is not journal:
            opened.close()
    oldest = info["oldest"]
    if oldest is not None:
        import pandas as pd

        info["oldest"] = pd.Timestamp(oldest, unit="s", tz="UTC")
    return info


def clear_cache(*, older_than: float | None = None, journal: JournalArg = True) -> int:
    """Forget cached answers (all, or those older than ``older_than`` seconds); return how many."""
    if older_than is not None and not older_than >= 0:
        raise ValueError(f"older_than must be a number of seconds >= 0, got {older_than!r}")
    opened = _journal(journal)
    try:
        before = None if older_than is None else time.time() - older_than
        return opened.cache_clear(before=before)
    finally:
        if opened is not journal:
            opened.close()
