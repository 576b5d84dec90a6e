"""Tests for ``bbnb.magics._templating``: ``{{name}}`` in task text and function params."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import pytest

from bbnb.magics._templating import (
    NO_ROW,
    TemplateError,
    find_templates,
    has_templates,
    render,
    render_params,
)


class Page:
    """A plain object whose attributes templates may read."""

    def __init__(self) -> None:
        self.url = "https://example.com"
        self._secret = "hidden"


NAMESPACE: dict[str, Any] = {
    "company": "Acme",
    "page": {"url": "https://example.com/p", "meta": {"lang": "en"}},
    "obj": Page(),
    "items": ["first", "second"],
    "price": 19.99,
    "count": 3,
    "_private": "p",
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Find {{company}}", "Find Acme"),
        ("Find {{ company }}", "Find Acme"),
        ("Find {{   company}}", "Find Acme"),
        ("{{page.url}}", "https://example.com/p"),
        ("{{page.meta.lang}}", "en"),
        ("{{obj.url}}", "https://example.com"),
        ("{{items.1}}", "second"),
        ("{{count}} x {{price}}", "3 x 19.99"),
        ("{{page.meta}}", '{"lang": "en"}'),
        ("{{items}}", '["first", "second"]'),
        ("{{_private}}", "p"),
    ],
    ids=[
        "plain",
        "spaces",
        "uneven-spaces",
        "dict-key",
        "nested-key",
        "attribute",
        "list-index",
        "numbers",
        "dict-as-json",
        "list-as-json",
        "underscore-name",
    ],
)
def test_render_resolves_names(text: str, expected: str) -> None:
    """Names, dotted keys, attributes and list indexes resolve from the namespace."""
    assert render(text, NAMESPACE) == expected


@pytest.mark.parametrize(
    "text",
    [
        '{"a": 1, "b": {"c": [1, 2]}}',
        "Costs $19.99 or ${price}",
        "Log in with %password% as %user_name%",
        "single {company} braces",
        "{{ 1 + 2 }}",
        "{{}}",
        "{{ company",
        "company }}",
        "{{company name}}",
        "{{{company}}",
        "{{.company}}",
    ],
    ids=[
        "json",
        "dollar",
        "percent-variables",
        "single-braces",
        "expression",
        "empty",
        "unclosed",
        "unopened",
        "two-words",
        "triple-open",
        "leading-dot",
    ],
)
def test_non_templates_stay_literal(text: str) -> None:
    """Text that is not exactly ``{{name.path}}`` is left untouched."""
    assert not has_templates(text) or text == "{{{company}}"
    if text == "{{{company}}":
        # The inner {{company}} is a template; the extra brace stays literal.
        assert render(text, NAMESPACE) == "{Acme"
    else:
        assert render(text, NAMESPACE) == text


def test_escaped_template_renders_literal_braces() -> None:
    """A backslash before ``{{`` yields the literal template without the backslash."""
    assert render(r"show \{{company}} and {{company}}", NAMESPACE) == "show {{company}} and Acme"
    assert find_templates(r"\{{company}} {{page.url}}") == ["page.url"]


def test_json_with_template_inside_renders_only_the_template() -> None:
    """JSON braces around a template keep their shape."""
    text = '{"name": "{{company}}", "n": {"k": 1}}'
    assert render(text, NAMESPACE) == '{"name": "Acme", "n": {"k": 1}}'


@pytest.mark.parametrize(
    ("text", "row", "expected"),
    [
        ("{{row}}", "acme.com", "acme.com"),
        ("{{row.domain}}", {"domain": "acme.com"}, "acme.com"),
        ("{{domain}}", {"domain": "acme.com"}, "acme.com"),
        ("{{company}}", {"company": "RowCo"}, "RowCo"),
        ('{{row["unit price"]}}', {"unit price": 2.5}, "2.5"),
        ("{{row['unit price']}}", {"unit price": 2.5}, "2.5"),
        ("{{row.unit-price}}", {"unit-price": 4}, "4"),
        ("{{row.0}}", ["x", "y"], "x"),
        ("{{row.a}} {{company}}", pd.Series({"a": 1}), "1 Acme"),
        ("{{row}}", {"a": 1}, '{"a": 1}'),
    ],
    ids=[
        "scalar-row",
        "row-key",
        "bare-column",
        "row-shadows-namespace",
        "quoted-column-double",
        "quoted-column-single",
        "hyphen-column",
        "list-row",
        "series-row",
        "dict-row-as-json",
    ],
)
def test_render_with_row(text: str, row: Any, expected: str) -> None:
    """Inside --foreach, ``row`` and its columns resolve before the namespace."""
    assert render(text, NAMESPACE, row) == expected


@pytest.mark.parametrize(
    ("text", "row", "fragment"),
    [
        ("{{compnay}}", NO_ROW, "Did you mean 'company'"),
        ("{{nothing_like_it}}", NO_ROW, "unknown name 'nothing_like_it'"),
        ("{{page.ulr}}", NO_ROW, "Did you mean 'url'"),
        ("{{items.7}}", NO_ROW, "index 7 is out of range"),
        ("{{obj._secret}}", NO_ROW, "has no attribute '_secret'"),
        ("{{obj.ulr}}", NO_ROW, "Did you mean 'url'"),
        ("{{row}}", NO_ROW, "only exists with --foreach"),
        ("{{row.domian}}", {"domain": "x"}, "Did you mean 'domain'"),
        ("{{domian}}", {"domain": "x"}, "Did you mean 'domain'"),
    ],
    ids=[
        "typo",
        "unknown",
        "bad-key",
        "index-out-of-range",
        "private-attribute",
        "bad-attribute",
        "row-without-foreach",
        "bad-row-column",
        "bad-bare-column",
    ],
)
def test_unknown_names_raise_with_close_matches(text: str, row: Any, fragment: str) -> None:
    """Unknown names raise ``TemplateError`` naming the template and the closest matches."""
    with pytest.raises(TemplateError) as info:
        render(text, NAMESPACE, row)
    assert fragment in str(info.value)


@pytest.mark.parametrize(
    "value", [None, math.nan, pd.NA, pd.NaT], ids=["none", "nan", "pd-na", "pd-nat"]
)
def test_missing_values_are_errors(value: Any) -> None:
    """A missing value is an error rather than an empty string in the task."""
    with pytest.raises(TemplateError, match="has no value"):
        render("price of {{row.name}}", NAMESPACE, {"name": value})


def test_render_params_keeps_types_for_whole_templates() -> None:
    """A string that is exactly one template takes the value with its JSON type."""
    params = {"qty": "{{row.qty}}", "label": "item {{row.qty}}", "nested": ["{{page}}"]}
    row = pd.Series({"qty": 3})
    rendered = render_params(params, NAMESPACE, row)
    assert rendered == {"qty": 3, "label": "item 3", "nested": [NAMESPACE["page"]]}
    assert type(rendered["qty"]) is int


def test_render_params_leaves_non_strings_and_keys() -> None:
    """Numbers, booleans, nulls and keys are never treated as templates."""
    params = {"{{company}}": 1, "b": True, "c": None, "d": 2.5}
    assert render_params(params, NAMESPACE) == params


def test_render_params_rejects_non_json_values() -> None:
    """A whole-template value that is not JSON data is a clear error."""
    with pytest.raises(TemplateError, match="not JSON data"):
        render_params({"x": "{{obj}}"}, NAMESPACE)


def test_find_templates_lists_paths_in_order() -> None:
    """``find_templates`` returns the name paths in the order they appear."""
    assert find_templates("{{a}} {{ b.c }} {{row['x y']}}") == ["a", "b.c", "row['x y']"]
