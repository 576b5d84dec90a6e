"""Fill a JSON Schema from what pages hold, and say how each value was found.

A schema property is matched to the keys of a page's facts (``bbnb.emulator.pagefacts``)
by their words: ``price`` finds ``offers.price`` in JSON-LD and the ``Price (EUR)``
column of a table, ``title`` finds a product's ``name``, ``openingHours`` finds the
label ``Opening hours``.  Words are split from camelCase and snake_case, singularised,
and mapped through a small table of synonyms; the property's ``description`` is tried
when its name finds nothing.  Values are converted to the property's type (``"€28.92"``
to ``28.92``, ``https://schema.org/InStock`` to ``"InStock"`` or ``true``), and enums
take the closest allowed value.  Among equally good keys, structured data wins over
labels and tables, and those over the page title and headings.

``extract(html, url, schema)`` reads one page; the browsing agent uses the pieces
(``list_targets``, ``pick_collection``, ``fill``) to read lists over several pages.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

from bbnb.emulator.pagefacts import Collection, Fact, PageFacts, Record, read_page

__all__ = [
    "Extraction",
    "ListTarget",
    "extract",
    "fill",
    "list_targets",
    "missing_fields",
    "pick_collection",
    "words",
]

THRESHOLD = 0.9
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|[^A-Za-z0-9]+")
_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?|-?\.\d+")
_STOP = frozenset(
    (
        "a", "an", "the", "of", "in", "on", "at", "for", "to", "is", "has", "its", "it",
        "page", "item", "article", "product", "store", "value", "data", "info", "text",
        "current", "main", "this",
    )
)  # fmt: skip
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "title": ("name",),
    "headline": ("name",),
    "heading": ("name",),
    "product": ("name",),
    "article": ("name",),
    "item": ("name",),
    "cost": ("price",),
    "amount": ("price",),
    "link": ("url",),
    "href": ("url",),
    "permalink": ("url",),
    "uri": ("url",),
    "star": ("rating",),
    "score": ("rating",),
    "stock": ("availability",),
    "instock": ("availability",),
    "available": ("availability",),
    "manufacturer": ("brand",),
    "maker": ("brand",),
    "byline": ("author",),
    "writer": ("author",),
    "reporter": ("author",),
    "published": ("date",),
    "publication": ("date",),
    "pubdate": ("date",),
    "posted": ("date",),
    "section": ("category",),
    "topic": ("category",),
    "department": ("category",),
    "summary": ("description",),
    "abstract": ("description",),
    "blurb": ("description",),
    "teaser": ("description",),
    "telephone": ("phone",),
    "tel": ("phone",),
    "opening": ("hours",),
    "hour": ("hours",),
    "schedule": ("hours",),
    "mail": ("email",),
    "location": ("address",),
    "town": ("city",),
    "num": ("count",),
    "number": ("count",),
    "review": ("review", "count"),
    "word": ("word", "count"),
    "qty": ("quantity",),
}
_TRUE = ("yes", "true", "instock", "in stock", "available", "y", "1", "onlineonly")
_FALSE = (
    "no", "false", "outofstock", "out of stock", "soldout", "sold out", "unavailable", "n",
    "preorder", "pre order", "backorder", "discontinued",
)  # fmt: skip


def words(name: str) -> frozenset[str]:
    """The matching words of a property name or key (``reviewCount`` -> review, count)."""
    raw = [w.lower() for w in _CAMEL.split(name) if w]
    raw = [w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w for w in raw]
    kept = [w for w in raw if w not in _STOP] or raw
    out: set[str] = set()
    for w in kept:
        out.update(_SYNONYMS.get(w, (w,)))
    return frozenset(out)


def _key_score(prop: frozenset[str], key: str, *, described: bool = False) -> float:
    """How well ``key`` fits a property's words (its name's, or its description's when
    ``described``: then the key's words need only be among them)."""
    parts = [p for p in key.split(".") if p and not p.startswith("@")] or [key]
    last = words(parts[-1])
    parents: set[str] = set()
    for part in parts[:-1]:
        parents |= words(part)
    if not prop or not last:
        return 0.0
    if described:
        return 1.6 * len(prop & last) / len(last) - 0.1 * len(parents - prop)
    score = 2.0 * len(prop & last) / len(prop | last)
    score += len(prop & parents) / len(prop)
    return score - 0.1 * len(parents - prop)


