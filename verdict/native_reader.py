"""The fast path: `verdict._scan` parses, checks and interns a block of shard lines in one C
pass and `verdict.store_builder` files its columns. The scanner refuses anything it would
not read exactly as the per-record reader does; a refused block is read line by line with
the per-record rules and the lines kept are scanned together; what the scanner refuses even
then sends the whole history to the per-record reader (`read_history`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import orjson

from verdict.cost_campaign import CostAccumulator
from verdict.graph import VersionStore
from verdict.record_reader import Irregular, Judge, judge_record, read_records
from verdict.shards import (
    SKIPPED,
    TRAILER,
    ReadStats,
    blocks,
    line_count,
    paused_gc,
    read_shards,
    require_records,
    shard_paths,
    take_line,
)
from verdict.store_builder import StoreBuilder

try:
    from verdict import _scan
except ImportError:  # built without a C compiler: the per-record reader only
    _scan = None  # type: ignore[assignment]

#: the readers, fastest first: each reads what the one before it refused
READERS = ("native", "records")
#: where(i) -> "shard.jsonl:line" of a block's i-th record, for messages
Where = Callable[[int], str]


def available() -> bool:
    """The native reader is built, and not switched off by HOTHOT_NATIVE=0."""
    return not unavailable()


def unavailable() -> str:
    """Why the native reader is not used ("" when it is)."""
    if _scan is None:
        return "not built (no C compiler when hothot was installed)"
    if os.environ.get("HOTHOT_NATIVE", "1") == "0":
        return "switched off by HOTHOT_NATIVE=0"
    return ""


class Unscannable(Irregular):
    """Lines the native scanner refused even one by one: read the history per record."""


def refusal(e: Exception, where: Where) -> str:
    """The scanner's (why, record index) as 'shard.jsonl:line: why'."""
    why, index = e.args
    return f"{where(index)}: {why}"


class VidNames(Sequence[str]):
    """The vids' names, made one at a time from the scanner's tables when asked (a report
    names a few dozen of a million)."""

    def __init__(self, scanner: Any) -> None:
        self._scanner, self._n = scanner, scanner.count(_scan.T_VID)

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(self._n))]
        if i < 0:
            i += self._n
        return self._scanner.name(_scan.T_VID, i)

    def numbers(self, wanted: set[str]) -> dict[str, int]:
        """name -> number for the names in `wanted` that are vids (one hash probe each)."""
        found = {name: self._scanner.find(_scan.T_VID, name) for name in wanted}
        return {name: v for name, v in found.items() if v >= 0}


def columns(cols: tuple[bytes, ...]) -> dict[str, np.ndarray]:
    """The scanner's columns by name, viewed with numpy (no copy)."""
    return {
        name: np.frombuffer(col, code)
        for (name, code), col in zip(_scan.COLUMNS, cols, strict=True)
    }


class NativeReader:
    """Blocks of shard lines through the scanner into a StoreBuilder. A key bucket's reader
    (verdict.buckets) starts from the whole history's regions and workloads, so it numbers
    them alike, and is given each block's record positions."""

    def __init__(
        self, store: VersionStore, cost: CostAccumulator | None,
        regions: list[str] = (), workloads: list[str] = (),  # type: ignore[assignment]
    ) -> None:  # fmt: skip
        self.s, self.scanner = store, _scan.Scanner()
        for table, interned, names in ((_scan.T_REGION, store.regions, regions),
                                       (_scan.T_WORKLOAD, store.workloads, workloads)):  # fmt: skip
            self.scanner.learn(table, list(names))
            for name in names:
                interned(name)
        number = self.scanner.find
        self.builder = StoreBuilder(store, cost, lambda name: number(_scan.T_VID, name))

    def whole(self, body: bytes, where: Where) -> int | None:
        """The block's records, or None (nothing changed): read it line by line. The
        scanner refuses a blank line or one that is not exactly one object."""
        try:
            return self._take(body, where)
        except _scan.Refused as e:
            if isinstance(e, _scan.Spoiled):
                raise Unscannable(refusal(e, where)) from None
            return None

    def kept(self, lines: list[bytes], where: Where) -> None:
        """The lines the per-line rules kept, scanned together: a refusal here is final."""
        if not lines:
            return
        try:
            self._take(b"\n".join(lines) + b"\n", where)
        except _scan.Refused as e:
            raise Unscannable(refusal(e, where)) from None

    def _take(self, body: bytes, where: Where, pos: np.ndarray | None = None) -> int:
        """Scan a block into the store; raises _scan.Refused (nothing changed) or Spoiled
        (the scanner's tables changed). `pos`: its records' positions in the history."""
        c = columns(self.scanner.scan(body))
        self._learn_names()
        self.builder.add(c, row_reader(body, c["line"]), self.scanner.count(_scan.T_KEY), pos)
        return len(c["line"]) - 1

    def _learn_names(self) -> None:
        """New regions and workloads into the store's tables (the scanner numbered them in
        the order the per-record reader does)."""
        s, scanner = self.s, self.scanner
        for interned, table in ((s.regions, _scan.T_REGION), (s.workloads, _scan.T_WORKLOAD)):
            for name in scanner.names(table, len(interned.names)):
                interned(name)

    def finish(self) -> None:
        vid_write, seen = self.scanner.vids()
        names = VidNames(self.scanner)
        self.builder.finish(self.scanner.names(_scan.T_KEY), vid_write, seen, names)


