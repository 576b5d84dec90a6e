"""HTML scaffolding shared by the local web's sites: escaping, the page frame, a page."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from html import escape
from typing import Any

__all__ = ["Page", "esc", "json_ld", "not_found", "page"]


def esc(value: object) -> str:
    """``value`` as HTML text (quotes escaped too)."""
    return escape(str(value), quote=True)


def json_ld(data: dict[str, Any]) -> str:
    """A ``<script type="application/ld+json">`` block (``</`` cannot end it early)."""
    text = json.dumps(data, ensure_ascii=False, indent=1).replace("</", "<\\/")
    return f'<script type="application/ld+json">{text}</script>'


@dataclass
class Page:
    """One answer of the local web: status, body and headers."""

    status: int
    body: str | bytes
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


def page(title: str, body: str, *, base: str, site: str, head: str = "", status: int = 200) -> Page:
    """A full HTML page of ``site`` with a small navigation bar."""
    nav = (
        f'<nav><a href="{esc(base)}/">{esc(site.title())} home</a></nav>' if site else "<nav></nav>"
    )
    html = (
        "<!doctype html>\n"
        f'<html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title>{head}</head>\n'
        f"<body>{nav}\n<main>\n{body}\n</main>\n"
        "<footer><small>bbnb local web: a seeded site served by the emulator</small></footer>"
        "</body></html>\n"
    )
    return Page(status, html)


def not_found(path: str, *, base: str, site: str) -> Page:
    """The 404 page."""
    body = f"<h1>Page not found</h1><p>Nothing lives at {esc(path)} on this site.</p>"
    return page("404 Not Found", body, base=base, site=site, status=404)
