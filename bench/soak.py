"""Soak benchmark: a real campaign at a steady rate for many minutes, and how the memory of
every hothot process grows with time.

Runs `hothot run campaigns/soak.yaml` (emulator target) for `--minutes`, samples the resident
memory of the runner and each of its processes (the emulator, workers) every `--every`
seconds during the load, and prints, per process, its memory at the end of warm-up and at
the end of the load and its growth per hour after warm-up (the least-squares slope over the
samples; target <= 5 %/h), then the history's size on disk per operation (target <= 60 B)
and the operations per second the run delivered. Usage:

    python bench/soak.py [--minutes 20] [--every 60] [--warmup 5] [--workers N] [--set k=v ...]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

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


def slope(points: list[tuple[float, int]]) -> float:
    """Least-squares bytes per second."""
    n = len(points)
    if n < 2:
        return 0.0
    mt = sum(t for t, _ in points) / n
    mv = sum(v for _, v in points) / n
    var = sum((t - mt) ** 2 for t, _ in points)
    return sum((t - mt) * (v - mv) for t, v in points) / var if var else 0.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=20)
    ap.add_argument("--every", type=float, default=60, help="seconds between samples")
    ap.add_argument("--warmup", type=float, default=5, help="minutes not counted in growth")
    ap.add_argument("--campaign", default=str(ROOT / "campaigns" / "soak.yaml"))
    ap.add_argument("--workers", type=int, default=0)
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    args = ap.parse_args()
    seconds = args.minutes * 60
    with tempfile.TemporaryDirectory(prefix="hothot-soak-") as tmp:
        report = Path(tmp) / "report"
        cmd = [sys.executable, "-m", "hothot", "run", args.campaign, "--report-dir", str(report),
               "--set", f"duration={int(seconds)}s"]  # fmt: skip
        for s in args.set:
            cmd += ["--set", s]
        if args.workers:
            cmd += ["--workers", str(args.workers)]
        runner = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        proc = psutil.Process(runner.pid)
        start = time.monotonic()
        series: dict[str, list[tuple[float, int]]] = {}
        try:
            while (elapsed := time.monotonic() - start) < seconds and runner.poll() is None:
                for name, rss in sample(proc).items():
                    series.setdefault(name, []).append((elapsed, rss))
                print(f"{elapsed / 60:5.1f} min  " + "  ".join(
                    f"{n.split()[0]} {v[-1][1] / 2**20:.0f} MiB" for n, v in sorted(series.items())
                    if v[-1][0] == elapsed), flush=True)  # fmt: skip
                time.sleep(min(args.every, max(seconds - elapsed, 0.1)))
            err = runner.communicate(timeout=seconds + 900)[1]
        finally:
            if runner.poll() is None:
                runner.kill()
        if not (report / "verdict.json").exists():
            sys.exit(f"hothot run exited {runner.returncode}: {err.decode()[-2000:]}")
        report_growth(series, args.warmup * 60)
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
