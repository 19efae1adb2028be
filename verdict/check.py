"""The checker: judge every key, count anomalies per (workload, region), keep evidence.

Linear in the history: each key is judged once from its compact write chain (no search).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from verdict.attribution import Attribution, Examples
from verdict.bulk_judge import BulkCounts, bulk_judge, simple_keys
from verdict.exposure import Exposure
from verdict.graph import DELETE, UNKNOWN, VALUE_KINDS, VersionStore
from verdict.history import FaultWindow
from verdict.lag import convergence, lag_by_link
from verdict.lost import ABSENT, KeyJudgement, clean_keys, judge_key
from verdict.skew import replication_horizons, skew_inversions
from verdict.stale import StaleReads, stale_reads
from verdict.timeline import build_timeline
from verdict.values import check_values

#: how many keys whose judgement differs from the emulator's truth are quoted
TRUTH_EXAMPLES = 10

#: examples of each kind kept inside each fault window, beside the earliest overall
PER_WINDOW = 3


@dataclass
class Cell:
    """Anomaly counts of one (workload, region): the region is the writer's."""

    conflicts: int = 0
    lost_updates: int = 0
    skew_inverted: int = 0
    unknown_resolved: int = 0


@dataclass
class Findings:
    """Everything the verdict reports, before budgets."""

    store: VersionStore
    cells: dict[tuple[int, int], Cell]
    divergent: Counter[int]  # workload -> divergent keys
    unjudged: Counter[int]  # workload -> keys without a final read
    values: dict[str, dict[str, int]]  # workload -> value-check figures
    attribution: Attribution
    examples: dict[str, list[Any]]
    timeline: dict[str, Any]
    stale: StaleReads
    lag: dict[str, dict[str, float | int]]
    convergence: list[dict[str, Any]]
    truth_keys: dict[str, Any] = field(default_factory=dict)
    #: `verdict.cost_campaign.CostAccumulator.result(...)`, attached by analyze when wired
    cost: dict[str, Any] | None = None


