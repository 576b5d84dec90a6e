"""Locally registered functions: a Python handler stands in for deployed code.

A handler is ``handler(params, context) -> JSON`` (plain or ``async``).  ``context``
carries the invocation and session ids, the session settings and a ``logger``
whose lines appear in ``GET /v1/functions/invocations/{id}/logs``.  Returning
``None`` completes the invocation without ``results``; raising fails it with
``cause.code = "WORKLOAD_ERROR"``.

Built-in demo functions (registered unless ``builtin_functions=False``):

- ``echo``: returns its params.
- ``page-title``: ``{"url": ...}`` -> ``{"url", "title", "status"}``, simulated
  (nothing is fetched; the title is made up from the URL).
- ``extract``: ``{"url", "schema"?, "instruction"?}`` -> data conforming to the
  schema, made up like an agent's answer.
- ``sleep``: ``{"seconds": n}`` takes ``n`` simulated seconds (try it with a
  timeout below ``n`` to see ``TIMED_OUT``).
- ``fail``: raises, so the invocation fails with ``WORKLOAD_ERROR``.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from bbnb.emulator.fakedata import Hints, generate
from bbnb.emulator.wire import stable_uuid

__all__ = [
    "FunctionContext",
    "FunctionLogger",
    "FunctionSpec",
    "Handler",
    "builtin_functions",
]

Handler = Callable[[dict[str, Any], "FunctionContext"], Any]
Duration = float | Callable[[dict[str, Any]], float] | None


class FunctionLogger:
    """Collects a handler's log lines; they appear in the invocation's logs."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def log(self, level: str, message: object, *args: object) -> None:
        text = str(message) % args if args else str(message)
        self.lines.append(f"[{level}] {text}" if level != "info" else text)

    def debug(self, message: object, *args: object) -> None:
        self.log("debug", message, *args)

    def info(self, message: object, *args: object) -> None:
        self.log("info", message, *args)

    def warning(self, message: object, *args: object) -> None:
        self.log("warning", message, *args)

    def error(self, message: object, *args: object) -> None:
        self.log("error", message, *args)

    def __call__(self, message: object, *args: object) -> None:
        self.info(message, *args)


@dataclass
class FunctionContext:
    """What a handler gets besides its params."""

    invocation_id: str
    function_name: str
    session_id: str
    session: dict[str, Any]
    params: dict[str, Any]
    logger: FunctionLogger = field(default_factory=FunctionLogger)
    seed: int = 0
    #: What ``rng`` is seeded with besides the seed (the invocation id when empty): the
    #: emulator passes a key that depends on the seed and order only, not on the id.
    rng_key: str = ""

    @property
    def rng(self) -> random.Random:
        """A random source seeded from the emulator seed and the invocation's place."""
        return random.Random(f"{self.seed}:{self.rng_key or self.invocation_id}")


@dataclass
class FunctionSpec:
    """A registered function: its ids, handler and simulated duration."""

    name: str
    function_id: str
    version_id: str
    build_id: str
    handler: Handler
    duration: Duration = None
    session_create_params: dict[str, Any] | None = None
    params_schema: dict[str, Any] | None = None
    created: float = 0.0

    @classmethod
    def create(
        cls,
        name: str,
        handler: Handler,
        *,
        seed: int,
        created: float,
        duration: Duration = None,
        session_create_params: dict[str, Any] | None = None,
        params_schema: dict[str, Any] | None = None,
    ) -> FunctionSpec:
        """A spec whose ids follow from the seed and the name (stable across restarts)."""
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}", name):
            raise ValueError(
                f"function name {name!r} must be 1..100 letters, digits, '_', '.' or '-'"
            )
        if not callable(handler):
            raise TypeError(f"handler for {name!r} must be callable, got {type(handler).__name__}")
        return cls(
            name=name,
            function_id=stable_uuid(seed, "function", name),
            version_id=stable_uuid(seed, "version", name),
            build_id=stable_uuid(seed, "build", name),
            handler=handler,
            duration=duration,
            session_create_params=session_create_params,
            params_schema=params_schema,
            created=created,
        )

    def planned_duration(
        self, params: dict[str, Any], rng: random.Random, default: tuple[float, float]
    ) -> float:
        """Simulated seconds this invocation takes (before speed scaling)."""
        if callable(self.duration):
            return max(0.0, float(self.duration(params)))
        if self.duration is not None:
            return max(0.0, float(self.duration))
        return rng.uniform(*default)


# -- built-in demo functions -----------------------------------------------------------


def _echo(params: dict[str, Any], context: FunctionContext) -> Any:
    context.logger.info("echoing %d params", len(params))
    return params


def _url_param(params: dict[str, Any]) -> str:
    url = params.get("url")
    if not isinstance(url, str) or not url:
        raise ValueError('params.url is required, e.g. {"url": "https://example.com"}')
    return url if "://" in url else f"https://{url}"


def _page_title(params: dict[str, Any], context: FunctionContext) -> Any:
    url = _url_param(params)
    parts = urlsplit(url)
    host = parts.hostname or "example.com"
    context.logger.info("navigating to %s", url)
    site = host.removeprefix("www.").split(".")[0].replace("-", " ").title()
    words = [w for w in re.split(r"[/_.-]+", parts.path) if w and not w.isdigit()]
    page = " ".join(words[-2:]).replace("%20", " ").title() if words else "Home"
    title = f"{page} | {site}"
    context.logger.info("found title %r", title)
    return {"url": url, "title": title, "status": 200}


def _extract(params: dict[str, Any], context: FunctionContext) -> Any:
    url = _url_param(params)
    schema = params.get("schema")
    if schema is not None and not isinstance(schema, dict):
        raise ValueError("params.schema must be a JSON Schema object")
    host = urlsplit(url).hostname or "example.com"
    context.logger.info("extracting from %s", url)
    instruction = params.get("instruction")
    if instruction:
        context.logger.info("instruction: %s", instruction)
    shape = schema or {
        "type": "object",
        "properties": {"title": {"type": "string"}, "summary": {"type": "string"}},
        "required": ["title", "summary"],
    }
    data = generate(shape, context.rng, Hints(domain=host))
    context.logger.info("extracted %d top-level fields", len(data) if isinstance(data, dict) else 1)
    return {"url": url, "data": data}


def _sleep_seconds(params: dict[str, Any]) -> float:
    seconds = params.get("seconds", 1)
    return (
        float(seconds)
        if isinstance(seconds, int | float) and not isinstance(seconds, bool)
        else 1.0
    )


def _sleep(params: dict[str, Any], context: FunctionContext) -> Any:
    seconds = _sleep_seconds(params)
    context.logger.info("sleeping for %g simulated seconds", seconds)
    return {"slept": seconds}


def _fail(params: dict[str, Any], context: FunctionContext) -> Any:
    message = params.get("message") or "the fail demo function always raises"
    context.logger.error("about to fail: %s", message)
    raise RuntimeError(str(message))


def builtin_functions() -> list[tuple[str, Handler, Duration]]:
    """(name, handler, duration) of the demo functions."""
    return [
        ("echo", _echo, 0.5),
        ("page-title", _page_title, None),
        ("extract", _extract, None),
        ("sleep", _sleep, _sleep_seconds),
        ("fail", _fail, 1.0),
    ]
