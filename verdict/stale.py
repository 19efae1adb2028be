"""Stale reads: a read that returned a version another counted write had already replaced.

A version is *superseded* when the first counted write replacing it completes (harness
clock). A read's staleness is how long before its invocation that happened (0 for a fresh
read); it is a stale read when the staleness exceeds the campaign's `staleness_bound`.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field

from verdict.graph import VersionStore
from verdict.stats import summary

INF = float("inf")


@dataclass
class StaleReads:
    """Staleness per region (seconds, every read) and the reads beyond the bound."""

    by_region: dict[int, array] = field(default_factory=dict)
    stale: dict[int, int] = field(default_factory=dict)
    #: (staleness, read number, write that superseded the version) of reads beyond the bound
    beyond: list[tuple[float, int, int]] = field(default_factory=list)

    def region_summary(self, names: list[str]) -> dict[str, dict[str, float | int]]:
        out = {}
        for r, vals in sorted(self.by_region.items()):
            s = summary(vals) or {}
            out[names[r]] = {**s, "stale": self.stale.get(r, 0)}
        return out


def stale_reads(store: VersionStore, bound: float, examples: int = 10) -> StaleReads:
    sup = array("d", [INF]) * len(store.vid_write)
    by = array("i", [-1]) * len(store.vid_write)
    pred, tcomp = store.w_pred, store.w_tcomp
    for w in range(len(store.w_vid)):
        p = pred[w]
        if p >= 0 and tcomp[w] < sup[p] and store.counted(w):
            sup[p] = tcomp[w]
            by[p] = w
    out = StaleReads()
    beyond: list[tuple[float, int, int]] = []
    for i, (v, r, t) in enumerate(zip(store.r_vid, store.r_region, store.r_t, strict=True)):
        age = t - sup[v]
        if age < 0:
            age = 0.0
        vals = out.by_region.get(r)
        if vals is None:
            vals = out.by_region[r] = array("d")
        vals.append(age)
        if age > bound:
            out.stale[r] = out.stale.get(r, 0) + 1
            if len(beyond) < examples:
                beyond.append((age, i, by[v]))
    out.beyond = beyond
    return out
