"""Compact storage of a history: the version graph of every key, reads, final reads, probes.

Everything is kept in flat `array`s indexed by write number, with vids, keys, regions and
workloads interned to small integers, so a million-operation history costs a few hundred
bytes per operation and no per-operation dicts survive ingestion. Writes of one key are
chained through `w_next` (newest first) from `key_head`.
"""

from __future__ import annotations

from array import array
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

#: w_flags bits
DELETE = 1
UNKNOWN = 2  # outcome unknown (timeout): counted only once its vid is seen
ATTR_LEVEL = 4  # an attribute-level write: judged per attribute

#: workload kinds whose writes carry a value the checker verifies against the final read
VALUE_KINDS = frozenset({"counter", "cart"})
#: and those whose written value is kept to be shown in the evidence of a lost update
EVIDENCE_KINDS = VALUE_KINDS | {"split_attributes"}
INF = float("inf")
#: `key_final` values: no final read yet; final reads disagree, found no item or carry attrs
NO_FINAL, MIXED_FINAL = -2, -3
_KINDS = ("writes_ok", "writes_unknown", "writes_failed", "reads")


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


class FinalRead(NamedTuple):
    """The post-quiescence read of one key in one region."""

    region: int
    vid: int  # -1: the item is absent
    attrs: tuple[tuple[str, int], ...]
    value: Any


class Rejection(NamedTuple):
    """A write its own condition rejected, naming the write whose item rejected it
    (`blocked_by`, client_lww): failed writes are otherwise only tallied."""

    workload: int
    region: int
    key: str | None
    t_invoke: float
    t_complete: float
    blocked_by: str


def error_name(error: Any) -> str:
    """A failed write's `error` as one label (both readers): the code the target answered."""
    if error is None:
        return "(no error given)"
    return (error if isinstance(error, str) else str(error))[:120]


