"""What a page holds, read from its HTML: structured items, tables, repeated blocks,
labels and values, the title, headings, links and the next page.

``read_page(html, url)`` parses once (with selectolax's Lexbor parser) and returns
``PageFacts``.  Everything in it is a ``Record``: an ordered list of ``Fact``\\s, each
a source key (``offers.price``, ``Price (EUR)``, ``Opening hours``), its raw value and
how it was found, which is what ``bbnb.emulator.extract`` matches a schema against.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

from selectolax.lexbor import LexborHTMLParser, LexborNode

__all__ = ["Collection", "Fact", "PageFacts", "Record", "read_page"]

_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
_SKIP_BLOCKS = ("nav", "footer", "header", "script", "style", "head", "select", "form")
_NEXT_WORDS = (
    "next",
    "next page",
    "next \u00bb",
    "next \u203a",
    "\u203a",
    "\u00bb",
    "older",
    "older stories",
    "more",
)
_BYLINE = re.compile(r"\bBy ([A-Z][\w.'-]+(?: [A-Z][\w.'-]+){1,2})\s*(?:$|[·|,;(])")
_LABEL_TEXT = re.compile(r"^\s*([A-Za-z][\w ()/&.'-]{0,40}?)\s*:\s+(\S.*)$")
_SPACE = re.compile(r"\s+")
# Structured items about the site rather than the page's subject: read after the others.
_PAGE_TYPES = frozenset(
    (
        "WebSite",
        "WebPage",
        "BreadcrumbList",
        "Organization",
        "SiteNavigationElement",
        "SearchAction",
    )
)


@dataclass(frozen=True)
class Fact:
    """One value on a page: the key it was found under, the value, and how."""

    key: str
    value: Any
    how: str
    rank: int = 0


@dataclass
class Record:
    """Facts about one thing (a product, a table row, the page itself)."""

    facts: list[Fact] = field(default_factory=list)

    def add(self, key: str, value: Any, how: str, rank: int = 0) -> None:
        if value is None or (isinstance(value, str) and not value.strip()):
            return
        self.facts.append(Fact(key, value, how, rank))

    def key_list(self) -> list[str]:
        return [f.key for f in self.facts]

    def merged(self, other: Record) -> Record:
        """This record's facts followed by ``other``'s."""
        return Record([*self.facts, *other.facts])


@dataclass
class Collection:
    """Records of the same kind on a page: items, table rows or repeated blocks."""

    kind: str
    records: list[Record]

    def describe(self) -> str:
        return f"{len(self.records)} {self.kind}"


@dataclass
class PageFacts:
    """Everything ``read_page`` found on one page."""

    url: str
    title: str
    headings: list[tuple[int, str]]
    items: list[tuple[str, Record]]
    collections: list[Collection]
    labels: Record
    links: list[tuple[str, str]]
    next_url: str | None
    captcha: bool
    text: str
    login_form: bool = False

    def page_record(self) -> Record:
        """The page as one record: its main item, labels, then title, heading and URL."""
        record = Record()
        for _, item in sorted(self.items, key=lambda kind_item: kind_item[0] in _PAGE_TYPES):
            record = record.merged(item)
        record = record.merged(self.labels)
        record.add("title", self.title, "the page title", 1)
        h1 = next((text for level, text in self.headings if level == 1), None)
        record.add("heading", h1, "the page's first heading", 0)
        record.add("url", self.url, "the page URL", 0)
        record.add("number of links", len(self.links), "counting the page's links", 0)
        return record


def _text(node: LexborNode) -> str:
    return _SPACE.sub(" ", node.text(deep=True, separator=" ")).strip()


def _attr(node: LexborNode, name: str) -> str | None:
    value = node.attributes.get(name)
    return value.strip() if isinstance(value, str) else None


def _flatten(prefix: str, value: Any, out: Record, how: str) -> None:
    if isinstance(value, dict):
        if "@value" in value:
            out.add(prefix, value["@value"], how, 3)
            return
        for key, inner in value.items():
            if key in ("@context", "@id") or (key == "@type" and prefix):
                continue
            _flatten(f"{prefix}.{key}" if prefix else key, inner, out, how)
    elif isinstance(value, list):
        if value and all(isinstance(v, dict) for v in value):
            _flatten(prefix, value[0], out, how)
        elif value:
            out.add(prefix, value, how, 3)
    else:
        out.add(prefix, value, how, 3)


def _json_ld_items(tree: LexborHTMLParser) -> list[tuple[str, Record]]:
    items: list[tuple[str, Record]] = []
    for script in tree.css('script[type="application/ld+json"]'):
        try:
            data = json.loads(script.text(deep=True) or "null")
        except ValueError:
            continue
        queue = data if isinstance(data, list) else [data]
        for entry in queue:
            if not isinstance(entry, dict):
                continue
            if isinstance(entry.get("@graph"), list):
                queue.extend(e for e in entry["@graph"] if isinstance(e, dict))
                continue
            kind = entry.get("@type")
            kind = kind[0] if isinstance(kind, list) and kind else kind
            kind = str(kind or "Thing")
            record = Record()
            _flatten("", entry, record, f"JSON-LD {kind}")
            items.append((kind, record))
    return items


def _microdata_value(node: LexborNode) -> str | None:
    tag = node.tag or ""
    for name in ("content", "datetime", "value"):
        if (value := _attr(node, name)) is not None and (name != "value" or tag == "data"):
            return value
    if tag in ("a", "link", "area"):
        return _attr(node, "href")
    if tag in ("img", "audio", "video", "source"):
        return _attr(node, "src")
    return _text(node)


def _microdata_walk(node: LexborNode, prefix: str, out: Record, how: str) -> None:
    for child in node.iter(include_text=False):
        prop = _attr(child, "itemprop")
        if prop:
            key = f"{prefix}.{prop}" if prefix else prop
            if "itemscope" in child.attributes:
                _microdata_walk(child, key, out, how)
                continue
            out.add(key, _microdata_value(child), how, 3)
        if "itemscope" not in child.attributes:
            _microdata_walk(child, prefix, out, how)


def _microdata_items(tree: LexborHTMLParser) -> list[tuple[str, Record]]:
    items: list[tuple[str, Record]] = []
    for node in tree.css("[itemscope]"):
        if "itemprop" in node.attributes:
            continue
        kind = (_attr(node, "itemtype") or "Thing").rstrip("/").rsplit("/", 1)[-1]
        record = Record()
        _microdata_walk(node, "", record, f"microdata {kind}")
        if record.facts:
            items.append((kind, record))
    return items


def _cells(row: LexborNode) -> list[LexborNode]:
    return [c for c in row.iter(include_text=False) if c.tag in ("td", "th")]


def _tables(tree: LexborHTMLParser, base: str, labels: Record) -> list[Collection]:
    out: list[Collection] = []
    for table in tree.css("table"):
        rows = [r for r in table.css("tr") if r.parent is not None]
        if not rows:
            continue
        first = _cells(rows[0])
        has_header = bool(first) and all(c.tag == "th" for c in first) and len(first) > 1
        if not has_header:
            for row in rows:
                cells = _cells(row)
                if len(cells) == 2:
                    label = _text(cells[0]).rstrip(":")
                    labels.add(label, _text(cells[1]), f"the '{label}' row of a table", 2)
            continue
        headers = [_text(c) or f"column {i + 1}" for i, c in enumerate(first)]
        records = []
        for row in rows[1:]:
            cells = _cells(row)
            if not cells:
                continue
            record = Record()
            for header, cell in zip(headers, cells, strict=False):
                record.add(header, _text(cell), f"the '{header}' column of a table", 2)
            link = row.css_first("a[href]")
            if link is not None:
                record.add("url", urljoin(base, _attr(link, "href") or ""), "a table row's link", 1)
            records.append(record)
        if records:
            out.append(Collection("table rows", records))
    return out


def _skipped(node: LexborNode) -> bool:
    parent: LexborNode | None = node
    while parent is not None:
        if parent.tag in _SKIP_BLOCKS:
            return True
        parent = parent.parent
    return False


def _block_record(node: LexborNode, base: str) -> Record | None:
    link = node.css_first("a[href]")
    record = Record()
    if link is None:
        if node.tag != "li":
            return None
        record.add("text", _text(node), "a list item's text", 1)
        return record if record.facts else None
    heading = next((h for h in node.css(",".join(_HEADINGS))), None)
    name = _text(heading) if heading is not None else _text(link)
    record.add("name", name, "a list item's heading or link text", 2)
    record.add("url", urljoin(base, _attr(link, "href") or ""), "a list item's link", 2)
    for child in node.css("[class], time"):
        if child.mem_id == node.mem_id:
            continue
        key = "date" if child.tag == "time" else (_attr(child, "class") or "").split(" ")[0]
        value = _attr(child, "datetime") if child.tag == "time" else None
        if key and key not in record.key_list():
            record.add(key, value or _text(child), f"a list item's '{key}' element", 1)
    text = _text(node)
    for part in node.css("p, span, div, address, small"):
        byline = _BYLINE.search(_text(part))
        if byline:
            record.add("author", byline.group(1), "a list item's byline", 1)
            break
    record.add("text", text, "a list item's text", 0)
    return record


def _blocks(tree: LexborHTMLParser, base: str) -> list[Collection]:
    out: list[Collection] = []
    body = tree.body
    if body is None:
        return out
    for parent in body.traverse(include_text=False):
        if parent.tag in _SKIP_BLOCKS or parent.tag in ("table", "tr", "tbody", "thead", "a"):
            continue
        groups: dict[tuple[str, str], list[LexborNode]] = {}
        for child in parent.iter(include_text=False):
            if child.tag in ("a", "script", "style", "br", "tr") or child.tag is None:
                continue
            groups.setdefault((child.tag, _attr(child, "class") or ""), []).append(child)
        for (tag, cls), members in groups.items():
            if _skipped(parent):
                continue
            records = [r for m in members if (r := _block_record(m, base)) is not None]
            if records and (len(records) >= 2 or tag in ("li", "article")):
                out.append(Collection(f"'{tag}{'.' + cls if cls else ''}' list items", records))
    return out


def _labels(tree: LexborHTMLParser, labels: Record) -> None:
    for dl in tree.css("dl"):
        term: str | None = None
        for child in dl.iter(include_text=False):
            if child.tag == "dt":
                term = _text(child).rstrip(":")
            elif child.tag == "dd" and term:
                labels.add(term, _text(child), f"the '{term}' entry of a definition list", 2)
                term = None
    for strong in tree.css("strong, b, .label"):
        label = _text(strong)
        parent = strong.parent
        if not label.endswith(":") or parent is None:
            continue
        rest = _text(parent).removeprefix(label).strip()
        label = label.rstrip(":").strip()
        if rest and len(label.split()) <= 5:
            labels.add(label, rest, f"the '{label}:' label", 2)
    for node in tree.css("p, li"):
        match = _LABEL_TEXT.match(_text(node))
        if match and len(match.group(1).split()) <= 4 and match.group(1) not in labels.key_list():
            label = match.group(1).strip()
            labels.add(label, match.group(2).strip(), f"the text '{label}: ...'", 2)


def _next_url(tree: LexborHTMLParser, base: str) -> str | None:
    node = tree.css_first('a[rel~="next"][href], link[rel~="next"][href]')
    if node is None:
        for link in tree.css("a[href]"):
            text = _text(link).lower()
            if text in _NEXT_WORDS or text.startswith("next "):
                node = link
                break
    return urljoin(base, _attr(node, "href") or "") if node is not None else None


def _captcha(tree: LexborHTMLParser, title: str) -> bool:
    if tree.css_first(".g-recaptcha, .h-captcha, .cf-turnstile, [data-sitekey]") is not None:
        return True
    if tree.css_first('iframe[src*="captcha"]') is not None:
        return True
    return "captcha" in title.lower()


def read_page(html: str, url: str) -> PageFacts:
    """Parse ``html`` (served at ``url``) into the facts it holds."""
    tree = LexborHTMLParser(html)
    base_node = tree.css_first("base[href]")
    base = urljoin(url, _attr(base_node, "href") or "") if base_node is not None else url
    title_node = tree.css_first("title")
    title = _text(title_node) if title_node is not None else ""
    headings = [(int(h.tag[1]), _text(h)) for h in tree.css(",".join(_HEADINGS)) if h.tag]
    items = _json_ld_items(tree) + _microdata_items(tree)
    labels = Record()
    collections = _tables(tree, base, labels)
    _labels(tree, labels)
    collections += _blocks(tree, base)
    if len(items) >= 2:
        kinds = {kind for kind, _ in items}
        for kind in kinds:
            same = [record for k, record in items if k == kind]
            if len(same) >= 2:
                collections.insert(0, Collection(f"{kind} items", same))
    description = tree.css_first('meta[name="description"]')
    if description is not None:
        labels.add("description", _attr(description, "content"), "the meta description", 1)
    links = [
        (_text(a), urljoin(base, _attr(a, "href") or ""))
        for a in tree.css("a[href]")
        if not (_attr(a, "href") or "").startswith(("javascript:", "#"))
    ]
    body = tree.body
    return PageFacts(
        url=url,
        title=title,
        headings=headings,
        items=items,
        collections=collections,
        labels=labels,
        links=links,
        next_url=_next_url(tree, base),
        captcha=_captcha(tree, title),
        text=_text(body) if body is not None else "",
        login_form=tree.css_first('input[type="password"]') is not None,
    )
