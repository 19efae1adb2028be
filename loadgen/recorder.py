"""History shards: one JSON-lines file per worker process (verdict.history).

Records are buffered (the recorder sits on the hot path) and flushed to the OS at least once a
second by a background thread, each flush one zstd frame (the history is ~8x smaller than
its JSON lines), so a SIGKILLed run loses at most the unflushed tail, about a second of
history: a frame torn by the kill reads as far as it goes. A clean `close()` flushes the rest
and appends a trailer `{"end": true, "records": n}` that tells the reader the shard is complete.
"""

from __future__ import annotations

import itertools
import threading
import time
from pathlib import Path
from typing import IO, Any

import orjson
import zstandard

from verdict.history import HISTORY_DIR, ZSTD_LEVEL, Record, encode, header


class RecordIds:
    """`"<worker>:<seq>"` ids, unique within the run as long as worker names are.

    A write's vid is its record id, and it must be known before the call (it goes into the
    item), so ids are drawn by the user, not by the shard writer.
    """

    def __init__(self, worker: str) -> None:
        if not worker or ":" in worker:
            raise ValueError(f"worker name must be non-empty and contain no ':', got {worker!r}")
        self.worker = worker
        self._seq = itertools.count(1)

    def next(self) -> str:
        return f"{self.worker}:{next(self._seq)}"


class ShardWriter:
    """Appends records to `<report_dir>/history/<worker>.jsonl.zst` (`compress=False`:
    `<worker>.jsonl`). Usable as a sink."""

    def __init__(
        self, report_dir: str | Path, worker: str, *, flush_interval: float = 0.5,
        compress: bool = True,
    ) -> None:  # fmt: skip
        self.worker = worker
        name = f"{worker}.jsonl.zst" if compress else f"{worker}.jsonl"
        self.path = Path(report_dir) / HISTORY_DIR / name
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._frame = zstandard.ZstdCompressor(level=ZSTD_LEVEL).compress if compress else bytes
        self._file: IO[bytes] = self.path.open("ab")
        self._file.write(self._frame(header(worker, time.time())))
        self._file.flush()
        self._buffer: list[bytes] = []
        self._lock = threading.Lock()
        self._records = 0
        self._closed = threading.Event()
        self._interval = flush_interval
        self._flusher = threading.Thread(
            target=self._flush_loop, name=f"shard-{worker}", daemon=True
        )
        self._flusher.start()

    @property
    def records(self) -> int:
        return self._records

    def append(self, record: Record | dict[str, Any]) -> None:
        line = encode(record)  # type: ignore[arg-type]
        with self._lock:
            if self._closed.is_set():
                raise ValueError(f"history shard {self.path} is closed")
            self._buffer.append(line)
            self._records += 1

    __call__ = append

    def append_lines(self, lines: bytes, count: int) -> None:
        """`count` records already encoded as JSON lines (a distributed worker's batch),
        appended as they are: the master need not decode and re-encode them."""
        if lines and not lines.endswith(b"\n"):
            raise ValueError(f"history shard {self.path}: a batch must end with a newline")
        with self._lock:
            if self._closed.is_set():
                raise ValueError(f"history shard {self.path} is closed")
            self._buffer.append(lines)
            self._records += count

    def flush(self) -> None:
        with self._lock:
            pending, self._buffer = self._buffer, []
            if pending and not self._file.closed:
                self._file.write(self._frame(b"".join(pending)))  # one write: one frame
                self._file.flush()

    def _flush_loop(self) -> None:
        while not self._closed.wait(self._interval):
            self.flush()

    def close(self) -> None:
        if self._closed.is_set():
            return
        with self._lock:
            self._closed.set()
        self._flusher.join(timeout=2 * self._interval + 1)
        with self._lock:
            pending, self._buffer = self._buffer, []
            pending.append(orjson.dumps({"end": True, "records": self._records}) + b"\n")
            self._file.write(self._frame(b"".join(pending)))
            self._file.close()

    def __enter__(self) -> ShardWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