def rejection(
    workload: int, region: int, key: Any, t_inv: float, t_comp: float, blocked_by: Any
) -> Rejection | None:
    """The Rejection of a failed write, None unless `blocked_by` names a vid (both readers
    build them here, so they keep the same ones)."""
    if not isinstance(blocked_by, str) or not blocked_by:
        return None
    return Rejection(workload, region, key if isinstance(key, str) else None, t_inv, t_comp,
                     blocked_by)  # fmt: skip


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
    #: a store built in columns (verdict.bulk) names its vids here and leaves `vids` empty
    vid_list: Sequence[str] | None = None
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
    #: the vid every final read of the key agrees on (no attributes); NO_FINAL / MIXED_FINAL
    key_final: array = field(default_factory=lambda: array("i"))
    # non-final reads that returned a version
    r_key: array = field(default_factory=lambda: array("i"))
    r_vid: array = field(default_factory=lambda: array("i"))
    r_region: array = field(default_factory=lambda: array("H"))
    r_t: array = field(default_factory=lambda: array("d"))
    # probes: (source, target) -> lags, and probe times for convergence
    lags: dict[tuple[int, int], array] = field(default_factory=dict)
    probe_t: dict[tuple[int, int], array] = field(default_factory=dict)
    #: operation counts by (workload << 18 | region << 2 | kind), see `counts`
    tally: defaultdict[int, int] = field(default_factory=lambda: defaultdict(int))
    duplicates: int = 0
    #: failed writes that name the write that rejected them, in record order
    rejections: list[Rejection] = field(default_factory=list)
    #: failed writes by (workload, error): what the target said when it refused them
    failed_errors: Counter[tuple[int, str]] = field(default_factory=Counter)
    #: when each failed write was invoked (the report's timeline plots them)
    failed_t: array = field(default_factory=lambda: array("d"))

    def vid(self, name: str) -> int:
        i = self.vids.get(name)
        if i is None:
            i = self.vids[name] = len(self.vid_write)
            self.vid_write.append(-1)
            self.seen.append(0)
        return i

    def vid_names(self) -> Sequence[str]:
        """Reverse map of interned vids (built once, at report time)."""
        return self.vid_list if self.vid_list is not None else list(self.vids)

    def vid_numbers(self, wanted: set[str]) -> dict[str, int]:
        """name -> number of the vids named in `wanted`."""
        if self.vids:
            return {name: self.vids[name] for name in wanted if name in self.vids}
        names = self.vid_names()
        numbers = getattr(names, "numbers", None)  # verdict.scanned.VidNames finds by hash
        if numbers is not None:
            return numbers(wanted)
        return {name: v for v, name in enumerate(names) if name in wanted}

    @property
    def t_min(self) -> float:
        return min(min(a, default=INF) for a in (self.w_tinv, self.r_t, self.failed_t))

    @property
    def t_max(self) -> float:
        return max(max(a, default=-INF) for a in (self.w_tinv, self.r_t, self.failed_t))

    @property
    def counts(self) -> dict[tuple[int, int], WorkloadCounts]:
        """Operations by outcome per (workload, region)."""
        out: dict[tuple[int, int], WorkloadCounts] = {}
        for code, n in self.tally.items():
            cell = out.setdefault((code >> 18, (code >> 2) & 0xFFFF), WorkloadCounts())
            setattr(cell, _KINDS[code & 3], n)
        return out

    def _key(self, name: str, workload: int) -> int:
        """The key's number; a new key is first credited to the workload that names it,
        until its first write (a reader's get may come first) hands it to the writer's."""
        k = self.keys.ids.get(name)
        if k is None:
            k = self.keys(name)
            self.key_head.append(-1)
            self.key_workload.append(workload)
            self.key_final.append(NO_FINAL)
        return k

    def ingester(self) -> Callable[[dict[str, Any]], None]:
        """A fast `add(record)`: the hot loop of the verdict, so everything it touches is
        bound to a local once. A record missing an always-present field raises KeyError."""
        region_of, workload_of, tally = self.regions, self.workloads, self.tally
        failed_errors, failed_t = self.failed_errors, self.failed_t
        vids, vid, vid_write, seen = self.vids, self.vid, self.vid_write, self.seen
        key_of, key_ids, key_head = self._key, self.keys.ids, self.key_head
        key_workload = self.key_workload
        w_vid, w_key, w_pred, w_region = self.w_vid, self.w_key, self.w_pred, self.w_region
        w_workload, w_flags, w_tinv, w_tcomp = (
            self.w_workload,
            self.w_flags,
            self.w_tinv,
            self.w_tcomp,
        )
        w_next, w_attrs, w_value = self.w_next, self.w_attrs, self.w_value
        r_key, r_vid, r_region, r_t = self.r_key, self.r_vid, self.r_region, self.r_t
        valued = {w for w, kind in self.value_kinds.items() if kind in EVIDENCE_KINDS}
        regions_get, workloads_get = region_of.ids.get, workload_of.ids.get
        vids_setdefault = vids.setdefault
        finals, finals_get, key_final = self.finals, self.finals.get, self.key_final

        def add(rec: dict[str, Any]) -> None:
            op = rec["op"]
            region = regions_get(rec["region"])
            if region is None:
                region = region_of(rec["region"])
            if op == "probe":
                self._probe(rec, region)
                return
            wname = rec.get("workload") or ""
            workload = workloads_get(wname)
            if workload is None:
                workload = workload_of(wname)
            outcome = rec["outcome"]
            code = workload << 18 | region << 2
            if op == "get":
                if outcome != "ok":
                    return
                vname = rec.get("vid")
                if "final" in rec and rec["final"]:  # inline: a third of all records
                    v = -1
                    if vname:
                        n = len(vid_write)
                        v = vids_setdefault(vname, n)
                        if v == n:
                            vid_write.append(-1)
                            seen.append(1)
                        else:
                            seen[v] = 1
                    own = self._final_attrs(rec["attrs"]) if "attrs" in rec else ()
                    key = rec["key"]
                    k = key_ids.get(key)
                    if k is None:
                        k = key_of(key, workload)
                    read = FinalRead(region, v, own, rec.get("value"))
                    agreed = key_final[k]
                    if own or v < 0 or (agreed != NO_FINAL and agreed != v):
                        key_final[k] = MIXED_FINAL
                    elif agreed == NO_FINAL:
                        key_final[k] = v
                    reads = finals_get(k)
                    if reads is None:
                        finals[k] = [read]
                    else:
                        reads.append(read)
                    return
                if vname:
                    key, t = rec["key"], rec["t_invoke"] + 0.0  # may reject the record
                    k = key_ids.get(key)
                    if k is None:
                        k = key_of(key, workload)
                    n = len(vid_write)
                    v = vids_setdefault(vname, n)
                    if v == n:
                        vid_write.append(-1)
                        seen.append(1)
                    else:
                        seen[v] = 1
                    r_t.append(t)
                    r_key.append(k)
                    r_vid.append(v)
                    r_region.append(region)
                tally[code | 3] += 1
                if "attrs" in rec and rec["attrs"]:
                    for x in rec["attrs"].values():
                        if x:
                            seen[vid(x)] = 1
                return
            # everything that can reject a malformed record runs before any state changes
            t_inv, t_comp = rec["t_invoke"] + 0.0, rec["t_complete"] + 0.0
            attrs = self._attrs(rec) if "attrs" in rec and rec["attrs"] else None
            if outcome == "ok":
                flags, kind = 0, 0
            elif outcome == "unknown":
                flags, kind = UNKNOWN, 1
            else:
                tally[code | 2] += 1
                failed_t.append(t_inv)
                failed_errors[workload, error_name(rec.get("error"))] += 1
                if "blocked_by" in rec:
                    r = rejection(workload, region, rec.get("key"), t_inv, t_comp,
                                  rec["blocked_by"])  # fmt: skip
                    if r is not None:
                        self.rejections.append(r)
                return
            vname = rec.get("vid") or rec["id"]
            k = key_ids.get(rec["key"])
            if k is None:
                k = key_of(rec["key"], workload)
            n = len(vid_write)
            v = vids_setdefault(vname, n)
            if v == n:
                vid_write.append(-1)
                seen.append(0)
            elif vid_write[v] >= 0:
                self.duplicates += 1
                return
            w = len(w_vid)
            vid_write[v] = w
            pred = rec.get("pred")
            if pred:
                n = len(vid_write)
                p = vids_setdefault(pred, n)
                if p == n:
                    vid_write.append(-1)
                    seen.append(1)
                else:
                    seen[p] = 1
            else:
                p = -1
            if op == "delete":
                flags |= DELETE
            if attrs is not None:
                flags |= ATTR_LEVEL
                w_attrs[w] = attrs
            w_vid.append(v)
            w_key.append(k)
            w_pred.append(p)
            w_region.append(region)
            w_workload.append(workload)
            w_flags.append(flags)
            w_tinv.append(t_inv)
            w_tcomp.append(t_comp)
            w_next.append(key_head[k])
            if key_head[k] < 0:  # the key's first write: its workload owns the key
                key_workload[k] = workload
            key_head[k] = w
            if valued and wname in valued and "value" in rec:
                w_value[w] = rec["value"]
            tally[code | kind] += 1

        return add

    def _attrs(self, rec: dict[str, Any]) -> tuple[dict[str, int], dict[str, int]]:
        apreds = rec.get("attr_preds") or {}
        if not isinstance(rec["attrs"], dict) or not isinstance(apreds, dict):
            raise TypeError("attrs and attr_preds must be objects")
        own = {a: self.vid(x) for a, x in rec["attrs"].items()}
        preds = {}
        for a in own:
            ap = apreds.get(a)
            preds[a] = self.vid(ap) if ap else -1
            if ap:
                self.seen[preds[a]] = 1
        return own, preds

    def _final_attrs(self, attrs: Any) -> tuple[tuple[str, int], ...]:
        """A final read's `hh_vid_<a>` versions, sorted, each marked seen."""
        if not attrs:
            return ()
        own = tuple(sorted((a, self.vid(x)) for a, x in attrs.items() if x))
        for _, x in own:
            self.seen[x] = 1
        return own

    def _probe(self, rec: dict[str, Any], region: int) -> None:
        lag = rec.get("lag")
        target = rec.get("target")
        if rec["outcome"] != "ok" or lag is None or not target:
            return
        lag, t = float(lag), rec["t_invoke"] + 0.0  # may reject the record
        link = (region, self.regions(target))
        if link not in self.lags:
            self.lags[link] = array("d")
            self.probe_t[link] = array("d")
        self.lags[link].append(lag)
        self.probe_t[link].append(t)

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
