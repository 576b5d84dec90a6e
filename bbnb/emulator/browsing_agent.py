"""The rule-based agent that works a task on real pages (it is not a model).

It reads the task (after ``%variables%`` are filled in), opens the URLs it names
(``http://...`` or bare hosts such as ``shop.bbnb.test``), follows a link whose text
the task names (``the Kitchen category``), and reads what the page holds into the
run's ``resultSchema`` (``bbnb.emulator.extract``).  For lists (an array in the
schema, or "list all" in the task) it follows "next" pages, and opens each item's
own page when the list lacks fields the schema asks for.  Every action is a step
with its real URL, status and timing.  A CAPTCHA, a 404 or other HTTP error, a page
that does not load or loads too slowly end the run FAILED with a ``cause`` code.
"""

from __future__ import annotations

import asyncio
import base64
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from bbnb.emulator.extract import (
    Extraction,
    ListTarget,
    fill,
    list_targets,
    missing_fields,
    pick_collection,
)
from bbnb.emulator.pagefacts import PageFacts, Record, read_page
from bbnb.emulator.pages import Page, PageError, PageOpener, normalize_url

__all__ = ["AgentOutcome", "AgentStopped", "Step", "browse", "substitute", "task_urls"]

_URL = re.compile(r"\bhttps?://[^\s<>\"'`)\]]+", re.IGNORECASE)
_BARE = re.compile(
    r"(?<![\w@/.:-])((?:localhost|127\.\d+\.\d+\.\d+|(?:[a-z0-9-]+\.)+(?:bbnb\.test|com|org|net|"
    r"io|dev|ai|co|edu|gov|uk|de|fr|app|info|news))(?::\d{1,5})?(?:/[^\s<>\"'`)\]]*)?)",
    re.IGNORECASE,
)
_PLACEHOLDER = re.compile(r"%([A-Za-z_][A-Za-z0-9_.-]*)%")
_ALL_WORDS = re.compile(r"\b(all|every|each)\b", re.IGNORECASE)
_COUNT = re.compile(r"\b(?:top|first|latest|newest)\s+(\d{1,3})\b", re.IGNORECASE)
_LINK_STOP = frozenset(
    {
        *("our", "the", "a", "an", "of", "and", "to", "in", "on", "for", "home", "page"),
        *("more", "all"),
        # the words a task asks with: "report the title" must not follow a link named "Report"
        *("report", "tell", "give", "return", "extract", "find", "get", "show", "list"),
        *("open", "visit", "read", "fetch", "collect", "what", "which", "how", "many"),
    }
)
MAX_PAGES = 60
MAX_START_URLS = 3
NAV_TIMEOUT = 15.0
BIG_PAGE = 200_000


class AgentStopped(Exception):
    """The run was stopped while the agent worked."""


@dataclass
class Step:
    """One tool call and its result, with when each happened (emulator clock)."""

    tool: str
    thought: str
    input: dict[str, Any]
    called: float
    output: dict[str, Any] = field(default_factory=dict)
    done: float = 0.0
    image: bytes | None = None


@dataclass
class AgentOutcome:
    """How the run ended, what it answered, and the steps that got there."""

    status: str
    output: Any = None
    summary: str = ""
    cause: tuple[str, str] | None = None
    steps: list[Step] = field(default_factory=list)
    opened: list[str] = field(default_factory=list)
    final_text: str = ""

    def messages(self) -> list[tuple[float, str, Any]]:
        """(time, role, content) of the run's messages, oldest first (wire parts)."""
        out: list[tuple[float, str, Any]] = []
        for n, step in enumerate(self.steps):
            call_id = f"call_{n:03d}_{step.tool}"
            out.append(
                (
                    step.called,
                    "assistant",
                    [
                        {"type": "reasoning", "text": step.thought},
                        {
                            "type": "tool-call",
                            "toolCallId": call_id,
                            "toolName": step.tool,
                            "input": step.input,
                        },
                    ],
                )
            )
            parts: list[dict[str, Any]] = [
                {
                    "type": "tool-result",
                    "toolCallId": call_id,
                    "toolName": step.tool,
                    "output": step.output,
                }
            ]
            if step.image is not None:
                data = base64.b64encode(step.image).decode()
                parts.append({"type": "file", "mediaType": "image/png", "data": data})
            out.append((step.done, "tool", parts))
        if self.final_text:
            end = self.steps[-1].done if self.steps else 0.0
            out.append((end, "assistant", self.final_text))
        return out


