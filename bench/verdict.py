"""Benchmark of the verdict: a synthetic 1,000,000-operation history over 100,000 keys.

Prints, in CPU seconds (the machine is shared): the time merely to parse the shards (read +
orjson per line: the baseline) and the full analysis, three of each interleaved so both see
the same moments, best of each; their ratio (target <= 2); the native scanner alone; the same
analysis with the per-record reader only (HOTHOT_NATIVE=0, another process, as on a machine
without a C compiler); and the analysis's peak memory per operation (target <= 300 bytes),
the growth of max RSS over the first analysis in a fresh subprocess. Usage:

    python bench/verdict.py [--ops 1000000] [--keys 100000]
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

# this file is named like the package it measures: import the package, not this script
sys.path[0] = str(Path(__file__).resolve().parents[1])
from verdict.history import HISTORY_DIR, header  # noqa: E402

REGIONS = ("us-east-1", "us-west-2", "eu-west-1")
WORKERS_PER_REGION = 3


def generate(root: Path, ops: int, keys: int, seed: int = 7) -> int:
    """Writes shards: ~70% writes / 30% reads over `keys` keys, then a final read of every
    key in every region. A write sees a stale version 10% of the time (a conflict)."""
    rnd = random.Random(seed)
    hist = root / HISTORY_DIR
    hist.mkdir(parents=True)
    workers = [f"{r}-{i}" for r in REGIONS for i in range(WORKERS_PER_REGION)]
    files = {w: (hist / f"{w}.jsonl").open("wb") for w in workers}
    seq = dict.fromkeys(workers, 0)
    latest: list[str | None] = [None] * keys
    previous: list[str | None] = [None] * keys
    body = ops - keys * len(REGIONS)
    t = 1_700_000_000.0
    dumps = orjson.dumps
    for w in workers:
        files[w].write(header(w, t))
    for _ in range(body):
        worker = workers[rnd.randrange(len(workers))]
        region = worker.rsplit("-", 1)[0]
        seq[worker] += 1
        rid = f"{worker}:{seq[worker]}"
        k = rnd.randrange(keys)
        t += 0.0002
        rec = {
            "id": rid,
            "worker": worker,
            "region": region,
            "workload": "profile",
            "key": f"profile#{k}",
        }
        if rnd.random() < 0.7:
            pred = previous[k] if rnd.random() < 0.1 and previous[k] else latest[k]
            rec |= {"op": "put", "vid": rid, "pred": pred}
            if pred == latest[k]:
                previous[k], latest[k] = latest[k], rid
        else:
            rec |= {"op": "get", "vid": latest[k]}
        rec |= {"t_invoke": t, "t_complete": t + 0.004, "outcome": "ok"}
        files[worker].write(dumps(rec) + b"\n")
    for k in range(keys):
        for r in REGIONS:
            worker = f"{r}-0"
            seq[worker] += 1
            rid = f"{worker}:{seq[worker]}"
            rec = {
                "id": rid,
                "worker": worker,
                "region": r,
                "workload": "profile",
                "key": f"profile#{k}",
            }
            rec |= {
                "op": "get",
                "vid": latest[k],
                "final": True,
                "t_invoke": t,
                "t_complete": t,
                "outcome": "ok",
            }
            files[worker].write(dumps(rec) + b"\n")
    for w, f in files.items():
        f.write(dumps({"end": True, "records": seq[w]}) + b"\n")
        f.close()
    return ops


CHILD = """
import resource, sys, time
from pathlib import Path
sys.path.append(sys.argv[2])
from verdict.analyze import analyze
from bench_parse import native_scan, parse_only
root = Path(sys.argv[1])
scan = min(native_scan(root) for _ in range(2))
parses, tooks = [], []
for i in range(3):  # interleaved, so both see the same moments of a shared machine
    parses.append(parse_only(root))
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t = time.process_time()
    v = analyze(root)
    tooks.append(time.process_time() - t)
    if i == 0:  # a high-water mark: only the first analysis can raise it
        grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) * 1024
print(min(parses), scan, min(tooks), grown, v.data["totals"]["lost_updates"], v.data["totals"]["conflicts"], v.data["history"]["reader"])
"""

#: the same analysis with the per-record reader only (as on a machine without a C compiler)
PYTHON_READERS = """
import os, sys, time
from pathlib import Path
os.environ["HOTHOT_NATIVE"] = "0"
from verdict.analyze import analyze
t = time.process_time()
v = analyze(Path(sys.argv[1]))
print(time.process_time() - t, v.data["history"]["reader"], v.data["totals"]["lost_updates"])
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ops", type=int, default=1_000_000)
    ap.add_argument("--keys", type=int, default=100_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="hothot-bench-") as tmp:
        root = Path(tmp)
        t = time.perf_counter()
        n = generate(root, args.ops, args.keys)
        print(
            f"generated {n:,} operations over {args.keys:,} keys in {time.perf_counter() - t:.1f}s"
        )
        here = str(Path(__file__).resolve().parent)
        child = [sys.executable, "-c", CHILD, tmp, here]
        out = subprocess.run(child, capture_output=True, text=True, check=True)
        parse_s, scan_s, took, grown, lost, conflicts, reader = out.stdout.split()
        py = subprocess.run([sys.executable, "-c", PYTHON_READERS, tmp], capture_output=True,
                            text=True, check=True).stdout.split()  # fmt: skip
        parse, scan, took_s = float(parse_s), float(scan_s), float(took)
        grown_b = float(grown)
        print(f"parse only:   {parse:.2f}s  (orjson.loads per line; best of three)")
        print(f"native scan:  {scan:.2f}s  (verdict._scan alone: parsed, checked, interned)")
        print(
            f"analysis:     {took_s:.2f}s  (best of three; lost updates {lost}, conflicts {conflicts}; read by the {reader} reader)"
        )
        print(
            f"records reader: {float(py[0]):.2f}s  (ratio {float(py[0]) / parse:.2f}: the same analysis"
            f" with HOTHOT_NATIVE=0, read by the {py[1]} reader; lost updates {py[2]})"
        )
        print(f"ratio:        {took_s / parse:.2f}  (target <= 2)")
        print(
            f"peak memory:  {grown_b / n:.0f} bytes/operation  (target <= 300; max RSS growth {grown_b / 2**20:.0f} MiB)"
        )


if __name__ == "__main__":
    main()
