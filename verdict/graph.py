"""Compact storage of a history: the version graph of every key, reads, final reads, probes.

Everything is kept in flat `array`s indexed by write number, with vids, keys, regions and
workloads interned to small integers, so a million-operation history costs a few hundred
bytes per operation and no per-operation dicts survive ingestion. Writes of one key are
chained through `w_next` (newest first) from `key_head`.
"""

from __future__ import annotations

from array import array
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from verdict.latency import Latencies

#: w_flags bits
DELETE = 1
UNKNOWN = 2  # outcome unknown (timeout): counted only once its vid is seen
ATTR_LEVEL = 4  # an attribute-level write: judged per attribute
#: an unknown-outcome write whose record names no pred (no answer told what it replaced):
#: its pred -1 is not "the item was absent" (verdict.lost: undetermined keys)
PRED_UNKNOWN = 8

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
    """Everything the checker needs from the history: filled one record at a time by
    `verdict.record_reader`, or a block at a time by `verdict.store_builder`."""

    value_kinds: dict[str, str] = field(default_factory=dict)  # workload name -> kind
    regions: Interned = field(default_factory=Interned)
    workloads: Interned = field(default_factory=Interned)
    keys: Interned = field(default_factory=Interned)
    # per vid (index = interned vid; vid names are not kept, see `vid_names`)
    vids: dict[str, int] = field(default_factory=dict)
    #: a store built from the scanner's columns names its vids here and leaves `vids` empty
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
    #: failed writes by (workload, region, error): what the target said when it refused them
    failed_errors: Counter[tuple[int, int, str]] = field(default_factory=Counter)
    #: when each failed write was invoked (the report's timeline plots them)
    failed_t: array = field(default_factory=lambda: array("d"))
    #: latency of acknowledged workload operations, for latency budgets
    latency: Latencies = field(default_factory=Latencies)

    def vid_names(self) -> Sequence[str]:
        """Reverse map of interned vids (built once, at report time)."""
        return self.vid_list if self.vid_list is not None else list(self.vids)

    def vid_numbers(self, wanted: set[str]) -> dict[str, int]:
        """name -> number of the vids named in `wanted`."""
        if self.vids:
            return {name: self.vids[name] for name in wanted if name in self.vids}
        names = self.vid_names()
        numbers = getattr(names, "numbers", None)  # verdict.native_reader.VidNames: by hash
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
