"""The emulator's memory under abandoned uploads and connection churn (issue 16, case 3).

    python bench/http_memory.py [--uploads 4] [--upload-mib 128] [--partial-mib 12]
                                [--partials 10] [--churn 1500]

Starts `hothot emulate` on loopback and reads its RSS (/proc, Linux) after each phase:
`--uploads` clients announce `--upload-mib` bodies (above the 16 MiB cap they get the 413),
send them and go away; `--partials` clients announce 15 MiB, send `--partial-mib` of it and
go away mid-body; `--churn` connections send one ListTables each. It prints RSS before, after
each phase and a second later; growth that stays means the server keeps what its clients
dropped. Run from another checkout's directory to measure that code (`-m hothot` imports from
the working directory first).
"""

from __future__ import annotations

import argparse
import socket
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from tests.globaltable_fixtures import launch  # noqa: E402

MIB = 1024 * 1024


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc")


def head(length: int, target: str = "PutItem") -> bytes:
    return (
        f"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: DynamoDB_20120810.{target}\r\n"
        f"Content-Type: application/x-amz-json-1.0\r\nContent-Length: {length}\r\n\r\n"
    ).encode()


def abandon(address: tuple[str, int], announced: int, sent: int) -> None:
    """Announce `announced` bytes, send `sent` of them, close (errors: the server cut us off)."""
    block = b"x" * MIB
    try:
        with socket.create_connection(address, timeout=30) as sock:
            sock.sendall(head(announced))
            for _ in range(sent // MIB):
                sock.sendall(block)
            time.sleep(0.05)
    except OSError:
        pass


def churn(address: tuple[str, int], count: int) -> None:
    for _ in range(count):
        with socket.create_connection(address, timeout=10) as sock:
            sock.sendall(head(2, "ListTables") + b"{}")
            sock.recv(65536)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--uploads", type=int, default=4)
    parser.add_argument("--upload-mib", type=int, default=128)
    parser.add_argument("--partials", type=int, default=10)
    parser.add_argument("--partial-mib", type=int, default=12)
    parser.add_argument("--churn", type=int, default=1500)
    args = parser.parse_args()
    emu = launch("--replication-delay", "10ms", "--replication-jitter", "0ms")
    try:
        pid = emu.process.pid
        host, port = emu.regions["us-east-1"].removeprefix("http://").split(":")
        address = (host, int(port))
        churn(address, 10)
        figures = [("start", rss_mib(pid))]
        for _ in range(args.uploads):
            abandon(address, args.upload_mib * MIB, args.upload_mib * MIB)
        figures.append((f"{args.uploads} x {args.upload_mib} MiB uploads", rss_mib(pid)))
        for _ in range(args.partials):
            abandon(address, 15 * MIB, args.partial_mib * MIB)
        figures.append((f"{args.partials} x {args.partial_mib} MiB abandoned", rss_mib(pid)))
        churn(address, args.churn)
        figures.append((f"{args.churn} connections", rss_mib(pid)))
        time.sleep(1.0)
        figures.append(("1 s later", rss_mib(pid)))
    finally:
        emu.stop()
    start = figures[0][1]
    for name, rss in figures:
        print(f"{name:>32}: RSS {rss:6.0f} MiB ({rss - start:+.0f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
