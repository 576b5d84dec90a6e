"""Agent accuracy: 200 runs of the emulator's rule-based agent on the local web, scored
field by field against the local web's ground truth.

    python bench/agent_accuracy.py [--runs 200] [--seed 7] [--concurrency 8]
    python bench/agent_accuracy.py --browsers real --runs 100 --concurrency 4

Each run goes through the emulator's HTTP API (``POST /v1/agents/runs``, then the run
and its messages), on real time.  ``--browsers simulated`` (the default) calls the API
in-process and the agent reads pages over HTTP (no browser, no JavaScript);
``--browsers real`` serves the emulator on 127.0.0.1 with a real headless Chromium
behind every run's session, which loads the local web's pages.  Tasks and schemas vary: product and article pages (schema.org JSON-LD
or microdata), "list all" over paginated categories and the news front page (item
pages opened for missing fields), the price table, and store pages of labels and
values; property names are drawn from synonyms (``title``/``name``/``productName``,
``cost``/``price``, ``inStock`` as a boolean ...).  Prints field-level accuracy per
kind of page against the targets (>= 0.98 on structured data, >= 0.9 on tables and
labels/values), runs per minute, and how many answers were read from pages or fell
back to generated values (target 0 on the local web).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

import httpx

from bbnb.emulator import Emulator, EmulatorConfig, serve_in_thread
from bbnb.emulator.web import ground_truth

TARGETS = {"structured": 0.98, "lists": 0.98, "table": 0.90, "label/value": 0.90}

# schema property name -> (ground-truth key, JSON type); several names per field.
PRODUCT_FIELDS = {
    "name": [("name", "string"), ("title", "string"), ("productName", "string")],
    "price": [("price", "number"), ("cost", "number"), ("priceEur", "number"), ("eur", "number")],
    "currency": [("currency", "string")],
    "sku": [("sku", "string")],
    "brand": [("brand", "string"), ("manufacturer", "string")],
    "rating": [("rating", "number"), ("stars", "number"), ("avgScore", "number")],
    "description": [("description", "string"), ("blurb", "string")],
    "reviews": [("reviewCount", "integer"), ("reviews", "integer")],
    "availability": [("inStock", "boolean"), ("availability", "string")],
}
ARTICLE_FIELDS = {
    "headline": [("headline", "string"), ("title", "string")],
    "author": [("author", "string"), ("byline", "string")],
    "published": [("datePublished", "string"), ("published", "string"), ("date", "string")],
    "section": [("section", "string"), ("category", "string")],
    "word_count": [("wordCount", "integer"), ("length", "integer")],
    "summary": [("summary", "string"), ("lede", "string")],
}
STORE_FIELDS = {
    "address": [("address", "string")],
    "phone": [("phone", "string"), ("telephone", "string")],
    "opening_hours": [("openingHours", "string"), ("hours", "string")],
    "manager": [("manager", "string"), ("storeManager", "string")],
}
TABLE_FIELDS = {
    "name": [("product", "string"), ("name", "string")],
    "sku": [("sku", "string")],
    "price": [("price", "number")],
    "category": [("category", "string")],
    "availability": [("availability", "string")],
    "rating": [("rating", "number")],
}
LIST_PRODUCT_FIELDS = {k: PRODUCT_FIELDS[k] for k in ("name", "price", "rating", "brand")}
LIST_ARTICLE_FIELDS = {k: ARTICLE_FIELDS[k] for k in ("headline", "author", "published", "section")}


@dataclass
class Case:
    """One run to make: its task, schema, and the answer the ground truth expects."""

    kind: str
    task: str
    schema: dict[str, Any]
    expected: Any  # {prop: value} or [{prop: value}]


def _pick(
    rng: random.Random, fields: dict[str, list[tuple[str, str]]], n: int
) -> list[tuple[str, str, str]]:
    keys = rng.sample(sorted(fields), min(n, len(fields)))
    return [(key, *rng.choice(fields[key])) for key in keys]


def _truth_value(row: dict[str, Any], key: str, prop: str, kind: str) -> Any:
    value = row[key]
    if key == "availability" and kind == "boolean":
        return value == "InStock"
    return value


# Names that say little on their own carry a description, as a careful user would write.
DESCRIPTIONS = {
    "eur": "the price in euros",
    "avgScore": "average customer rating out of 5",
    "length": "number of words in the article",
    "lede": "a one-line summary of the story",
}


def _object(props: list[tuple[str, str, str]]) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    for _, prop, kind in props:
        properties[prop] = {"type": kind}
        if prop in DESCRIPTIONS:
            properties[prop]["description"] = DESCRIPTIONS[prop]
    return {"type": "object", "properties": properties}


def _expect(row: dict[str, Any], props: list[tuple[str, str, str]]) -> dict[str, Any]:
    return {prop: _truth_value(row, key, prop, kind) for key, prop, kind in props}


def make_cases(seed: int, runs: int) -> list[Case]:
    """A seeded mix of tasks over the shop and news sites."""
    truth = ground_truth(seed)
    rng = random.Random(seed)
    cases: list[Case] = []
    makers = (
        ["product"] * 7 + ["article"] * 4 + ["category", "front"] + ["table"] * 3 + ["store"] * 3
    )
    while len(cases) < runs:
        what = rng.choice(makers)
        if what == "product":
            product = rng.choice(truth.products)
            props = _pick(rng, PRODUCT_FIELDS, rng.randint(2, 5))
            task = f"Get the {', '.join(p for _, p, _ in props)} of the product at {product['url']}"
            cases.append(Case("structured", task, _object(props), _expect(product, props)))
        elif what == "article":
            article = rng.choice(truth.articles)
            props = _pick(rng, ARTICLE_FIELDS, rng.randint(2, 4))
            task = f"Read the article {article['url']} and report its details"
            cases.append(Case("structured", task, _object(props), _expect(article, props)))
        elif what == "category":
            category = rng.choice(truth.categories)
            props = _pick(rng, LIST_PRODUCT_FIELDS, rng.randint(2, 3))
            rows = [p for p in truth.products if p["category"] == category["name"]]
            schema = {
                "type": "object",
                "properties": {"products": {"type": "array", "items": _object(props)}},
            }
            task = f"List all products in the {category['name']} category on shop.bbnb.test"
            cases.append(
                Case("lists", task, schema, {"products": [_expect(r, props) for r in rows]})
            )
        elif what == "front":
            props = _pick(rng, LIST_ARTICLE_FIELDS, rng.randint(2, 4))
            schema = {"type": "array", "items": _object(props)}
            task = "List all stories on the front page of news.bbnb.test, every page of it"
            cases.append(Case("lists", task, schema, [_expect(a, props) for a in truth.articles]))
        elif what == "table":
            props = _pick(rng, TABLE_FIELDS, rng.randint(2, 4))
            schema = {"type": "array", "items": _object(props)}
            task = f"List all products in the price list at {truth.pages['prices']}"
            cases.append(Case("table", task, schema, [_expect(p, props) for p in truth.products]))
        else:
            store = rng.choice(truth.stores)
            props = _pick(rng, STORE_FIELDS, rng.randint(2, 4))
            if rng.random() < 0.5:
                task = f"Get the contact details of the store at {store['url']}"
            else:
                task = f"Find the {store['city']} store on shop.bbnb.test (see our stores)"
            cases.append(Case("label/value", task, _object(props), _expect(store, props)))
    return cases


def _norm(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return round(float(value), 2)
    return re.sub(r"[^a-z0-9]", "", str(value).lower())


def score(expected: Any, got: Any) -> tuple[int, int]:
    """(correct fields, fields) of ``got`` against ``expected``."""
    if isinstance(expected, list):
        got_list = got if isinstance(got, list) else []
        total = correct = 0
        for n, row in enumerate(expected):
            c, t = score(row, got_list[n] if n < len(got_list) else {})
            correct, total = correct + c, total + t
        extra = max(0, len(got_list) - len(expected))
        return correct, total + extra
    if isinstance(expected, dict) and all(isinstance(v, list) for v in expected.values()):
        got_dict = got if isinstance(got, dict) else {}
        pairs = [score(v, got_dict.get(k)) for k, v in expected.items()]
        return sum(c for c, _ in pairs), sum(t for _, t in pairs)
    got_dict = got if isinstance(got, dict) else {}
    correct = sum(
        1
        for key, want in expected.items()
        if (want is None and got_dict.get(key) is None) or _norm(got_dict.get(key)) == _norm(want)
    )
    return correct, len(expected)


async def run_cases(
    cases: list[Case], seed: int, concurrency: int
) -> tuple[list[dict[str, Any]], float]:
    config = EmulatorConfig(seed=seed, max_concurrent_sessions=None, sessions_per_minute=None)
    emu = Emulator(config)
    headers = {"X-BB-API-Key": config.api_key}
    results: list[dict[str, Any]] = []
    async with httpx.AsyncClient(
        transport=emu.transport(), base_url="http://emulator.local", headers=headers
    ) as api:
        started = time.perf_counter()
        for start in range(0, len(cases), concurrency):
            batch = cases[start : start + concurrency]
            created = await asyncio.gather(
                *(
                    api.post("/v1/agents/runs", json={"task": c.task, "resultSchema": c.schema})
                    for c in batch
                )
            )
            await emu.drain()
            for response in created:
                run = (await api.get(f"/v1/agents/runs/{response.json()['runId']}")).json()
                messages = await api.get(
                    f"/v1/agents/runs/{run['runId']}/messages", params={"all": "true"}
                )
                run["_messages"] = messages.json()["data"]
                results.append(run)
        elapsed = time.perf_counter() - started
    emu.close()
    return results, elapsed


TERMINAL = {"COMPLETED", "FAILED", "STOPPED", "TIMED_OUT"}


async def run_cases_real(
    cases: list[Case], seed: int, concurrency: int
) -> tuple[list[dict[str, Any]], float]:
    """The cases on an emulator served on 127.0.0.1 with a real Chromium per session."""
    config = EmulatorConfig(
        seed=seed, max_concurrent_sessions=None, sessions_per_minute=None, browsers="real"
    )
    server = serve_in_thread(config)
    headers = {"X-BB-API-Key": config.api_key}
    slots = asyncio.Semaphore(concurrency)
    try:
        async with httpx.AsyncClient(base_url=server.base_url, headers=headers, timeout=120) as api:

            async def one(case: Case) -> dict[str, Any]:
                async with slots:
                    created = await api.post(
                        "/v1/agents/runs", json={"task": case.task, "resultSchema": case.schema}
                    )
                    run_id = created.json()["runId"]
                    while True:
                        run: dict[str, Any] = (await api.get(f"/v1/agents/runs/{run_id}")).json()
                        if run["status"] in TERMINAL:
                            break
                        await asyncio.sleep(0.1)
                    messages = await api.get(
                        f"/v1/agents/runs/{run_id}/messages", params={"all": "true"}
                    )
                    run["_messages"] = messages.json()["data"]
                    return run

            started = time.perf_counter()
            results = list(await asyncio.gather(*(one(c) for c in cases)))
            elapsed = time.perf_counter() - started
    finally:
        server.stop()
    return results, elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--show-misses", type=int, default=5, help="print this many wrong fields")
    parser.add_argument(
        "--browsers",
        choices=("simulated", "real"),
        default="simulated",
        help="simulated: pages read over HTTP, in-process API (default); real: a headless "
        "Chromium per session on an emulator served on 127.0.0.1",
    )
    args = parser.parse_args()
    cases = make_cases(args.seed, args.runs)
    runner = run_cases_real if args.browsers == "real" else run_cases
    results, elapsed = asyncio.run(runner(cases, args.seed, args.concurrency))

    fields: Counter[str] = Counter()
    correct: Counter[str] = Counter()
    runs_by_kind: Counter[str] = Counter()
    answers: Counter[str] = Counter()
    causes: Counter[str] = Counter()
    pages = 0
    misses: dict[str, list[str]] = defaultdict(list)
    for case, run in zip(cases, results, strict=True):
        runs_by_kind[case.kind] += 1
        pages += sum(
            1
            for m in run["_messages"]
            if isinstance(m["message"]["content"], list)
            for p in m["message"]["content"]
            if p["type"] == "tool-result" and p["toolName"] == "goto"
        )
        if run["status"] != "COMPLETED":
            answers["failed"] += 1
            causes[run.get("cause", {}).get("code", run["status"])] += 1
            c, t = 0, score(case.expected, None)[1]
        else:
            summary = run["result"]["summary"]
            answers[
                "fallback (generated)" if "generated values" in summary else "read from pages"
            ] += 1
            c, t = score(case.expected, run["result"]["output"])
            if c < t and len(misses[case.kind]) < args.show_misses:
                misses[case.kind].append(f"{case.task[:90]!r}: {t - c} of {t} fields wrong")
        fields[case.kind] += t
        correct[case.kind] += c

    how = (
        "pages loaded by a real headless Chromium per session"
        if args.browsers == "real"
        else "HTTP pages: no browser, no JavaScript"
    )
    print(
        f"Agent accuracy on the local web (seed {args.seed}, {len(results)} runs, rule-based "
        f"agent over {how})"
    )
    print(f"  {'pages':<13} {'runs':>5} {'fields':>7} {'correct':>8} {'accuracy':>9}  target")
    ok = True
    for kind, target in TARGETS.items():
        if not fields[kind]:
            continue
        accuracy = correct[kind] / fields[kind]
        ok &= accuracy >= target
        mark = "ok" if accuracy >= target else "BELOW"
        print(
            f"  {kind:<13} {runs_by_kind[kind]:>5} {fields[kind]:>7} {correct[kind]:>8} "
            f"{accuracy:>9.4f}  >= {target:.2f} {mark}"
        )
    total_fields, total_correct = sum(fields.values()), sum(correct.values())
    print(
        f"  {'all':<13} {len(results):>5} {total_fields:>7} {total_correct:>8} {total_correct / total_fields:>9.4f}"
    )
    print(
        f"Runs per minute: {len(results) / elapsed * 60:.0f} ({len(results)} runs, {pages} pages "
        f"opened, in {elapsed:.1f} s, {args.concurrency} at a time, "
        f"{'API on 127.0.0.1' if args.browsers == 'real' else 'in-process API'})"
    )
    split = ", ".join(f"{n} {what}" for what, n in sorted(answers.items()))
    print(f"Answers: {split}" + (f"; causes: {dict(causes)}" if causes else ""))
    fallback = answers["fallback (generated)"]
    print(f"Fallback answers: {fallback} (target 0 on the local web)")
    for kind, lines in misses.items():
        for line in lines:
            print(f"  miss [{kind}] {line}")
    figures = {
        "browsers": args.browsers,
        "accuracy": {k: round(correct[k] / fields[k], 4) for k in TARGETS if fields[k]},
        "runs": len(results),
        "runs_per_minute": round(len(results) / elapsed * 60),
        "pages_opened": pages,
        "answers": dict(answers),
        "fallback": fallback,
    }
    print("FIGURES " + json.dumps(figures, sort_keys=True))
    return 0 if ok and fallback == 0 and not answers["failed"] else 1


if __name__ == "__main__":
    sys.exit(main())
