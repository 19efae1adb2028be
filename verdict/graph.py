"""Compact storage of a history: the version graph of every key, reads, final reads, probes.

Everything is kept in flat `array`s indexed by write number, with vids, keys, regions and
workloads interned to small integers, so a million-operation history costs a few hundred
bytes per operation and no per-operation dicts survive ingestion. Writes of one key are
chained through `w_next` (newest first) from `key_head`.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from typing import Any

#: w_flags bits
DELETE = 1
UNKNOWN = 2  # outcome unknown (timeout): counted only once its vid is seen
ATTR_LEVEL = 4  # an attribute-level write: judged per attribute

#: workload kinds whose writes carry a value the checker verifies against the final read
VALUE_KINDS = frozenset({"counter", "cart"})


class Interned:
    """str <-> small int; the index is the insertion order, so `names` is the reverse map."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.names: list[str] = []

    def __call__(self, name: str) -> int:
        i = self.ids.get(name)
        if i is None:
            i = self.ids[name] = len(self.names)
            self.names.append(name)
        return i


@dataclass
class FinalRead:
    """The post-quiescence read of one key in one region."""

    region: int
    vid: int  # -1: the item is absent
    attrs: tuple[tuple[str, int], ...]
    value: Any


@dataclass
class WorkloadCounts:
    """Operations by outcome for one (workload, region) cell."""

    writes_ok: int = 0
    writes_unknown: int = 0
    writes_failed: int = 0
    reads: int = 0