def _resolve(schema: Any, root: dict[str, Any]) -> dict[str, Any]:
    seen = 0
    while isinstance(schema, dict) and isinstance(schema.get("$ref"), str) and seen < 20:
        ref: str = schema["$ref"]
        target: Any = root
        for part in ref.removeprefix("#/").split("/") if ref.startswith("#/") else ():
            target = target.get(part, {}) if isinstance(target, dict) else {}
        schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
        seen += 1
    if isinstance(schema, dict):
        for combo in ("anyOf", "oneOf", "allOf"):
            options = schema.get(combo)
            if isinstance(options, list):
                first = next(
                    (o for o in options if isinstance(o, dict) and o.get("type") != "null"), None
                )
                if first is not None:
                    merged = {k: v for k, v in schema.items() if k != combo}
                    return {**_resolve(first, root), **merged}
        return schema
    return {}


def _types(schema: dict[str, Any]) -> list[str]:
    kind = schema.get("type")
    if isinstance(kind, list):
        return [k for k in kind if k != "null"] or ["null"]
    if isinstance(kind, str):
        return [kind]
    if "properties" in schema:
        return ["object"]
    if "items" in schema:
        return ["array"]
    return ["string"]


# -- values ---------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, list):
        return _plain(value[0]) if value else None
    if isinstance(value, str):
        text = value.strip()
        if text.startswith(("http://schema.org/", "https://schema.org/")):
            return text.rstrip("/").rsplit("/", 1)[-1]
        return text
    return value


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        if "://" in value:
            return None
        match = _NUMBER.search(value)
        if match:
            return float(match.group().replace(",", ""))
    return None


def _boolean(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    text = str(_plain(value)).strip().lower().replace("-", " ")
    if text in _TRUE or text.replace(" ", "") in _TRUE:
        return True
    if text in _FALSE or text.replace(" ", "") in _FALSE:
        return False
    return None


def _enum(value: Any, options: list[Any]) -> Any:
    plain = _plain(value)
    for option in options:
        if option == plain or str(option).lower() == str(plain).lower():
            return option
    have = words(str(plain))
    best, best_score = None, 0.0
    for option in options:
        want = words(str(option))
        if want and have:
            score = len(want & have) / len(want | have)
            if score > best_score:
                best, best_score = option, score
    return best


def coerce(value: Any, schema: dict[str, Any], base: str) -> Any:
    """``value`` as the schema's type, or None when it cannot be one."""
    if "const" in schema:
        return schema["const"]
    if isinstance(schema.get("enum"), list):
        return _enum(value, schema["enum"])
    for kind in _types(schema):
        if kind in ("number", "integer"):
            number = _number(_plain(value))
            if number is None:
                continue
            if kind == "integer":
                if number != int(number):
                    continue
                return int(number)
            return number
        if kind == "boolean":
            flag = _boolean(value)
            if flag is not None:
                return flag
            continue
        if kind == "string":
            plain = _plain(value)
            if isinstance(plain, dict):
                plain = plain.get("name") or plain.get("@value")
            if plain is None or isinstance(plain, dict | list):
                continue
            text = str(plain)
            if schema.get("format") in ("uri", "url", "iri") and "://" not in text:
                text = urljoin(base, text)
            return text
        if kind == "array" and isinstance(value, list):
            items = _resolve(schema.get("items", {}), schema)
            out = [coerce(v, items, base) for v in value]
            return [v for v in out if v is not None]
    return None


# -- filling ----------------------------------------------------------------------------


@dataclass
class Extraction:
    """A filled schema: the value, how each field was found, and what was not found."""

    value: Any
    sources: dict[str, Counter[str]] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)

    def note(self, path: str, how: str) -> None:
        self.sources.setdefault(path, Counter())[how] += 1

    def how(self) -> dict[str, str]:
        """Field path -> how it was found (the commonest ways first)."""
        return {
            path: ", ".join(
                f"{how} ({n})" if len(counter) > 1 or n > 1 else how
                for how, n in counter.most_common(3)
            )
            for path, counter in self.sources.items()
        }