def substitute(task: str, variables: dict[str, str]) -> str:
    """``task`` with each ``%name%`` replaced by its variable's value (unknown ones kept)."""
    return _PLACEHOLDER.sub(lambda m: variables.get(m.group(1), m.group(0)), task)


def task_urls(task: str) -> list[str]:
    """The URLs a task names, in order, with a scheme (bare hosts get one)."""
    found: list[tuple[int, str]] = []
    spans: list[tuple[int, int]] = []
    for match in _URL.finditer(task):
        found.append((match.start(), match.group().rstrip(".,;:!?")))
        spans.append(match.span())
    for match in _BARE.finditer(task):
        if any(a <= match.start() < b for a, b in spans):
            continue
        found.append((match.start(), match.group(1).rstrip(".,;:!?")))
    out: list[str] = []
    for _, url in sorted(found):
        full = normalize_url(url if "://" in url or _is_local(url) else f"https://{url}")
        if full not in out:
            out.append(full)
    return out


def _is_local(url: str) -> bool:
    host = url.split("/", 1)[0].rsplit(":", 1)[0].lower()
    return host.endswith("bbnb.test") or host in ("localhost",) or host.startswith("127.")


class _Run:
    """The agent's working state for one run."""

    def __init__(
        self,
        page: Page,
        now: Callable[[], float],
        should_stop: Callable[[], bool],
        nav_timeout: float,
        max_pages: int,
        progress: Callable[[list[Step]], None],
    ) -> None:
        self.progress = progress
        self.page = page
        self.now = now
        self.should_stop = should_stop
        self.nav_timeout = nav_timeout
        self.max_pages = max_pages
        self.steps: list[Step] = []
        self.opened: list[str] = []

    def finish(self, step: Step) -> None:
        """Mark ``step`` done now and report the steps so far."""
        step.done = self.now()
        self.progress(self.steps)

    def step(self, tool: str, thought: str, tool_input: dict[str, Any]) -> Step:
        if self.should_stop():
            raise AgentStopped
        step = Step(tool, thought, tool_input, self.now())
        self.steps.append(step)
        return step

    async def open(self, url: str, thought: str) -> PageFacts:
        if len(self.opened) >= self.max_pages:
            raise PageError(
                "PAGE_LIMIT", f"the agent opened {self.max_pages} pages without finishing"
            )
        step = self.step("goto", thought, {"url": url})
        started = time.perf_counter()
        try:
            nav = await self.page.goto(url, time_limit=self.nav_timeout)
        except PageError as exc:
            step.output = {"error": exc.message, "code": exc.code}
            self.finish(step)
            raise
        html = await self.page.content()
        step.output = {"url": nav.url, "status": nav.status}
        if nav.download is not None:
            step.output["download"] = nav.download
        self.opened.append(nav.url)
        if len(html) > BIG_PAGE:  # keep the emulator's loop answering while a big page parses
            facts = await asyncio.to_thread(read_page, html, nav.url)
        else:
            facts = read_page(html, nav.url)
        step.output["title"] = facts.title
        step.output["ms"] = round((time.perf_counter() - started) * 1000.0, 1)
        self.finish(step)
        if facts.captcha:
            raise PageError(
                "CAPTCHA_UNSOLVED", f"{nav.url} is behind a CAPTCHA the agent cannot solve"
            )
        if facts.login_form and normalize_url(url) != nav.url:
            raise PageError(
                "LOGIN_REQUIRED",
                f"{url} sent the agent to the sign-in page {nav.url}; the rule-based agent does "
                "not log in (use a browser context that is signed in)",
            )
        if nav.status == 404:
            raise PageError("PAGE_NOT_FOUND", f"{nav.url} answered 404 Not Found")
        if nav.status >= 400:
            raise PageError("HTTP_ERROR", f"{nav.url} answered HTTP {nav.status}")
        return facts

    async def screenshot(self, facts: PageFacts) -> None:
        image = await self.page.screenshot()
        if image is None:
            return
        step = self.step("screenshot", f"Looking at {facts.url}.", {})
        step.image = image
        step.output = {"mediaType": "image/png", "bytes": len(image)}
        self.finish(step)


