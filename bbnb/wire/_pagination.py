"""Lazy iteration over the API's three pagination styles.

* cursor (agent runs, agents): send ``cursor=nextCursor`` until it is null;
* since (run messages): send ``since=nextSince`` until a page comes back short;
* offset (functions, versions, invocations): advance ``offset`` until ``total``.

A ``Pager`` knows the first query, the next query after a page, and the items
of a page.  ``aiterate`` walks it with ``await``; ``iterate`` walks it from
synchronous code through ``bbnb.wire._sync.run_sync``, one page per call, so pages are
fetched only as the caller consumes items.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from bbnb.wire._sync import run_sync

__all__ = ["CursorPager", "OffsetPager", "Pager", "SincePager", "aiterate", "iterate"]

logger = logging.getLogger("bbnb")

P = TypeVar("P")
P_contra = TypeVar("P_contra", contravariant=True)
I_co = TypeVar("I_co", covariant=True)
I = TypeVar("I")  # noqa: E741
Query = dict[str, Any]


class Pager(Protocol[P_contra, I_co]):
    """How one endpoint pages."""

    def first(self) -> Query:
        """The query of the first page."""
        ...

    def next(self, page: P_contra, query: Query) -> Query | None:
        """The query of the page after ``page`` (fetched with ``query``), or None at the end."""
        ...

    def items(self, page: P_contra) -> Sequence[I_co]:
        """The items on ``page``."""
        ...


@dataclass(frozen=True)
class CursorPager(Generic[I]):
    """``{data, nextCursor}`` pages: follow the cursor until it is null."""

    query: Query = field(default_factory=dict)

    def first(self) -> Query:
        return dict(self.query)

    def next(self, page: Any, query: Query) -> Query | None:
        cursor = page.next_cursor
        if cursor is None or not page.data:
            return None
        if cursor == query.get("cursor"):
            logger.warning("the server returned the same cursor twice (%r); stopping", cursor)
            return None
        return {**query, "cursor": cursor}

    def items(self, page: Any) -> Sequence[I]:
        return list(page.data)


@dataclass(frozen=True)
class SincePager(Generic[I]):
    """``{data, nextSince}`` pages: continue from the last id until a page comes back short.

    ``page_size`` is the ``limit`` sent; with ``all=true`` the server ignores it and
    returns everything in one page.
    """

    query: Query
    page_size: int

    def first(self) -> Query:
        return dict(self.query)

    def next(self, page: Any, query: Query) -> Query | None:
        data = page.data
        if not data or query.get("all") or len(data) < self.page_size:
            return None
        since = page.next_since or data[-1].id
        if since == query.get("since"):
            return None
        return {**query, "since": since}

    def items(self, page: Any) -> Sequence[I]:
        return list(page.data)


@dataclass(frozen=True)
class OffsetPager(Generic[I]):
    """``{<key>: [...], total}`` pages: advance ``offset`` until ``total`` is reached."""

    query: Query
    key: str = "data"

    def first(self) -> Query:
        return {**self.query, "offset": self.query.get("offset") or 0}

    def next(self, page: Any, query: Query) -> Query | None:
        items = getattr(page, self.key)
        offset = int(query.get("offset") or 0) + len(items)
        if not items or offset >= page.total:
            return None
        return {**query, "offset": offset}

    def items(self, page: Any) -> Sequence[I]:
        return list(getattr(page, self.key))


async def aiterate(fetch: Callable[[Query], Awaitable[P]], pager: Pager[P, I]) -> AsyncIterator[I]:
    """Yield every item of every page, fetching each page when the previous one is used up."""
    query: Query | None = pager.first()
    while query is not None:
        page = await fetch(query)
        for item in pager.items(page):
            yield item
        query = pager.next(page, query)


def iterate(fetch: Callable[[Query], Awaitable[P]], pager: Pager[P, I]) -> Iterator[I]:
    """``aiterate`` for synchronous callers: each page is fetched through ``run_sync``."""
    query: Query | None = pager.first()
    while query is not None:
        page = run_sync(_call(fetch, query))
        yield from pager.items(page)
        query = pager.next(page, query)


async def _call(fetch: Callable[[Query], Awaitable[P]], query: Query) -> P:
    return await fetch(query)