def _describe(fact: Fact) -> str:
    if fact.how.startswith(("JSON-LD", "microdata")):
        return f"{fact.how} '{fact.key}'"
    return fact.how


def _find(name: str, schema: dict[str, Any], record: Record, base: str) -> tuple[Any, Fact] | None:
    best: tuple[float, int, Any, Fact] | None = None
    targets = [(words(name), False)]
    if isinstance(schema.get("description"), str):
        targets.append((words(schema["description"]), True))
    for prop, described in targets:
        for fact in record.facts:
            score = _key_score(prop, fact.key, described=described)
            if score < THRESHOLD or (best is not None and (score, fact.rank) <= best[:2]):
                continue
            value = coerce(fact.value, schema, base)
            if value is not None and value != "":
                best = (score, fact.rank, value, fact)
        if best is not None:
            break
    return None if best is None else (best[2], best[3])


def _fill_object(
    schema: dict[str, Any],
    record: Record,
    root: dict[str, Any],
    base: str,
    path: str,
    out: Extraction,
    lists: dict[str, list[Record]],
) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for name, sub in (schema.get("properties") or {}).items():
        sub = _resolve(sub, root)
        where = f"{path}.{name}" if path else name
        kinds = _types(sub)
        if "array" in kinds and where in lists:
            value[name] = _fill_list(name, sub, lists[where], root, base, where, out)
            continue
        if "object" in kinds:
            inner = _fill_object(sub, record, root, base, where, out, lists)
            if inner:
                value[name] = inner
            continue
        found = _find(name, sub, record, base)
        if found is None:
            out.missing.append(where)
            continue
        value[name], fact = found
        out.note(where, _describe(fact))
    return value


def _fill_list(
    name: str,
    schema: dict[str, Any],
    records: list[Record],
    root: dict[str, Any],
    base: str,
    path: str,
    out: Extraction,
) -> list[Any]:
    items = _resolve(schema.get("items", {}), root)
    limit = schema.get("maxItems")
    values: list[Any] = []
    for record in records:
        if isinstance(limit, int) and len(values) >= limit:
            break
        where = f"{path}[]"
        if "object" in _types(items):
            missing_before = len(out.missing)
            item = _fill_object(items, record, root, base, where, out, {})
            del out.missing[missing_before:]
            if item:
                values.append(item)
        else:
            found = _find(name, items, record, base) or _plain_value(items, record, base)
            if found is not None:
                values.append(found[0])
                out.note(where, _describe(found[1]))
    if not values:
        out.missing.append(path)
    return values


def _plain_value(schema: dict[str, Any], record: Record, base: str) -> tuple[Any, Fact] | None:
    """A list item's own name or text, for a list of plain values."""
    for fact in record.facts:
        if fact.key in ("name", "text"):
            value = coerce(fact.value, schema, base)
            if value is not None and value != "":
                return value, fact
    return None


@dataclass(frozen=True)
class ListTarget:
    """An array in the schema that a list on the page (or on several pages) fills."""

    path: str
    name: str
    items: dict[str, Any]
    max_items: int | None = None


def _limit(schema: dict[str, Any]) -> int | None:
    limit = schema.get("maxItems")
    return limit if isinstance(limit, int) and not isinstance(limit, bool) else None


def list_targets(schema: dict[str, Any] | None) -> list[ListTarget]:
    """The arrays of ``schema`` to fill from lists: the schema itself, or its properties."""
    if not schema:
        return []
    root = schema
    top = _resolve(schema, root)
    if "array" in _types(top):
        return [
            ListTarget("", str(top.get("title") or "item"), _resolve(top.get("items", {}), root))
        ]
    out = []
    for name, sub in (top.get("properties") or {}).items():
        sub = _resolve(sub, root)
        if "array" in _types(sub):
            out.append(ListTarget(name, name, _resolve(sub.get("items", {}), root), _limit(sub)))
    return out


