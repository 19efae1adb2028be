"""The VersionStore and the cost columns built from blocks of decoded rows with array
operations: the columnar twin of `VersionStore.ingester` + `CostAccumulator.observe`.

Names are interned in bulk in the order the per-record ingester meets them (regions, then a
probe's target; workloads; keys; a write's vid then its pred), so every figure, name list and
tie-break comes out the same. While reading, a vid is numbered by its position in that
sequence (one dict probe per occurrence); `finish` renumbers them 0, 1, ... in that order.
A block the columns cannot take exactly (a field missing where the per-record reader would
reject the line, a write without vid) is refused before any state changes; the reader then
reads it line by line. A write repeating a recorded vid raises `Irregular`.
"""

from __future__ import annotations

import itertools
from array import array
from typing import Any

import msgspec
import numpy as np

from verdict.columns import Irregular, Row
from verdict.cost_campaign import CostAccumulator
from verdict.graph import (
    DELETE,
    EVIDENCE_KINDS,
    MIXED_FINAL,
    NO_FINAL,
    UNKNOWN,
    VersionStore,
    error_name,
    rejection,
)
from verdict.row_columns import (
    Block,
    FinalReads,
    Growable,
    column,
    cost_columns,
    first_index,
    floats,
    given,
    pick,
    truthy,
)

OPS = {"put": 0, "update": 1, "delete": 2, "get": 3, "probe": 4}
_DELETE, _GET, _PROBE = 2, 3, 4
OUTCOMES = {"ok": 0, "unknown": 1, "fail": 2}
UNSET = msgspec.UNSET
_count = itertools.count


