"""The shard files of a report directory and the rules every history reader keeps.

Shards are read line by line (or a block of lines at a time) and never held whole in memory.
Torn lines (a killed writer) and foreign lines (not a record) are skipped and counted, so the
verdict can say how much it ignored; a shard without its trailer line makes the run partial.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from verdict.errors import HistoryError
from verdict.history import HISTORY_DIR, SCHEMA, open_shard, shard_files

#: how many skipped-line locations the verdict quotes
SKIP_EXAMPLES = 10
#: bytes read per step by block readers; a block is the complete lines among them
BLOCK = 1 << 20


@dataclass
class ReadStats:
    """What the reader saw: shards, lines, skipped lines and shards without a clean trailer."""

    shards: list[str] = field(default_factory=list)
    records: int = 0
    skipped: int = 0
    skipped_examples: list[str] = field(default_factory=list)
    unterminated: list[str] = field(default_factory=list)
    #: the reader that read the history (verdict.native_reader.READERS), and why faster ones
    #: refused it
    reader: str = "records"
    refusals: list[str] = field(default_factory=list)
    #: key buckets the history was judged in (1: in memory), and the CPU seconds the
    #: processes judging them took
    buckets: int = 1
    worker_cpu_s: float = 0.0

    def skip(self, where: str, why: str) -> None:
        self.skipped += 1
        if len(self.skipped_examples) < SKIP_EXAMPLES:
            self.skipped_examples.append(f"{where}: {why}")


def shard_paths(report_dir: Path) -> list[Path]:
    """The shards of a report directory, or a HistoryError saying why there are none."""
    hist = report_dir / HISTORY_DIR
    if not report_dir.is_dir():
        raise HistoryError(f"{report_dir}: not a report directory")
    if not hist.is_dir():
        raise HistoryError(f"{hist}: no history directory in the report")
    shards = shard_files(hist)
    if not shards:
        raise HistoryError(f"{hist}: no history shards (*.jsonl.zst, *.jsonl)")
    return shards


def header_check(path: Path, line: bytes) -> None:
    """A HistoryError unless `line` is a shard header of the schema this hothot reads."""
    try:
        head = orjson.loads(line)
    except orjson.JSONDecodeError:
        head = None
    if not isinstance(head, dict) or "schema" not in head:
        raise HistoryError(f"{path}:1: not a hothot history shard (no schema header line)")
    if head["schema"] != SCHEMA:
        raise HistoryError(
            f"{path}:1: unknown history schema {head['schema']!r} (this hothot reads {SCHEMA!r})"
        )


@contextmanager
def paused_gc() -> Iterator[None]:
    """Decoded records are acyclic and freed by reference counting, while the store grows
    by millions of objects the cyclic collector would rescan for nothing (~10 %)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def require_records(report_dir: Path, stats: ReadStats) -> None:
    """An empty history is bad input (exit 2), not a clean verdict."""
    if stats.records == 0:
        raise HistoryError(f"{report_dir / HISTORY_DIR}: the history holds no records")


#: what a sink raises for a line that is not a history record (a field missing, mistyped)
REJECTS = (KeyError, TypeError, ValueError, AttributeError, OverflowError)
#: what `take_line` made of a line
RECORD, TRAILER, SKIPPED = "record", "trailer", "skipped"


def take_line(
    shard: str, n: int, line: bytes, stats: ReadStats, sink: Callable[[dict[str, Any]], None]
) -> str:
    """One shard line by the readers' rules: a record fed to `sink`, the trailer, or a line
    skipped (not JSON, or refused by `sink`) and counted in `stats` as `shard:n`."""
    try:
        rec = orjson.loads(line)
    except orjson.JSONDecodeError:
        stats.skip(f"{shard}:{n}", "not JSON (torn line?)")
        return SKIPPED
    try:
        if "end" in rec and rec["end"] is True:
            return TRAILER
        sink(rec)
    except REJECTS as e:
        why = f"no {e}" if isinstance(e, KeyError) else str(e)
        stats.skip(f"{shard}:{n}", f"not a history record ({why})")
        return SKIPPED
    return RECORD


#: read_body(path, file) -> (closed by a trailer, records)
BodyReader = Callable[[Path, BinaryIO], tuple[bool, int]]


def read_shards(paths: list[Path], stats: ReadStats, read_body: BodyReader) -> None:
    """Each shard's header checked, the rest read by `read_body`, the counts kept in `stats`."""
    for path in paths:
        stats.shards.append(path.name)
        with open_shard(path) as f:
            try:
                first = f.readline()
            except ValueError as e:  # not a zstd stream at all
                raise HistoryError(str(e)) from None
            if not first.strip():
                stats.unterminated.append(path.name)
                continue
            header_check(path, first)
            closed, records = read_body(path, f)
        stats.records += records
        if not closed:
            stats.unterminated.append(path.name)


def blocks(f: BinaryIO) -> Iterator[bytes]:
    """Complete lines, BLOCK bytes or so at a time (the last may lack its newline)."""
    carry = b""
    while block := f.read(BLOCK):
        data = carry + block
        cut = data.rfind(b"\n") + 1
        carry = data[cut:]
        if cut:
            yield data[:cut]
    if carry:
        yield carry


def line_count(data: bytes) -> int:
    return data.count(b"\n") + (not data.endswith(b"\n"))
