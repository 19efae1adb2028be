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


def decode_only(root: Path) -> float:
    """CPU seconds for the verdict's own decoder alone: every shard's blocks of lines into
    msgspec rows (`verdict.columns`), rows dropped at once."""
    from verdict.columns import RowDecoder, blocks

    started = time.process_time()
    decode = RowDecoder()
    for path in sorted((root / "history").glob("*.jsonl")):
        with path.open("rb") as f:
            f.readline()  # the header
            for data in blocks(f):
                body = data[: data.rfind(b"\n", 0, len(data) - 1) + 1]  # the trailer aside
                if body:
                    decode(body)
    return time.process_time() - started
