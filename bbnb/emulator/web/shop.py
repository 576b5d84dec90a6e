"""shop.bbnb.test: categories with pagination, product pages (JSON-LD or microdata),
a price table, store pages of labels and values, a CSV download and a CAPTCHA gate."""

from __future__ import annotations

import csv
import io
from typing import Any

from bbnb.emulator.web.data import PAGE_SIZE, WebData
from bbnb.emulator.web.layout import Page, esc, json_ld, not_found, page

__all__ = ["shop_page"]

_AVAILABLE = {"InStock": "In stock", "OutOfStock": "Out of stock", "PreOrder": "Pre-order"}


def _price(p: dict[str, Any]) -> str:
    return f"€{p['price']:.2f}"


def _slug_of(url: str) -> str:
    return url.rsplit("/", 1)[1]


def _home(data: WebData, base: str) -> Page:
    cats = "".join(
        f'<li><a href="{base}/category/{c["slug"]}">{esc(c["name"])}</a> '
        f"({c['product_count']} products)</li>"
        for c in data.truth.categories
    )
    body = (
        "<h1>bbnb Shop</h1><p>Home goods, books and outdoor gear.</p>"
        f'<h2>Categories</h2><ul class="categories">{cats}</ul>'
        f'<h2>More</h2><ul><li><a href="{base}/prices">Price list</a></li>'
        f'<li><a href="{base}/stores">Our stores</a></li>'
        f'<li><a href="{base}/reports/inventory.csv">Inventory (CSV)</a></li>'
        f'<li><a href="{base}/deals">Members-only deals</a></li></ul>'
    )
    return page("bbnb Shop", body, base=base, site="shop")


def _category(data: WebData, base: str, slug: str, query: dict[str, str]) -> Page:
    cat = data.category(slug)
    if cat is None:
        return not_found(f"/category/{slug}", base=base, site="shop")
    raw = query.get("page", "1")
    number = int(raw) if raw.isdigit() else 0
    if not 1 <= number <= cat["pages"]:
        return not_found(f"/category/{slug}?page={raw}", base=base, site="shop")
    items = data.products_in(cat["name"])[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]
    rows = "".join(
        f'<li class="product"><a href="{base}/product/{_slug_of(p["url"])}">{esc(p["name"])}</a>'
        f' <span class="price">{_price(p)}</span></li>'
        for p in items
    )
    links = []
    if number > 1:
        links.append(f'<a rel="prev" href="{base}/category/{slug}?page={number - 1}">Previous</a>')
    links.append(f"<span>Page {number} of {cat['pages']}</span>")
    if number < cat["pages"]:
        links.append(f'<a rel="next" href="{base}/category/{slug}?page={number + 1}">Next</a>')
    body = (
        f"<h1>{esc(cat['name'])}</h1><p>{cat['product_count']} products</p>"
        f'<ul class="products">{rows}</ul><nav class="pagination">{" ".join(links)}</nav>'
    )
    return page(f"{cat['name']} | bbnb Shop", body, base=base, site="shop")


def _specs(p: dict[str, Any]) -> str:
    rating = f"{p['rating']} / 5" if p["rating"] is not None else "No ratings yet"
    return (
        '<h2>Details</h2><dl class="specs">'
        f"<dt>Brand</dt><dd>{esc(p['brand'])}</dd><dt>SKU</dt><dd>{esc(p['sku'])}</dd>"
        f"<dt>Category</dt><dd>{esc(p['category'])}</dd>"
        f"<dt>Availability</dt><dd>{_AVAILABLE[p['availability']]}</dd>"
        f"<dt>Rating</dt><dd>{rating} ({p['reviews']} reviews)</dd></dl>"
    )


def _product_json_ld(p: dict[str, Any]) -> str:
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": p["name"],
        "sku": p["sku"],
        "description": p["description"],
        "category": p["category"],
        "url": p["url"],
        "brand": {"@type": "Brand", "name": p["brand"]},
        "offers": {
            "@type": "Offer",
            "price": f"{p['price']:.2f}",
            "priceCurrency": p["currency"],
            "availability": f"https://schema.org/{p['availability']}",
        },
    }
    if p["rating"] is not None:
        data["aggregateRating"] = {
            "@type": "AggregateRating",
            "ratingValue": p["rating"],
            "reviewCount": p["reviews"],
        }
    return json_ld(data)


