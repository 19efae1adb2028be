"""Columnar reader of history shards: blocks of lines decoded at C speed (msgspec) into typed
rows, with the per-line reader's rules kept exactly.

A block of complete lines is decoded in one `decode_lines` call when it is plainly regular:
one JSON object per line (every line ends with `}`, so none is blank), a trailer only as its
last line (a row's `end` must be null), every row holding the fields its operation needs.
msgspec reads escapes, duplicate keys and lone surrogates as orjson does (an escape-spelt
key is the same key; the last duplicate wins; a lone surrogate is an error). Any other
block is read line by line with `orjson.loads` and judged by the per-record ingester itself (`VersionStore.ingester` and
`CostAccumulator.observe` on scratch state), so torn, foreign and trailer lines are skipped
and counted with the same messages. A record that the per-record path accepts but a `Row`
cannot hold the same way (a number given for a string, a null `key`, attribute-level
versions, ...) raises `Irregular`: the caller then reads the whole history per record.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, Literal, Protocol

import msgspec
import orjson

from verdict.reader import SKIPPED, TRAILER, ReadStats, read_shards, shard_paths, take_line

#: bytes read per step; a block is the complete lines among them
BLOCK = 1 << 20


class Irregular(Exception):
    """A record the per-record reader accepts but the columns cannot represent exactly."""


class Row(msgspec.Struct, gc=False):
    """The fields of a history record the verdict reads (verdict.history.Record). Absent
    and null differ where the per-record reader tells them apart (`key`, `t_complete`)."""

    op: Literal["put", "update", "delete", "get", "probe"]
    region: str
    outcome: Literal["ok", "fail", "unknown"]
    workload: str | None = None
    key: str | msgspec.UnsetType = msgspec.UNSET
    vid: str | None = None
    pred: str | None = None
    t_invoke: float | None = None
    t_complete: float | msgspec.UnsetType = msgspec.UNSET
    final: bool | None = None
    attrs: None = None  # attribute-level versions: read per record
    value: Any = msgspec.UNSET
    target: str | None = None
    lag: float | None = None
    consistent: bool | None = None
    capacity: float | None = None
    item_bytes: int | None = None
    old_bytes: int | None = None
    error: Any = None
    blocked_by: Any = None  # client_lww rejections (verdict.graph.rejection judges it)
    end: None = None  # a trailer's mark: its block is read line by line


_decode_lines = msgspec.json.Decoder(Row).decode_lines
#: beyond this many names, regions and workloads are decoded as plain strings
_LITERALS = 64


class RowDecoder:
    """`decode_lines` into rows whose region and workload are Literals of the names met so
    far: msgspec then hands out one string object per name (no allocation, a hash already
    computed) instead of a fresh string per row. A block naming a new one is decoded as
    plain `Row`s and teaches the decoder the name."""

    def __init__(self) -> None:
        self.regions: set[str] = set()
        self.workloads: set[str] = set()
        self._decode: Callable[[bytes], list[Row]] | None = None

    def __call__(self, body: bytes) -> list[Row]:
        if self._decode is not None:
            try:
                return self._decode(body)
            except (msgspec.ValidationError, UnicodeDecodeError):
                pass
        rows = _decode_lines(body)
        regions = self.regions | {r.region for r in rows}
        workloads = self.workloads | {r.workload for r in rows if r.workload is not None}
        if (regions, workloads) != (self.regions, self.workloads):
            self.regions, self.workloads = regions, workloads
            self._decode = self._specialised()
        return rows

    def _specialised(self) -> Callable[[bytes], list[Row]] | None:
        if len(self.regions) + len(self.workloads) > _LITERALS or not self.regions:
            return None
        fields: list[Any] = []
        for f in msgspec.structs.fields(Row):
            kind: Any = f.type
            if f.name == "region":
                kind = Literal[tuple(sorted(self.regions))]
            elif f.name == "workload":
                kind = Literal[tuple(sorted(self.workloads))] | None if self.workloads else None
            required = f.default is msgspec.NODEFAULT
            fields.append((f.name, kind) if required else (f.name, kind, f.default))
        named = msgspec.defstruct("Row", fields, gc=False)
        return msgspec.json.Decoder(named).decode_lines


def _is_trailer(rec: Any) -> bool:
    return isinstance(rec, dict) and "end" in rec and rec["end"] is True


#: consume(rows) -> False to refuse the block
Consumer = Callable[[list[Row]], bool]
#: the per-record judge of one decoded line: raises what the per-record reader's sink raises
Judge = Callable[[dict[str, Any]], None]
#: where(i) -> "shard.jsonl:line" of a block's i-th record, for messages
Where = Callable[[int], str]


class BlockTaker(Protocol):
    """How a block's records reach the store: `whole(body, where)` takes a plainly regular
    block, one record a line (records taken, or None: nothing changed, read it line by line);
    `kept(lines, recs, where)` takes the lines the per-line rules kept (False: a record the
    columns cannot hold). `where(i)` names the shard line of the block's i-th record."""

    def whole(self, body: bytes, where: Where) -> int | None: ...

    def kept(self, lines: list[bytes], recs: list[dict[str, Any]], where: Where) -> bool: ...


