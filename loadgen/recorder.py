"""History shards: one JSON-lines file per worker process (verdict.history).

Records are buffered (the recorder sits on the hot path) and flushed to the OS at least once a
second by a background thread, each flush one zstd frame (the history is ~8x smaller than
its JSON lines), so a SIGKILLed run loses at most the unflushed tail, about a second of
history: a frame torn by the kill reads as far as it goes. A clean `close()` flushes the rest
and appends a trailer `{"end": true, "records": n}` that tells the reader the shard is complete.

A write the disk refuses (full, read-only) does not raise in the flushing thread: the shard
cuts the file back to its last whole frame (so every record it kept reads back), stops
writing, keeps the reason in `error`, and the runner ends the run (exit 2).
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import os
import threading
import time
from pathlib import Path
from typing import IO, Any

import orjson
import zstandard

from loadgen.hub import Batch, RecordHub
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
        # unbuffered: a write reaches the file or fails here, never later from a buffer
        self._file: IO[bytes] = self.path.open("ab", buffering=0)
        self._size = self._file.seek(0, os.SEEK_END)  # the end of the last whole frame
        self.error: str | None = None  # why this shard stopped writing (the disk refused)
        self._write(self._frame(header(worker, time.time())))
        if self.error is not None:
            self._file.close()
            raise OSError(self.error)
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
            if pending:
                self._write(self._frame(b"".join(pending)))  # one write: one frame

    def _write(self, frame: bytes) -> None:
        """Write one whole frame, unless the disk refused before: then drop (the run is
        ending). A frame the disk refuses part of is cut off again: a torn frame in the middle
        of a shard would hide every frame after it from the reader, and one at its end would
        look like a SIGKILL."""
        if self.error is not None or self._file.closed:
            return
        view, kept = memoryview(frame), self._size
        try:
            while view:
                written = self._file.write(view)
                if not written:  # a regular file never does this; never spin on it
                    raise OSError(errno.EIO, "the file took no byte")
                view = view[written:]
        except OSError as exc:
            self.error = f"{self.path}: {exc.strerror or exc}"
            with contextlib.suppress(OSError):  # cutting a file back needs no space
                os.ftruncate(self._file.fileno(), kept)
            return
        self._size += len(frame)

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
            self._write(self._frame(b"".join(pending)))
            self._file.close()

    def __enter__(self) -> ShardWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ShardSet:
    """Every shard of a run as record-hub listeners: this process's own records (users,
    probes, final reads) go to the `own` shard, each distributed worker's batches to its own."""

    def __init__(self, report_dir: str | Path, own: str) -> None:
        self.report_dir = Path(report_dir)
        self.shards: dict[str, ShardWriter] = {}
        self.own = self.shard(own)

    def subscribe(self, hub: RecordHub) -> ShardSet:
        hub.record.add_listener(self.own.append)
        hub.batch.add_listener(self.on_batch)
        return self

    def shard(self, worker: str) -> ShardWriter:
        shard = self.shards.get(worker)
        if shard is None:
            shard = self.shards[worker] = ShardWriter(self.report_dir, worker)
        return shard

    def on_batch(self, batch: Batch) -> None:
        self.shard(batch.worker).append_lines(batch.lines, batch.count)

    def close(self) -> None:
        """Every shard flushed and given its trailer (again: a no-op)."""
        for shard in self.shards.values():
            shard.close()
