"""Run the timing-sensitive test modules again and again under CPU-burning processes and count
the failures: a timing margin that a busy machine can eat shows up here, not in CI.

    python scripts/flakes.py [--runs 20] [--burners 2] [--lock FILE] [MODULE ...]
    python scripts/flakes.py --runs 20 --burners 2   # as measured in docs/performance.md

Each round starts `--burners` processes spinning on a core, runs every module once in its own
`python -m pytest` (in order), then stops them. With `--lock FILE` each round holds an
exclusive flock on FILE, so other suites on a shared machine run between rounds instead of
against this one. Output of failed runs goes to `--log-dir`. Exit status 1 if any run failed.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: modules whose tests wait on time: delays, schedules, scrapes, races between writers
TIMING_MODULES = [
    "tests/test_loadgen_metrics_scrape.py",
    "tests/test_loadgen_probes.py",
    "tests/test_globaltable_mrsc.py",
    "tests/test_chaos_effects.py",
    "tests/test_chaos_overlaps.py",
    "tests/test_loadgen_recorder.py",
    "tests/test_chaos_timeline.py",
    "tests/test_globaltable_scenarios.py",
    "tests/test_observe_campaign.py",
    "tests/test_loadgen_client_lww.py",
    "tests/test_chaos_windows.py",
]


@contextlib.contextmanager
def burning(count: int) -> Iterator[None]:
    """`count` processes spinning in a loop (one core each) for the duration of the block."""
    burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]
    try:
        yield
    finally:
        for proc in burners:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def holding(lock: Path | None) -> Iterator[None]:
    if lock is None:
        yield
        return
    with lock.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def run_module(module: str, log_dir: Path, tag: str) -> tuple[bool, float]:
    """One `pytest` run of `module`: (passed, seconds). A failed run's output is kept."""
    began = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", module],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    seconds = time.monotonic() - began
    if done.returncode != 0:
        log = log_dir / f"{Path(module).stem}-{tag}.log"
        log.write_text(done.stdout + done.stderr)
    return done.returncode == 0, seconds


def report(results: dict[str, list[tuple[bool, float]]], burners: int) -> int:
    """Print one line per module and the total; the number of failed runs."""
    print(f"\n{'module':45} {'runs':>4} {'failed':>6} {'median s':>8} {'max s':>6}")
    failed_total = 0
    for module, runs in results.items():
        failed = sum(not ok for ok, _ in runs)
        failed_total += failed
        seconds = [s for _, s in runs]
        print(
            f"{Path(module).name:45} {len(runs):4d} {failed:6d} "
            f"{statistics.median(seconds):8.1f} {max(seconds):6.1f}"
        )
    total = sum(len(r) for r in results.values())
    print(f"flakes: {failed_total} of {total} module runs under {burners} CPU burners")
    return failed_total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", default=TIMING_MODULES)
    parser.add_argument("--runs", type=int, default=20, help="rounds (default 20)")
    parser.add_argument("--burners", type=int, default=2, help="spinning processes (default 2)")
    parser.add_argument("--lock", type=Path, help="flock this file during each round")
    parser.add_argument("--log-dir", type=Path, default=Path("flakes-logs"))
    args = parser.parse_args(argv)
    if args.runs < 1 or args.burners < 0:
        parser.error("--runs must be >= 1 and --burners >= 0")
    missing = [m for m in args.modules if not (ROOT / m).is_file()]
    if missing:
        parser.error(f"no such test module: {', '.join(missing)}")
    args.log_dir.mkdir(parents=True, exist_ok=True)
    results: dict[str, list[tuple[bool, float]]] = {m: [] for m in args.modules}
    for round_no in range(1, args.runs + 1):
        with holding(args.lock), burning(args.burners):
            for module in args.modules:
                ok, seconds = run_module(module, args.log_dir, f"run{round_no}")
                results[module].append((ok, seconds))
                status = "ok" if ok else f"FAILED (log in {args.log_dir})"
                print(f"round {round_no}/{args.runs} {module} {seconds:.1f}s {status}", flush=True)
    return 1 if report(results, args.burners) else 0


if __name__ == "__main__":
    sys.exit(main())
