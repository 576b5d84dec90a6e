"""Property tests: every model round-trips through its wire JSON, and bad input only ever
raises a ValidationError that names the offending field."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema
from pydantic import BaseModel, ValidationError

from bbnb import models

REQUEST_MODELS: list[type[models.RequestModel]] = [
    models.SessionCreateParams,
    models.FunctionInvokeParams,
    models.AgentRunCreateParams,
    models.ResumeParams,
    models.AgentCreateParams,
    models.AgentUpdateParams,
    models.SessionReleaseParams,
]
RESPONSE_MODELS: list[type[models.ResponseModel]] = [
    models.AgentRun,
    models.AgentRunList,
    models.MessagesPage,
    models.Agent,
    models.AgentList,
    models.Invocation,
    models.InvocationLogs,
    models.InvocationList,
    models.Function,
    models.FunctionList,
    models.FunctionVersion,
    models.Session,
    models.SessionCreateResponse,
    models.ErrorBody,
]
ALL_MODELS = REQUEST_MODELS + RESPONSE_MODELS

SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def wire_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON Schema in wire names, with free-form objects kept small."""
    schema = model.model_json_schema(by_alias=True, mode="validation")
    return _shrink(schema)


def _shrink(node: Any) -> Any:
    """Bound free-form objects and arrays so generated documents stay small."""
    if isinstance(node, dict):
        out = {k: _shrink(v) for k, v in node.items()}
        if out.get("type") == "object" and "properties" not in out:
            out.setdefault("maxProperties", 3)
        if out.get("type") == "array":
            out.setdefault("maxItems", 3)
        return out
    if isinstance(node, list):
        return [_shrink(v) for v in node]
    return node


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda m: m.__name__)
def test_round_trip(model: type[models.WireModel]) -> None:
    """Anything the model accepts comes back identical after to_wire -> from_wire."""

    @SETTINGS
    @given(from_schema(wire_schema(model)))
    def check(wire: Any) -> None:
        try:
            parsed = model.from_wire(wire)
        except ValidationError:
            return  # cross-field rules (e.g. state only with US) are stricter than the schema
        again = model.from_wire(parsed.to_wire())
        assert again == parsed
        assert again.to_wire() == parsed.to_wire()

    check()


JSON_SCALARS = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8)
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda m: m.__name__)
def test_arbitrary_json_only_raises_validation_error(model: type[models.WireModel]) -> None:
    """Random JSON never makes a model raise anything but ValidationError."""

    @SETTINGS
    @given(JSON_VALUES)
    def check(value: Any) -> None:
        with contextlib.suppress(ValidationError):
            model.from_wire(value)

    check()


def _field_names(model: type[BaseModel]) -> list[tuple[str, str]]:
    return [(name, field.alias or name) for name, field in model.model_fields.items()]


@pytest.mark.parametrize("model", REQUEST_MODELS, ids=lambda m: m.__name__)
def test_bad_field_value_names_the_field(model: type[models.RequestModel]) -> None:
    """A wrong value in one field gives an error located at that field."""
    fields = _field_names(model)

    @SETTINGS
    @given(st.sampled_from(fields), JSON_VALUES, st.booleans())
    def check(field: tuple[str, str], value: Any, use_alias: bool) -> None:
        name, alias = field
        key = alias if use_alias else name
        try:
            model.from_wire({key: value})
        except ValidationError as exc:
            located = {str(err["loc"][0]) for err in exc.errors() if err["loc"]}
            messages = " ".join(err["msg"] for err in exc.errors())
            assert (
                located & {name, alias}
                or name in messages
                or alias in messages
                or (
                    # the only error is a missing required field other than this one
                    all(err["type"] == "missing" for err in exc.errors())
                )
            ), exc.errors()

    check()
