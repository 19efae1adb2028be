"""The parse-only baselines of bench/verdict.py: read every shard line and decode it, nothing else."""

from __future__ import annotations

import time
from pathlib import Path

import orjson


def parse_only(root: Path) -> float:
    """CPU seconds to read and decode every line of every shard under root/history with
    `orjson.loads`: what a Python reader of JSON lines costs (the ratio's baseline)."""
    started = time.process_time()
    loads = orjson.loads
    for path in sorted((root / "history").glob("*.jsonl")):
        with path.open("rb") as f:
            for line in f:
                loads(line)
    return time.process_time() - started


def _bodies(root: Path):
    """Every shard's blocks of record lines (header and trailer aside), as the verdict reads them."""
    from verdict.columns import blocks

    for path in sorted((root / "history").glob("*.jsonl")):
        with path.open("rb") as f:
            f.readline()  # the header
            for data in blocks(f):
                body = data[: data.rfind(b"\n", 0, len(data) - 1) + 1]  # the trailer aside
                if body:
                    yield body


def decode_only(root: Path) -> float:
    """CPU seconds for the verdict's own decoder alone: every shard's blocks of lines into
    msgspec rows (`verdict.columns`), rows dropped at once."""
    from verdict.columns import RowDecoder

    started = time.process_time()
    decode = RowDecoder()
    for body in _bodies(root):
        decode(body)
    return time.process_time() - started


def intern_floor(root: Path) -> float:
    """CPU seconds for the decoder plus exact interning of every key, vid and pred string
    (one C-level dict probe each, in record order) and nothing else: the least any exact
    reader built on Python strings pays before judging anything."""
    from verdict.columns import RowDecoder

    started = time.process_time()
    decode = RowDecoder()
    keys: dict[object, int] = {}
    vids: dict[object, int] = {}
    for body in _bodies(root):
        rows = decode(body)
        n = len(rows)
        list(map(keys.setdefault, [r.key for r in rows], range(n)))
        list(map(vids.setdefault, [r.vid for r in rows], range(n)))
        list(map(vids.setdefault, [r.pred for r in rows], range(n)))
    return time.process_time() - started


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