class Checker:
    def __init__(
        self,
        store: VersionStore,
        windows: list[FaultWindow],
        staleness_bound: float,
        truth: dict[str, Any] | None = None,
        examples: int = 10,
        *,
        fast: bool = True,
    ) -> None:
        self.s = store
        self.fast = fast
        self.windows = windows
        self.bound = staleness_bound
        self.truth = (truth or {}).get("keys") if truth else None
        self.attr = Attribution(windows)
        self.spans = [(w["start"], w["heal"] or float("inf")) for w in windows]
        self.ex = Examples(examples, self.spans, per_span=min(PER_WINDOW, examples))
        self.cells: dict[tuple[int, int], Cell] = {}
        self.names = store.vid_names()
        self.divergent: Counter[int] = Counter()
        self.unjudged: Counter[int] = Counter()
        self.values: dict[str, Counter[str]] = {}
        self.truth_diff: list[dict[str, Any]] = []
        self.truth_keys_differing = 0
        self.horizons = replication_horizons(store)
        self.t_end = store.t_max
        # no operation timed (every write failed before it was recorded with times): t_min is
        # inf, and a timeline from it would put the report's start date out of range
        timed = math.isfinite(store.t_min) and math.isfinite(self.t_end)
        span = max(self.t_end - store.t_min, 0.0) if timed else 0.0
        self.t0 = store.t_min if timed else 0.0
        self.width = max(1.0, span / 600)
        self.series: dict[str, Counter[int]] = {"conflicts": Counter(), "lost_updates": Counter()}
        self.exposure = Exposure(store, self.t_end)

    def cell(self, workload: int, w: int) -> Cell:
        key = (workload, self.s.w_region[w])
        c = self.cells.get(key)
        if c is None:
            c = self.cells[key] = Cell()
        return c

    def write(self, w: int, role: str) -> dict[str, Any]:
        s = self.s
        p = s.w_pred[w]
        return {
            "role": role,
            "vid": self.names[s.w_vid[w]],
            "region": s.regions.names[s.w_region[w]],
            "op": "delete" if s.w_flags[w] & DELETE else "write",
            "pred": self.names[p] if p >= 0 else None,
            "t_invoke": s.w_tinv[w],
            "t_complete": s.w_tcomp[w],
            "outcome": "unknown" if s.w_flags[w] & UNKNOWN else "ok",
            # what the write wrote, where the workload records it: the increment, the
            # element, the attribute value (the data a lost update lost)
            **({"value": s.w_value[w]} if w in s.w_value else {}),
        }

    def _mark(self, kind: str, t: float, until: float | None = None) -> list[str]:
        series = self.series.get(kind)
        if series is not None:
            series[int((t - self.t0) // self.width)] += 1
        return self.attr.add(kind, t, until=until)

    def run(self) -> Findings:
        s = self.s
        for k in self._keys_to_judge():
            self.judge(judge_key(s, k))
        if s.rejections:
            self._inverted_rejections()
        stale = stale_reads(s, self.bound)
        for age, i, by in stale.beyond:
            t = s.r_t[i]
            self.attr.add("stale_reads", t)
            self.ex.add(
                "stale_read",
                t,
                {
                    "key": s.keys.names[s.r_key[i]],
                    "region": s.regions.names[s.r_region[i]],
                    "t": t,
                    "vid_read": self.names[s.r_vid[i]],
                    "staleness_s": round(age, 6),
                    "writes": [self.write(by, "superseded_by")] if by >= 0 else [],
                    "faults": self.attr.active(t),
                },
            )
        return Findings(
            store=s,
            cells=self.cells,
            divergent=self.divergent,
            unjudged=self.unjudged,
            values={wl: dict(c) for wl, c in self.values.items()},
            attribution=self.attr,
            examples=self.ex.items(),
            timeline=self.timeline(),
            stale=stale,
            lag=lag_by_link(s),
            convergence=convergence(s, self.windows),
            truth_keys={"differing": self.truth_keys_differing, "examples": self.truth_diff},
        )

    def _keys_to_judge(self) -> Iterable[int]:
        """Every key, or (fast) only those neither `clean_keys` clears nor `bulk_judge`
        counts at once: a clean key adds nothing to any figure, a simple one only counts,
        unless the truth or a value check must see it too, or it holds a quoted example."""
        s = self.s
        if not self.fast or self.truth is not None:
            return range(len(s.keys.names))
        rest = ~clean_keys(s)
        valued = [i for i, w in enumerate(s.workloads.names) if s.value_kinds.get(w) in VALUE_KINDS]
        by_value = np.zeros(len(rest), dtype=bool)
        if valued:
            by_value = np.isin(np.frombuffer(s.key_workload, dtype=np.uint16), valued)
        simple = simple_keys(s, np.flatnonzero(rest & ~by_value))
        bulk = bulk_judge(
            s, simple, self.horizons, self.ex.limit, self.spans, self.ex.per_span, self.exposure
        )
        self._count_bulk(bulk)
        rest |= by_value
        rest[simple] = False
        rest[bulk.exact] = True
        return np.flatnonzero(rest).tolist()

    def _count_bulk(self, bulk: BulkCounts) -> None:
        """Add the counts of the keys judged in bulk (but those judged one by one after all)
        to the cells, the timeline and the fault windows."""
        s = self.s
        w_key = np.frombuffer(s.w_key, dtype=np.int32)
        tinv = np.frombuffer(s.w_tinv, dtype=np.float64)
        region = np.frombuffer(s.w_region, dtype=np.uint16).astype(np.int64)
        workload = np.frombuffer(s.key_workload, dtype=np.uint16).astype(np.int64)
        for kind, writes, until in (
            ("conflicts", bulk.conflicts, None),
            ("lost_updates", bulk.lost, bulk.lost_until),
            ("skew_inverted", bulk.skew, None),
        ):
            alone = ~np.isin(w_key[writes], bulk.exact)
            writes = writes[alone]
            if not len(writes):
                continue
            cells, n = np.unique(workload[w_key[writes]] << 16 | region[writes], return_counts=True)
            for code, m in zip(cells.tolist(), n.tolist(), strict=True):
                cell = self.cells.setdefault((code >> 16, code & 0xFFFF), Cell())
                setattr(cell, kind, getattr(cell, kind) + m)
            t = tinv[writes]
            series = self.series.get(kind)
            if series is not None:
                buckets, n = np.unique(
                    ((t - self.t0) // self.width).astype(np.int64), return_counts=True
                )
                series.update(dict(zip(buckets.tolist(), n.tolist(), strict=True)))
            self.attr.add_many(kind, t, None if until is None else until[alone])

    def judge(self, j: KeyJudgement) -> None:
        s = self.s
        wl = s.key_workload[j.key]
        key = s.keys.names[j.key]
        if j.flagged and (j.unresolved or any(s.w_flags[w] & UNKNOWN for w in j.counted)):
            for w in j.counted:
                if s.w_flags[w] & UNKNOWN:
                    self.cell(wl, w).unknown_resolved += 1
        if not j.judged and j.counted:
            self.unjudged[wl] += 1
        for group in j.conflicts:
            group.sort(key=s.w_tinv.__getitem__)
            for w in group[1:]:
                self.cell(wl, w).conflicts += 1
                faults = self._mark("conflicts", s.w_tinv[w])
            t = s.w_tinv[group[1]]
            if self.ex.wants("conflict", t):
                writes = [self.write(w, "sibling") for w in group]
                self.ex.add("conflict", t, {"key": key, "t": t, "writes": writes, "faults": faults})
        lost = set(j.lost)
        for w, until in zip(j.lost, self._exposed_until(j), strict=True):
            self.cell(wl, w).lost_updates += 1
            t = s.w_tinv[w]
            faults = self._mark("lost_updates", t, until)
            if self.ex.wants("lost_update", t, until):
                writes = [self.write(w, "lost"), *self._overwriters(j, w), *self._final_writes(j)]
                evidence = {"key": key, "t": t, "exposed_until": until, "writes": writes}
                self.ex.add("lost_update", t, {**evidence, "faults": faults}, until)
        for loser, winner in skew_inversions(s, j, self.horizons):
            self.cell(wl, loser).skew_inverted += 1
            t = s.w_tinv[loser]
            faults = self._mark("skew_inverted", t)
            if self.ex.wants("skew_inverted", t):
                writes = [self.write(loser, "discarded"), self.write(winner, "winner")]
                self.ex.add(
                    "skew_inverted", t, {"key": key, "t": t, "writes": writes, "faults": faults}
                )
        if j.divergent:
            self.divergent[wl] += 1
            self._divergence(j, key)
        self._values(j, wl, key, lost)
        if self.truth is not None:
            self._truth(j, key)

    def _exposed_until(self, j: KeyJudgement) -> list[float]:
        """When each lost write of the key stopped being exposed (`verdict.exposure`)."""
        if not j.lost:
            return []
        siblings = [next((x for x in self._kept_siblings(j, w)), -1) for w in j.lost]
        chain = np.fromiter(j.kept, dtype=np.int64, count=len(j.kept))
        lost = np.array(j.lost, dtype=np.int64)
        return self.exposure.ends(lost, chain, np.array(siblings, dtype=np.int64)).tolist()

    @staticmethod
    def _kept_siblings(j: KeyJudgement, w: int) -> list[int]:
        """The members of `w`'s sibling group on the final chain (one at most)."""
        for group in j.conflicts:
            if w in group:
                return [x for x in group if x != w and x in j.kept]
        return []

    def _overwriters(self, j: KeyJudgement, w: int) -> list[dict[str, Any]]:
        """The sibling of lost write `w` (same pred) on the surviving branch: the write whose
        branch replaced it, which is what explains the loss."""
        return [self.write(x, "overwritten by") for x in self._kept_siblings(j, w)]

    def _inverted_rejections(self) -> None:
        """The application's own last-writer-wins picking the wrong winner (client_lww): a
        write rejected by an item whose write had completed before it was invoked (harness
        clock) was truly later, yet lost on the client clocks — skew_inverted for the
        rejected write's workload and region. A blocker not recorded, or with an unknown
        outcome (it may have applied later than its timeout), proves nothing."""
        s = self.s
        wanted = {r.blocked_by for r in s.rejections}
        vids = s.vid_numbers(wanted)
        for r in s.rejections:
            v = vids.get(r.blocked_by)
            w = s.vid_write[v] if v is not None else -1
            if w < 0 or s.w_flags[w] & UNKNOWN or s.w_tcomp[w] >= r.t_invoke:
                continue
            cell = self.cells.setdefault((r.workload, r.region), Cell())
            cell.skew_inverted += 1
            t = r.t_invoke
            faults = self._mark("skew_inverted", t)
            if self.ex.wants("skew_inverted", t):
                rejected = {
                    "role": "rejected",
                    "vid": None,
                    "region": s.regions.names[r.region],
                    "op": "write",
                    "pred": r.blocked_by,
                    "t_invoke": t,
                    "t_complete": r.t_complete,
                    "outcome": "fail",
                }
                writes = [rejected, self.write(w, "winner")]
                evidence = {"key": r.key, "t": t, "writes": writes, "faults": faults}
                self.ex.add("skew_inverted", t, evidence)

    def _final_writes(self, j: KeyJudgement) -> list[dict[str, Any]]:
        out = []
        for vid in sorted(j.final_vids):
            w = self.s.vid_write[vid] if vid != ABSENT else -1
            if w >= 0:
                out.append(self.write(w, "final"))
        return out

    def _divergence(self, j: KeyJudgement, key: str) -> None:
        s = self.s
        finals = s.finals[j.key]
        t = self.t_end
        if self.ex.wants("divergence", t):
            regions = {
                s.regions.names[f.region]: {
                    "vid": self.names[f.vid] if f.vid >= 0 else None,
                    "attrs": {a: self.names[v] for a, v in f.attrs},
                }
                for f in finals
            }
            self.ex.add("divergence", t, {"key": key, "t": t, "regions": regions, "faults": []})

    def _values(self, j: KeyJudgement, wl: int, key: str, lost: set[int]) -> None:
        name = self.s.workloads.names[wl]
        kind = self.s.value_kinds.get(name)
        if kind is None:
            return
        check = check_values(self.s, j, kind)
        if check is None:
            return
        c = self.values.setdefault(name, Counter())
        c["keys_checked"] += 1
        c["lost_by_value"] += check.lost_by_value
        c["lost_by_graph"] += check.lost_by_graph
        if not check.agrees:
            c["disagreements"] += 1
            t = self.t_end
            evidence = {"key": key, "t": t, "kind": kind, "lost_by_value": check.lost_by_value}
            evidence |= {"lost_by_graph": check.lost_by_graph, **check.detail, "faults": []}
            self.ex.add("value_mismatch", t, evidence)

    def _truth(self, j: KeyJudgement, key: str) -> None:
        tk = self.truth.get(key) if self.truth else None
        ours_lost = sorted(self.names[self.s.w_vid[w]] for w in j.lost)
        theirs_lost = sorted(tk.get("lost", [])) if tk else []
        theirs_conf = int(tk.get("conflicts", 0)) if tk else 0
        if ours_lost != theirs_lost or j.conflict_count != theirs_conf:
            self.truth_keys_differing += 1
            if len(self.truth_diff) < TRUTH_EXAMPLES:
                self.truth_diff.append(
                    {
                        "key": key,
                        "verdict": {"conflicts": j.conflict_count, "lost": ours_lost},
                        "truth": {"conflicts": theirs_conf, "lost": theirs_lost},
                    }
                )

    def timeline(self) -> dict[str, Any]:
        return build_timeline(self.s, self.t0, self.width, self.t_end, self.series)