def _wanted(target: ListTarget) -> dict[str, dict[str, Any]]:
    if "object" in _types(target.items):
        props = target.items.get("properties") or {}
        return {n: s for n, s in props.items() if isinstance(s, dict)}
    return {target.name: target.items}


def missing_fields(target: ListTarget, record: Record, base: str) -> list[str]:
    """The item fields ``record`` cannot fill (required ones, or all when none are)."""
    props = _wanted(target)
    required = target.items.get("required")
    names = [n for n in props if not isinstance(required, list) or n in required]
    return [n for n in names if _find(n, _resolve(props[n], target.items), record, base) is None]


def pick_collection(
    collections: list[Collection], target: ListTarget, *, kind: str | None = None
) -> Collection | None:
    """The collection on a page whose records best fit ``target``'s items (at least two
    of them; or any number when it is of ``kind``, as on a list's last page)."""
    if kind is not None:
        same = [c for c in collections if c.kind == kind]
        if same:
            return max(same, key=lambda c: len(c.records))
    props = _wanted(target)
    best: tuple[float, Collection] | None = None
    linked: tuple[int, Collection] | None = None
    for collection in collections:
        if len(collection.records) < 2:
            continue
        keys = {fact.key for record in collection.records[:3] for fact in record.facts}
        score = 0.0
        for name, sub in props.items():
            about = sub.get("description")
            described = words(about) if isinstance(about, str) else frozenset()
            score += max(
                (
                    min(
                        max(_key_score(words(name), k), _key_score(described, k, described=True)),
                        2.0,
                    )
                    for k in keys
                ),
                default=0.0,
            )
        score += 0.05 * min(len(collection.records), 20)
        if score > THRESHOLD and (best is None or score > best[0]):
            best = (score, collection)
        size = len(collection.records)
        if all("url" in r.key_list() for r in collection.records) and (
            linked is None or size > linked[0]
        ):
            linked = (size, collection)
    if best is not None:
        return best[1]
    if "object" not in _types(target.items):
        # A list of plain values whose name the page does not use: the page's longest list.
        lists = [c for c in collections if len(c.records) >= 2]
        return max(lists, key=lambda c: len(c.records)) if lists else None
    # Nothing on the page names the fields: a list of links to items, whose own pages
    # may hold them (the agent opens them).
    return None if linked is None or linked[0] < 3 else linked[1]


def fill(
    schema: dict[str, Any] | None, page: Record, lists: dict[str, list[Record]], base: str
) -> Extraction:
    """Fill ``schema`` from ``page`` (the page's own facts) and ``lists`` (records by
    target path, ``""`` for a schema that is itself an array)."""
    out = Extraction(None)
    if not schema:
        out.value = {
            "title": next((f.value for f in page.facts if f.key == "title"), ""),
            "url": base,
        }
        out.note("title", "the page title")
        return out
    root = schema
    top = _resolve(schema, root)
    if "array" in _types(top):
        out.value = _fill_list("item", top, lists.get("", []), root, base, "", out)
    elif "object" in _types(top):
        out.value = _fill_object(top, page, root, base, "", out, lists)
    else:
        found = _find(str(top.get("title") or "value"), top, page, base)
        out.value = None if found is None else found[0]
        if found is None:
            out.missing.append("")
        else:
            out.note("", _describe(found[1]))
    return out


def extract(html: str, url: str, schema: dict[str, Any] | None) -> tuple[Extraction, PageFacts]:
    """Fill ``schema`` from one page (lists from the best-fitting list on it)."""
    facts = read_page(html, url)
    lists: dict[str, list[Record]] = {}
    for target in list_targets(schema):
        collection = pick_collection(facts.collections, target)
        if collection is not None:
            lists[target.path] = collection.records
    return fill(schema, facts.page_record(), lists, url), facts
