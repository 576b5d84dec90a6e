"""Agents: the run-create body, runs and their status machine, messages, custom agents."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, field_validator

from bbnb.models._base import RequestModel, ResponseModel, Secret
from bbnb.models.functions import Cause
from bbnb.models.schema import result_schema_dict
from bbnb.models.sessions import BrowserContext, Proxies

__all__ = [
    "TERMINAL_RUN_STATUSES",
    "Agent",
    "AgentBrowserSettings",
    "AgentCreateParams",
    "AgentList",
    "AgentRun",
    "AgentRunCreateParams",
    "AgentRunList",
    "AgentUpdateParams",
    "Message",
    "MessageContent",
    "MessagePart",
    "MessagesPage",
    "ResumeParams",
    "RunStatus",
    "Variable",
]

RunStatus = Literal["PENDING", "RUNNING", "COMPLETED", "FAILED", "STOPPED", "TIMED_OUT", "PAUSED"]
TERMINAL_RUN_STATUSES: frozenset[str] = frozenset({"COMPLETED", "FAILED", "STOPPED", "TIMED_OUT"})

_VARIABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


class Variable(RequestModel):
    """A value the agent refers to as ``%name%``. The value is a secret and is never persisted."""

    value: Secret
    description: str | None = None


def _coerce_variables(value: Any) -> Any:
    """Accept ``{"name": "value"}`` as shorthand for ``{"name": {"value": "value"}}``."""
    if not isinstance(value, dict):
        return value
    out: dict[Any, Any] = {}
    for name, item in value.items():
        if isinstance(name, str) and not _VARIABLE_NAME.match(name):
            raise ValueError(
                f"variable name {name!r} is not usable as a %name% placeholder; use letters, "
                "digits, '_', '.' or '-', starting with a letter or '_'"
            )
        out[name] = {"value": item} if isinstance(item, str) else item
    return out


class AgentBrowserSettings(RequestModel):
    """The browser settings an agent run accepts."""

    context: BrowserContext | None = None
    proxies: Proxies | None = None
    verified: bool | None = None


SchemaDict = Annotated[dict[str, Any], BeforeValidator(result_schema_dict)]
"""A result schema: a JSON Schema dict or a pydantic model class, checked on the way in."""

Variables = Annotated[dict[str, Variable], BeforeValidator(_coerce_variables)]
"""``{"name": "value"}`` or ``{"name": {"value": ..., "description": ...}}``."""


class AgentRunCreateParams(RequestModel):
    """Body of ``POST /v1/agents/runs``."""

    task: str = Field(min_length=1)
    agent_id: str | None = Field(default=None, min_length=1)
    result_schema: SchemaDict | None = None
    browser_settings: AgentBrowserSettings | None = None
    variables: Variables | None = None
    pause_when: str | None = Field(default=None, min_length=1)

    @field_validator("task")
    @classmethod
    def _task_has_text(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("task is blank; describe what the agent should do")
        return value


class ResumeParams(RequestModel):
    """Body of ``POST /v1/agents/runs/{id}/resume``: the answer to a paused agent."""

    task: str = Field(min_length=1)
    variables: Variables | None = None


class AgentRun(ResponseModel):
    """One execution of an agent against a task."""

    run_id: str
    task: str
    status: RunStatus
    created_at: datetime
    updated_at: datetime
    agent_id: str | None = None
    session_id: str | None = None
    sandbox_id: str | None = None
    result_schema: dict[str, Any] | None = None
    result: dict[str, Any] | None = None
    cause: Cause | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None

    @property
    def id(self) -> str:
        """Same as ``run_id``, so runs and invocations share one name for their id."""
        return self.run_id

    @property
    def is_terminal(self) -> bool:
        """True once the run is COMPLETED, FAILED, STOPPED or TIMED_OUT."""
        return self.status in TERMINAL_RUN_STATUSES

    @property
    def needs_input(self) -> bool:
        """True while the run is PAUSED and waits for you (see ``runs.resume``)."""
        return self.status == "PAUSED"

    @property
    def output(self) -> Any:
        """The structured answer: ``result["output"]`` when the runner wraps it, else ``result``."""
        if isinstance(self.result, dict) and "output" in self.result:
            return self.result["output"]
        return self.result

    @property
    def duration(self) -> float | None:
        """Seconds from start to end, once both are known."""
        if self.started_at is None or self.ended_at is None:
            return None
        return (self.ended_at - self.started_at).total_seconds()


class AgentRunList(ResponseModel):
    """``GET /v1/agents/runs``: one page, cursor-paginated."""

    data: list[AgentRun]
    limit: int
    next_cursor: str | None = None


class MessagePart(ResponseModel):
    """One part of a message: text, reasoning, a file, a tool call or a tool result."""

    type: str
    text: str | None = None
    tool_call_id: str | None = None
    tool_name: str | None = None
    input: Any = None
    output: Any = None
    media_type: str | None = None
    data: Any = None


class MessageContent(ResponseModel):
    """The body of a message: who said it, and either plain text or parts."""

    role: str
    content: str | list[MessagePart]

    @property
    def parts(self) -> list[MessagePart]:
        """The content as parts (plain text becomes one text part)."""
        if isinstance(self.content, str):
            return [MessagePart(type="text", text=self.content)]
        return self.content


class Message(ResponseModel):
    """One step of an agent's transcript."""

    id: str
    created_at: datetime
    message: MessageContent


class MessagesPage(ResponseModel):
    """``GET /v1/agents/runs/{id}/messages``: oldest first; poll with ``since=next_since``."""

    data: list[Message]
    next_since: str | None = None


class Agent(ResponseModel):
    """A reusable agent: a system prompt and a default result schema."""

    agent_id: str
    name: str
    system_prompt: str | None = None
    result_schema: dict[str, Any] | None = None
    created_at: datetime
    updated_at: datetime


class AgentCreateParams(RequestModel):
    """Body of ``POST /v1/agents``."""

    name: str = Field(min_length=1, max_length=255)
    system_prompt: str | None = Field(default=None, min_length=1)
    result_schema: SchemaDict | None = None


class AgentUpdateParams(RequestModel):
    """Body of ``PATCH /v1/agents/{id}``: only the fields given change."""

    name: str | None = Field(default=None, min_length=1, max_length=255)
    system_prompt: str | None = Field(default=None, min_length=1)
    result_schema: SchemaDict | None = None


class AgentList(ResponseModel):
    """``GET /v1/agents``: one page, cursor-paginated."""

    data: list[Agent]
    limit: int
    next_cursor: str | None = None
