"""Benchmark of the verdict on a synthetic history (1,000,000 operations over 100,000 keys by
default; `--ops 20000000` for the soak-sized one).

Prints the time merely to parse the shards (read + orjson per line, one process: the
baseline) and the full analysis (reports included; a history over 256 MB is judged in key
buckets by every core), interleaved so both see the same moments of a shared machine (three
of each below 2M operations, best of each), in wall-clock seconds and in CPU seconds (the
analysing process and its workers); their ratios (target <= 2 at 1M, wall clock on 2
cores); the native scanner alone; below 2M operations the same analysis with the per-record
reader only (HOTHOT_NATIVE=0, as without a C compiler); the shards' size per operation; and
the analysis's peak memory per operation: the largest sum of the resident memory of the
analysing process and its workers, sampled every 50 ms, over what the process held before
(targets: <= 300 B/op at 1M, <= 100 B/op at 20M). Usage:

    python bench/verdict.py [--ops 1000000] [--keys OPS/10] [--jobs N] [--zstd] [--compare]
"""

from __future__ import annotations

import argparse
import itertools
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO

import orjson
import zstandard

# this file is named like the package it measures: import the package, not this script
sys.path[0] = str(Path(__file__).resolve().parents[1])
from verdict.history import HISTORY_DIR, ZSTD_LEVEL, header  # noqa: E402

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
    final_reads(files, seq, latest, t)
    for w, f in files.items():
        f.write(dumps({"end": True, "records": seq[w]}) + b"\n")
        f.close()
    return ops


def final_reads(
    files: dict[str, IO[bytes]], seq: dict[str, int], latest: list[str | None], t: float
) -> None:
    """The run's end: every key read once in every region (by that region's first worker)."""
    for k, vid in enumerate(latest):
        for r in REGIONS:
            worker = f"{r}-0"
            seq[worker] += 1
            rec = {
                "id": f"{worker}:{seq[worker]}", "worker": worker, "region": r,
                "workload": "profile", "key": f"profile#{k}", "op": "get", "vid": vid,
                "final": True, "t_invoke": t, "t_complete": t, "outcome": "ok",
            }  # fmt: skip
            files[worker].write(orjson.dumps(rec) + b"\n")


def compress(root: Path, lines_per_frame: int = 2500) -> None:
    """Each shard as the recorder writes it: zstd frames of a flush's lines (at 5,000
    operations/s, a flush every 0.5 s holds 2,500)."""
    frame = zstandard.ZstdCompressor(level=ZSTD_LEVEL).compress
    for path in sorted((root / HISTORY_DIR).glob("*.jsonl")):
        with path.open("rb") as src, (path.parent / (path.name + ".zst")).open("wb") as out:
            while chunk := list(itertools.islice(src, lines_per_frame)):
                out.write(frame(b"".join(chunk)))
        path.unlink()


