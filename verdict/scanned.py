"""The native reader: `verdict._scan` parses, checks and interns a block in one C pass, and
`ScannedIngester` hands its columns to the same `ColumnIngester.apply` the msgspec rows go
through. The scanner refuses anything it would not read exactly as msgspec + verdict.bulk
(docs/verdict.md, "The native reader"); a refusal raises `Unscannable` and the caller reads
the history again with the Python readers."""

from __future__ import annotations

import os
from array import array
from collections.abc import Sequence
from typing import Any

import msgspec
import numpy as np

from verdict.bulk import ColumnIngester
from verdict.columns import Irregular, Row, Where
from verdict.cost_campaign import CostAccumulator
from verdict.graph import ATTR_LEVEL, VersionStore
from verdict.row_columns import Block

try:
    from verdict import _scan
except ImportError:  # built without a C compiler: the Python readers only
    _scan = None  # type: ignore[assignment]

#: the scanner's tables and its `bits` column (verdict/_scan.c)
REGION, WORKLOAD, KEY, VID = range(4)
B_FINAL, B_CONSISTENT, B_HARNESS, B_ATTRS = 1, 8, 128, 2048
#: the scanner's columns, in order, and their types
COLUMNS = (("op", np.int8), ("outcome", np.int8), ("bits", np.uint16), ("region", np.uint16),
           ("target", np.uint16), ("workload", np.uint16), ("key", np.int32),
           ("vid", np.int32), ("pred", np.int32), ("t_inv", np.float64),
           ("t_comp", np.float64), ("lag", np.float64), ("capacity", np.float64),
           ("item_bytes", np.int64), ("old_bytes", np.int64), ("line", np.int64))  # fmt: skip


class ScannedRow(Row, gc=False):
    """A Row as the native reader accepts it: attribute-level versions included."""

    attrs: Any = None
    attr_preds: Any = None


_decode_row = msgspec.json.Decoder(ScannedRow).decode


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
    """A block the native scanner refused: read the history with the Python readers."""


def refusal(e: Exception, where: Where) -> str:
    """The scanner's (why, record index) as 'shard.jsonl:line: why'."""
    why, index = e.args
    return f"{where(index)}: {why}"


class VidNames(Sequence[str]):
    """The vids' names, made one at a time from the scanner's tables when asked (a report
    names a few dozen of a million)."""

    def __init__(self, scanner: Any) -> None:
        self._scanner, self._n = scanner, scanner.count(VID)

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(self._n))]
        if i < 0:
            i += self._n
        return self._scanner.name(VID, i)

    def numbers(self, wanted: set[str]) -> dict[str, int]:
        """name -> number for the names in `wanted` that are vids (one hash probe each)."""
        found = {name: self._scanner.find(VID, name) for name in wanted}
        return {name: v for name, v in found.items() if v >= 0}


