"""The extractor on fixed HTML: JSON-LD, microdata, tables, labels, lists, types, enums."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bbnb.emulator.extract import extract, words
from bbnb.emulator.pagefacts import read_page

URL = "http://127.0.0.1:9/page"


def _page(body: str, head: str = "", title: str = "T") -> str:
    return f"<html><head><title>{title}</title>{head}</head><body>{body}</body></html>"


def _ld(data: Any) -> str:
    return f'<script type="application/ld+json">{json.dumps(data)}</script>'


def _obj(**props: Any) -> dict[str, Any]:
    return {"type": "object", "properties": props}


BOOK = {
    "@context": "https://schema.org",
    "@graph": [
        {"@type": "WebSite", "name": "Books"},
        {
            "@type": "Book",
            "name": "A Light in the Attic",
            "author": [{"@type": "Person", "name": "Shel Silverstein"}],
            "offers": {"price": 51.77, "priceCurrency": "GBP", "availability": "InStock"},
        },
    ],
}


def test_json_ld_graph_and_nested_values() -> None:
    """@graph items are read; nested offers and author lists fill flat properties."""
    schema = _obj(
        title={"type": "string"},
        author={"type": "string"},
        price={"type": "number"},
        currency={"type": "string"},
        inStock={"type": "boolean"},
    )
    result, _ = extract(_page("<h1>x</h1>", _ld(BOOK)), URL, schema)
    assert result.value == {
        "title": "A Light in the Attic",
        "author": "Shel Silverstein",
        "price": 51.77,
        "currency": "GBP",
        "inStock": True,
    }


def test_microdata_nested_scopes() -> None:
    """Microdata itemprops give values from content, href and text; nested scopes nest."""
    body = (
        '<div itemscope itemtype="https://schema.org/Product"><h1 itemprop="name">Lamp</h1>'
        '<div itemprop="offers" itemscope itemtype="https://schema.org/Offer">'
        '<span itemprop="price" content="12.50">€12,50</span>'
        '<link itemprop="availability" href="https://schema.org/OutOfStock"></div></div>'
    )
    schema = _obj(
        name={"type": "string"},
        price={"type": "number"},
        availability={"type": "string", "enum": ["in stock", "out of stock"]},
    )
    result, _ = extract(_page(body), URL, schema)
    assert result.value == {"name": "Lamp", "price": 12.5, "availability": "out of stock"}
    assert result.how()["price"] == "microdata Product 'offers.price'"


@pytest.mark.parametrize(
    "block",
    [
        "<dl><dt>Opening hours</dt><dd>9-5</dd><dt>Phone</dt><dd>+1 555</dd></dl>",
        "<table><tr><th>Opening hours</th><td>9-5</td></tr><tr><th>Phone</th><td>+1 555</td></tr></table>",
        "<p><strong>Opening hours:</strong> 9-5</p><p><b>Phone:</b> +1 555</p>",
        "<ul><li>Opening hours: 9-5</li><li>Phone: +1 555</li></ul>",
    ],
    ids=["dl", "two-column-table", "strong-label", "text"],
)
def test_labels_and_values(block: str) -> None:
    """Label/value pairs in four common forms fill camelCase and synonym names."""
    schema = _obj(hours={"type": "string"}, telephone={"type": "string"})
    result, _ = extract(_page(block), URL, schema)
    assert result.value == {"hours": "9-5", "telephone": "+1 555"}


def test_table_rows_with_links_and_types() -> None:
    """A header-row table gives one item per row; numbers typed, row links absolute."""
    table = (
        "<table><thead><tr><th>Item</th><th>Cost ($)</th><th>Qty</th></tr></thead><tbody>"
        '<tr><td><a href="/a">Alpha</a></td><td>$1,200.50</td><td>3</td></tr>'
        '<tr><td><a href="/b">Beta</a></td><td>$7</td><td>n/a</td></tr></tbody></table>'
    )
    item = _obj(
        name={"type": "string"},
        price={"type": "number"},
        quantity={"type": "integer"},
        link={"type": "string", "format": "uri"},
    )
    result, _ = extract(_page(table), URL, {"type": "array", "items": item})
    assert result.value == [
        {"name": "Alpha", "price": 1200.5, "quantity": 3, "link": "http://127.0.0.1:9/a"},
        {"name": "Beta", "price": 7.0, "link": "http://127.0.0.1:9/b"},
    ]


def test_title_heading_and_link_count() -> None:
    """Without structured data a title is the page title; counts of links are counted."""
    body = '<h1>Welcome</h1><a href="/x">x</a><a href="#top">top</a><a href="y">y</a>'
    schema = _obj(title={"type": "string"}, headline={"type": "string"}, links={"type": "integer"})
    result, _ = extract(_page(body, title="Example Domain"), URL, schema)
    assert result.value == {"title": "Example Domain", "headline": "Example Domain", "links": 2}


def test_description_finds_a_field_its_name_does_not() -> None:
    """A property whose name says nothing is matched through its description."""
    schema = _obj(f1={"type": "number", "description": "The price in euros"})
    result, _ = extract(
        _page("", _ld({"@type": "Product", "offers": {"price": "3.10"}})), URL, schema
    )
    assert result.value == {"f1": 3.1}


def test_refs_and_array_of_strings() -> None:
    """$ref into $defs is followed; an array of strings takes one value per list item."""
    body = "<ul>" + "".join(f'<li><a href="/n{n}">Story {n}</a></li>' for n in range(3)) + "</ul>"
    schema = {
        "$defs": {"names": {"type": "array", "items": {"type": "string"}}},
        "type": "object",
        "properties": {"headlines": {"$ref": "#/$defs/names"}},
    }
    result, _ = extract(_page(body), URL, schema)
    assert result.value == {"headlines": ["Story 0", "Story 1", "Story 2"]}


def test_missing_fields_are_reported_not_invented() -> None:
    """A field the page does not hold is left out and named in ``missing``."""
    result, _ = extract(_page("<p>nothing</p>"), URL, _obj(price={"type": "number"}))
    assert result.value == {} and result.missing == ["price"]


def test_next_page_and_captcha_are_seen() -> None:
    """rel=next or a 'Next' link is the next page; a reCAPTCHA widget marks a gate."""
    facts = read_page(_page('<a href="?p=2">Next \u203a</a><div class="g-recaptcha"></div>'), URL)
    assert facts.next_url == "http://127.0.0.1:9/page?p=2" and facts.captcha


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("reviewCount", {"review", "count"}),
        ("opening_hours", {"hours"}),
        ("productName", {"name"}),
        ("Price (EUR)", {"price", "eur"}),
    ],
    ids=["camel", "snake-synonym", "stop-word", "header"],
)
def test_words(name: str, expected: set[str]) -> None:
    """Names split into matching words through case, stop words and synonyms."""
    assert words(name) == expected


def test_list_of_plain_values() -> None:
    """An array of strings whose name the page does not use takes the longest list's items."""
    body = "<ul><li>Home</li></ul><ul><li>Waterproof</li><li>Light</li><li>Warm</li></ul>"
    schema = _obj(features={"type": "array", "items": {"type": "string"}})
    result, _ = extract(_page(body), URL, schema)
    assert result.value == {"features": ["Waterproof", "Light", "Warm"]}