@dataclass
class VersionStore:
    """Everything the checker needs from the history, ingested one record at a time."""

    value_kinds: dict[str, str] = field(default_factory=dict)  # workload name -> kind
    regions: Interned = field(default_factory=Interned)
    workloads: Interned = field(default_factory=Interned)
    keys: Interned = field(default_factory=Interned)
    # per vid (index = interned vid; vid names are not kept, see `vid_names`)
    vids: dict[str, int] = field(default_factory=dict)
    vid_write: array = field(default_factory=lambda: array("i"))  # write number or -1
    seen: bytearray = field(default_factory=bytearray)  # vid observed in a read/pred/final
    # per write
    w_vid: array = field(default_factory=lambda: array("i"))
    w_key: array = field(default_factory=lambda: array("i"))
    w_pred: array = field(default_factory=lambda: array("i"))  # -1: the item was absent
    w_region: array = field(default_factory=lambda: array("H"))
    w_workload: array = field(default_factory=lambda: array("H"))
    w_flags: bytearray = field(default_factory=bytearray)
    w_tinv: array = field(default_factory=lambda: array("d"))
    w_tcomp: array = field(default_factory=lambda: array("d"))
    w_next: array = field(default_factory=lambda: array("i"))
    w_attrs: dict[int, tuple[dict[str, int], dict[str, int]]] = field(default_factory=dict)
    w_value: dict[int, Any] = field(default_factory=dict)
    # per key
    key_head: array = field(default_factory=lambda: array("i"))
    key_workload: array = field(default_factory=lambda: array("H"))
    finals: dict[int, list[FinalRead]] = field(default_factory=dict)
    # non-final reads that returned a version
    r_key: array = field(default_factory=lambda: array("i"))
    r_vid: array = field(default_factory=lambda: array("i"))
    r_region: array = field(default_factory=lambda: array("H"))
    r_t: array = field(default_factory=lambda: array("d"))
    # probes: (source, target) -> lags, and probe times for convergence
    lags: dict[tuple[int, int], array] = field(default_factory=dict)
    probe_t: dict[tuple[int, int], array] = field(default_factory=dict)
    counts: dict[tuple[int, int], WorkloadCounts] = field(default_factory=dict)
    duplicates: int = 0
    t_min: float = float("inf")
    t_max: float = float("-inf")

    def vid(self, name: str) -> int:
        i = self.vids.get(name)
        if i is None:
            i = self.vids[name] = len(self.vid_write)
            self.vid_write.append(-1)
            self.seen.append(0)
        return i

    def vid_names(self) -> list[str]:
        """Reverse map of interned vids (built once, at report time)."""
        return list(self.vids)

    def _key(self, name: str, workload: int) -> int:
        k = self.keys.ids.get(name)
        if k is None:
            k = self.keys(name)
            self.key_head.append(-1)
            self.key_workload.append(workload)
        return k

    def _cell(self, workload: int, region: int) -> WorkloadCounts:
        cell = self.counts.get((workload, region))
        if cell is None:
            cell = self.counts[(workload, region)] = WorkloadCounts()
        return cell

    def add(self, rec: dict[str, Any]) -> None:
        """Ingest one record (already checked to carry the always-present fields)."""
        op = rec["op"]
        t = rec["t_invoke"]
        if "final" not in rec:  # final reads come after the run: keep them off the timeline
            if t < self.t_min:
                self.t_min = t
            if t > self.t_max:
                self.t_max = t
        region = self.regions(rec["region"])
        if op == "probe":
            self._probe(rec, region)
            return
        workload = self.workloads(rec.get("workload") or "")
        cell = self._cell(workload, region)
        outcome = rec["outcome"]
        if op == "get":
            if outcome == "ok":
                if not rec.get("final"):
                    cell.reads += 1
                self._read(rec, region, workload)
            return
        if outcome == "ok":
            cell.writes_ok += 1
        elif outcome == "unknown":
            cell.writes_unknown += 1
        else:
            cell.writes_failed += 1
            return
        self._write(rec, op, outcome, region, workload)

    def _write(
        self, rec: dict[str, Any], op: str, outcome: str, region: int, workload: int
    ) -> None:
        v = self.vid(rec.get("vid") or rec["id"])
        if self.vid_write[v] >= 0:
            self.duplicates += 1
            return
        k = self._key(rec.get("key", ""), workload)
        w = len(self.w_vid)
        self.vid_write[v] = w
        pred = rec.get("pred")
        if pred:
            p = self.vid(pred)
            self.seen[p] = 1
        else:
            p = -1
        flags = (DELETE if op == "delete" else 0) | (UNKNOWN if outcome == "unknown" else 0)
        attrs = rec.get("attrs")
        if attrs:
            flags |= ATTR_LEVEL
            apreds = rec.get("attr_preds") or {}
            own = {a: self.vid(x) for a, x in attrs.items()}
            preds = {}
            for a in attrs:
                ap = apreds.get(a)
                preds[a] = self.vid(ap) if ap else -1
                if ap:
                    self.seen[preds[a]] = 1
            self.w_attrs[w] = (own, preds)
        self.w_vid.append(v)
        self.w_key.append(k)
        self.w_pred.append(p)
        self.w_region.append(region)
        self.w_workload.append(workload)
        self.w_flags.append(flags)
        self.w_tinv.append(rec["t_invoke"])
        self.w_tcomp.append(rec["t_complete"])
        self.w_next.append(self.key_head[k])
        self.key_head[k] = w
        if "value" in rec and self.value_kinds.get(self.workloads.names[workload]) in VALUE_KINDS:
            self.w_value[w] = rec["value"]

    def _read(self, rec: dict[str, Any], region: int, workload: int) -> None:
        vid = rec.get("vid")
        v = self.vid(vid) if vid else -1
        if v >= 0:
            self.seen[v] = 1
        attrs = rec.get("attrs") or {}
        own = tuple(sorted((a, self.vid(x)) for a, x in attrs.items() if x))
        for _, x in own:
            self.seen[x] = 1
        k = self._key(rec.get("key", ""), workload)
        if rec.get("final"):
            read = FinalRead(region, v, own, rec.get("value"))
            self.finals.setdefault(k, []).append(read)
        elif v >= 0:
            self.r_key.append(k)
            self.r_vid.append(v)
            self.r_region.append(region)
            self.r_t.append(rec["t_invoke"])

    def _probe(self, rec: dict[str, Any], region: int) -> None:
        lag = rec.get("lag")
        target = rec.get("target")
        if rec["outcome"] != "ok" or lag is None or not target:
            return
        link = (region, self.regions(target))
        if link not in self.lags:
            self.lags[link] = array("d")
            self.probe_t[link] = array("d")
        self.lags[link].append(float(lag))
        self.probe_t[link].append(rec["t_invoke"])

    def writes_of(self, k: int) -> list[int]:
        """Write numbers of key k, oldest ingested first."""
        out = []
        w = self.key_head[k]
        nxt = self.w_next
        while w >= 0:
            out.append(w)
            w = nxt[w]
        out.reverse()
        return out

    def counted(self, w: int) -> bool:
        """Acknowledged, or unknown but observed somewhere: it happened."""
        return not (self.w_flags[w] & UNKNOWN) or bool(self.seen[self.w_vid[w]])
