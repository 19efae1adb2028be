"""Soak benchmark: a real campaign at a steady rate for many minutes, and how the memory of
every hothot process grows with time.

Runs `hothot run campaigns/soak.yaml` (emulator target) for `--minutes`, samples the resident
memory of the runner and each of its processes (the emulator, workers) every `--every`
seconds during the load, and prints, per process, its memory at the end of warm-up and at
the end of the load and its growth per hour after warm-up (the least-squares slope over the
samples; target <= 5 %/h), then the history's size on disk per operation (target <= 60 B)
and the operations per second the run delivered. Beside the processes, `~ stored items` is the
emulator's items in DynamoDB's bytes (TableSizeBytes of the largest replica; the replicas
share each item's bytes), what the target allows to grow.

A fault makes a step, not a slope: a partition's links queue every write's image until the
heal (the emulator keeps that high-water mark). So the growth is also printed between faults
(samples inside a fault's window, or within `--settle` s of its heal, left out; one slope
fitted with its own level per stretch between faults), with each fault's step beside it.
Usage:

    python bench/soak.py [--minutes 20] [--every 60] [--warmup 5] [--workers N] [--set k=v ...]
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil
import yaml

ROOT = Path(__file__).resolve().parents[1]


def role(p: psutil.Process) -> str:
    """The runner, the emulator or a worker, by command line."""
    try:
        args = p.cmdline()
    except psutil.Error:
        return "gone"
    for name in ("emulate", "worker", "run"):
        if name in args:
            return {"emulate": "emulator", "run": "runner"}.get(name, name) + f" {p.pid}"
    return f"{Path(args[0]).name if args else '?'} {p.pid}"


def sample(root: psutil.Process) -> dict[str, int]:
    out = {}
    for p in [root, *root.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            out[role(p)] = p.memory_info().rss
    return out


class StoredItems:
    """The emulator's stored items in DynamoDB's bytes (DescribeTable's TableSizeBytes of the
    largest replica: the replicas share each item's bytes): the growth the target allows (a
    cart grows with every append)."""

    def __init__(self, table: str) -> None:
        self.table = table
        self.clients: dict[int, Any] = {}

    def __call__(self, root: psutil.Process) -> int | None:
        import boto3
        from botocore.config import Config

        emulators = [p for p in root.children(recursive=True) if role(p).startswith("emulator")]
        total = None
        for port in (c.laddr.port for p in emulators for c in _listening(p)):
            if port not in self.clients:
                self.clients[port] = boto3.client(
                    "dynamodb", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                    aws_access_key_id="soak", aws_secret_access_key="soak",
                    config=Config(retries={"max_attempts": 1}, read_timeout=10),
                )  # fmt: skip
            try:  # the control port answers 401: not a region
                size = self.clients[port].describe_table(TableName=self.table)["Table"]
            except Exception:  # noqa: BLE001
                continue
            total = max(total or 0, int(size["TableSizeBytes"]))
        return total


def _listening(p: psutil.Process) -> list[Any]:
    with contextlib.suppress(psutil.Error):
        return [c for c in p.net_connections(kind="tcp") if c.status == psutil.CONN_LISTEN]
    return []


def slope(points: list[tuple[float, int]]) -> float:
    """Least-squares bytes per second (one stretch)."""
    return (within_slope([points]) if points else None) or 0.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=20)
    ap.add_argument("--every", type=float, default=60, help="seconds between samples")
    ap.add_argument("--warmup", type=float, default=5, help="minutes not counted in growth")
    ap.add_argument("--campaign", default=str(ROOT / "campaigns" / "soak.yaml"))
    ap.add_argument("--workers", type=int, default=0)
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--settle", type=float, default=30, help="seconds after a heal left out")
    args = ap.parse_args()
    seconds = args.minutes * 60
    # the runner's stderr to a file, not a pipe: a pipe nobody reads until the end fills (64 KiB
    # of progress, ~34 minutes) and then blocks the runner, its load and its chaos timeline
    with (
        tempfile.TemporaryDirectory(prefix="hothot-soak-") as tmp,
        open(Path(tmp) / "runner.log", "w+b") as log,
    ):
        report = Path(tmp) / "report"
        cmd = [sys.executable, "-m", "hothot", "run", args.campaign, "--report-dir", str(report),
               "--set", f"duration={int(seconds)}s"]  # fmt: skip
        for s in args.set:
            cmd += ["--set", s]
        if args.workers:
            cmd += ["--workers", str(args.workers)]
        runner = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log)
        proc = psutil.Process(runner.pid)
        start, start_wall = time.monotonic(), time.time()
        series: dict[str, list[tuple[float, int]]] = {}
        stored = StoredItems(yaml.safe_load(Path(args.campaign).read_text())["target"]["table"])
        try:
            while (elapsed := time.monotonic() - start) < seconds and runner.poll() is None:
                for name, rss in sample(proc).items():
                    series.setdefault(name, []).append((elapsed, rss))
                if (size := stored(proc)) is not None:
                    series.setdefault("~ stored items", []).append((elapsed, size))
                print(f"{elapsed / 60:5.1f} min  " + "  ".join(
                    f"{n.split()[0]} {v[-1][1] / 2**20:.0f} MiB" for n, v in sorted(series.items())
                    if v[-1][0] == elapsed), flush=True)  # fmt: skip
                time.sleep(min(args.every, max(seconds - elapsed, 0.1)))
            runner.wait(timeout=seconds + 900)
        finally:
            if runner.poll() is None:
                runner.kill()
        if not (report / "verdict.json").exists():
            log.seek(0)
            sys.exit(f"hothot run exited {runner.returncode}: {log.read()[-2000:].decode()}")
        report_growth(series, args.warmup * 60)
        faults = json.loads((report / "verdict.json").read_text()).get("faults") or []
        windows = [(f["start"] - start_wall, f["heal"] - start_wall + args.settle)
                   for f in faults if f.get("start") is not None and f.get("heal") is not None]  # fmt: skip
        report_growth_between(series, args.warmup * 60, windows)
        report_history(report, seconds, runner.returncode)


def report_growth(series: dict[str, list[tuple[float, int]]], warmup: float) -> None:
    print(f"\nmemory after {warmup / 60:.0f} min of warm-up (growth: least-squares slope)")
    for name, points in sorted(series.items()):
        after = [(t, v) for t, v in points if t >= warmup]
        if len(after) < 2:
            continue
        base = after[0][1]
        per_hour = slope(after) * 3600
        print(f"  {name:18} {base / 2**20:7.0f} MiB -> {after[-1][1] / 2**20:7.0f} MiB"
              f"   {per_hour / 2**20:+8.1f} MiB/h  {100 * per_hour / base:+6.1f} %/h"
              "  (target <= 5 %/h)")  # fmt: skip


def stretches(
    points: list[tuple[float, int]], windows: list[tuple[float, float]]
) -> list[list[tuple[float, int]]]:
    """The samples outside every fault window, split wherever a window lay between two."""
    out: list[list[tuple[float, int]]] = [[]]
    for t, v in points:
        if any(a <= t <= b for a, b in windows):
            if out[-1]:
                out.append([])
            continue
        out[-1].append((t, v))
    return [s for s in out if s]


def within_slope(parts: list[list[tuple[float, int]]]) -> float | None:
    """Least squares of one slope with a level per stretch (the "within" estimator): growth
    with time, the steps between stretches left out."""
    num = den = 0.0
    for part in parts:
        mt = sum(t for t, _ in part) / len(part)
        mv = sum(v for _, v in part) / len(part)
        num += sum((t - mt) * (v - mv) for t, v in part)
        den += sum((t - mt) ** 2 for t, _ in part)
    return num / den if den else None


def report_growth_between(
    series: dict[str, list[tuple[float, int]]], warmup: float, windows: list[tuple[float, float]]
) -> None:
    shown = ", ".join(f"{a / 60:.1f}-{b / 60:.1f}" for a, b in windows)
    print(f"between faults (minutes left out: {shown or 'none'})")
    slopes: dict[str, float] = {}
    for name, points in sorted(series.items()):
        parts = stretches([(t, v) for t, v in points if t >= warmup], windows)
        per_s = within_slope(parts)
        if per_s is None or not parts:
            continue
        slopes[name] = per_s
        base = parts[0][0][1]
        steps = " ".join(
            f"{(b[0][1] - a[-1][1]) / 2**20:+.0f}" for a, b in itertools.pairwise(parts)
        )
        print(f"  {name:18} {per_s * 3600 / 2**20:+8.1f} MiB/h  {100 * per_s * 3600 / base:+6.1f} %/h"
              f"  over {sum(len(p) for p in parts)} samples in {len(parts)} stretch(es);"
              f" steps across faults, MiB: {steps or '-'}")  # fmt: skip
    # the emulator keeps each item as its bytes (`globaltable.store.Entry`): what grows
    # beyond them is its own
    stored = slopes.get("~ stored items")
    for name, per_s in slopes.items():
        if name.startswith("emulator") and stored is not None:
            base = next(v for t, v in series[name] if t >= warmup)
            beyond = (per_s - stored) * 3600
            print(f"  {name:18} {beyond / 2**20:+8.1f} MiB/h  {100 * beyond / base:+6.1f} %/h"
                  "  beyond the stored items' own growth (target <= 5 %/h)")  # fmt: skip


def report_history(report: Path, seconds: float, code: int | None) -> None:
    """The history's size per operation, and the run's own figures: its exit code (2 with
    the reasons when the verdict is untrusted, e.g. a shared machine that could not keep the
    rate), the operations delivered and the anomalies its faults made."""
    data = json.loads((report / "verdict.json").read_text())
    records = data["history"]["records"]
    size = sum(p.stat().st_size for p in (report / "history").iterdir())
    print(f"history: {records:,} records, {size / 2**20:.1f} MiB on disk, {size / records:.1f} B/op"
          f" (target <= 60); {records / seconds:,.0f} operations/s delivered; verdict"
          f" {data['analysis_s']:.1f}s, {data['history']['buckets']} bucket(s)")  # fmt: skip
    totals = data.get("totals", {})
    print(
        f"run: exit {code}; {len(data.get('faults', []))} faults; "
        + ", ".join(f"{k} {v:,}" for k, v in totals.items() if isinstance(v, int))
    )
    for reason in data.get("untrusted") or []:
        print(f"  untrusted: {reason}")


if __name__ == "__main__":
    main()