CHILD = """
import resource, sys, threading, time
from pathlib import Path
import psutil
sys.path.append(sys.argv[2])
from verdict.analyze import analyze
from bench_parse import native_scan, parse_only
root, repeat, jobs = Path(sys.argv[1]), int(sys.argv[3]), int(sys.argv[4]) or None
compare, bucket_bytes = sys.argv[5] == "1", int(sys.argv[6])
options = {"jobs": jobs} if jobs else {}  # older trees know neither
if bucket_bytes:
    options["bucket_bytes"] = bucket_bytes
me = psutil.Process()

def tree_rss():
    total = 0
    for p in [me, *me.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total

def cpu():
    own, kids = (resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime

scan = min(native_scan(root) for _ in range(min(repeat, 2)))
parses, walls, cpus, peak = [], [], [], 0
for i in range(repeat):  # interleaved, so both see the same moments of a shared machine
    t = time.perf_counter()
    parses.append((parse_only(root), time.perf_counter() - t))
    base, high, done = tree_rss(), [0], threading.Event()
    def sample():
        while not done.wait(0.05):
            high[0] = max(high[0], tree_rss())
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    t, c = time.perf_counter(), cpu()
    v = analyze(root, **options)
    walls.append(time.perf_counter() - t)
    # workers forked by a server process are not this one's children: the verdict counts them
    cpus.append(v.data.get("analysis_cpu_s", cpu() - c))
    done.set()
    sampler.join()
    peak = max(peak, max(high[0], tree_rss()) - base)
h, tot = dict(v.data["history"]), v.data["totals"]
if compare:  # the same history judged in memory, in this process: the same verdict.json?
    whole = analyze(root, jobs=1, bucket_bytes=1 << 62, write=False).data
    for data in (whole, v.data):
        data.pop("analysis_s")
        data.pop("analysis_cpu_s", None)
        data["history"].pop("buckets")
        data["history"].pop("reader_refusals")
    print("in memory: the same verdict.json" if whole == v.data else "in memory: DIFFERENT",
          file=sys.stderr)
print(min(p[0] for p in parses), min(p[1] for p in parses), scan, min(cpus), min(walls), peak,
      tot["lost_updates"], tot["conflicts"], h["reader"], h.get("buckets", 1))
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
    ap.add_argument("--keys", type=int, default=0, help="default: one per 10 operations")
    ap.add_argument("--jobs", type=int, default=0, help="analysis processes (default: cores)")
    ap.add_argument("--zstd", action="store_true", help="shards compressed, as hothot writes them")
    ap.add_argument("--bucket-bytes", type=int, default=0, help="default: verdict's (256 MB)")
    ap.add_argument("--compare", action="store_true",
                    help="also judge the history in memory and compare the verdicts")  # fmt: skip
    args = ap.parse_args()
    keys = args.keys or max(args.ops // 10, 1)
    small = args.ops <= 2_000_000
    with tempfile.TemporaryDirectory(prefix="hothot-bench-") as tmp:
        root = Path(tmp)
        t = time.perf_counter()
        n = generate(root, args.ops, keys)
        if args.zstd:
            compress(root)
        size = sum(p.stat().st_size for p in (root / HISTORY_DIR).iterdir())
        print(f"generated {n:,} operations over {keys:,} keys in {time.perf_counter() - t:.1f}s"
              f" ({size / 2**20:.0f} MiB of shards, {size / n:.0f} B/op)")  # fmt: skip
        here = str(Path(__file__).resolve().parent)
        child = [sys.executable, "-c", CHILD, tmp, here, str(3 if small else 1), str(args.jobs),
                 str(int(args.compare)), str(args.bucket_bytes)]  # fmt: skip
        done = subprocess.run(child, capture_output=True, text=True, check=True)
        out = done.stdout.split()
        parse_cpu, parse_wall, scan, cpu, wall, peak = map(float, out[:6])
        lost, conflicts, reader, buckets = out[6:]
        print(
            f"parse only:   {parse_wall:.2f}s wall, {parse_cpu:.2f}s CPU  (orjson.loads per line)"
        )
        print(f"native scan:  {scan:.2f}s CPU  (verdict._scan alone: parsed, checked, interned)")
        print(f"analysis:     {wall:.2f}s wall, {cpu:.2f}s CPU  (lost updates {lost}, conflicts"
              f" {conflicts}; read by the {reader} reader, {buckets} bucket(s))")  # fmt: skip
        if small:
            py = subprocess.run([sys.executable, "-c", PYTHON_READERS, tmp], capture_output=True,
                                text=True, check=True).stdout.split()  # fmt: skip
            print(f"records reader: {float(py[0]):.2f}s CPU  (ratio {float(py[0]) / parse_cpu:.2f}:"
                  f" the same analysis with HOTHOT_NATIVE=0, read by the {py[1]} reader;"
                  f" lost updates {py[2]})")  # fmt: skip
        print(f"ratio:        {wall / parse_wall:.2f} wall, {cpu / parse_cpu:.2f} CPU"
              "  (target <= 2 at 1M ops, wall clock)")  # fmt: skip
        print(f"peak memory:  {peak / n:.0f} bytes/operation  (peak RSS of the analysis and its"
              f" workers over the process's own before: {peak / 2**20:.0f} MiB; targets <= 300"
              " at 1M, <= 100 at 20M)")  # fmt: skip
        if args.compare:
            print(done.stderr.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
