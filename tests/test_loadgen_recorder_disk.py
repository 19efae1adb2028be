"""A history shard on a full disk (issue 16, case 5): the flushing thread never dies with a
traceback; the shard stops writing, says why in `error`, writes no trailer claiming it is
complete, and keeps only whole zstd frames, so every record it kept reads back. Needs a small
tmpfs (skipped where it cannot mount)."""

from __future__ import annotations

import os
import threading
from typing import Any

import zstandard

from loadgen.recorder import ShardWriter
from verdict.history import open_shard


def whole_frames(data: bytes) -> list[bytes]:
    """Each frame's content; ValueError on a frame cut short."""
    out = []
    while data:
        frame = zstandard.ZstdDecompressor().decompressobj()
        out.append(frame.decompress(data))
        if not frame.eof:
            raise ValueError(f"a torn frame after {len(out) - 1} whole ones")
        data = frame.unused_data
    return out


def test_a_full_disk_stops_the_shard_with_a_reason(small_disk: Any) -> None:
    died: list[BaseException] = []
    threading.excepthook = lambda args: died.append(args.exc_value)  # type: ignore[assignment]
    try:
        shard = ShardWriter(small_disk.path, "w0", flush_interval=3600)
        for n in range(50):
            shard.append({"id": f"w0:{n}", "op": "put", "pad": os.urandom(100).hex()})
        shard.flush()  # one whole frame on the disk
        small_disk.fill(leave=2048)  # room for part of the next frame only
        for n in range(50, 2000):
            shard.append({"id": f"w0:{n}", "op": "put", "pad": os.urandom(100).hex()})
        shard.flush()
        assert shard.error is not None and "No space left on device" in shard.error
        shard.close()
    finally:
        threading.excepthook = threading.__excepthook__
    assert died == []
    small_disk.free()
    path = small_disk.path / "history" / "w0.jsonl.zst"
    frames = whole_frames(path.read_bytes())  # the refused frame was cut off, not left torn
    assert len(frames) == 2  # the header, the first 50 records
    with open_shard(path) as lines:
        kept = lines.read().splitlines()
    assert [line for line in kept if b'"end"' in line] == []
    assert len(kept) == 51  # header + every record of the frame that was written whole
