"""The parse-only baseline of bench/verdict.py: read every shard line and decode it, nothing else."""

from __future__ import annotations

import time
from pathlib import Path

import orjson


def parse_only(root: Path) -> float:
    """CPU seconds to read and decode every line of every shard under root/history."""
    started = time.process_time()
    loads = orjson.loads
    for path in sorted((root / "history").glob("*.jsonl")):
        with path.open("rb") as f:
            for line in f:
                loads(line)
    return time.process_time() - started
