"""The two kinds of model every wire shape is built from.

``RequestModel`` is what bbnb sends: strict types, unknown keys rejected with a
message that names the key, the allowed keys and the closest match.
``ResponseModel`` is what Browserbase answers: lenient, and unknown fields are kept,
because the API grows.

Both use snake_case in Python and camelCase on the wire, accept either on input,
and turn into JSON-ready dicts with ``to_wire()``.  Secrets are ``SecretStr``:
masked in ``repr``, ``str`` and ``model_dump``; revealed only by ``to_wire()``,
which is what goes into an HTTP body.
"""

from __future__ import annotations

import difflib
from typing import Annotated, Any, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    PlainSerializer,
    SecretStr,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    model_serializer,
    model_validator,
)
from pydantic.alias_generators import to_camel

__all__ = ["RequestModel", "ResponseModel", "Secret", "WireModel"]

_REVEAL = "bbnb_reveal_secrets"


def _serialize_secret(value: SecretStr, info: SerializationInfo) -> str:
    context = info.context
    if isinstance(context, dict) and context.get(_REVEAL):
        return value.get_secret_value()
    return str(value)


Secret = Annotated[
    SecretStr, PlainSerializer(_serialize_secret, return_type=str, when_used="always")
]
"""A string that is masked everywhere except in the HTTP body (``to_wire()``)."""


class WireModel(BaseModel):
    """Common base: camelCase aliases, ``to_wire``/``from_wire``."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        # Inputs may hold secrets (proxy passwords, variable values): never echo them in errors.
        hide_input_in_errors=True,
    )

    def to_wire(self) -> dict[str, Any]:
        """The JSON body to send: camelCase keys, no ``None`` fields, secrets revealed."""
        return self.model_dump(
            mode="json", by_alias=True, exclude_none=True, context={_REVEAL: True}
        )

    def to_safe_dict(self) -> dict[str, Any]:
        """Like ``to_wire()`` but with secrets masked: for previews, journals and logs."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)

    @classmethod
    def from_wire(cls, data: Any) -> Self:
        """Validate a decoded JSON value into this model."""
        return cls.model_validate(data)


def _allowed_keys(model: type[BaseModel]) -> dict[str, str]:
    """Map every accepted input key (alias and Python name) to its wire name."""
    keys: dict[str, str] = {}
    for name, field in model.model_fields.items():
        wire = field.alias or name
        keys[wire] = wire
        keys[name] = wire
    return keys


class RequestModel(WireModel):
    """A body bbnb sends. Strict types; unknown keys are an error that says what to use."""

    model_config = ConfigDict(extra="forbid", strict=True)

    @model_validator(mode="before")
    @classmethod
    def _reject_unknown_keys(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        allowed = _allowed_keys(cls)
        unknown = [key for key in data if key not in allowed]
        if unknown:
            key = unknown[0]
            wire_names = sorted(set(allowed.values()))
            close = difflib.get_close_matches(str(key), list(allowed), n=1, cutoff=0.6)
            hint = f"; did you mean {allowed[close[0]]!r}?" if close else ""
            raise ValueError(
                f"unknown key {key!r} in {cls.__name__}{hint} "
                f"Allowed keys: {', '.join(wire_names)} (snake_case names work too)"
            )
        return data


class ResponseModel(WireModel):
    """A body Browserbase returns. Lenient; unknown fields are kept as extras."""

    model_config = ConfigDict(extra="allow")

    @model_serializer(mode="wrap")
    def _keep_unknown_nulls(
        self, handler: SerializerFunctionWrapHandler, info: SerializationInfo
    ) -> dict[str, Any]:
        """Unknown fields go back exactly as they came, ``null`` included, at every depth."""
        data: dict[str, Any] = handler(self)
        if info.exclude_none:
            for key, value in (self.model_extra or {}).items():
                if value is None:
                    data[key] = None
        return data
