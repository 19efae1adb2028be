"""Benchmark: acknowledged PutItem/s and UpdateItem/s on the emulator with 3-region
replication, then PutItem/s on a table with one GSI and on a table with a stream while a
consumer tails another region's stream, beside the same load tool against a null HTTP
responder, as ratios in one run; then the replication backlog drain, and memory per stored item.

    python bench/emulator.py [--duration 5] [--connections 32]

Load comes from `wrk` (Debian package) with `bench/emulator_write.lua`, in another process
on the other core. Everything listens on 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from globaltable.control import ControlClient  # noqa: E402

LUA = HERE / "emulator_write.lua"


def null_responder() -> None:
    """hothot's own HTTP layer (`globaltable.httpserver`) answering `{}` to everything: the
    same stack as the emulator minus the emulator's work, so the ratio isolates that work."""
    import uvloop

    from globaltable.httpserver import listen

    def answer(method: bytes, url: bytes, headers: dict, body: bytes) -> tuple[int, bytes, bytes]:
        return 200, b"application/x-amz-json-1.0", b"{}"

    async def main() -> None:
        server = await listen("127.0.0.1", 0, answer, frozenset())
        print(server.sockets[0].getsockname()[1], flush=True)
        await asyncio.Event().wait()

    uvloop.run(main())