def _plain_words(text: str) -> frozenset[str]:
    out = set()
    for word in re.findall(r"[a-z0-9]+", text.lower()):
        word = (
            word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word
        )
        if word not in _LINK_STOP and len(word) > 2:
            out.add(word)
    return frozenset(out)


def _link_to_follow(facts: PageFacts, task_words: frozenset[str], seen: set[str]) -> str | None:
    host = urlsplit(facts.url).netloc
    best: tuple[int, str] | None = None
    for text, href in facts.links:
        if urlsplit(href).netloc != host or href.split("#")[0] in seen:
            continue
        link_words = _plain_words(text)
        fits = bool(link_words) and link_words <= task_words
        if fits and (best is None or len(link_words) > best[0]):
            best = (len(link_words), href)
    return None if best is None else best[1]


def _wanted_count(task: str, target: ListTarget) -> int | None:
    """How many items the task wants: a number, None for all, 0 for one page's worth."""
    match = _COUNT.search(task)
    if match:
        return int(match.group(1))
    if _ALL_WORDS.search(task):
        return None
    return target.max_items or 0


async def _read_list(run: _Run, facts: PageFacts, target: ListTarget, task: str) -> list[Record]:
    """The target's records from this page and the 'next' pages the task asks for."""
    wanted = _wanted_count(task, target)
    collection = pick_collection(facts.collections, target)
    records = list(collection.records) if collection is not None else []
    page = facts
    while page.next_url and page.next_url not in run.opened and collection is not None:
        if wanted == 0 or (wanted is not None and len(records) >= wanted):
            break
        page = await run.open(page.next_url, "The list goes on; opening the next page.")
        collection = pick_collection(page.collections, target, kind=collection.kind)
        records += collection.records if collection is not None else []
    if wanted:
        records = records[:wanted]
    return records


async def _details(run: _Run, target: ListTarget, records: list[Record], base: str) -> list[Record]:
    """Records completed from each item's own page when the list lacks fields."""
    out: list[Record] = []
    host = urlsplit(base).netloc
    for record in records:
        gaps = missing_fields(target, record, base)
        url = next((f.value for f in record.facts if f.key == "url"), None)
        if not gaps or not isinstance(url, str) or urlsplit(url).netloc != host:
            out.append(record)
            continue
        detail = await run.open(url, f"The list lacks {', '.join(gaps)}; opening the item's page.")
        out.append(detail.page_record().merged(record))
    return out


def _summary(extraction: Extraction, opened: list[str], opener: str) -> str:
    where = opened[0] if len(opened) == 1 else f"{len(opened)} pages starting at {opened[0]}"
    parts = [f"Rule-based agent (simulated, no model) read {where} with {opener}."]
    how = extraction.how()
    if how:
        found = "; ".join(f"{k or 'the list'}: {v}" for k, v in how.items())
        parts.append("How each value was found: " + found)
    if extraction.missing:
        parts.append("Not found on the pages: " + _paths(extraction.missing) + ".")
    return " ".join(parts)