class ScannedIngester(ColumnIngester):
    """A BlockTaker (verdict.columns) whose blocks go through the native scanner."""

    def __init__(self, store: VersionStore, cost: CostAccumulator) -> None:
        super().__init__(store, cost)
        self.scanner = _scan.Scanner()

    def whole(self, body: bytes, where: Where) -> int | None:
        """The block's records, or None (nothing changed): read it line by line. The
        scanner refuses a blank line or one that is not exactly one object."""
        try:
            return self._take(body, where)
        except _scan.Refused:
            return None

    def kept(self, lines: list[bytes], recs: list[dict[str, Any]], where: Where) -> bool:
        """The lines the per-line rules kept, scanned together: a refusal here is final."""
        try:
            return not lines or self._take(b"\n".join(lines) + b"\n", where) == len(lines)
        except _scan.Refused as e:
            raise Unscannable(refusal(e, where)) from None

    def _take(self, body: bytes, where: Where) -> int:
        """Scan a block into the store; raises _scan.Refused (nothing changed) or
        Unscannable (the scanner's tables changed: start again with another reader)."""
        try:
            columns = self.scanner.scan(body)
        except _scan.Spoiled as e:
            raise Unscannable(refusal(e, where)) from None
        c = {
            name: np.frombuffer(col, kind)
            for (name, kind), col in zip(COLUMNS, columns, strict=True)
        }
        line = c["line"]
        self._learn_names(c["key"], c["workload"])
        bits = c["bits"]
        t_comp = c["t_comp"]

        def row(i: int) -> Row:
            return _decode_row(body[line[i] : line[i + 1]])

        writes, finals = self.writes, self.finals
        self.apply(Block(
            c["op"], c["outcome"], (bits & B_FINAL) > 0, c["region"], c["workload"], c["key"],
            c["vid"], c["pred"], c["t_inv"], np.where(np.isnan(t_comp), 0.0, t_comp),
            c["target"] != 0xFFFF, c["target"], c["lag"], (bits & B_HARNESS) > 0,
            (bits & B_CONSISTENT) > 0, c["item_bytes"], c["old_bytes"], c["capacity"], row,
        ))  # fmt: skip
        if (bits & B_ATTRS).any():
            self._attributes(c, row, writes, finals)
        return len(line) - 1

    def _attributes(self, c: dict[str, np.ndarray], row: Any, writes: int, finals: int) -> None:
        """Attribute-level versions of the block's writes and final reads, as
        `VersionStore._attrs` and `_final_attrs` keep them (the scanner numbered them)."""
        op, outcome, has = c["op"], c["outcome"], (c["bits"] & B_ATTRS) > 0
        final = (c["bits"] & B_FINAL) > 0
        number = self.scanner.find
        write = (op < 3) & (outcome != 2)
        flags = self.w["flags"][-1] if write.any() else None  # this block's, appended by apply
        for j, i in enumerate(np.flatnonzero(write).tolist()):
            if has[i]:
                r = row(i)
                own = {a: number(VID, x) for a, x in r.attrs.items()}
                ap = r.attr_preds or {}
                preds = {a: number(VID, ap[a]) if ap.get(a) else -1 for a in own}
                self.s.w_attrs[writes + j] = (own, preds)
                flags[j] |= ATTR_LEVEL  # type: ignore[index]
        fin = (op == 3) & (outcome == 0) & final
        for j, i in enumerate(np.flatnonzero(fin).tolist()):
            if has[i]:
                attrs = row(i).attrs.items()
                self.f_attrs[finals + j] = tuple(sorted((a, number(VID, x)) for a, x in attrs if x))

    def _learn_names(self, key: np.ndarray, workload: np.ndarray) -> None:
        """New regions and workloads into the store's tables (the scanner numbered them in
        the order the per-record ingester does); a new key's first workload."""
        s, scanner = self.s, self.scanner
        for interned, table in ((s.regions, REGION), (s.workloads, WORKLOAD)):
            for name in scanner.names(table, len(interned.names)):
                interned(name)
        nkeys = scanner.count(KEY)
        if nkeys > self.key_head.n:
            base = self.key_head.n
            self.key_head.grow_to(nkeys)
            self.key_workload.grow_to(nkeys)
            codes, first = np.unique(key[key >= base], return_index=True)
            rows = np.flatnonzero(key >= base)[first]
            self.key_workload.a[codes] = workload[rows]

    def finish(self) -> None:
        s = self.s
        s.keys.names = self.scanner.names(KEY)
        s.keys.ids = dict(zip(s.keys.names, range(len(s.keys.names)), strict=True))
        super().finish()

    def _dense_vids(self) -> np.ndarray:
        """The scanner numbered the vids densely, in the order first met, and kept their
        write numbers and `seen` marks: the identity ranks them."""
        s = self.s
        vid_write, seen = self.scanner.vids()
        s.vid_write, s.seen = array("i", vid_write), bytearray(seen)
        s.vids, s.vid_list = {}, VidNames(self.scanner)
        return np.arange(max(len(seen), 1), dtype=np.int64)