def start(cmd: list[str]) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    return proc, proc.stdout.readline()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk(url: str, op: str, seconds: int, connections: int) -> tuple[int, float, int]:
    """(acknowledged requests, their rate per second, non-2xx answers)."""
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-s", str(LUA), url],
        capture_output=True,
        text=True,
        env={**os.environ, "OP": op},
        check=True,
    ).stdout
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    elapsed = float(re.search(r"requests in ([\d.]+)s", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = int(bad.group(1)) if bad else 0
    return total - errors, (total - errors) / elapsed, errors


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def call(
    conn: http.client.HTTPConnection, op: str, body: dict, service: str = "DynamoDB_20120810"
) -> dict:
    conn.request("POST", "/", json.dumps(body), {"X-Amz-Target": f"{service}.{op}"})
    answer = conn.getresponse()
    payload = json.loads(answer.read())
    if answer.status != 200:
        raise RuntimeError(f"{op}: {payload}")
    return payload


#: the tables the benchmark writes: plain, with one GSI (keyed by `g`), with a stream
TABLES: dict[str, dict] = {
    "bench": {},
    "bench-gsi": {
        "AttributeDefinitions": [
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "g", "AttributeType": "S"},
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": "by_g",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    },
    "bench-stream": {
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    },
}


def create_table(url: str) -> http.client.HTTPConnection:
    """Create every table of TABLES; returns the open connection."""
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    for name, extra in TABLES.items():
        body = {
            "TableName": name,
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "BillingMode": "PAY_PER_REQUEST",
            **extra,
        }
        call(conn, "CreateTable", body)
    return conn


class StreamConsumer(threading.Thread):
    """Tails one region's stream of `bench-stream` with GetRecords (Limit 1000) while the
    writes run, as a consumer of that region would: counts the records it reads."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        host, port = url.removeprefix("http://").split(":")
        self.conn = http.client.HTTPConnection(host, int(port), timeout=30)
        self.records = 0
        self.calls = 0
        self.stop = threading.Event()

    def run(self) -> None:
        streams = "DynamoDBStreams_20120810"
        table = call(self.conn, "DescribeTable", {"TableName": "bench-stream"})["Table"]
        arn = table["LatestStreamArn"]
        shard = call(self.conn, "DescribeStream", {"StreamArn": arn}, streams)
        shard_id = shard["StreamDescription"]["Shards"][0]["ShardId"]
        body = {"StreamArn": arn, "ShardId": shard_id, "ShardIteratorType": "TRIM_HORIZON"}
        iterator = call(self.conn, "GetShardIterator", body, streams)["ShardIterator"]
        while iterator:
            page = call(
                self.conn, "GetRecords", {"ShardIterator": iterator, "Limit": 1000}, streams
            )
            self.calls += 1
            self.records += len(page["Records"])
            iterator = page.get("NextShardIterator")
            if not page["Records"]:
                if self.stop.is_set():
                    return
                time.sleep(0.005)


def emulator() -> tuple[subprocess.Popen[str], dict]:
    proc, line = start(
        [sys.executable, "-m", "hothot", "emulate", "--port", "0", "--control-port", "0"]
    )
    return proc, json.loads(line)


def memory_per_item(items: int) -> float:
    proc, banner = emulator()
    try:
        conn = create_table(banner["regions"]["us-east-1"])
        control = ControlClient(banner["control"])
        time.sleep(0.5)
        before = rss_bytes(proc.pid)
        pad = "x" * 460
        for start_at in range(0, items, 25):
            call(
                conn,
                "BatchWriteItem",
                {
                    "RequestItems": {
                        "bench": [
                            {
                                "PutRequest": {
                                    "Item": {
                                        "pk": {"S": f"k{i}"},
                                        "hh_vid": {"S": f"w:{i}"},
                                        "pad": {"S": pad},
                                    }
                                }
                            }
                            for i in range(start_at, min(items, start_at + 25))
                        ]
                    }
                },
            )
        assert control.quiesce(60)["converged"]
        return (rss_bytes(proc.pid) - before) / items
    finally:
        proc.terminate()
        proc.wait()


def print_report(
    connections: int,
    duration: int,
    null_rate: float,
    null_per_cpu: float,
    rows: list[tuple[str, float, float, int, int, bool, float]],
    consumed: tuple[int, int, bool],
    per_item: float,
    items: int,
) -> None:
    """The figures, each rate beside the null responder's (the ratio is what is compared)."""
    print(
        f"wrk -t1 -c{connections} -d{duration}s, 3 regions (us-east-1 -> 2 replicas), ~500 B items"
    )
    print(f"load average {os.getloadavg()[0]:.2f}; rates per wall-clock second and per CPU-second")
    print("of the server process (replication drain included), which is what 'one core' means")
    print(
        f"null responder      {null_rate:>10,.0f} req/s   {null_per_cpu:>10,.0f} per CPU-s  (1.00)"
    )
    for op, rate, per_cpu, errors, backlog, converged, waited in rows:
        name = {"put": "PutItem", "update": "UpdateItem", "put_gsi": "Put+1 GSI",
                "put_stream": "Put+stream"}[op]  # fmt: skip
        print(
            f"emulator {name:<10} {rate:>10,.0f} acked/s {per_cpu:>10,.0f} per CPU-s  "
            f"({rate / null_rate:.2f} of null)  errors {errors}, backlog after run {backlog}, "
            f"drained={converged} in {waited:.1f}s"
        )
    records, calls, finished = consumed
    print(
        f"stream consumer (us-west-2, replicated writes, GetRecords Limit 1000): {records:,} "
        f"records in {calls:,} calls while the Put+stream writes ran, caught up={finished}"
    )
    print(
        f"memory: {per_item:,.0f} bytes per stored item ({items:,} items of ~500 B, each held in 3 regions, RSS delta)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--items", type=int, default=100_000, help="items for the memory figure")
    parser.add_argument("--null-responder", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.null_responder:
        null_responder()
        return 0
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2
    null, port = start([sys.executable, __file__, "--null-responder"])
    proc, banner = emulator()
    try:
        region_url = banner["regions"]["us-east-1"]
        create_table(region_url).close()
        control = ControlClient(banner["control"])
        cpu_before = cpu_seconds(null.pid)
        acked, null_rate, _ = wrk(
            f"http://127.0.0.1:{port.strip()}", "put", args.duration, args.connections
        )
        null_per_cpu = acked / (cpu_seconds(null.pid) - cpu_before)
        rows = []
        consumer = StreamConsumer(banner["regions"]["us-west-2"])
        for op in ("put", "update", "put_gsi", "put_stream"):
            cpu_before = cpu_seconds(proc.pid)
            if op == "put_stream":
                consumer.start()
            acked, rate, errors = wrk(region_url, op, args.duration, args.connections)
            backlog = sum(link["backlog"] for link in control.state()["links"].values())
            started = time.monotonic()
            drained = control.quiesce(120)
            waited = time.monotonic() - started
            # CPU until the backlog is drained: every replica apply of these writes is counted
            per_cpu = acked / (cpu_seconds(proc.pid) - cpu_before)
            rows.append((op, rate, per_cpu, errors, backlog, drained["converged"], waited))
        consumer.stop.set()
        consumer.join(60)
        consumed = (consumer.records, consumer.calls, not consumer.is_alive())
    finally:
        null.terminate()
        proc.terminate()
        null.wait()
        proc.wait()
    print_report(args.connections, args.duration, null_rate, null_per_cpu, rows, consumed,
                 memory_per_item(args.items), args.items)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
