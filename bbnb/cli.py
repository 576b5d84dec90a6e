"""The ``bbnb`` command line.

bbnb demo        the main job: a small batch of agent tasks, summarised as a DataFrame
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

DEMO_PRODUCTS = [
    ("Trail running shoes", "outdoor-gear.example"),
    ("Espresso machine", "kitchen-shop.example"),
    ("Noise-cancelling headphones", "audio-store.example"),
    ("Standing desk", "office-supply.example"),
    ("Mechanical keyboard", "keyboards.example"),
    ("Air purifier", "home-air.example"),
    ("Road bike helmet", "cycle-hub.example"),
    ("Cast iron skillet", "kitchen-shop.example"),
    ("4K monitor", "display-world.example"),
    ("Hiking backpack", "outdoor-gear.example"),
    ("Electric kettle", "kitchen-shop.example"),
    ("Yoga mat", "fitness-store.example"),
]

DEMO_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "product": {"type": "string", "description": "product name as listed"},
        "price": {"type": "number", "description": "price in the site's currency"},
        "currency": {"type": "string", "enum": ["USD", "EUR", "GBP"]},
        "rating": {"type": "number", "minimum": 0, "maximum": 5},
        "in_stock": {"type": "boolean"},
        "url": {"type": "string", "format": "uri"},
    },
    "required": ["product", "price", "currency", "in_stock"],
}

DEMO_TEMPLATE = (
    "Go to {{site}}, find the {{product}} listing and report its price, rating and stock."
)


def _demo(args: argparse.Namespace) -> int:
    import pandas as pd

    import bbnb
    from bbnb.runs import default_journal_path

    products = pd.DataFrame(DEMO_PRODUCTS[: args.n], columns=["product", "site"])
    if os.environ.get("BROWSERBASE_API_KEY"):
        client = bbnb.Client()
        print(f"bbnb demo: running {len(products)} agent tasks on Browserbase ({client.base_url}).")
        server = None
    else:
        from bbnb.emulator import EmulatorConfig, serve_in_thread

        server = serve_in_thread(EmulatorConfig.realistic(seed=args.seed, speed=args.speed))
        client = bbnb.Client(base_url=server.base_url, api_key=server.api_key)
        print(
            f"bbnb demo: results are SIMULATED by the local emulator at {server.base_url} "
            "(no BROWSERBASE_API_KEY set; set one to run on Browserbase)."
        )
    started = time.monotonic()
    try:
        batch = client.agents.run_many(
            products,
            template=DEMO_TEMPLATE,
            result_schema=DEMO_SCHEMA,
            concurrency=args.concurrency,
            progress="text",
        )
        frame = batch.to_frame()
    finally:
        client.close()
        if server is not None:
            server.stop()
    elapsed = time.monotonic() - started
    counts = {str(k): int(v) for k, v in frame["_status"].value_counts().items() if v}
    by_status = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    print(
        f"\n{len(frame)} rows x {frame.shape[1]} columns from {len(batch)} runs "
        f"({by_status}) in {elapsed:.1f} s"
    )
    data_columns = [c for c in frame.columns if not str(c).startswith("_")]
    with pd.option_context("display.width", 140, "display.max_columns", 12):
        print(frame[["_key", "_status", *data_columns]].to_string(max_rows=20))
    print("\nColumn types:", ", ".join(f"{c}={frame[c].dtype}" for c in data_columns))
    if "_conforms" in frame:
        conforming = frame["_conforms"].fillna(False).astype(bool)
        print(f"Results matching the schema: {int(conforming.sum())} of {len(frame)}")
    for item in batch.failures:
        why = item.run.cause if item.run is not None and item.run.cause else item.error
        print(f"Input {item.key!r} ended {item.status}: {why}")
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
        "demo", help="run a small batch of agent tasks and show the DataFrame"
    )
    demo.add_argument(
        "-n",
        type=int,
        default=12,
        choices=range(1, len(DEMO_PRODUCTS) + 1),
        metavar="N",
        help=f"how many tasks (1..{len(DEMO_PRODUCTS)}, default 12)",
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
