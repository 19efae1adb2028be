"""The one builder from the native scanner's columns (verdict._scan) to the VersionStore and
the bill: the column-at-a-time twin of `verdict.record_reader.RecordIngester` + the cost
accumulator's `observe`, block by block.

The scanner has already decided what each row is (its `role` column, by the row rules of
verdict/_scan.c) and numbered regions, workloads, keys and vids in the order the per-record
reader meets them, so every figure, name list and tie-break comes out the same; this module
only files the rows: writes into per-key chains, reads and final reads into columns, probes
into lag samples, the bill's charged rows into the cost columns. The few fields kept out of
the columns (a failed write's error, a counter's value, attribute versions) are read from
the row's own line when needed.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

from verdict.cost_campaign import CostAccumulator
from verdict.graph import (
    ATTR_LEVEL,
    DELETE,
    EVIDENCE_KINDS,
    MIXED_FINAL,
    NO_FINAL,
    PRED_UNKNOWN,
    UNKNOWN,
    FinalRead,
    VersionStore,
    error_name,
    rejection,
)

#: the scanner's row roles and bits (verdict/_scan.c exports them; mirrored here so this
#: module imports without the extension)
ROLE_WRITE, ROLE_FAILED, ROLE_READ, ROLE_FINAL, ROLE_PROBE = 1, 2, 3, 4, 5
B_FINAL, B_CONSISTENT, B_HARNESS, B_ATTRS, B_PRED_NAMED = 1, 8, 16, 256, 512
_DELETE, _UNKNOWN = 2, 1  # op and outcome codes
#: a block's columns by name, and row(i) -> the record of its i-th line (decoded when asked)
Columns = dict[str, np.ndarray]
RowOf = Callable[[int], dict[str, Any]]


class Growable:
    """A numpy column that grows by doubling, new slots set to `fill`."""

    def __init__(self, dtype: Any, fill: int) -> None:
        self.a = np.full(1024, fill, dtype=dtype)
        self.n = 0
        self.fill = fill

    def grow_to(self, n: int) -> None:
        if n > len(self.a):
            bigger = np.full(max(n, 2 * len(self.a)), self.fill, dtype=self.a.dtype)
            bigger[: self.n] = self.a[: self.n]
            self.a = bigger
        self.n = max(self.n, n)


class FinalReads(Mapping[int, list[FinalRead]]):
    """The final reads in columns; one key's list is built when asked (only keys judged one
    by one ask)."""

    def __init__(
        self, keys: int, key: np.ndarray, region: np.ndarray, vid: np.ndarray, values: dict,
        attrs: dict,
    ) -> None:  # fmt: skip
        self._order = np.argsort(key, kind="stable")
        counts = np.bincount(key, minlength=keys)
        hi = np.cumsum(counts)
        self._lo, self._hi = (hi - counts).tolist(), hi.tolist()
        self._keys = np.flatnonzero(counts).tolist()
        self._region, self._vid, self._values, self._attrs = region, vid, values, attrs

    def __getitem__(self, k: int) -> list[FinalRead]:
        lo, hi = (self._lo[k], self._hi[k]) if 0 <= k < len(self._lo) else (0, 0)
        if lo == hi:
            raise KeyError(k)
        region, vid, values, attrs = self._region, self._vid, self._values, self._attrs
        return [
            FinalRead(int(region[r]), int(vid[r]), attrs.get(r, ()), values.get(r))
            for r in self._order[lo:hi].tolist()
        ]

    def __iter__(self) -> Iterator[int]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)


#: per-write columns and their array typecodes
_W_COLUMNS = {"vid": "i", "key": "i", "pred": "i", "region": "H", "workload": "H",
              "flags": "B", "tinv": "d", "tcomp": "d", "next": "i"}  # fmt: skip
_DTYPES = {"i": np.int32, "H": np.uint16, "d": np.float64, "B": np.uint8}


class StoreBuilder:
    """`add(columns, row)` per scanned block; `finish(keys, vid_write, seen, vid_names)`
    hands the columns to the store as the arrays the checker reads."""

    def __init__(
        self, store: VersionStore, cost: CostAccumulator | None,
        vid_number: Callable[[str], int],
    ) -> None:  # fmt: skip
        """`vid_number(name)`: the scanner's number of a vid it has met; `cost` None: the
        bill and the latencies are drawn up elsewhere (a key bucket's rows were charged and
        timed when routed)."""
        self.s, self.cost, self.vid_number = store, cost, vid_number
        self.valued = {w for w, kind in store.value_kinds.items() if kind in EVIDENCE_KINDS}
        self.key_head = Growable(np.int32, -1)
        self.key_workload = Growable(np.uint16, 0)
        self.writes = 0
        self.w: dict[str, list[np.ndarray]] = {c: [] for c in _W_COLUMNS}
        self.r: dict[str, list[np.ndarray]] = {c: [] for c in ("key", "vid", "region", "t")}
        self.f: dict[str, list[np.ndarray]] = {c: [] for c in ("key", "vid", "region")}
        self.f_values: dict[int, Any] = {}
        #: final read number -> its attribute versions, ((name, vid), ...) sorted
        self.f_attrs: dict[int, tuple[tuple[str, int], ...]] = {}
        self.finals = 0
        #: where keys were first named, reads kept and rejections made, in the whole
        #: history's record order (when blocks come with positions: a key bucket's store)
        self.key_pos = Growable(np.int64, -1)
        self.r_pos: list[np.ndarray] = []
        self.rejection_pos: list[int] = []

    def add(self, c: Columns, row: RowOf, keys: int, pos: np.ndarray | None = None) -> None:
        """One block's rows; `keys`: how many keys the scanner has numbered so far; `pos`:
        each row's index in the whole history's records (a key bucket's blocks)."""
        self._learn_keys(c, keys, pos)
        role = c["role"]
        writes, finals = self.writes, self.finals
        self._writes(c, np.flatnonzero(role == ROLE_WRITE), row)
        self._tally(c, role)
        condition = self._failed(c, np.flatnonzero(role == ROLE_FAILED), row, pos)
        kept = np.flatnonzero((role == ROLE_READ) & (c["vid"] >= 0))
        if pos is not None:
            self.r_pos.append(pos[kept])
        for name, col in (("key", c["key"]), ("vid", c["vid"]), ("region", c["region"]),
                          ("t", c["t_inv"])):  # fmt: skip
            self.r[name].append(col[kept])
        self._finals(c, np.flatnonzero(role == ROLE_FINAL), row)
        add_probes(self.s, c)
        if self.cost is not None:
            charge(self.cost, self.s.regions.names, c, condition)
            add_latency(self.s, c)
        if (c["bits"] & B_ATTRS).any():
            self._attributes(c, row, writes, finals)

    def _learn_keys(self, c: Columns, keys: int, pos: np.ndarray | None) -> None:
        """A new key's first workload (the scanner numbered the keys), and where it was
        first named."""
        if keys > self.key_head.n:
            base = self.key_head.n
            self.key_head.grow_to(keys)
            self.key_workload.grow_to(keys)
            key = c["key"]
            codes, first = np.unique(key[key >= base], return_index=True)
            rows = np.flatnonzero(key >= base)[first]
            self.key_workload.a[codes] = c["workload"][rows]
            if pos is not None:
                self.key_pos.grow_to(keys)
                self.key_pos.a[codes] = pos[rows]

    def _writes(self, c: Columns, w: np.ndarray, row: RowOf) -> None:
        """Acknowledged and unknown writes: appended, each chained to its key's previous
        write (newest first); a key's first write hands the key to its workload."""
        nw = len(w)
        if not nw:
            return
        number = np.arange(self.writes, self.writes + nw, dtype=np.int32)
        workload = c["workload"][w]
        flags = np.where(c["op"][w] == _DELETE, DELETE, 0)
        unknown = c["outcome"][w] == _UNKNOWN
        flags |= np.where(unknown, UNKNOWN, 0)
        flags |= np.where(unknown & ((c["bits"][w] & B_PRED_NAMED) == 0), PRED_UNKNOWN, 0)
        k = c["key"][w]
        order = np.argsort(k, kind="stable")
        ks, ws = k[order], number[order]
        start = np.r_[True, ks[1:] != ks[:-1]]
        end = np.r_[ks[1:] != ks[:-1], True]
        prev = np.empty(nw, dtype=np.int32)
        prev[1:] = ws[:-1]
        prev[start] = self.key_head.a[ks[start]]
        owner = start.copy()  # a key's first write ever: its workload owns the key
        owner[start] = prev[start] < 0
        self.key_workload.a[ks[owner]] = workload[order][owner]
        nxt = np.empty(nw, dtype=np.int32)
        nxt[order] = prev
        self.key_head.a[ks[end]] = ws[end]
        for name, col in (
            ("vid", c["vid"][w]), ("key", k), ("pred", c["pred"][w]), ("region", c["region"][w]),
            ("workload", workload), ("flags", flags), ("tinv", c["t_inv"][w]),
            ("tcomp", c["t_comp"][w]), ("next", nxt),
        ):  # fmt: skip
            self.w[name].append(col)
        if self.valued:
            self._values(w, workload, row)
        self.writes += nw

    def _values(self, w: np.ndarray, workload: np.ndarray, row: RowOf) -> None:
        names = self.s.workloads.names
        for i, (at, wl) in enumerate(zip(w.tolist(), workload.tolist(), strict=True)):
            if names[wl] in self.valued:
                rec = row(at)
                if "value" in rec:
                    self.s.w_value[self.writes + i] = rec["value"]

    def _tally(self, c: Columns, role: np.ndarray) -> None:
        """Operations by (workload, region, kind): writes ok / unknown, failed, reads."""
        kind = np.full(len(role), -1, dtype=np.int64)
        write = role == ROLE_WRITE
        kind[write] = c["outcome"][write] == _UNKNOWN
        kind[role == ROLE_FAILED] = 2
        kind[role == ROLE_READ] = 3
        counted = kind >= 0
        code = c["workload"].astype(np.int64) << 18 | c["region"].astype(np.int64) << 2 | kind
        codes, counts = np.unique(code[counted], return_counts=True)
        tally = self.s.tally
        for k, m in zip(codes.tolist(), counts.tolist(), strict=True):
            tally[k] += m

    def _failed(
        self, c: Columns, failed: np.ndarray, row: RowOf, pos: np.ndarray | None
    ) -> np.ndarray:
        """Failed writes by error; client_lww rejections naming their blocker. Returns the
        rows whose condition failed (they consume write units)."""
        condition = np.zeros(len(c["role"]), dtype=bool)
        errors = self.s.failed_errors
        self.s.failed_t.extend(c["t_inv"][failed].tolist())
        for i in failed.tolist():
            rec = row(i)
            error = rec.get("error")
            errors[int(c["workload"][i]), int(c["region"][i]), error_name(error)] += 1
            condition[i] = "ConditionalCheck" in str(error)
            if "blocked_by" in rec:
                r = rejection(int(c["workload"][i]), int(c["region"][i]), rec.get("key"),
                              float(c["t_inv"][i]), float(c["t_comp"][i]), rec["blocked_by"])  # fmt: skip
                if r is not None:
                    self.s.rejections.append(r)
                    if pos is not None:
                        self.rejection_pos.append(int(pos[i]))
        return condition

    def _finals(self, c: Columns, f: np.ndarray, row: RowOf) -> None:
        for name, col in (("key", c["key"]), ("vid", c["vid"]), ("region", c["region"])):
            self.f[name].append(col[f])
        if self.valued:
            for i, at in enumerate(f.tolist()):
                rec = row(at)
                if "value" in rec:
                    self.f_values[self.finals + i] = rec["value"]
        self.finals += len(f)

    def _attributes(self, c: Columns, row: RowOf, writes: int, finals: int) -> None:
        """Attribute-level versions of the block's writes and final reads, as the
        per-record reader keeps them (the scanner numbered them; found by name here)."""
        role, has = c["role"], (c["bits"] & B_ATTRS) > 0
        number = self.vid_number
        w = np.flatnonzero(role == ROLE_WRITE)
        flags = self.w["flags"][-1] if len(w) else None  # this block's, appended by _writes
        for j, i in enumerate(w.tolist()):
            if has[i]:
                rec = row(i)
                own = {a: number(x) for a, x in rec["attrs"].items()}
                ap = rec.get("attr_preds") or {}
                preds = {a: number(ap[a]) if ap.get(a) else -1 for a in own}
                self.s.w_attrs[writes + j] = (own, preds)
                flags[j] |= ATTR_LEVEL  # type: ignore[index]
        for j, i in enumerate(np.flatnonzero(role == ROLE_FINAL).tolist()):
            if has[i]:
                attrs = row(i)["attrs"].items()
                self.f_attrs[finals + j] = tuple(sorted((a, number(x)) for a, x in attrs if x))

    def finish(self, keys: list[str], vid_write: bytes, seen: bytes, vid_names: Any) -> None:
        """Hand the columns to the store as the arrays the checker reads; the scanner's
        tables name the keys and vids (numbered densely, in the order first met)."""
        s = self.s
        s.keys.names = keys
        s.keys.ids = dict(zip(keys, range(len(keys)), strict=True))
        s.vid_write, s.seen = array("i", vid_write), bytearray(seen)
        s.vids, s.vid_list = {}, vid_names
        for name, typecode in _W_COLUMNS.items():
            col = np.concatenate(self.w[name]) if self.w[name] else np.empty(0, np.int64)
            data = col.astype(_DTYPES[typecode])
            if name == "flags":
                s.w_flags = bytearray(data.tobytes())
            else:
                setattr(s, f"w_{name}", array(typecode, data.tobytes()))
        nkeys = len(keys)
        s.key_head = array("i", self.key_head.a[:nkeys].astype(np.int32).tobytes())
        s.key_workload = array("H", self.key_workload.a[:nkeys].astype(np.uint16).tobytes())
        for name, typecode, dtype in (("key", "i", np.int32), ("vid", "i", np.int32),
                                      ("region", "H", np.uint16), ("t", "d", np.float64)):  # fmt: skip
            col = np.concatenate(self.r[name]) if self.r[name] else np.empty(0, dtype)
            setattr(s, f"r_{name}", array(typecode, col.astype(dtype).tobytes()))
        self._final_columns(nkeys)

    def _final_columns(self, nkeys: int) -> None:
        """Per key, the vid every final read agrees on (NO_FINAL, MIXED_FINAL), and the
        final reads themselves."""
        s = self.s
        fk, fv, fr = (
            np.concatenate(self.f[c]) if self.f[c] else np.empty(0, np.int64)
            for c in ("key", "vid", "region")
        )
        final = np.full(nkeys, NO_FINAL, dtype=np.int64)
        if len(fk):
            lo = np.full(nkeys, np.iinfo(np.int64).max)
            hi = np.full(nkeys, np.iinfo(np.int64).min)
            np.minimum.at(lo, fk, fv)
            np.maximum.at(hi, fk, fv)
            got = np.bincount(fk, minlength=nkeys) > 0
            final[got] = MIXED_FINAL
            agreed = got & (lo == hi) & (lo >= 0)
            final[agreed] = lo[agreed]
            if self.f_attrs:  # attribute versions: judged per attribute, never one vid
                final[fk[list(self.f_attrs)]] = MIXED_FINAL
        s.key_final = array("i", final.astype(np.int32).tobytes())
        s.finals = FinalReads(nkeys, fk, fr, fv, self.f_values, self.f_attrs)  # type: ignore[assignment]


def add_probes(store: VersionStore, c: Columns) -> None:
    """The block's lag samples, per link, in record order."""
    for i in np.flatnonzero(c["role"] == ROLE_PROBE).tolist():
        link = (int(c["region"][i]), int(c["target"][i]))
        if link not in store.lags:
            store.lags[link] = array("d")
            store.probe_t[link] = array("d")
        store.lags[link].append(float(c["lag"][i]))
        store.probe_t[link].append(float(c["t_inv"][i]))


def add_latency(store: VersionStore, c: Columns) -> None:
    """The block's acknowledged workload operations for latency budgets (verdict.latency):
    writes that succeeded and reads that are not final reads (probes are no role here)."""
    role = c["role"]
    acknowledged = ((role == ROLE_WRITE) & (c["outcome"] != _UNKNOWN)) | (role == ROLE_READ)
    acknowledged &= np.isfinite(c["t_inv"])
    store.latency.add_block(
        c["op"], acknowledged, c["region"], c["workload"], c["t_inv"], c["t_comp"]
    )


def conditions(c: Columns, row: RowOf) -> np.ndarray:
    """Per row: a write whose condition failed (it consumes write units)."""
    condition = np.zeros(len(c["role"]), dtype=bool)
    for i in np.flatnonzero(c["role"] == ROLE_FAILED).tolist():
        condition[i] = "ConditionalCheck" in str(row(i).get("error"))
    return condition


def charge(cost: CostAccumulator, names: list[str], c: Columns, condition: np.ndarray) -> None:
    """The bill's rows: gets, writes that replicate, failed conditions; not the harness's
    own traffic (final reads, heartbeat keys). `names`: the region table."""
    role, bits = c["role"], c["bits"]
    gets, replicates = (role == ROLE_READ) | (role == ROLE_FINAL), role == ROLE_WRITE
    harness = (bits & (B_FINAL | B_HARNESS)) > 0
    charged = np.flatnonzero((gets | replicates | condition) & ~harness)
    strong = gets & ((bits & B_CONSISTENT) > 0)
    flags = np.where(gets, 1, 0) | np.where(replicates, 4, 0) | np.where(strong, 2, 0)
    old = np.where(c["op"] < 3, c["old_bytes"], 0)
    t_comp = c["t_comp"][charged]
    cost.observe_columns(
        names, c["region"][charged], flags[charged].astype(np.uint8), c["item_bytes"][charged],
        old[charged], c["capacity"][charged], np.where(np.isnan(t_comp), 0.0, t_comp),
    )  # fmt: skip
