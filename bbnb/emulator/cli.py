"""``bbnb emulator``: serve a local Browserbase on 127.0.0.1 from the command line.

The lead wires ``configure_parser`` and ``run`` into ``bbnb/cli.py``;
``python -m bbnb.emulator`` runs the same thing on its own.
"""

from __future__ import annotations

import argparse
import ipaddress
import signal
import sys
import threading
from collections.abc import Sequence
from typing import Any, TextIO

from bbnb.emulator.browsers import INSTALL_HINT
from bbnb.emulator.config import DEFAULT_API_KEY, EmulatorConfig
from bbnb.emulator.server import RunningEmulator, serve_in_thread

__all__ = ["build_config", "configure_parser", "main", "run"]


def _rate(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be a share between 0 and 1, got {text}")
    return value


def _positive(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def _limit(text: str) -> int | None:
    if text.lower() in ("none", "off", "0"):
        return None
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, or 'none' for no limit, got {text}")
    return value


def configure_parser(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the emulator's options to ``parser`` (a sub-command parser or a fresh one)."""
    parser.add_argument(
        "--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)"
    )
    parser.add_argument(
        "--port", type=int, default=8088, help="port (default 8088; 0 = any free port)"
    )
    parser.add_argument(
        "--db", default=None, metavar="PATH", help="keep everything in this SQLite file"
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed for all simulated data (default 0)"
    )
    parser.add_argument(
        "--speed", type=_positive, default=1.0, help="run simulated durations X times faster"
    )
    parser.add_argument("--api-key", default=DEFAULT_API_KEY, help="the key clients must send")
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a --host other than loopback (the emulator has no real security)",
    )
    real = parser.add_argument_group("real browsers")
    real.add_argument(
        "--browsers",
        choices=("real", "simulated", "auto"),
        default="auto",
        help="a real headless Chromium behind each session (auto: when one is installed)",
    )
    real.add_argument(
        "--max-browsers",
        type=_limit,
        default=None,
        metavar="N",
        help="concurrent real browsers (default: from this machine's cores and memory)",
    )
    real.add_argument(
        "--warm-browsers",
        type=int,
        default=1,
        metavar="N",
        help="browsers kept launched ahead so a create does not wait (default 1)",
    )
    real.add_argument(
        "--open-web",
        action="store_true",
        help="let the agent and built-in functions open any page, the internet included "
        "(default: only the local web, *.bbnb.test, and 127.0.0.1)",
    )
    limits = parser.add_argument_group("limits (Developer plan defaults)")
    limits.add_argument(
        "--max-concurrent",
        type=_limit,
        default=25,
        metavar="N",
        help="concurrent sessions, or 'none'",
    )
    limits.add_argument(
        "--per-minute",
        type=_limit,
        default=25,
        metavar="N",
        help="session creations per minute, or 'none'",
    )
    limits.add_argument(
        "--retry-after", type=float, default=None, metavar="S", help="send retry-after: S on 429s"
    )
    sim = parser.add_argument_group("simulated agents")
    sim.add_argument(
        "--failure-rate", type=_rate, default=0.03, help="share of runs that FAIL (default 0.03)"
    )
    sim.add_argument(
        "--timeout-rate",
        type=_rate,
        default=0.02,
        help="share of runs that TIME OUT (default 0.02)",
    )
    sim.add_argument(
        "--partial-rate",
        type=_rate,
        default=0.10,
        help="share of results that only partly conform (default 0.10)",
    )
    faults = parser.add_argument_group("faults for testing clients")
    faults.add_argument(
        "--fault-5xx", type=_rate, default=0.0, help="share of requests answered 500/502/503"
    )
    faults.add_argument(
        "--fault-slow", type=_rate, default=0.0, help="share of requests answered slowly"
    )
    faults.add_argument(
        "--fault-drop", type=_rate, default=0.0, help="share of connections dropped after handling"
    )
    faults.add_argument(
        "--slow-seconds", type=float, default=2.0, help="delay of a slow answer (default 2)"
    )
    parser.set_defaults(handler=run)
    return parser


def build_config(args: argparse.Namespace) -> EmulatorConfig:
    """The ``EmulatorConfig`` the parsed options describe."""
    return EmulatorConfig.realistic(
        seed=args.seed,
        speed=args.speed,
        api_key=args.api_key,
        db_path=args.db,
        max_concurrent_sessions=args.max_concurrent,
        sessions_per_minute=args.per_minute,
        retry_after=args.retry_after,
        run_failure_rate=args.failure_rate,
        run_timeout_rate=args.timeout_rate,
        partial_result_rate=args.partial_rate,
        fault_5xx_rate=args.fault_5xx,
        fault_slow_rate=args.fault_slow,
        fault_drop_rate=args.fault_drop,
        slow_seconds=args.slow_seconds,
        browsers=args.browsers,
        max_browsers=args.max_browsers,
        warm_browsers=args.warm_browsers,
        open_web=args.open_web,
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def run(
    args: argparse.Namespace, *, out: TextIO | None = None, stop: threading.Event | None = None
) -> int:
    """Serve until Ctrl-C (or until ``stop`` is set); returns the exit code."""
    out = out or sys.stdout
    if not _is_loopback(args.host) and not args.allow_remote:
        print(
            f"bbnb emulator: refusing to listen on {args.host}: it is not a loopback address. "
            "Use --host 127.0.0.1, or add --allow-remote if you really mean it.",
            file=sys.stderr,
        )
        return 2
    try:
        config = build_config(args)
        server = serve_in_thread(config, host=args.host, port=args.port)
    except (ValueError, RuntimeError, OSError) as exc:
        print(f"bbnb emulator: could not start: {exc}", file=sys.stderr)
        return 1
    _banner(server.base_url, server, out)
    waiter = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda signum, frame: waiter.set())
    try:
        while server.running and not waiter.wait(0.25):
            pass
    except KeyboardInterrupt:
        print("bbnb emulator: stopping", file=out)
    finally:
        server.stop()
    return 0


def _banner(base_url: str, server: RunningEmulator, out: TextIO) -> None:
    config = server.emulator.config
    browsers = server.emulator.live.browsers
    if browsers.real:
        kind = (
            f"  real browsers: a headless Chromium ({browsers.executable}) behind each "
            f"session, up to {browsers.max_browsers} at once; agents are simulated"
        )
    elif config.browsers == "simulated":
        kind = "  simulated: sessions have no real browser (--browsers simulated)"
    else:
        kind = "  simulated: " + INSTALL_HINT.replace("\n", "\n    ")
    lines: list[Any] = [
        f"bbnb emulator listening on {base_url}",
        f"  BROWSERBASE_BASE_URL={base_url}",
        f"  BROWSERBASE_API_KEY={config.api_key}",
        kind,
        "  the agent and built-ins open any page (--open-web)"
        if config.open_web
        else f"  the agent and built-ins open the local web ({base_url}/web/) and 127.0.0.1; "
        "--open-web for any page",
        f"  seed={config.seed} speed={config.speed:g} storage={config.db_path or 'memory'}",
        "  press Ctrl-C to stop",
    ]
    print("\n".join(lines), file=out, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m bbnb.emulator``."""
    parser = configure_parser(
        argparse.ArgumentParser(
            prog="bbnb emulator", description="A local Browserbase API emulator."
        )
    )
    return run(parser.parse_args(argv))
