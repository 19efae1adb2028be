"""Distributed mode, measured side by side in one run (issue 8).

    python bench/distributed.py [--section streaming|workers|all] [--seconds 10]

streaming: a real Locust master with hothot's HistoryReceiver (shards + live metrics + counts)
  and one producer process that pushes synthetic records through hothot's HistoryStream as
  fast as the target rate allows. Prints records/s received and the backlog (produced - received)
  every second: a backlog that keeps growing means the master cannot keep up.
workers: `hothot run` against a null DynamoDB responder (so the target is never the limit) with
  `--workers 1` and then `--workers 2`, fast client; prints operations/s and the ratio.
Bounded: every section stops by itself after --seconds (plus start-up and final reads).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# bench/loadgen.py and bench/verdict.py would shadow the packages of the same names
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
REGIONS = ["us-east-1", "us-west-2", "eu-west-1"]


# -- streaming ------------------------------------------------------------------------------
def producer(master: str, rate: float, seconds: float) -> None:
    """Runs in its own process: a Locust worker that only streams synthetic records."""
    from gevent import monkey

    monkey.patch_all()
    from locust.env import Environment

    from hothot.worker import HistoryStream

    host, port = master.rsplit(":", 1)
    runner = Environment(user_classes=[]).create_worker_runner(host, int(port))
    stream = HistoryStream(runner, "w1")
    import gevent

    gevent.spawn(stream.pump_forever)
    t0 = time.monotonic()
    n = 0
    last: dict[str, str] = {}  # key -> last vid: realistic chains (each write saw the previous)
    while (elapsed := time.monotonic() - t0) < seconds:
        due = int(elapsed * rate)
        while n < due:
            n += 1
            key, vid = f"profile#{n % 10_000}", f"w1:{n}"
            now = time.time()
            stream({
                "id": vid, "worker": "w1", "region": REGIONS[n % 3], "workload": "profile",
                "key": key, "op": "put", "pred": last.get(key), "t_invoke": now,
                "t_complete": now, "outcome": "ok", "item_bytes": 512, "capacity": 1.0,
            })  # fmt: skip
            last[key] = vid
        time.sleep(0.005)
    stream.drain()
    runner.send_message("hothot_flushed", {"worker": "w1", "produced": stream.produced})
    time.sleep(1.0)


def streaming(seconds: float, rate: float) -> dict[str, float]:
    from gevent import monkey

    monkey.patch_all()
    from locust.env import Environment

    from hothot.distributed import HistoryReceiver, free_port
    from loadgen.metrics import LiveMetrics

    port = free_port()
    env = Environment(user_classes=[])
    runner = env.create_master_runner(master_bind_host="127.0.0.1", master_bind_port=port)
    with tempfile.TemporaryDirectory() as tmp:
        receiver = HistoryReceiver(Path(tmp), REGIONS, LiveMetrics("bench").observe)
        receiver.register(runner)
        proc = subprocess.Popen(
            [sys.executable, __file__, "--role", "producer", "--master", f"127.0.0.1:{port}",
             "--rate", str(rate), "--seconds", str(seconds)],
        )  # fmt: skip
        print(f"streaming: target {rate:,.0f} records/s for {seconds:g}s")
        backlogs, last, t_last = [], 0, time.monotonic()
        deadline = time.monotonic() + seconds + 30
        while time.monotonic() < deadline:
            time.sleep(1.0)
            tally = receiver.tallies.get("w1")
            if tally is None:
                t_last = time.monotonic()
                continue
            now = time.monotonic()
            got = tally.received
            backlog = max(0, tally.produced - tally.received)
            backlogs.append(backlog)
            print(f"  {got - last:>8,} records in {now - t_last:.2f}s   backlog {backlog:,}")
            last, t_last = got, now
            if tally.flushed:
                break
        proc.wait(timeout=30)
        receiver.close()
        runner.quit()
        total = receiver.tallies["w1"].received
    result = {
        "records": total,
        "records_per_s": total / seconds,
        "max_backlog": max(backlogs or [0]),
        "final_backlog": backlogs[-1] if backlogs else 0,
    }
    print(f"streaming: {result['records_per_s']:,.0f} records/s received; "
          f"max backlog {result['max_backlog']:,}, final {result['final_backlog']:,}")  # fmt: skip
    return result


# -- workers --------------------------------------------------------------------------------
NULL_SCRIPT = {
    "DescribeTable": {"status": 200, "body": {"Table": {
        "TableName": "hothot-bench", "TableStatus": "ACTIVE",
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}]}}},
    "*": {"status": 200, "body": {"ConsumedCapacity": {"TableName": "hothot-bench",
                                                       "CapacityUnits": 1.0}}},
}  # fmt: skip


def one_run(url: str, workers: int, seconds: float, users: int, tmp: Path) -> float:
    import yaml

    campaign = {
        "name": f"bench-w{workers}", "seed": 1, "duration": f"{seconds}s",
        "target": {"kind": "endpoints", "regions": REGIONS, "table": "hothot-bench",
                   "endpoints": dict.fromkeys(REGIONS, url), "create_table": False,
                   "settle": "0s"},
        "writers": {"per_region": users, "client": "fast"},
        "workloads": [{"kind": "profile", "weight": 1, "keys": 1000},
                      {"kind": "counter", "weight": 1, "keys": 1000}],
        "observe": {"metrics_port": None, "probe_interval": "1s"},
    }  # fmt: skip
    path = tmp / f"w{workers}.yaml"
    path.write_text(yaml.safe_dump(campaign))
    report = tmp / f"report-w{workers}"
    subprocess.run(
        [sys.executable, "-m", "hothot", "run", str(path), "--workers", str(workers),
         "--master-bind", "127.0.0.1:0", "--report-dir", str(report)],
        capture_output=True, timeout=seconds + 120, cwd=ROOT,
    )  # fmt: skip
    ops = 0
    for shard in (report / "history").glob("w*.jsonl"):
        for line in shard.open("rb"):
            if b'"op":"put"' in line or b'"op":"update"' in line:
                ops += 1
    return ops / seconds


def workers(seconds: float, users: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "null.json"
        script.write_text(json.dumps(NULL_SCRIPT))
        null = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "nullserver.py"), "--script", str(script)],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            url = json.loads(null.stdout.readline())["url"]  # type: ignore[union-attr]
            one = one_run(url, 1, seconds, users, Path(tmp))
            two = one_run(url, 2, seconds, users, Path(tmp))
        finally:
            null.terminate()
    print(f"workers: 1 worker {one:,.0f} writes/s, 2 workers {two:,.0f} writes/s, "
          f"ratio {two / one if one else float('nan'):.2f} (target >= 1.7)")  # fmt: skip
    return {"one": one, "two": two, "ratio": two / one if one else 0.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--section", choices=["streaming", "workers", "all"], default="all")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=20_000.0, help="streaming: records/s")
    parser.add_argument("--users", type=int, default=8, help="workers: users per region")
    parser.add_argument("--role", choices=["bench", "producer"], default="bench")
    parser.add_argument("--master", default="")
    args = parser.parse_args()
    args.seconds = min(max(args.seconds, 1.0), 120.0)
    if args.role == "producer":
        producer(args.master, args.rate, args.seconds)
        return
    print(f"machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}")
    if args.section in ("workers", "all"):
        workers(args.seconds, args.users)
    if args.section in ("streaming", "all"):
        streaming(args.seconds, args.rate)
    sys.stdout.flush()
    os._exit(0)  # Locust's master greenlets (zmq) would otherwise keep the process alive


if __name__ == "__main__":
    main()
