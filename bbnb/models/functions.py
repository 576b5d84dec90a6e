"""Browserbase Functions: the invoke body, invocations, their logs, functions and versions."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator

from bbnb.models._base import RequestModel, ResponseModel
from bbnb.models.sessions import SessionCreateParams, check_function_rules

__all__ = [
    "INVOCATION_PARAMS_LIMIT",
    "TERMINAL_INVOCATION_STATUSES",
    "Cause",
    "Function",
    "FunctionInvokeParams",
    "FunctionList",
    "FunctionVersion",
    "Invocation",
    "InvocationList",
    "InvocationLog",
    "InvocationLogs",
    "InvocationStatus",
]

InvocationStatus = Literal["PENDING", "RUNNING", "COMPLETED", "FAILED"]
TERMINAL_INVOCATION_STATUSES: frozenset[str] = frozenset({"COMPLETED", "FAILED"})
INVOCATION_PARAMS_LIMIT = 64 * 1024
"""Largest serialized ``params`` a function invocation accepts, in bytes."""


def json_size(value: Any) -> int:
    """Bytes of ``value`` as compact UTF-8 JSON."""
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


class FunctionInvokeParams(RequestModel):
    """Body of ``POST /v1/functions/{id}/invoke``."""

    params: dict[str, Any] | None = None
    session_create_params: SessionCreateParams | None = None

    @field_validator("params")
    @classmethod
    def _params_fit(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is None:
            return None
        try:
            size = json_size(value)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"params must be JSON-serializable: {exc}") from None
        if size > INVOCATION_PARAMS_LIMIT:
            raise ValueError(
                f"params are {size:,} bytes as JSON; a function invocation accepts at most "
                f"{INVOCATION_PARAMS_LIMIT:,} (64 KB). Pass a reference (a URL or an id) instead"
            )
        return value

    @field_validator("session_create_params")
    @classmethod
    def _function_rules(
        cls, value: SessionCreateParams | None, info: ValidationInfo
    ) -> SessionCreateParams | None:
        if value is not None:
            check_function_rules(value, info.context)
        return value


class Cause(ResponseModel):
    """Why a run or invocation failed: a code such as ``TIMED_OUT``, and a message."""

    code: str
    message: str | None = None

    def __str__(self) -> str:
        return f"{self.code}: {self.message}" if self.message else self.code


class Invocation(ResponseModel):
    """One invocation of a function; ``results`` holds whatever the handler returned."""

    id: str
    project_id: str
    function_id: str
    version_id: str
    session_id: str
    status: InvocationStatus
    created_at: datetime
    updated_at: datetime
    started_at: datetime
    expires_at: datetime
    region: str | None = None
    params: dict[str, Any] | None = None
    results: Any = None
    ended_at: datetime | None = None
    cause: Cause | None = None

    @property
    def is_terminal(self) -> bool:
        """True once the invocation has COMPLETED or FAILED."""
        return self.status in TERMINAL_INVOCATION_STATUSES

    @property
    def needs_input(self) -> bool:
        """Invocations never wait for input (only agent runs pause)."""
        return False

    @property
    def key(self) -> str:
        """The id under which this invocation is known."""
        return self.id


class InvocationLog(ResponseModel):
    """One log line written by a function handler."""

    message: str
    timestamp: float


class InvocationLogs(ResponseModel):
    """``GET /v1/functions/invocations/{id}/logs``."""

    logs: list[InvocationLog]
    total: int


class Function(ResponseModel):
    """A deployed function."""

    id: str
    project_id: str
    name: str = Field(min_length=1)
    created_at: datetime
    updated_at: datetime


class FunctionList(ResponseModel):
    """``GET /v1/functions``: one page, offset-paginated."""

    data: list[Function]
    total: int


class FunctionVersion(ResponseModel):
    """A built version of a function, with its default session settings."""

    id: str
    project_id: str
    function_id: str
    function_build_id: str
    session_create_params: dict[str, Any] | None = None
    user_params_schema: dict[str, Any] | None = None
    created_at: datetime
    updated_at: datetime


class InvocationList(ResponseModel):
    """``GET /v1/functions/versions/{id}/invocations``: one page, offset-paginated."""

    results: list[Invocation]
    total: int
