"""`hothot emulate`: serve the embedded global table (see docs/emulator.md)."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from typing import IO

from globaltable.faults import MAX_DELAY_S
from units import parse_duration

#: the TTL sweeper runs at least once a day
MAX_SWEEP_INTERVAL_S = 86_400.0


def _regions(text: str) -> list[str]:
    regions = [r.strip() for r in text.split(",") if r.strip()]
    if not regions:
        raise argparse.ArgumentTypeError(f"expected regions like us-east-1,eu-west-1, got {text!r}")
    if len(set(regions)) != len(regions):
        raise argparse.ArgumentTypeError(f"regions must be distinct, got {text!r}")
    return regions


def _duration(text: str, most: float = MAX_DELAY_S) -> float:
    """A delay, jitter or interval within the control API's bounds (docs/emulator.md)."""
    try:
        seconds = parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if not 0 <= seconds <= most:
        raise argparse.ArgumentTypeError(f"{text!r} is outside 0..{most:g}s")
    return seconds


def _sweep_interval(text: str) -> float:
    return _duration(text, MAX_SWEEP_INTERVAL_S)


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--regions",
        type=_regions,
        default=None,
        help="comma-separated (default us-east-1,us-west-2,eu-west-1)",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port",
        type=int,
        default=8000,
        help="first region's port; region i gets port+i; 0 = free ports",
    )
    parser.add_argument(
        "--control-port",
        type=int,
        default=7999,
        help="control API and /metrics port; 0 = a free port",
    )
    parser.add_argument(
        "--mode",
        choices=("eventual", "strong"),
        default="eventual",
        help="MREC (eventual) or MRSC (strong, exactly 3 regions)",
    )
    parser.add_argument(
        "--replication-delay",
        type=_duration,
        default=None,
        help="mean replication delay per link (default 800ms; strong: 30ms round trip)",
    )
    parser.add_argument(
        "--replication-jitter",
        type=_duration,
        default=None,
        help="uniform jitter around the delay (default 400ms; strong: 10ms)",
    )
    parser.add_argument("--seed", type=int, default=None, help="seed of the jitter draws")
    parser.add_argument(
        "--control-token",
        default=None,
        help="shared token every control-API call must send (Authorization: Bearer); default "
        "$HOTHOT_CONTROL_TOKEN; required when --host is not a loopback address. Prefer the "
        "environment variable: a command line is visible to every user of the machine",
    )
    parser.add_argument(
        "--ttl-sweep-interval",
        type=_sweep_interval,
        default=1.0,
        help="how often expired items are deleted (default 1s; 0: only on POST /ttl/sweep)",
    )
    parser.add_argument(
        "--stop-when-stdin-closes",
        action="store_true",
        help="stop once stdin reaches end of file: `hothot run` holds the pipe, so the emulator "
        "it starts dies with it however it dies (SIGKILL included)",
    )
    parser.set_defaults(func=run)


#: how long an orphaned emulator has to stop on SIGTERM before it exits outright
ORPHAN_GRACE_S = 5.0


def _stop_at_eof(stream: IO[bytes]) -> None:
    while stream.read(4096):
        pass
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(ORPHAN_GRACE_S)
    os._exit(1)


def run(args: argparse.Namespace) -> int:
    from globaltable.control import TOKEN_ENV
    from globaltable.server import DEFAULT_REGIONS, ServeOptions, serve

    regions = args.regions or list(DEFAULT_REGIONS)
    if args.mode == "strong" and len(regions) != 3:
        print(
            f"hothot emulate: --mode strong needs exactly 3 regions, got {len(regions)}: {','.join(regions)}",
            file=sys.stderr,
        )
        return 2
    for name, port in (("--port", args.port), ("--control-port", args.control_port)):
        if not 0 <= port <= 65535:
            print(f"hothot emulate: {name} must be in 0..65535, got {port}", file=sys.stderr)
            return 2
    if args.stop_when_stdin_closes:
        threading.Thread(target=_stop_at_eof, args=(sys.stdin.buffer,), daemon=True).start()
    options = ServeOptions(
        regions=regions,
        host=args.host,
        port=args.port,
        control_port=args.control_port,
        mode=args.mode,
        delay_s=args.replication_delay,
        jitter_s=args.replication_jitter,
        seed=args.seed,
        control_token=args.control_token or os.environ.get(TOKEN_ENV) or None,
        ttl_sweep_s=args.ttl_sweep_interval,
    )
    return serve(options)
