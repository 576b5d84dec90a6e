"""What the local web holds, drawn from a seed: its products, articles, stores, account.

The same seed always gives the same web, so a notebook or a test can score an
agent's answer against ``ground_truth(seed)``: plain lists of JSON-ready dicts, one
per thing a page shows, each with the canonical ``url`` of the page that shows it.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

__all__ = ["DOMAIN", "SITES", "GroundTruth", "WebData", "ground_truth", "web_data"]

DOMAIN = "bbnb.test"
SITES = ("shop", "news", "account", "slow")
PAGE_SIZE = 6
NEWS_PAGE_SIZE = 8

_ADJECTIVES = (
    "Amber", "Arctic", "Brisk", "Cedar", "Cobalt", "Coral", "Dusk", "Ember", "Fable",
    "Golden", "Harbor", "Indigo", "Juniper", "Lunar", "Maple", "Misty", "Nordic", "Olive",
    "Quartz", "Rustic", "Sable", "Solar", "Tidal", "Velvet", "Willow", "Zephyr",
)  # fmt: skip
_CATEGORIES = {
    "Kitchen": ("Kettle", "Teapot", "Skillet", "Grinder", "Mug Set", "Cutting Board", "Whisk"),
    "Garden": ("Trowel", "Planter", "Hose Reel", "Pruner", "Bird Feeder", "Watering Can"),
    "Books": ("Atlas", "Cookbook", "Field Guide", "Almanac", "Notebook", "Sketchbook"),
    "Outdoor": ("Lantern", "Tent", "Backpack", "Sleeping Bag", "Compass", "Camp Stove"),
}
_BRANDS = ("Northwind", "Bluefield", "Kestrel & Co", "Oakline", "Hearth Works", "Tern")
_AVAILABILITY = ("InStock", "InStock", "InStock", "OutOfStock", "PreOrder")
_CITIES = ("Lisbon", "Oslo", "Dublin", "Porto", "Turin", "Ghent", "Bergen", "Leeds")
_STREETS = ("Harbour Road", "Mill Lane", "Station Street", "Market Square", "Canal Walk")
_FIRST = ("Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia")
_LAST = ("Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Perlman")
_SECTIONS = ("World", "Science", "Business", "Culture", "Sport")
_TOPICS = (
    "river", "harbour", "telescope", "orchard", "glacier", "railway", "library",
    "festival", "market", "bridge", "vineyard", "satellite", "museum", "forest",
)  # fmt: skip
_VERBS = (
    "reopens", "expands", "wins award", "breaks record", "faces delay", "celebrates",
    "gets new plan", "draws crowds", "returns", "sets course",
)  # fmt: skip


def _slug(text: str) -> str:
    out = "".join(c.lower() if c.isalnum() else "-" for c in text)
    while "--" in out:
        out = out.replace("--", "-")
    return out.strip("-")


def site_url(site: str, path: str = "/") -> str:
    """The canonical URL of ``path`` on ``site`` (e.g. ``http://shop.bbnb.test/``)."""
    return f"http://{site}.{DOMAIN}{path}"


@dataclass(frozen=True)
class GroundTruth:
    """Everything the local web shows, as JSON-ready rows (``pandas.DataFrame(rows)``)."""

    seed: int
    categories: list[dict[str, Any]]
    products: list[dict[str, Any]]
    stores: list[dict[str, Any]]
    articles: list[dict[str, Any]]
    account: dict[str, Any]
    report_csv: dict[str, Any]
    pages: dict[str, str]

    def as_dict(self) -> dict[str, Any]:
        """All of it as one JSON-ready dict."""
        return {
            "seed": self.seed,
            "categories": self.categories,
            "products": self.products,
            "stores": self.stores,
            "articles": self.articles,
            "account": self.account,
            "report_csv": self.report_csv,
            "pages": self.pages,
        }


@dataclass
class WebData:
    """The seeded content the pages render (``truth`` is what they show)."""

    seed: int
    truth: GroundTruth
    products_by_slug: dict[str, dict[str, Any]] = field(default_factory=dict)
    articles_by_slug: dict[str, dict[str, Any]] = field(default_factory=dict)
    stores_by_slug: dict[str, dict[str, Any]] = field(default_factory=dict)
    session_key: bytes = b""

    def category(self, slug: str) -> dict[str, Any] | None:
        return next((c for c in self.truth.categories if c["slug"] == slug), None)

    def products_in(self, category: str) -> list[dict[str, Any]]:
        return [p for p in self.truth.products if p["category"] == category]


def _products(rng: random.Random) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    categories: list[dict[str, Any]] = []
    products: list[dict[str, Any]] = []
    used: set[str] = set()
    for cat_name, kinds in _CATEGORIES.items():
        cat_slug = _slug(cat_name)
        count = rng.randint(9, 16)
        slugs: list[str] = []
        while len(slugs) < count:
            name = f"{rng.choice(_ADJECTIVES)} {rng.choice(kinds)}"
            if name in used:
                continue
            used.add(name)
            slug = _slug(name)
            n = len(products)
            reviews = rng.randint(0, 480)
            products.append(
                {
                    "name": name,
                    "sku": f"BB-{cat_name[:2].upper()}-{1000 + n * 7}",
                    "price": round(rng.uniform(4, 180), 2),
                    "currency": "EUR",
                    "category": cat_name,
                    "brand": rng.choice(_BRANDS),
                    "rating": round(rng.uniform(2.5, 5.0), 1) if reviews else None,
                    "reviews": reviews,
                    "availability": rng.choice(_AVAILABILITY),
                    "description": f"A {name.lower()} for everyday use, made to last.",
                    "url": site_url("shop", f"/product/{slug}"),
                    "markup": "json-ld" if n % 2 == 0 else "microdata",
                }
            )
            slugs.append(slug)
        pages = (count + PAGE_SIZE - 1) // PAGE_SIZE
        categories.append(
            {
                "name": cat_name,
                "slug": cat_slug,
                "url": site_url("shop", f"/category/{cat_slug}"),
                "product_count": count,
                "pages": pages,
            }
        )
    return categories, products


def _stores(rng: random.Random) -> list[dict[str, Any]]:
    stores: list[dict[str, Any]] = []
    for city in rng.sample(_CITIES, 5):
        opens = rng.choice((8, 9, 10))
        stores.append(
            {
                "name": f"{city} Store",
                "city": city,
                "address": f"{rng.randint(1, 120)} {rng.choice(_STREETS)}, {city}",
                "phone": f"+351 {rng.randint(200, 299)} {rng.randint(100, 999)} {rng.randint(100, 999)}",
                "opening_hours": f"{opens:02d}:00-{opens + 9:02d}:00",
                "manager": f"{rng.choice(_FIRST)} {rng.choice(_LAST)}",
                "url": site_url("shop", f"/store/{_slug(city)}"),
            }
        )
    return stores


def _articles(rng: random.Random) -> list[dict[str, Any]]:
    articles: list[dict[str, Any]] = []
    seen: set[str] = set()
    day = 1
    while len(articles) < 20:
        topic = rng.choice(_TOPICS)
        headline = f"{rng.choice(_ADJECTIVES)} {topic.title()} {rng.choice(_VERBS)}"
        if headline in seen:
            continue
        seen.add(headline)
        day += rng.randint(0, 2)
        slug = _slug(headline)
        n = len(articles)
        articles.append(
            {
                "headline": headline,
                "section": rng.choice(_SECTIONS),
                "author": f"{rng.choice(_FIRST)} {rng.choice(_LAST)}",
                "published": f"2026-{1 + (day // 28) % 12:02d}-{1 + day % 28:02d}",
                "summary": f"The {topic} story of the week: {headline.lower()}.",
                "word_count": rng.randint(250, 1400),
                "url": site_url("news", f"/article/{slug}"),
                "markup": "json-ld" if n % 3 != 2 else "microdata",
            }
        )
    articles.sort(key=lambda a: (a["published"], a["headline"]), reverse=True)
    return articles


def _account(rng: random.Random, products: list[dict[str, Any]]) -> dict[str, Any]:
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    orders: list[dict[str, Any]] = []
    for n in range(4):
        product = rng.choice(products)
        qty = rng.randint(1, 3)
        orders.append(
            {
                "order": f"A-{rng.randint(10000, 99999)}",
                "date": f"2026-0{1 + n}-{rng.randint(10, 28)}",
                "item": product["name"],
                "quantity": qty,
                "total": round(product["price"] * qty, 2),
            }
        )
    return {
        "username": "demo",
        "password": "demo-password",
        "url": site_url("account", "/account"),
        "login_url": site_url("account", "/login"),
        "profile": {
            "name": f"{first} {last}",
            "email": f"{first.lower()}.{last.lower()}@bbnb.test",
            "plan": rng.choice(("Basic", "Plus", "Pro")),
            "member_since": f"20{rng.randint(15, 25)}",
            "loyalty_points": rng.randint(10, 5000),
        },
        "orders": orders,
    }


@lru_cache(maxsize=8)
def web_data(seed: int) -> WebData:
    """The local web of ``seed`` (cached: it is immutable)."""
    rng = random.Random(f"bbnb-web:{seed}")
    categories, products = _products(rng)
    stores = _stores(rng)
    articles = _articles(rng)
    account = _account(rng, products)
    report_rows = [
        {"sku": p["sku"], "name": p["name"], "price": p["price"], "stock": rng.randint(0, 90)}
        for p in products
    ]
    truth = GroundTruth(
        seed=seed,
        categories=categories,
        products=products,
        stores=stores,
        articles=articles,
        account=account,
        report_csv={"url": site_url("shop", "/reports/inventory.csv"), "rows": report_rows},
        pages={
            "shop": site_url("shop"),
            "prices": site_url("shop", "/prices"),
            "stores": site_url("shop", "/stores"),
            "captcha": site_url("shop", "/deals"),
            "news": site_url("news"),
            "account": site_url("account", "/account"),
            "slow": site_url("slow", "/?seconds=3"),
        },
    )
    return WebData(
        seed=seed,
        truth=truth,
        products_by_slug={p["url"].rsplit("/", 1)[1]: p for p in products},
        articles_by_slug={a["url"].rsplit("/", 1)[1]: a for a in articles},
        stores_by_slug={s["url"].rsplit("/", 1)[1]: s for s in stores},
        session_key=hashlib.sha256(f"bbnb-web-session:{seed}".encode()).digest(),
    )


def ground_truth(seed: int = 0) -> GroundTruth:
    """What the local web of ``seed`` shows (the emulator's seed; 0 by default)."""
    return web_data(seed).truth
