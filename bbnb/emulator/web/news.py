"""news.bbnb.test: a paginated front page of articles, and article pages whose facts
are in JSON-LD or microdata."""

from __future__ import annotations

from typing import Any

from bbnb.emulator.web.data import NEWS_PAGE_SIZE, WebData
from bbnb.emulator.web.layout import Page, esc, json_ld, not_found, page

__all__ = ["news_page"]


def _slug_of(url: str) -> str:
    return url.rsplit("/", 1)[1]


def _front(data: WebData, base: str, query: dict[str, str]) -> Page:
    articles = data.truth.articles
    pages = (len(articles) + NEWS_PAGE_SIZE - 1) // NEWS_PAGE_SIZE
    raw = query.get("page", "1")
    number = int(raw) if raw.isdigit() else 0
    if not 1 <= number <= pages:
        return not_found(f"/?page={raw}", base=base, site="news")
    shown = articles[(number - 1) * NEWS_PAGE_SIZE : number * NEWS_PAGE_SIZE]
    items = "".join(
        f'<article class="story"><h2><a href="{base}/article/{_slug_of(a["url"])}">'
        f"{esc(a['headline'])}</a></h2>"
        f'<p class="meta"><span class="section">{a["section"]}</span> · '
        f'<time datetime="{a["published"]}">{a["published"]}</time> · By {esc(a["author"])}</p>'
        f'<p class="summary">{esc(a["summary"])}</p></article>'
        for a in shown
    )
    nav = f"<span>Page {number} of {pages}</span>"
    if number < pages:
        nav += f' <a rel="next" href="{base}/?page={number + 1}">Older stories</a>'
    body = f'<h1>bbnb News</h1><section class="stories">{items}</section><nav>{nav}</nav>'
    return page("bbnb News: front page", body, base=base, site="news")


def _article(data: WebData, base: str, slug: str) -> Page:
    a = data.articles_by_slug.get(slug)
    if a is None:
        return not_found(f"/article/{slug}", base=base, site="news")
    paragraphs = "".join(
        f"<p>{esc(a['summary'])} Paragraph {n + 1} tells more of it.</p>" for n in range(3)
    )
    meta = (
        f'<p class="byline">By {esc(a["author"])} · {a["section"]} · '
        f'<time datetime="{a["published"]}">{a["published"]}</time> · '
        f"{a['word_count']} words</p>"
    )
    if a["markup"] == "json-ld":
        ld: dict[str, Any] = {
            "@context": "https://schema.org",
            "@type": "NewsArticle",
            "headline": a["headline"],
            "author": {"@type": "Person", "name": a["author"]},
            "datePublished": a["published"],
            "articleSection": a["section"],
            "wordCount": a["word_count"],
            "description": a["summary"],
            "url": a["url"],
        }
        body = f"<article><h1>{esc(a['headline'])}</h1>{meta}{paragraphs}</article>"
        return page(f"{a['headline']} | bbnb News", body, base=base, site="news", head=json_ld(ld))
    body = (
        '<article itemscope itemtype="https://schema.org/NewsArticle">'
        f'<link itemprop="url" href="{esc(a["url"])}">'
        f'<h1 itemprop="headline">{esc(a["headline"])}</h1>'
        f'<p class="byline">By <span itemprop="author" itemscope itemtype="https://schema.org/Person">'
        f'<span itemprop="name">{esc(a["author"])}</span></span> · '
        f'<span itemprop="articleSection">{a["section"]}</span> · '
        f'<time itemprop="datePublished" datetime="{a["published"]}">{a["published"]}</time> · '
        f'<span itemprop="wordCount">{a["word_count"]}</span> words</p>'
        f'<meta itemprop="description" content="{esc(a["summary"])}">{paragraphs}</article>'
    )
    return page(f"{a['headline']} | bbnb News", body, base=base, site="news")


def news_page(data: WebData, base: str, path: str, query: dict[str, str]) -> Page:
    """The news site's answer to GET ``path``."""
    parts = [p for p in path.split("/") if p]
    if not parts:
        return _front(data, base, query)
    if len(parts) == 2 and parts[0] == "article":
        return _article(data, base, parts[1])
    return not_found(path, base=base, site="news")