class ColumnIngester:
    """`ingest(rows, present)` for `verdict.columns.read_rows`; `finish()` fills the store."""

    def __init__(self, store: VersionStore, cost: CostAccumulator) -> None:
        self.s, self.cost = store, cost
        self.valued = {w for w, kind in store.value_kinds.items() if kind in EVIDENCE_KINDS}
        self.top = 0  # the next vid number
        self.vid_write = Growable(np.int32, -1)
        self.seen = Growable(np.uint8, 0)
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

    def __call__(self, rows: list[Row]) -> bool:
        return self.ingest(rows)

    def ingest(self, rows: list[Row]) -> bool:
        """Take decoded rows: False (nothing changed) when a row needs the per-record path."""
        n = len(rows)
        op = np.fromiter(map(OPS.__getitem__, [r.op for r in rows]), np.int8, n)
        outcome = np.fromiter(map(OUTCOMES.__getitem__, [r.outcome for r in rows]), np.int8, n)
        is_get, is_probe, is_write = op == _GET, op == _PROBE, op < _GET
        ok, fail = outcome == 0, outcome == 2
        final = np.zeros(n, dtype=bool)
        finals = [r.final for r in rows]
        if given(finals):
            final = truthy(finals)
        vids, preds, keys = [r.vid for r in rows], [r.pred for r in rows], [r.key for r in rows]
        has_vid = truthy(vids)
        fin = is_get & ok & final
        read = is_get & ok & ~final & has_vid
        write = is_write & ~fail
        probe = np.zeros(n, dtype=bool)
        lags: list[Any] = []
        targets: list[Any] = []
        if is_probe.any():
            lags, targets = column(rows, "lag"), column(rows, "target")
            probe = is_probe & ok
            probe &= np.fromiter((x is not None for x in lags), bool, n)
            probe &= truthy(targets)
        t_inv, inv_absent = floats([r.t_invoke for r in rows], None)
        t_comp, comp_absent = floats([r.t_complete for r in rows], UNSET)
        keyed = fin | read | write
        # refuse, before any state changes, what the per-record reader would judge otherwise
        if UNSET in keys and np.fromiter((k is UNSET for k in keys), bool, n)[keyed].any():
            return False
        if inv_absent is not None and inv_absent[read | is_write | probe].any():
            return False
        if comp_absent is not None and comp_absent[is_write].any():
            return False
        if (write & ~has_vid).any():
            return False
        region = self._regions(rows, probe, targets)
        workload = self._workloads(rows, is_probe)
        key = self._keys(keys, keyed, workload)
        vid, pred = self._vids(vids, preds, fin & has_vid, read, write)
        w = vid[write]
        self.vid_write.a[w] = np.arange(self.writes, self.writes + len(w), dtype=np.int32)
        target = np.full(n, -1, dtype=np.int32)
        lag = np.full(n, np.nan)
        p = np.flatnonzero(probe).tolist()
        if p:
            ids = self.s.regions.ids
            target[p] = [ids[targets[i]] for i in p]
            lag[p] = [float(lags[i]) for i in p]
        self.apply(Block(
            op, outcome, final, region, workload, key, vid, pred, t_inv,
            np.where(comp_absent, 0.0, t_comp) if comp_absent is not None else t_comp,
            probe, target, lag, *cost_columns(rows, keys), rows.__getitem__,
        ))  # fmt: skip
        return True

    def apply(self, b: Block) -> None:
        """Everything after interning, shared by every way a block's columns are read."""
        is_get, is_write = b.op == _GET, b.op < _GET
        ok, fail = b.outcome == 0, b.outcome == 2
        fin = is_get & ok & b.final
        read = is_get & ok & ~b.final & (b.vid >= 0)
        write = is_write & ~fail
        valued = bool(self.valued)
        self._writes(b, np.flatnonzero(write), valued)
        self._tally(
            b.workload, b.region, write, b.outcome == 1, is_write & fail, is_get & ok & ~b.final
        )
        failed = np.flatnonzero(is_write & fail)
        self.s.failed_t.extend(b.t_inv[failed].tolist())
        condition = np.zeros(len(b.op), dtype=bool)
        if len(failed):  # client_lww rejections name their blocker; only failed writes can
            errors = self.s.failed_errors
            for i in failed.tolist():
                row = b.row(i)
                errors[int(b.workload[i]), error_name(row.error)] += 1
                condition[i] = "ConditionalCheck" in str(row.error)
                if row.blocked_by is not None:
                    self._rejection(b, i, row)
        r = np.flatnonzero(read)
        for name, col in (("key", b.key), ("vid", b.vid), ("region", b.region), ("t", b.t_inv)):
            self.r[name].append(col[r])
        f = np.flatnonzero(fin)
        for name, col in (("key", b.key), ("vid", b.vid), ("region", b.region)):
            self.f[name].append(col[f])
        if valued:
            for i, row in enumerate(f.tolist()):
                value = b.row(row).value
                if value is not UNSET:
                    self.f_values[self.finals + i] = value
        self.finals += len(f)
        if b.probe.any():
            self._probes(b)
        gets, replicates = is_get & ok, write
        charged = np.flatnonzero((gets | replicates | condition) & ~b.final & ~b.harness)
        flags = np.where(gets, 1, 0) | np.where(replicates, 4, 0) | np.where(gets & b.strong, 2, 0)
        old = np.where(is_write, b.old, 0)
        self.cost.observe_columns(self.s.regions.names, b.region[charged], flags[charged].astype(np.uint8),
                                  b.size[charged], old[charged], b.capacity[charged], b.t_comp[charged])  # fmt: skip

    def _regions(self, rows: list[Row], probe: np.ndarray, targets: list[Any]) -> np.ndarray:
        """Region codes; new names (and probe targets) interned in record order."""
        names, interned = column(rows, "region"), self.s.regions
        ids = interned.ids
        codes = np.fromiter(map(ids.get, names, itertools.repeat(-1)), np.int32, len(names))
        fresh = []
        if (codes < 0).any():
            fresh = [x for x in dict.fromkeys(names) if x not in ids]
        idx = np.flatnonzero(probe).tolist()
        new_targets = [i for i in idx if targets[i] not in ids]
        if not fresh and not new_targets:
            return codes.astype(np.uint16)
        if fresh or new_targets:
            firsts = first_index(names)
            order = sorted(
                [(2 * firsts[x], x) for x in fresh] + [(2 * i + 1, targets[i]) for i in new_targets]
            )
            for _, name in order:
                interned(name)
        return np.fromiter(map(ids.__getitem__, names), np.uint16, len(names))

    def _workloads(self, rows: list[Row], is_probe: np.ndarray) -> np.ndarray:
        names = [w or "" for w in column(rows, "workload")]
        interned = self.s.workloads
        ids = interned.ids
        codes = np.fromiter(map(ids.get, names, itertools.repeat(-1)), np.int32, len(names))
        if (codes[~is_probe] < 0).any():
            own = pick(names, np.flatnonzero(~is_probe))
            for name in dict.fromkeys(own):  # first-seen order within the block
                interned(name)
            codes = np.fromiter(map(ids.get, names, itertools.repeat(0)), np.int32, len(names))
        return np.maximum(codes, 0).astype(np.uint16)

    def _keys(self, keys: list[Any], keyed: np.ndarray, workload: np.ndarray) -> np.ndarray:
        idx = np.flatnonzero(keyed)
        mine = pick(keys, idx)
        interned = self.s.keys
        ids = interned.ids
        codes = np.fromiter(map(ids.get, mine, itertools.repeat(-1)), np.int32, len(mine))
        new = []
        if (codes < 0).any():
            new = [k for k in dict.fromkeys(pick(mine, np.flatnonzero(codes < 0))) if k not in ids]
            firsts = first_index(mine)
            base = len(interned.names)
            interned.names.extend(new)
            ids.update(zip(new, _count(base), strict=False))
            self.key_head.grow_to(base + len(new))
            self.key_workload.grow_to(base + len(new))
            rows = idx[np.fromiter(map(firsts.__getitem__, new), np.int64, len(new))]
            self.key_workload.a[base : base + len(new)] = workload[rows]
            codes = np.fromiter(map(ids.__getitem__, mine), np.int32, len(mine))
        out = np.full(len(keys), -1, dtype=np.int32)
        out[idx] = codes
        return out

    def _vids(
        self, vids: list[Any], preds: list[Any], fin: np.ndarray, read: np.ndarray,
        write: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
        """Vid and pred numbers (-1: none). A vid is numbered by the position where the
        per-record ingester first meets it: row i's vid at base + 2i, its pred at 2i + 1.
        Raises Irregular on a write repeating a recorded vid (the per-record ingester
        drops it, pred unseen, which these columns do not undo)."""
        n, table, base = len(vids), self.s.vids, self.top
        setdefault = table.setdefault
        at = np.flatnonzero(fin | read | write)
        vid = np.full(n, -1, dtype=np.int64)
        vid[at] = np.fromiter(
            map(setdefault, pick(vids, at), (base + 2 * at).tolist()), np.int64, len(at)
        )
        at_pred = np.flatnonzero(write & truthy(preds))
        pred = np.full(n, -1, dtype=np.int64)
        own = base + 2 * at_pred + 1
        pred[at_pred] = np.fromiter(
            map(setdefault, pick(preds, at_pred), own.tolist()), np.int64, len(at_pred)
        )
        late = pred[at_pred] > own  # first met as the vid of a later row: renumber
        if late.any():
            for code in np.unique(pred[at_pred][late]).tolist():
                first = int(own[pred[at_pred] == code].min())
                table[preds[int(at_pred[pred[at_pred] == code][0])]] = first
                vid[vid == code] = first
                pred[pred == code] = first
        self.top = base + 2 * n
        self.vid_write.grow_to(self.top)
        self.seen.grow_to(self.top)
        w = vid[write]
        if (self.vid_write.a[w] >= 0).any() or len(np.unique(w)) < len(w):
            raise Irregular("a write repeats a recorded vid")
        seen = self.seen.a
        seen[pred[at_pred]] = 1
        seen[vid[fin | read]] = 1
        return vid, pred

    def _writes(self, b: Block, w: np.ndarray, valued: bool) -> None:
        nw = len(w)
        if not nw:
            return
        number = np.arange(self.writes, self.writes + nw, dtype=np.int32)
        key, vid, pred, region, workload = b.key, b.vid, b.pred, b.region, b.workload
        flags = np.where(b.op[w] == _DELETE, DELETE, 0) | np.where(b.outcome[w] == 1, UNKNOWN, 0)
        k = key[w]
        # per-key chain, newest first: each write points at the key's previous write
        order = np.argsort(k, kind="stable")
        ks, ws = k[order], number[order]
        start = np.r_[True, ks[1:] != ks[:-1]]
        end = np.r_[ks[1:] != ks[:-1], True]
        prev = np.empty(nw, dtype=np.int32)
        prev[1:] = ws[:-1]
        prev[start] = self.key_head.a[ks[start]]
        owner = start.copy()  # a key's first write ever: its workload owns the key
        owner[start] = prev[start] < 0
        self.key_workload.a[ks[owner]] = workload[w][order][owner]
        nxt = np.empty(nw, dtype=np.int32)
        nxt[order] = prev
        self.key_head.a[ks[end]] = ws[end]
        for name, col in (
            ("vid", vid[w]), ("key", k), ("pred", pred[w]), ("region", region[w]),
            ("workload", workload[w]), ("flags", flags), ("tinv", b.t_inv[w]),
            ("tcomp", b.t_comp[w]), ("next", nxt),
        ):  # fmt: skip
            self.w[name].append(col)
        if valued and self.valued:
            names = self.s.workloads.names
            for i, row in enumerate(w.tolist()):
                if names[workload[row]] in self.valued:
                    value = b.row(row).value
                    if value is not UNSET:
                        self.s.w_value[self.writes + i] = value
        self.writes += nw

    def _tally(
        self, workload: np.ndarray, region: np.ndarray, write: np.ndarray,
        unknown: np.ndarray, failed: np.ndarray, reads: np.ndarray,
    ) -> None:  # fmt: skip
        kind = np.full(len(workload), -1, dtype=np.int64)
        kind[write] = unknown[write]
        kind[failed] = 2
        kind[reads] = 3
        return_kind = kind >= 0
        code = workload.astype(np.int64) << 18 | region.astype(np.int64) << 2 | kind
        return_codes, counts = np.unique(code[return_kind], return_counts=True)
        tally = self.s.tally
        for c, m in zip(return_codes.tolist(), counts.tolist(), strict=True):
            tally[c] += m

    def _rejection(self, b: Block, i: int, row: Row) -> None:
        r = rejection(int(b.workload[i]), int(b.region[i]), row.key, float(b.t_inv[i]),
                      float(b.t_comp[i]), row.blocked_by)  # fmt: skip
        if r is not None:
            self.s.rejections.append(r)

    def _probes(self, b: Block) -> None:
        s = self.s
        for i in np.flatnonzero(b.probe).tolist():
            link = (int(b.region[i]), int(b.target[i]))
            if link not in s.lags:
                s.lags[link] = array("d")
                s.probe_t[link] = array("d")
            s.lags[link].append(float(b.lag[i]))
            s.probe_t[link].append(float(b.t_inv[i]))

    def _dense_vids(self) -> np.ndarray:
        """Number the vids 0, 1, ... in the order first met (the per-record ingester's
        numbers) and name them; returns position -> number."""
        s = self.s
        names = list(s.vids)
        pos = np.fromiter(s.vids.values(), np.int64, len(names))
        if len(pos) > 1 and (np.diff(pos) <= 0).any():  # renumbered by `_vids`: sort
            order = np.argsort(pos, kind="stable")
            pos, names = pos[order], [names[i] for i in order.tolist()]
        rank = np.full(max(self.top, 1), -1, dtype=np.int64)
        rank[pos] = np.arange(len(pos))
        s.vid_write = array("i", self.vid_write.a[pos].astype(np.int32).tobytes())
        s.seen = bytearray(self.seen.a[pos].tobytes())
        s.vids, s.vid_list = {}, names
        return rank

    def finish(self) -> None:
        """Hand the columns to the store as the arrays the checker reads."""
        s = self.s
        rank = self._dense_vids()
        for name, typecode in _W_COLUMNS.items():
            col = np.concatenate(self.w[name]) if self.w[name] else np.empty(0, np.int64)
            if name in ("vid", "pred"):
                col = np.where(col >= 0, rank[np.maximum(col, 0)], -1)
            data = col.astype(_DTYPES[typecode])
            if name == "flags":
                s.w_flags = bytearray(data.tobytes())
            else:
                setattr(s, f"w_{name}", array(typecode, data.tobytes()))
        nkeys = len(s.keys.names)
        s.key_head = array("i", self.key_head.a[:nkeys].astype(np.int32).tobytes())
        s.key_workload = array("H", self.key_workload.a[:nkeys].astype(np.uint16).tobytes())
        for name, typecode, dtype in (("key", "i", np.int32), ("vid", "i", np.int32),
                                      ("region", "H", np.uint16), ("t", "d", np.float64)):  # fmt: skip
            col = np.concatenate(self.r[name]) if self.r[name] else np.empty(0, np.int64)
            col = (rank[col] if name == "vid" else col).astype(dtype)
            setattr(s, f"r_{name}", array(typecode, col.tobytes()))
        fk, fv, fr = (
            np.concatenate(self.f[c]) if self.f[c] else np.empty(0, np.int64)
            for c in ("key", "vid", "region")
        )
        fv = np.where(fv >= 0, rank[np.maximum(fv, 0)], -1)
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


_DTYPES = {"i": np.int32, "H": np.uint16, "d": np.float64, "B": np.uint8}
#: per-write columns and their array typecodes
_W_COLUMNS = {"vid": "i", "key": "i", "pred": "i", "region": "H", "workload": "H",
              "flags": "B", "tinv": "d", "tcomp": "d", "next": "i"}  # fmt: skip
