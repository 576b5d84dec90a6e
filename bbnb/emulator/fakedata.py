"""Plausible data that conforms to a JSON Schema, chosen from property names.

This is the simulated agent's answer generator.  A ``price`` becomes a number, a
``url`` a URL on the site the task mentions, an ``email`` an address, a ``title``
a few title-cased words.  Types, enums, ``const``, formats, required/optional
properties, ``minItems``/``maxItems``, string lengths and numeric bounds are
honoured; ``$ref`` into ``$defs``/``definitions`` is followed.  Everything is
drawn from the ``random.Random`` passed in, so a seed gives the same data.

``spoil`` makes a conforming value only partly conforming (a missing required
field, a number sent as a string), as real agents sometimes do.
"""

from __future__ import annotations

import math
import random
import re
import string
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Hints", "generate", "spoil"]

_WORDS = [
    "alpine",
    "amber",
    "atlas",
    "beacon",
    "cedar",
    "cobalt",
    "delta",
    "ember",
    "falcon",
    "garnet",
    "harbor",
    "indigo",
    "juniper",
    "kestrel",
    "lumen",
    "maple",
    "meridian",
    "nimbus",
    "onyx",
    "orchid",
    "pioneer",
    "quartz",
    "raven",
    "sierra",
    "summit",
    "tango",
    "tidal",
    "umber",
    "vertex",
    "willow",
    "zephyr",
]
_NOUNS = [
    "guide",
    "report",
    "review",
    "update",
    "launch",
    "release",
    "series",
    "edition",
    "collection",
    "bundle",
    "toolkit",
    "handbook",
    "insight",
    "roadmap",
    "summary",
    "overview",
]
_FIRST = [
    "Ada",
    "Alan",
    "Grace",
    "Linus",
    "Margaret",
    "Ken",
    "Barbara",
    "Dennis",
    "Frances",
    "Edsger",
    "Radia",
    "Tim",
]
_LAST = [
    "Lovelace",
    "Turing",
    "Hopper",
    "Torvalds",
    "Hamilton",
    "Thompson",
    "Liskov",
    "Ritchie",
    "Allen",
    "Dijkstra",
]
_CITIES = [
    "Berlin",
    "Lisbon",
    "Toronto",
    "Austin",
    "Osaka",
    "Melbourne",
    "Nairobi",
    "Oslo",
    "Denver",
    "Seoul",
]
_COUNTRIES = ["US", "DE", "PT", "CA", "JP", "AU", "KE", "NO", "KR", "FR"]
_COMPANIES = [
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Hooli",
    "Vandelay",
    "Stark",
    "Wayne",
    "Wonka",
    "Tyrell",
]
_CATEGORIES = ["books", "electronics", "garden", "toys", "grocery", "sports", "beauty", "music"]
_CURRENCIES = ("USD", "EUR", "GBP")
_MAX_DEPTH = 8


@dataclass
class Hints:
    """What the task tells the generator: the site, a count, and variable values."""

    domain: str = "example.com"
    count: int | None = None
    variables: dict[str, str] = field(default_factory=dict)


def generate(schema: Any, rng: random.Random, hints: Hints | None = None) -> Any:
    """A value that conforms to ``schema`` (a JSON Schema dict; ``True``/``{}`` = anything)."""
    return _Gen(schema, rng, hints or Hints()).value(schema, "", 0)


