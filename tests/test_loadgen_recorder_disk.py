"""A history shard on a full disk (issue 16, case 5): the flushing thread never dies with a
traceback; the shard stops writing, says why in `error`, and writes no trailer claiming it is
complete. Needs a small tmpfs (skipped where it cannot mount)."""

from __future__ import annotations

import threading
from typing import Any

from loadgen.recorder import ShardWriter
from tests.disk_fixtures import small_disk

__all__ = ["small_disk"]  # fixture


def test_a_full_disk_stops_the_shard_with_a_reason(small_disk: Any) -> None:
    died: list[BaseException] = []
    threading.excepthook = lambda args: died.append(args.exc_value)  # type: ignore[assignment]
    try:
        shard = ShardWriter(small_disk.path, "w0", flush_interval=0.01)
        small_disk.fill()
        for n in range(2000):
            shard.append({"id": f"w0:{n}", "op": "put", "pad": "x" * 200})
        shard.flush()
        assert shard.error is not None and "No space left on device" in shard.error
        shard.close()
    finally:
        threading.excepthook = threading.__excepthook__
    assert died == []
    small_disk.free()
    assert b'"end"' not in (small_disk.path / "history" / "w0.jsonl").read_bytes()
