"""The parse-only baselines of the verdict's benchmarks: read every shard line and decode it
(orjson), or scan it natively, and nothing else."""

from __future__ import annotations

import time
from pathlib import Path

import orjson

from verdict.history import open_shard, shard_files


def parse_only(root: Path) -> float:
    """CPU seconds to read and decode every line of every shard under root/history with
    `orjson.loads`: what a Python reader of JSON lines costs (the ratio's baseline)."""
    started = time.process_time()
    loads = orjson.loads
    for path in shard_files(root / "history"):
        with open_shard(path) as f:
            for line in f:
                loads(line)
    return time.process_time() - started


def _bodies(root: Path):
    """Every shard's blocks of record lines (header and trailer aside), as the verdict reads them."""
    from verdict.shards import blocks

    for path in shard_files(root / "history"):
        with open_shard(path) as f:
            f.readline()  # the header
            for data in blocks(f):
                body = data[: data.rfind(b"\n", 0, len(data) - 1) + 1]  # the trailer aside
                if body:
                    yield body


def native_scan(root: Path) -> float:
    """CPU seconds for the verdict's native scanner alone: every block parsed, checked and
    interned into columns in one C pass (verdict._scan), columns dropped at once. ImportError
    when it is not built."""
    from verdict._scan import Scanner

    started = time.process_time()
    scan = Scanner().scan
    for body in _bodies(root):
        scan(body)
    return time.process_time() - started