class _Gen:
    def __init__(self, root: Any, rng: random.Random, hints: Hints) -> None:
        self.root = root if isinstance(root, dict) else {}
        self.rng = rng
        self.hints = hints

    # -- dispatch -----------------------------------------------------------------
    def value(self, schema: Any, name: str, depth: int) -> Any:
        if schema is True or schema is None or schema == {}:
            return self.by_name(name, depth) if name else self.text(3)
        if not isinstance(schema, dict):
            return None
        schema = self.resolve(schema, depth)
        if "const" in schema:
            return schema["const"]
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            return self.rng.choice(schema["enum"])
        for combinator in ("anyOf", "oneOf"):
            options = schema.get(combinator)
            if isinstance(options, list) and options:
                non_null = [
                    o for o in options if not (isinstance(o, dict) and o.get("type") == "null")
                ]
                return self.value(self.rng.choice(non_null or options), name, depth + 1)
        kind = self.kind(schema)
        if kind == "object":
            return self.obj(schema, name, depth)
        if kind == "array":
            return self.array(schema, name, depth)
        if kind == "integer":
            return self.integer(schema, name)
        if kind == "number":
            return self.number(schema, name)
        if kind == "boolean":
            return self.rng.random() < 0.7
        if kind == "null":
            return None
        if kind == "string":
            return self.string(schema, name)
        return self.by_name(name, depth)

    def resolve(self, schema: dict[str, Any], depth: int) -> dict[str, Any]:
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/") and depth < _MAX_DEPTH:
            target: Any = self.root
            for segment in ref[2:].split("/"):
                target = target.get(segment) if isinstance(target, dict) else None
            if isinstance(target, dict):
                merged = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
                return self.resolve(merged, depth + 1)
        all_of = schema.get("allOf")
        if isinstance(all_of, list) and all_of:
            merged = {k: v for k, v in schema.items() if k != "allOf"}
            for raw_part in all_of:
                if isinstance(raw_part, dict):
                    part = self.resolve(raw_part, depth + 1)
                    props = {**merged.get("properties", {}), **part.get("properties", {})}
                    required = list(
                        dict.fromkeys([*merged.get("required", []), *part.get("required", [])])
                    )
                    merged = {**merged, **part, "properties": props, "required": required}
            return merged
        return schema

    def kind(self, schema: dict[str, Any]) -> str | None:
        kind = schema.get("type")
        if isinstance(kind, list):
            real = [k for k in kind if k != "null"]
            kind = real[0] if real else "null"
        if isinstance(kind, str):
            return kind
        if "properties" in schema:
            return "object"
        if "items" in schema or "prefixItems" in schema:
            return "array"
        return None

    # -- structures ---------------------------------------------------------------
    def obj(self, schema: dict[str, Any], name: str, depth: int) -> dict[str, Any]:
        raw_props = schema.get("properties")
        props: dict[str, Any] = raw_props if isinstance(raw_props, dict) else {}
        required = set(schema.get("required") or [])
        out: dict[str, Any] = {}
        if depth >= _MAX_DEPTH:
            return {key: self.value(props.get(key, {}), key, depth + 1) for key in required}
        for key, sub in props.items():
            if key in required or self.rng.random() < 0.8:
                out[key] = self.value(sub, key, depth + 1)
        for key in required - out.keys():
            out[key] = self.text(2)
        return out

    def array(self, schema: dict[str, Any], name: str, depth: int) -> list[Any]:
        low = int(schema.get("minItems", 0) or 0)
        high_raw = schema.get("maxItems")
        high = int(high_raw) if isinstance(high_raw, int) else max(low, 8)
        wanted = self.hints.count if self.hints.count is not None else self.rng.randint(2, 5)
        count = min(max(wanted, low), high)
        if depth >= _MAX_DEPTH:
            count = low
        raw_prefix = schema.get("prefixItems")
        prefix: list[Any] = raw_prefix if isinstance(raw_prefix, list) else []
        items = schema.get("items", {})
        singular = name[:-1] if name.endswith("s") else name
        out: list[Any] = []
        seen: set[str] = set()
        for index in range(count):
            sub = prefix[index] if index < len(prefix) else items
            item = self.value(sub, singular, depth + 1)
            if schema.get("uniqueItems"):
                key = repr(item)
                if key in seen:
                    continue
                seen.add(key)
            out.append(item)
        return out

    # -- scalars ------------------------------------------------------------------
    def integer(self, schema: dict[str, Any], name: str) -> int:
        low, high = self.bounds(schema, name, integer=True)
        value = self.rng.randint(int(low), int(high))
        step = schema.get("multipleOf")
        if isinstance(step, int) and step > 0:
            value = max(int(low), (value // step) * step)
            if value < low:
                value += step
        return value

    def number(self, schema: dict[str, Any], name: str) -> float:
        low, high = self.bounds(schema, name, integer=False)
        digits = 1 if _has(name, "rating", "score", "stars") else 2
        value = round(self.rng.uniform(low, high), digits)
        return min(max(value, low), high)

    def bounds(self, schema: dict[str, Any], name: str, *, integer: bool) -> tuple[float, float]:
        if _has(name, "rating", "stars", "score"):
            low, high = 1.0, 5.0
        elif _has(name, "price", "cost", "amount", "total", "salary", "fee"):
            low, high = 3.0, 499.0
        elif _has(name, "year"):
            low, high = 1995.0, 2026.0
        elif _has(name, "percent", "pct", "ratio"):
            low, high = 0.0, 100.0
        elif _has(name, "lat"):
            low, high = -80.0, 80.0
        elif _has(name, "lon", "lng"):
            low, high = -170.0, 170.0
        else:
            low, high = (1.0, 500.0) if integer else (0.5, 1000.0)
        step = 1.0 if integer else 0.01
        if isinstance(schema.get("minimum"), int | float):
            low = float(schema["minimum"])
            high = max(high, low)
        if isinstance(schema.get("exclusiveMinimum"), int | float):
            low = float(schema["exclusiveMinimum"]) + step
            high = max(high, low)
        if isinstance(schema.get("maximum"), int | float):
            high = float(schema["maximum"])
            low = min(low, high)
        if isinstance(schema.get("exclusiveMaximum"), int | float):
            high = float(schema["exclusiveMaximum"]) - step
            low = min(low, high)
        if integer:
            low, high = float(math.ceil(low)), float(math.floor(high))
            if low > high:
                high = low
        return low, high

    def string(self, schema: dict[str, Any], name: str) -> str:
        fmt = schema.get("format")
        value = self.formatted(fmt) if isinstance(fmt, str) else None
        if value is None:
            value = self.named_string(name)
        pattern = schema.get("pattern")
        if isinstance(pattern, str) and not _matches(pattern, value):
            value = self.pattern_guess(pattern, value)
        low = schema.get("minLength")
        high = schema.get("maxLength")
        if isinstance(low, int) and len(value) < low:
            value = value + "".join(
                self.rng.choice(string.ascii_lowercase) for _ in range(low - len(value))
            )
        if isinstance(high, int) and len(value) > high:
            value = value[: max(high, 0)]
        return value

    def formatted(self, fmt: str) -> str | None:
        rng = self.rng
        if fmt == "date-time":
            return f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00Z"
        if fmt == "date":
            return f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        if fmt == "time":
            return f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00Z"
        if fmt in ("email", "idn-email"):
            return self.email()
        if fmt in ("uri", "url", "iri", "uri-reference", "iri-reference"):
            return self.url()
        if fmt == "uuid":
            h = f"{rng.getrandbits(128):032x}"
            return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"
        if fmt in ("hostname", "idn-hostname"):
            return self.hints.domain
        if fmt == "ipv4":
            return ".".join(str(rng.randint(1, 254)) for _ in range(4))
        if fmt == "ipv6":
            return ":".join(f"{rng.randint(1, 0xFFFF):x}" for _ in range(8))
        return None

    def named_string(self, name: str) -> str:
        key = name.lower()
        for var, value in self.hints.variables.items():
            if var.lower() == key:
                return value
        rng = self.rng
        if _has(key, "email"):
            return self.email()
        if _has(key, "url", "link", "href", "website", "homepage"):
            return self.url()
        if _has(key, "image", "photo", "thumbnail", "logo", "avatar"):
            return self.url(".jpg")
        if _has(key, "date", "time", "published", "updated", "created"):
            return self.formatted("date") or ""
        if _has(key, "price", "cost", "amount"):
            return f"${rng.uniform(3, 499):.2f}"
        if _has(key, "currency"):
            return rng.choice(_CURRENCIES)
        if _has(key, "phone", "tel"):
            return f"+1-555-{rng.randint(100, 999)}-{rng.randint(1000, 9999)}"
        if _has(key, "author", "person", "contact", "user", "owner", "name") and not _has(
            key, "product", "company", "file", "title", "domain", "host"
        ):
            return f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"
        if _has(key, "company", "brand", "vendor", "seller", "store", "org"):
            return f"{rng.choice(_COMPANIES)} {rng.choice(('Inc', 'Ltd', 'Labs', 'Co'))}"
        if _has(key, "city", "location"):
            return rng.choice(_CITIES)
        if _has(key, "country"):
            return rng.choice(_COUNTRIES)
        if _has(key, "category", "tag", "genre", "type"):
            return rng.choice(_CATEGORIES)
        if _has(key, "id", "sku", "code"):
            return f"{rng.choice(string.ascii_uppercase)}{rng.randint(10000, 99999)}"
        if _has(key, "domain", "host", "site"):
            return self.hints.domain
        if _has(key, "status", "state"):
            return rng.choice(("active", "available", "open", "closed"))
        if _has(key, "description", "summary", "text", "body", "content", "snippet", "comment"):
            return self.sentence()
        if _has(key, "title", "headline", "product", "name", "label", "subject"):
            return self.text(rng.randint(2, 5)).title()
        return self.text(rng.randint(1, 3))

    def by_name(self, name: str, depth: int) -> Any:
        key = name.lower()
        if _has(key, "price", "cost", "amount", "rating", "score", "total"):
            return self.number({}, key)
        if _has(key, "count", "number", "quantity", "rank", "position", "points", "comments"):
            return self.integer({}, key)
        if _has(key, "is", "has", "available", "in_stock", "enabled"):
            return self.rng.random() < 0.7
        return self.named_string(key)

    # -- small pieces -------------------------------------------------------------
    def text(self, words: int) -> str:
        return " ".join(self.rng.choice(_WORDS) for _ in range(max(1, words)))

    def sentence(self) -> str:
        words = [self.rng.choice(_WORDS) for _ in range(self.rng.randint(6, 12))]
        words.insert(self.rng.randint(1, len(words)), self.rng.choice(_NOUNS))
        return " ".join(words).capitalize() + "."

    def email(self) -> str:
        return f"{self.rng.choice(_FIRST).lower()}.{self.rng.choice(_LAST).lower()}@{self.hints.domain}"

    def url(self, suffix: str = "") -> str:
        slug = "-".join(self.rng.choice(_WORDS) for _ in range(self.rng.randint(1, 3)))
        return f"https://{self.hints.domain}/{slug}{suffix}"

    def pattern_guess(self, pattern: str, fallback: str) -> str:
        for candidate in (
            fallback.lower(),
            fallback.replace(" ", "-").lower(),
            str(self.rng.randint(0, 99999)),
            "".join(self.rng.choice(string.ascii_uppercase) for _ in range(3)),
        ):
            if _matches(pattern, candidate):
                return candidate
        return fallback


def _has(name: str, *needles: str) -> bool:
    """True when a word of ``name`` (snake, camel or kebab case) is one of ``needles``."""
    words = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower().replace("-", "_").split("_")
    return any(needle in words or name.lower() == needle for needle in needles)


def _matches(pattern: str, value: str) -> bool:
    try:
        return re.search(pattern, value) is not None
    except re.error:
        return True


def spoil(value: Any, schema: Any, rng: random.Random) -> tuple[Any, str]:
    """Make ``value`` only partly conform: drop a required field or stringify a number.

    Returns the spoiled value and a note saying what was changed.
    """
    target = value
    if isinstance(target, list) and target and isinstance(target[0], dict):
        target = target[rng.randrange(len(target))]
    if isinstance(target, dict) and target:
        numbers = [
            k for k, v in target.items() if isinstance(v, int | float) and not isinstance(v, bool)
        ]
        if numbers and rng.random() < 0.5:
            key = rng.choice(numbers)
            target[key] = str(target[key])
            return value, f"{key} given as a string"
        key = rng.choice(sorted(target))
        del target[key]
        return value, f"{key} missing"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value), "number given as a string"
    return value, "unchanged"