def _product(data: WebData, base: str, slug: str) -> Page:
    p = data.products_by_slug.get(slug)
    if p is None:
        return not_found(f"/product/{slug}", base=base, site="shop")
    cat = f'<a href="{base}/category/{p["category"].lower()}">{esc(p["category"])}</a>'
    if p["markup"] == "json-ld":
        body = (
            f'<p class="breadcrumb">{cat}</p><h1>{esc(p["name"])}</h1>'
            f'<p class="price">{_price(p)}</p><p>{esc(p["description"])}</p>{_specs(p)}'
        )
        return page(
            f"{p['name']} | bbnb Shop", body, base=base, site="shop", head=_product_json_ld(p)
        )
    rating = ""
    if p["rating"] is not None:
        rating = (
            '<div itemprop="aggregateRating" itemscope itemtype="https://schema.org/AggregateRating">'
            f'Rated <span itemprop="ratingValue">{p["rating"]}</span> by '
            f'<span itemprop="reviewCount">{p["reviews"]}</span> customers</div>'
        )
    body = (
        f'<p class="breadcrumb">{cat}</p>'
        '<div itemscope itemtype="https://schema.org/Product">'
        f'<link itemprop="url" href="{esc(p["url"])}">'
        f'<h1 itemprop="name">{esc(p["name"])}</h1>'
        f'<meta itemprop="sku" content="{esc(p["sku"])}">'
        f'<meta itemprop="category" content="{esc(p["category"])}">'
        f'<div itemprop="brand" itemscope itemtype="https://schema.org/Brand">'
        f'<meta itemprop="name" content="{esc(p["brand"])}"></div>'
        '<div itemprop="offers" itemscope itemtype="https://schema.org/Offer">'
        f'<meta itemprop="priceCurrency" content="{p["currency"]}">'
        f'<p class="price"><span itemprop="price" content="{p["price"]:.2f}">{_price(p)}</span></p>'
        f'<link itemprop="availability" href="https://schema.org/{p["availability"]}"></div>'
        f'<p itemprop="description">{esc(p["description"])}</p>{rating}</div>{_specs(p)}'
    )
    return page(f"{p['name']} | bbnb Shop", body, base=base, site="shop")


def _prices(data: WebData, base: str) -> Page:
    rows = "".join(
        f'<tr><td><a href="{base}/product/{_slug_of(p["url"])}">{esc(p["name"])}</a></td>'
        f"<td>{esc(p['sku'])}</td><td>{esc(p['category'])}</td><td>{p['price']:.2f}</td>"
        f"<td>{_AVAILABLE[p['availability']]}</td>"
        f"<td>{p['rating'] if p['rating'] is not None else ''}</td></tr>"
        for p in data.truth.products
    )
    body = (
        "<h1>Price list</h1><p>Every product we sell, with its current price in euros.</p>"
        '<table class="prices"><thead><tr><th>Product</th><th>SKU</th><th>Category</th>'
        "<th>Price (EUR)</th><th>Availability</th><th>Rating</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )
    return page("Price list | bbnb Shop", body, base=base, site="shop")


def _stores(data: WebData, base: str) -> Page:
    items = "".join(
        f'<li><a href="{base}/store/{_slug_of(s["url"])}">{esc(s["name"])}</a></li>'
        for s in data.truth.stores
    )
    body = f'<h1>Our stores</h1><ul class="stores">{items}</ul>'
    return page("Stores | bbnb Shop", body, base=base, site="shop")


_STORE_LABELS = (
    ("Address", "address"),
    ("Phone", "phone"),
    ("Opening hours", "opening_hours"),
    ("Store manager", "manager"),
)


def _store(data: WebData, base: str, slug: str) -> Page:
    s = data.stores_by_slug.get(slug)
    if s is None:
        return not_found(f"/store/{slug}", base=base, site="shop")
    style = data.truth.stores.index(s) % 3
    if style == 0:
        facts = "".join(f"<dt>{label}</dt><dd>{esc(s[key])}</dd>" for label, key in _STORE_LABELS)
        block = f'<dl class="facts">{facts}</dl>'
    elif style == 1:
        facts = "".join(
            f"<tr><th>{label}</th><td>{esc(s[key])}</td></tr>" for label, key in _STORE_LABELS
        )
        block = f'<table class="facts">{facts}</table>'
    else:
        block = "".join(
            f"<p><strong>{label}:</strong> {esc(s[key])}</p>" for label, key in _STORE_LABELS
        )
    body = f"<h1>{esc(s['name'])}</h1><p>Visit us in {esc(s['city'])}.</p>{block}"
    return page(f"{s['name']} | bbnb Shop", body, base=base, site="shop")


def _report(data: WebData) -> Page:
    out = io.StringIO()
    writer = csv.DictWriter(out, ["sku", "name", "price", "stock"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(data.truth.report_csv["rows"])
    return Page(
        200,
        out.getvalue(),
        "text/csv; charset=utf-8",
        {"content-disposition": 'attachment; filename="inventory.csv"'},
    )


def _captcha(base: str) -> Page:
    body = (
        "<h1>Please verify you are a human</h1>"
        "<p>Members-only deals are behind a CAPTCHA. Tick the box to continue.</p>"
        f'<form class="captcha" method="post" action="{base}/deals">'
        '<div class="g-recaptcha" data-sitekey="bbnb-local-web-captcha"></div>'
        '<button type="submit">Verify</button></form>'
    )
    return page("Just a moment... CAPTCHA check", body, base=base, site="shop")


def shop_page(data: WebData, base: str, path: str, query: dict[str, str]) -> Page:
    """The shop's answer to GET ``path``."""
    parts = [p for p in path.split("/") if p]
    if not parts:
        return _home(data, base)
    if len(parts) == 2 and parts[0] == "category":
        return _category(data, base, parts[1], query)
    if len(parts) == 2 and parts[0] == "product":
        return _product(data, base, parts[1])
    if len(parts) == 2 and parts[0] == "store":
        return _store(data, base, parts[1])
    if parts == ["prices"]:
        return _prices(data, base)
    if parts == ["stores"]:
        return _stores(data, base)
    if parts == ["reports", "inventory.csv"]:
        return _report(data)
    if parts == ["deals"]:
        return _captcha(base)
    return not_found(path, base=base, site="shop")
