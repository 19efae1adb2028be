"""Stale reads: a read that returned a version another counted write had already replaced.

A version is *superseded* when the first counted write replacing it completes (harness
clock). A read's staleness is how long before its invocation that happened (0 for a fresh
read); it is a stale read when the staleness exceeds the campaign's `staleness_bound`.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field

import numpy as np

from verdict.graph import UNKNOWN, VersionStore
from verdict.stats import summary

INF = float("inf")


@dataclass
class StaleReads:
    """Staleness per region (seconds, every read: kept whole, so quantiles over merged
    parts are exact) and the reads beyond the bound."""

    by_region: dict[int, array] = field(default_factory=dict)
    stale: dict[int, int] = field(default_factory=dict)
    #: (staleness, read number, write that superseded the version) of the first reads beyond
    #: the bound
    beyond: list[tuple[float, int, int]] = field(default_factory=list)
    #: every read's staleness, by read number (while judging; not merged)
    ages: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def merge(self, other: StaleReads) -> None:
        """Add another part's reads (its examples are merged by the caller)."""
        for r, vals in other.by_region.items():
            self.by_region.setdefault(r, array("d")).extend(vals)
        for r, n in other.stale.items():
            self.stale[r] = self.stale.get(r, 0) + n

    def region_summary(self, names: list[str]) -> dict[str, dict[str, float | int]]:
        out = {}
        for r, vals in sorted(self.by_region.items()):
            s = summary(vals) or {}
            out[names[r]] = {**s, "stale": self.stale.get(r, 0)}
        return out


def superseded(store: VersionStore) -> tuple[np.ndarray, np.ndarray]:
    """Per vid: when the first counted write replacing it completed (INF: never), and that
    write (-1: none; the earliest recorded one on a tie)."""
    nv = len(store.vid_write)
    sup = np.full(nv, INF)
    by = np.full(nv, -1, dtype=np.int64)
    pred = np.frombuffer(store.w_pred, dtype=np.int32)
    unknown = (np.frombuffer(bytes(store.w_flags), dtype=np.uint8) & UNKNOWN) != 0
    seen = np.frombuffer(bytes(store.seen), dtype=np.uint8)[np.frombuffer(store.w_vid, np.int32)]
    writes = np.flatnonzero((pred >= 0) & (~unknown | (seen != 0)))
    if not len(writes):
        return sup, by
    tcomp = np.frombuffer(store.w_tcomp, dtype=np.float64)[writes]
    order = np.lexsort((writes, tcomp, pred[writes]))
    first = order[np.r_[True, pred[writes][order][1:] != pred[writes][order][:-1]]]
    sup[pred[writes[first]]] = tcomp[first]
    by[pred[writes[first]]] = writes[first]
    return sup, by


def stale_reads(store: VersionStore, bound: float, examples: int = 10) -> StaleReads:
    sup, by = superseded(store)
    out = StaleReads()
    if not len(store.r_vid):
        return out
    region = np.frombuffer(store.r_region, dtype=np.uint16)
    age = np.frombuffer(store.r_t, dtype=np.float64) - sup[np.frombuffer(store.r_vid, np.int32)]
    age[age < 0] = 0.0
    regions, first = np.unique(region, return_index=True)
    for r in regions[np.argsort(first)].tolist():  # in order of first read, like a dict
        mine = region == r
        out.by_region[r] = array("d", age[mine].tobytes())
        stale = int(np.count_nonzero(age[mine] > bound))
        if stale:
            out.stale[r] = stale
    beyond = np.flatnonzero(age > bound)[:examples].tolist()
    out.beyond = [(float(age[i]), i, int(by[store.r_vid[i]])) for i in beyond]
    out.ages = age
    return out