class RowTaker:
    """Blocks decoded by msgspec into Rows, handed to `consume`."""

    def __init__(self, consume: Consumer) -> None:
        self.consume, self.decode = consume, RowDecoder()

    def whole(self, body: bytes, where: Where) -> int | None:
        lines = line_count(body)
        if _closed_lines(body) != lines:  # a blank line or one not ending an object
            return None
        try:
            rows = self.decode(body)
        except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError):
            return None  # invalid UTF-8 in a Literal-typed name escapes msgspec as the latter
        if len(rows) != lines or (rows and not self.consume(rows)):
            return None
        return len(rows)

    def kept(self, lines: list[bytes], recs: list[dict[str, Any]], where: Where) -> bool:
        return not recs or self.consume([row_of(rec) for rec in recs])


def read_rows(report_dir: Path, stats: ReadStats, taker: BlockTaker, judge: Judge) -> None:
    """Feed every record of every shard to `taker` a block at a time, in shard and line
    order; header and trailer lines are consumed, bad lines skipped and counted in `stats`
    exactly as `verdict.reader.read_history` does."""

    def read_body(path: Path, f: BinaryIO) -> tuple[bool, int]:
        return _read_shard(path, f, stats, taker, judge)

    read_shards(shard_paths(report_dir), stats, read_body)


def blocks(f: Any) -> Iterator[bytes]:
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


def _read_shard(
    path: Path, f: Any, stats: ReadStats, taker: BlockTaker, judge: Judge
) -> tuple[bool, int]:
    closed, records, line = False, 0, 2
    for data in blocks(f):
        taken = _whole(data, taker, lambda i, first=line: f"{path.name}:{first + i}")
        if taken is None:
            got, ended = _by_line(path, data, line, stats, taker, judge)
            records += got
            closed = ended if ended is not None else closed
            line += line_count(data)
        else:
            records += taken[0]
            closed = taken[1] or (closed and not taken[0])
            line += taken[0] + taken[1]  # a taken block is one record a line, then the trailer
    return closed, records


def line_count(data: bytes) -> int:
    return data.count(b"\n") + (not data.endswith(b"\n"))


def _whole(data: bytes, taker: BlockTaker, where: Where) -> tuple[int, bool] | None:
    """(records, ends with a trailer) when the block is regular and `taker` took it whole."""
    body, trailer = data, False
    last = data.rfind(b"\n", 0, len(data) - 1) + 1
    if b'"end"' in data[last:]:
        try:
            trailer = _is_trailer(orjson.loads(data[last:]))
        except orjson.JSONDecodeError:
            return None
        if not trailer:
            return None
        body = data[:last]
    taken = taker.whole(body, where) if body else 0
    return None if taken is None else (taken, trailer)


def _closed_lines(body: bytes) -> int:
    """Lines ending with `}`. When every line does, none is blank, so msgspec (which skips
    blank lines and reads two objects on one line) yields one row per line exactly when it
    yields as many rows as there are lines."""
    closed = body.count(b"}\n")
    if body and not body.endswith(b"\n"):
        closed += body.endswith(b"}")
    return closed


def _by_line(
    path: Path,
    data: bytes,
    first_line: int,
    stats: ReadStats,
    taker: BlockTaker,
    judge: Judge,
) -> tuple[int, bool | None]:
    """The per-line reader's rules on one block: (records, closed after it or None: no
    change)."""
    recs: list[dict[str, Any]] = []
    kept: list[bytes] = []
    numbers: list[int] = []
    closed: bool | None = None

    lines = data.split(b"\n")
    if data.endswith(b"\n"):
        lines.pop()
    for n, line in enumerate(lines, start=first_line):

        def sink(rec: dict[str, Any], line: bytes = line, n: int = n) -> None:
            judge(rec)
            recs.append(rec)
            kept.append(line)
            numbers.append(n)

        kind = take_line(path.name, n, line, stats, sink)
        if kind is not SKIPPED:
            closed = kind is TRAILER
    if not taker.kept(kept, recs, lambda i: f"{path.name}:{numbers[i]}"):
        raise Irregular(f"{path.name}: a record the columns cannot hold")
    return len(recs), closed


def row_of(rec: dict[str, Any]) -> Row:
    """A record the per-record reader accepted, as a Row; Irregular when a Row would not
    mean the same (types the per-record reader coerces or interns as they are)."""
    try:
        row = msgspec.convert(rec, Row)
    except msgspec.ValidationError as e:
        raise Irregular(str(e)) from None
    if row.op not in ("get", "probe") and row.outcome != "fail" and not row.vid:
        if not isinstance(rec.get("id"), str):
            raise Irregular("a write without vid and a string id")
        row.vid = rec["id"]
    return row
