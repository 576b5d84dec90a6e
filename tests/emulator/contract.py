"""Response-body checks against the two contracts: bbnb's models and Browserbase's
OpenAPI document (``shared/reference/browserbase-openapi.yaml``).

The document is OpenAPI 3.0: ``nullable: true`` is turned into a JSON Schema
``null`` alternative.  It predates ``PAUSED``; ``OpenAPI.load`` adds that one
status to the AgentRun enum explicitly (``test_openapi_lacks_paused`` proves the
document still lacks it, so the patch is noticed if the document changes).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from pydantic import BaseModel

from bbnb import models

SPEC_PATHS = (
    Path("/work/shared/reference/browserbase-openapi.yaml"),
    Path(__file__).resolve().parents[3] / "shared" / "reference" / "browserbase-openapi.yaml",
)

RESPONSE_MODELS: dict[str, type[BaseModel] | None] = {
    "AgentRuns_create": models.AgentRun,
    "AgentRuns_get": models.AgentRun,
    "AgentRuns_list": models.AgentRunList,
    "AgentRuns_messages": models.MessagesPage,
    "AgentRuns_stop": models.AgentRun,
    "AgentRuns_resume": models.AgentRun,
    "Agents_create": models.Agent,
    "Agents_get": models.Agent,
    "Agents_update": models.Agent,
    "Agents_list": models.AgentList,
    "Functions_list": models.FunctionList,
    "Functions_get": models.Function,
    "Functions_invoke": models.Invocation,
    "Functions_listVersions": None,
    "FunctionVersions_get": models.FunctionVersion,
    "FunctionVersions_listInvocations": models.InvocationList,
    "Invocations_get": models.Invocation,
    "Invocations_getLogs": models.InvocationLogs,
    "Sessions_create": models.SessionCreateResponse,
    "Sessions_get": models.Session,
    "Sessions_update": models.Session,
    "Sessions_list": None,
}


def _nullable(node: Any) -> Any:
    if isinstance(node, list):
        return [_nullable(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _nullable(value) for key, value in node.items() if key != "nullable"}
    if node.get("nullable") is True:
        return {"anyOf": [out, {"type": "null"}]}
    return out


class OpenAPI:
    """Validators for each operation's success response."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.raw = document
        doc = copy.deepcopy(document)
        status = doc["components"]["schemas"]["AgentRun"]["properties"]["status"]
        status["enum"] = [*status["enum"], "PAUSED"]  # the doc predates PAUSED
        self.components = _nullable(doc["components"])
        self.operations: dict[str, dict[str, Any]] = {}
        for item in doc["paths"].values():
            for operation in item.values():
                if isinstance(operation, dict) and "operationId" in operation:
                    self.operations[operation["operationId"]] = operation

    @classmethod
    def load(cls) -> OpenAPI:
        for path in SPEC_PATHS:
            if path.exists():
                return cls(yaml.safe_load(path.read_text()))
        raise FileNotFoundError("browserbase-openapi.yaml not found in shared/reference")

    def schema(self, operation_id: str, status: int) -> dict[str, Any] | None:
        responses = self.operations[operation_id]["responses"]
        response = responses.get(str(status))
        if response is None or "content" not in response:
            return None
        schema = response["content"]["application/json"]["schema"]
        return {"allOf": [_nullable(schema)], "components": self.components}

    def check(self, operation_id: str, status: int, body: Any) -> None:
        """Raise if ``body`` breaks the document's schema for this operation and status."""
        schema = self.schema(operation_id, status)
        if schema is None:
            raise AssertionError(f"{operation_id} documents no JSON body for status {status}")
        jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker()).validate(body)


def check_response(openapi: OpenAPI | None, operation_id: str, status: int, body: Any) -> None:
    """Validate ``body`` with the bbnb model for the operation and, if known, the document."""
    model = RESPONSE_MODELS[operation_id]
    if model is not None:
        model.model_validate(body)
    elif operation_id == "Sessions_list":
        for item in body:
            models.Session.model_validate(item)
    elif operation_id == "Functions_listVersions":
        for item in body["results"]:
            models.FunctionVersion.model_validate(item)
    if openapi is not None and operation_id in openapi.operations:
        openapi.check(operation_id, status, body)
