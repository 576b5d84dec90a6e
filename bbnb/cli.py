"""The ``bbnb`` command line.

bbnb demo        the main job: agent tasks on shop pages, a typed DataFrame, its accuracy
bbnb emulator    serve the local Browserbase emulator for any HTTP client
bbnb status      which API bbnb would talk to, and how to change it
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from typing import Any

from bbnb import __version__

__all__ = ["main"]

DEMO_MAX = 24

# With a key the runs happen in Browserbase's cloud, which cannot reach the local web:
# the same task on public pages (books.toscrape.com is a site made for scraping practice).
PUBLIC_CATEGORIES = (
    "travel_2", "mystery_3", "historical-fiction_4", "sequential-art_5", "classics_6",
    "philosophy_7", "romance_8", "womens-fiction_9", "fiction_10", "childrens_11",
    "religion_12", "nonfiction_13",
)  # fmt: skip
PUBLIC_TEMPLATE = (
    "Open {{url}} and report the first book listed: its name, price, currency, star rating "
    "(0-5) and whether it is in stock."
)

DEMO_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "description": "product name as listed"},
        "price": {"type": "number", "description": "price in the shop's currency"},
        "currency": {"type": "string", "enum": ["USD", "EUR", "GBP"]},
        "rating": {"type": ["number", "null"], "minimum": 0, "maximum": 5},
        "in_stock": {"type": "boolean"},
    },
    "required": ["name", "price", "currency", "in_stock"],
}

DEMO_TEMPLATE = (
    "Open {{url}} and report the product's name, price, currency, rating and whether it "
    "is in stock."
)


def demo_inputs(seed: int, n: int) -> Any:
    """``n`` product pages of the local web of ``seed``, a few from each shop category."""
    import pandas as pd

    from bbnb.emulator.web import ground_truth

    truth = ground_truth(seed)
    per_category = [
        [p for p in truth.products if p["category"] == c["name"]] for c in truth.categories
    ]
    rows = [
        {"category": products[i]["category"], "url": products[i]["url"]}
        for i in range(max(len(products) for products in per_category))
        for products in per_category
        if i < len(products)
    ]
    return pd.DataFrame(rows[:n])


def public_inputs(n: int) -> Any:
    """``n`` category pages of books.toscrape.com (for runs on Browserbase)."""
    import pandas as pd

    base = "https://books.toscrape.com/catalogue/category/books"
    urls = [f"{base}/{slug}/index.html" for slug in PUBLIC_CATEGORIES]
    return pd.DataFrame({"url": [urls[i % len(urls)] for i in range(n)]})


def expected_answers(seed: int, urls: Sequence[str]) -> list[dict[str, Any]]:
    """What the local web's product pages at ``urls`` show, in ``DEMO_SCHEMA``'s fields."""
    from bbnb.emulator.web import ground_truth

    by_url = {p["url"]: p for p in ground_truth(seed).products}
    return [
        {
            "name": by_url[url]["name"],
            "price": by_url[url]["price"],
            "currency": by_url[url]["currency"],
            "rating": by_url[url]["rating"],
            "in_stock": by_url[url]["availability"] == "InStock",
        }
        for url in urls
    ]


def _same(got: Any, want: Any) -> bool:
    import pandas as pd

    if want is None:
        return got is None or bool(pd.isna(got))
    if got is None or (not isinstance(got, str) and bool(pd.isna(got))):
        return False
    if isinstance(want, bool):
        return bool(got) == want
    if isinstance(want, int | float):
        try:
            return abs(float(got) - float(want)) < 0.005
        except (TypeError, ValueError):
            return False
    return str(got).strip().casefold() == str(want).strip().casefold()


def accuracy(
    frame: Any, expected: Sequence[dict[str, Any]]
) -> tuple[dict[str, int], int, list[str]]:
    """(right answers per field, rows, misses) of ``frame``'s rows against ``expected``.

    A row that did not complete counts every one of its fields as wrong.
    """
    right = dict.fromkeys(expected[0] if expected else (), 0)
    misses: list[str] = []
    for position, want in enumerate(expected):
        row = frame.iloc[position]
        for field, value in want.items():
            got = row[field] if field in row.index else None
            if row["_status"] == "COMPLETED" and _same(got, value):
                right[field] += 1
            else:
                misses.append(f"row {position} {field}: got {got!r}, the page shows {value!r}")
    return right, len(expected), misses


def _accuracy_line(right: dict[str, int], rows: int) -> str:
    total = sum(right.values())
    fields = rows * len(right)
    per_field = ", ".join(f"{name} {n}/{rows}" for name, n in right.items())
    share = total / fields if fields else 0.0
    return f"Accuracy against the local web's ground truth: {total}/{fields} fields right ({share:.0%}; {per_field})"


def _demo(args: argparse.Namespace) -> int:
    import pandas as pd

    import bbnb
    from bbnb.runs import default_journal_path

    on_cloud = bool(os.environ.get("BROWSERBASE_API_KEY"))
    if on_cloud:
        inputs = public_inputs(args.n)
        template = PUBLIC_TEMPLATE
        client = bbnb.Client()
        print(
            f"bbnb demo: running {len(inputs)} agent tasks on Browserbase ({client.base_url}) "
            "on public pages of books.toscrape.com."
        )
        server = None
    else:
        from bbnb.emulator import EmulatorConfig, serve_in_thread
        from bbnb.emulator.server import embedded_browsers

        inputs = demo_inputs(args.seed, args.n)
        template = DEMO_TEMPLATE
        config = EmulatorConfig.realistic(
            seed=args.seed, speed=args.speed, browsers=args.browsers or embedded_browsers()
        )
        server = serve_in_thread(config)
        client = bbnb.Client(base_url=server.base_url, api_key=server.api_key)
        browser = server.emulator.live.browsers.executable
        if browser:
            how = f"a real headless Chromium ({browser}) loads each page"
        elif config.browsers == "simulated":
            how = "real browsers are off: the agent reads each page over HTTP (no JavaScript)"
        else:
            how = "no Chromium found: the agent reads each page over HTTP (no JavaScript)"
        print(
            f"bbnb demo: results are SIMULATED by the local emulator at {server.base_url} "
            "(no BROWSERBASE_API_KEY set; set one to run on Browserbase): a rule-based agent "
            f"reads {len(inputs)} product pages of the local web (shop.bbnb.test, seed "
            f"{args.seed}); {how}."
        )
    concurrency = args.concurrency
    if server is not None and server.emulator.live.real:
        # Half the emulator's browser slots: a run's browser is released a moment after the
        # run ends, and a run that finds no free slot fails (BROWSER_UNAVAILABLE).
        slots = server.emulator.live.browsers.max_browsers
        concurrency = max(1, min(concurrency, slots // 2))
    started = time.monotonic()
    try:
        batch = client.agents.run_many(
            inputs,
            template=template,
            result_schema=DEMO_SCHEMA,
            concurrency=concurrency,
            progress="text",
        )
        frame = batch.to_frame()
    finally:
        client.close()
        if server is not None:
            server.stop()
    elapsed = time.monotonic() - started
    frame = frame.sort_values("_key", kind="stable").reset_index(drop=True)
    counts = {str(k): int(v) for k, v in frame["_status"].value_counts().items() if v}
    by_status = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    print(
        f"\n{len(frame)} rows x {frame.shape[1]} columns from {len(batch)} runs "
        f"({by_status}) in {elapsed:.1f} s"
    )
    data_columns = [c for c in frame.columns if not str(c).startswith("_")]
    shown = frame[["_status", *data_columns]].copy()
    shown.insert(
        0, "page", [str(u).rsplit("/", 2)[-1 if not on_cloud else -2] for u in inputs["url"]]
    )
    with pd.option_context("display.width", 140, "display.max_columns", 12):
        print(shown.to_string(max_rows=30))
    print("\nColumn types:", ", ".join(f"{c}={frame[c].dtype}" for c in data_columns))
    if "_conforms" in frame:
        conforming = frame["_conforms"].fillna(False).astype(bool)
        print(f"Results matching the schema: {int(conforming.sum())} of {len(frame)}")
    for item in batch.failures:
        why = item.run.cause if item.run is not None and item.run.cause else item.error
        print(f"Input {item.key!r} ended {item.status}: {why}")
    if on_cloud:
        print("Check any value on its page: " + ", ".join(inputs["url"].head(2)) + ", ...")
    else:
        right, rows, misses = accuracy(frame, expected_answers(args.seed, list(inputs["url"])))
        print(_accuracy_line(right, rows))
        for miss in misses[:5]:
            print(f"  wrong: {miss}")
        path = str(inputs["url"].iloc[0]).split(".test", 1)[1]
        print(
            f"Check any value on its page: run `bbnb emulator --seed {args.seed}` and open "
            f"http://127.0.0.1:8088/web/shop{path} (or read "
            f"bbnb.emulator.web.ground_truth({args.seed}).products)"
        )
    print(
        f"\nJournal: {default_journal_path()} (batch {batch.id}); "
        f"re-attach later with bbnb.attach({batch.id!r})"
    )
    return 0


def _status(_: argparse.Namespace) -> int:
    key = os.environ.get("BROWSERBASE_API_KEY")
    base = os.environ.get("BROWSERBASE_BASE_URL")
    print(f"bbnb {__version__}")
    if key:
        print(f"API: {base or 'https://api.browserbase.com'} (BROWSERBASE_API_KEY is set)")
    elif base:
        print(f"API: {base} (BROWSERBASE_BASE_URL is set; no BROWSERBASE_API_KEY)")
    else:
        print("API: the embedded emulator (simulated results; no BROWSERBASE_API_KEY set)")
        print("To use Browserbase: export BROWSERBASE_API_KEY=bb_live_... before starting Python.")
    return 0


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bbnb", description="Browserbase's cloud browsers in notebooks."
    )
    parser.add_argument("--version", action="version", version=f"bbnb {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = commands.add_parser(
        "demo", help="run agent tasks on the local web's shop and score the DataFrame"
    )
    demo.add_argument(
        "-n",
        type=int,
        default=12,
        choices=range(1, DEMO_MAX + 1),
        metavar="N",
        help=f"how many product pages (1..{DEMO_MAX}, default 12)",
    )
    demo.add_argument(
        "--concurrency", type=int, default=6, help="runs in flight at once (default 6)"
    )
    demo.add_argument("--seed", type=int, default=7, help="emulator seed (default 7)")
    demo.add_argument(
        "--speed",
        type=float,
        default=10.0,
        help="emulator time speed-up (default 10: a 20 s run takes 2 s)",
    )
    demo.add_argument(
        "--browsers",
        choices=("auto", "real", "simulated"),
        default=None,
        help="emulator sessions: a real Chromium when installed (auto, the default, or "
        "BBNB_BROWSERS), always (real) or never (simulated: pages read over HTTP)",
    )
    demo.set_defaults(handler=_demo)

    status = commands.add_parser("status", help="show which API bbnb talks to")
    status.set_defaults(handler=_status)

    from bbnb.emulator import cli as emulator_cli

    emulator = commands.add_parser("emulator", help="serve the local Browserbase emulator")
    emulator_cli.configure_parser(emulator)
    emulator.set_defaults(handler=emulator_cli.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 0
    try:
        return int(handler(args))
    except KeyboardInterrupt:
        print("\nInterrupted.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