def _paths(paths: list[str]) -> str:
    return ", ".join(path or "the list" for path in paths)


def _final_text(extraction: Extraction, opened: list[str]) -> str:
    pages = ", ".join(opened[:5]) + (" ..." if len(opened) > 5 else "")
    count = "1 page" if len(opened) == 1 else f"{len(opened)} pages"
    how = extraction.how()
    if list(how) == ["answer"]:  # no schema: the answer is what the page says of itself
        found = how["answer"]
    else:
        found = _paths(list(how)) or "nothing the schema asks for"
    text = f"Done. I read {count}: {pages}. Found: {found}."
    if extraction.missing:
        text += f" Not found: {_paths(extraction.missing)}."
    return text


def _text_answer(facts: PageFacts) -> str:
    heading = next((t for level, t in facts.headings if level == 1), "")
    text = f"The page {facts.url} is titled '{facts.title}' and has {len(facts.links)} links."
    return text + (f" Its main heading is '{heading}'." if heading else "")


async def browse(
    task: str,
    schema: dict[str, Any] | None,
    opener: PageOpener,
    *,
    now: Callable[[], float],
    should_stop: Callable[[], bool] = lambda: False,
    nav_timeout: float = NAV_TIMEOUT,
    max_pages: int = MAX_PAGES,
    progress: Callable[[list[Step]], None] = lambda steps: None,
) -> AgentOutcome:
    """Work ``task`` (variables already substituted) on the pages it names; ``progress``
    sees the steps so far after each one ends."""
    urls = [u for u in task_urls(task) if opener.can_open(u)][:MAX_START_URLS]
    run: _Run | None = None
    try:
        async with opener.open() as page:
            run = _Run(page, now, should_stop, nav_timeout, max_pages, progress)
            return await _work(run, task, schema, urls, opener.name)
    except PageError as exc:  # a page, or the browser itself (BROWSER_UNAVAILABLE)
        return AgentOutcome(
            "FAILED",
            cause=(exc.code, exc.message),
            steps=run.steps if run is not None else [],
            opened=run.opened if run is not None else [],
            final_text=f"I could not finish the task: {exc.message}.",
        )


async def _work(
    run: _Run, task: str, schema: dict[str, Any] | None, urls: list[str], opener: str
) -> AgentOutcome:
    if not urls:
        raise PageError("NO_PAGE", "the task names no page the agent can open")
    task_words = _plain_words(task)
    targets = list_targets(schema)
    lists: dict[str, list[Record]] = {}
    facts: PageFacts | None = None
    for url in urls:
        facts = await run.open(url, f"The task names {url}; opening it.")
        seen = {facts.url, url}
        at_root = urlsplit(url).path in ("", "/") and not urlsplit(url).query
        for _ in range(3 if at_root else 0):
            link = _link_to_follow(facts, task_words, seen)
            if link is None:
                break
            seen.add(link)
            facts = await run.open(link, f"The task mentions this link's text; following {link}.")
            seen.add(facts.url)
        await run.screenshot(facts)
        for target in targets:
            if target.path in lists:
                continue
            records = await _read_list(run, facts, target, task)
            if records:
                lists[target.path] = await _details(run, target, records, facts.url)
    assert facts is not None
    step = run.step(
        "extract",
        "The pages hold what the task asks for; extracting it.",
        {"instruction": task[:500], "schema": bool(schema)},
    )
    if schema is None:
        output: Any = _text_answer(facts)
        extraction = Extraction(output)
        extraction.note("answer", "the page title, first heading and links")
    else:
        extraction = fill(schema, facts.page_record(), lists, facts.url)
        output = extraction.value
    step.output = {"extracted": output, "missing": extraction.missing}
    run.finish(step)
    return AgentOutcome(
        "COMPLETED",
        output=output,
        summary=_summary(extraction, run.opened, opener),
        steps=run.steps,
        opened=run.opened,
        final_text=_final_text(extraction, run.opened),
    )
