"""The verdict's benchmarks still run (on a small history: no time is asserted) and print
what docs/performance.md quotes; the native and the Python readers agree on the figures."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from verdict import native_reader

ROOT = Path(__file__).resolve().parents[1]


def bench(script: str) -> str:
    out = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), "--ops", "4000", "--keys", "400"],
        capture_output=True, text=True, timeout=240, check=True,
    )  # fmt: skip
    return out.stdout


@pytest.mark.slow
def test_bench_verdict_prints_the_ratio_and_both_readers_agree() -> None:
    out = bench("verdict.py")
    for label in ("parse only:", "native scan:", "analysis:", "records reader:", "ratio:",
                  "peak memory:"):  # fmt: skip
        assert label in out, out
    native = re.search(r"analysis: .*lost updates (\d+), conflicts (\d+); read by the (\w+)", out)
    python = re.search(r"records reader: .*read by the (\w+) reader; lost updates (\d+)", out)
    assert native and python, out
    assert native.group(3) == ("native" if native_reader.available() else "records")
    assert python.group(1) == "records"
    assert int(native.group(1)) == int(python.group(2)) > 0


@pytest.mark.slow
def test_bench_verdict_readers_measures_each_reader() -> None:
    out = bench("verdict_readers.py")
    names = ["orjson"] + ["native"] * native_reader.available()
    for name in names:
        assert re.search(rf"^{re.escape(name)} +(\d+\.\d+)s CPU", out, re.M), out