def row_reader(body: bytes, line: np.ndarray) -> Callable[[int], dict[str, Any]]:
    """row(i) -> the i-th line of the block, decoded (for the fields kept out of columns)."""

    def row(i: int) -> dict[str, Any]:
        return orjson.loads(body[line[i] : line[i + 1]])

    return row


def read_native(report_dir: Path, reader: NativeReader, stats: ReadStats, judge: Judge) -> None:
    """Every record of every shard to `reader` a block at a time, in shard and line order;
    header and trailer lines consumed, bad lines skipped and counted in `stats` exactly as
    the per-record reader does."""

    def read_body(path: Path, f: BinaryIO) -> tuple[bool, int]:
        closed, records, line = False, 0, 2
        for data in blocks(f):
            taken = _whole(data, reader, lambda i, first=line: f"{path.name}:{first + i}")
            if taken is None:
                got, ended = _by_line(path, data, line, stats, reader, judge)
                records += got
                closed = ended if ended is not None else closed
                line += line_count(data)
            else:
                records += taken[0]
                closed = taken[1] or (closed and not taken[0])
                line += taken[0] + taken[1]  # a taken block is one record a line, then the trailer
        return closed, records

    read_shards(shard_paths(report_dir), stats, read_body)


def _whole(data: bytes, reader: NativeReader, where: Where) -> tuple[int, bool] | None:
    """(records, ends with a trailer) when the scanner took the block whole."""
    body, trailer = data, False
    last = data.rfind(b"\n", 0, len(data) - 1) + 1
    if b'"end"' in data[last:]:
        try:
            rec = orjson.loads(data[last:])
        except orjson.JSONDecodeError:
            return None
        if not (isinstance(rec, dict) and rec.get("end", None) is True):
            return None
        trailer, body = True, data[:last]
    taken = reader.whole(body, where) if body else 0
    return None if taken is None else (taken, trailer)


def _by_line(
    path: Path, data: bytes, first_line: int, stats: ReadStats, reader: NativeReader,
    judge: Judge,
) -> tuple[int, bool | None]:  # fmt: skip
    """The per-line rules on one block: (records, closed after it or None: no change)."""
    kept: list[bytes] = []
    numbers: list[int] = []
    closed: bool | None = None
    lines = data.split(b"\n")
    if data.endswith(b"\n"):
        lines.pop()
    for n, line in enumerate(lines, start=first_line):

        def sink(rec: dict[str, Any], line: bytes = line, n: int = n) -> None:
            judge(rec)
            kept.append(line)
            numbers.append(n)

        kind = take_line(path.name, n, line, stats, sink)
        if kind is not SKIPPED:
            closed = kind is TRAILER
    reader.kept(kept, lambda i: f"{path.name}:{numbers[i]}")
    return len(kept), closed


def read_history(
    report_dir: Path, kinds: dict[str, str], *, reader: str = "native"
) -> tuple[VersionStore, ReadStats, CostAccumulator]:
    """Every shard read by `reader` or, when it is not built or refuses the history, by the
    per-record reader (the same figures from each; tests compare them). `kinds`: workload
    name -> kind, for the value checks."""
    if reader not in READERS:
        raise ValueError(f"reader: one of {', '.join(READERS)}, not {reader!r}")
    refusals: list[str] = []
    if reader == "native" and not available():
        refusals.append(f"native: {unavailable()}")
    elif reader == "native":
        store, stats, cost = VersionStore(value_kinds=kinds), ReadStats(), CostAccumulator()
        native = NativeReader(store, cost)
        try:
            with paused_gc():
                read_native(report_dir, native, stats, judge_record(kinds))
        except Irregular as e:
            refusals.append(f"native: {e}")
        else:
            require_records(report_dir, stats)
            native.finish()
            stats.reader = "native"
            return store, stats, cost
    stats = ReadStats()
    store, cost = read_records(report_dir, kinds, stats)
    stats.refusals = refusals
    return store, stats, cost
