"""The long fuzz run of the emulator's wire protocol (the suite runs 5,000 requests).

    python bench/fuzz.py [--requests 100000] [--seed 1] [--connections 4]

Starts `hothot emulate` on loopback, sends seeded mutated requests of every operation
(tests/wire_fuzz.py) pipelined over a few keep-alive connections, then every HTTP framing
case, and prints the answers by status and error type, the rate, the emulator's RSS before
and after, and anything that was not DynamoDB's shape (exit 1 if there was any, or a
traceback on the emulator's stderr).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from tests.globaltable_fixtures import launch  # noqa: E402
from tests.wire_fuzz import (  # noqa: E402
    RANGED,
    TABLE,
    Tally,
    framing_cases,
    fuzz_bodies,
    send_pipelined,
    send_raw,
)


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--connections", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryFile("w+") as stderr:
        emu = launch("--replication-delay", "5ms", "--replication-jitter", "5ms", stderr=stderr)
        try:
            emu.create_table(TABLE)
            emu.create_table(RANGED, sk="N")
            url = urlsplit(emu.regions["us-east-1"])
            address = (url.hostname or "127.0.0.1", url.port or 80)
            before = rss_mib(emu.process.pid)
            share = args.requests // args.connections
            started = time.monotonic()
            with ThreadPoolExecutor(args.connections) as pool:
                tallies = list(
                    pool.map(
                        lambda n: send_pipelined(address, fuzz_bodies(args.seed * 1000 + n, share)),
                        range(args.connections),
                    )
                )
            took = time.monotonic() - started
            framing = {name: send_raw(address, data)[:12] for name, data in framing_cases()}
            emu.client("us-east-1").list_tables()  # still serving
            after = rss_mib(emu.process.pid)
        finally:
            emu.stop()
        stderr.seek(0)
        log = stderr.read()
    total = Tally()
    for tally in tallies:
        total.statuses.update(tally.statuses)
        total.errors.update(tally.errors)
        total.wrong += tally.wrong
    sent = share * args.connections
    print(f"{sent:,} mutated requests in {took:.1f}s ({sent / took:,.0f}/s), seed {args.seed}")
    print(f"statuses: {dict(total.statuses.most_common())}")
    print(f"errors: {dict(total.errors.most_common())}")
    print(f"framing: {framing}")
    print(f"emulator RSS: {before:.0f} MiB before, {after:.0f} MiB after")
    bad = [b for b in framing.values() if b.startswith(b"HTTP/1.1 5")]
    for line in total.wrong[:20]:
        print("NOT DYNAMODB'S SHAPE:", line)
    if "Traceback" in log:
        print("TRACEBACK ON THE EMULATOR'S STDERR:\n" + log[-3000:])
    return 1 if total.wrong or bad or "Traceback" in log else 0


if __name__ == "__main__":
    sys.exit(main())
