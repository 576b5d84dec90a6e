"""The simulated agent's answers conform to random JSON Schemas, and spoiling breaks them."""

from __future__ import annotations

import random
from typing import Any

import jsonschema
from hypothesis import given, settings
from hypothesis import strategies as st

from bbnb.emulator.agent import task_hints
from bbnb.emulator.fakedata import Hints, generate, spoil

NAMES = [
    "title",
    "price",
    "url",
    "email",
    "name",
    "rating",
    "count",
    "date",
    "id",
    "city",
    "tags",
    "items",
    "x",
]
FORMATS = [None, "date-time", "date", "email", "uri", "uuid", "hostname", "ipv4"]


def leaf() -> st.SearchStrategy[dict[str, Any]]:
    strings = st.builds(
        lambda fmt, low, span: {
            "type": "string",
            **({"format": fmt} if fmt else {}),
            **({"minLength": low, "maxLength": low + span} if fmt is None else {}),
        },
        st.sampled_from(FORMATS),
        st.integers(0, 5),
        st.integers(0, 30),
    )
    numbers = st.builds(
        lambda kind, low, span: {"type": kind, "minimum": low, "maximum": low + span},
        st.sampled_from(["number", "integer"]),
        st.integers(-100, 100),
        st.integers(0, 1000),
    )
    enums = st.lists(st.text(max_size=5), min_size=1, max_size=4, unique=True).map(
        lambda v: {"enum": v}
    )
    return (
        strings
        | numbers
        | enums
        | st.just({"type": "boolean"})
        | st.just({"type": ["string", "null"]})
    )


schemas = st.recursive(
    leaf(),
    lambda children: (
        st.builds(
            lambda props, req, extra: {
                "type": "object",
                "properties": props,
                "required": sorted(set(req) & set(props)),
                **extra,
            },
            st.dictionaries(st.sampled_from(NAMES), children, max_size=5),
            st.lists(st.sampled_from(NAMES), max_size=5),
            st.just({}),
        )
        | st.builds(
            lambda items, low, span: {
                "type": "array",
                "items": items,
                "minItems": low,
                "maxItems": low + span,
            },
            children,
            st.integers(0, 3),
            st.integers(0, 4),
        )
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(schema=schemas, seed=st.integers(0, 2**32), count=st.none() | st.integers(1, 20))
def test_generated_values_conform(schema: dict[str, Any], seed: int, count: int | None) -> None:
    """Whatever the schema, the generated value validates against it (formats included)."""
    value = generate(schema, random.Random(seed), Hints(count=count))
    jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(
        value
    )


def test_names_give_plausible_values() -> None:
    """price is a number, url a URL on the task's site, email an address, title text."""
    schema = {
        "type": "object",
        "properties": {k: {} for k in ("price", "url", "email", "title", "rating")},
        "required": ["price", "url", "email", "title", "rating"],
    }
    value = generate(
        schema, random.Random(1), task_hints("Get products from https://shop.example.com/list")
    )
    assert isinstance(value["price"], float) and value["url"].startswith(
        "https://shop.example.com/"
    )
    assert "@" in value["email"] and value["title"][0].isupper() and 1 <= value["rating"] <= 5


def test_refs_and_defs_are_followed() -> None:
    """$ref into $defs (as pydantic emits) is resolved."""
    schema = {
        "$defs": {
            "Item": {
                "type": "object",
                "properties": {"sku": {"type": "string"}},
                "required": ["sku"],
            }
        },
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": {"$ref": "#/$defs/Item"}, "minItems": 2}
        },
        "required": ["items"],
    }
    value = generate(schema, random.Random(2))
    jsonschema.validate(value, schema)


def test_spoil_breaks_conformance() -> None:
    """spoil drops a field or stringifies a number, and says which."""
    schema = {
        "type": "object",
        "properties": {"a": {"type": "integer"}, "b": {"type": "string"}},
        "required": ["a", "b"],
    }
    for seed in range(10):
        value, note = spoil({"a": 1, "b": "x"}, schema, random.Random(seed))
        assert not jsonschema.Draft202012Validator(schema).is_valid(value)
        assert note.split()[0] in ("a", "b")


def test_task_hints() -> None:
    """The site and item count come from the task text; %var% is not a count."""
    hints = task_hints("List the top 7 stories on news.ycombinator.com, skip %x1%")
    assert (hints.domain, hints.count) == ("news.ycombinator.com", 7)
    assert task_hints("no numbers here").count is None
