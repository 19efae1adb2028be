"""The checker: judge every key, count anomalies per (workload, region), keep evidence.

Linear in the history: each key is judged once from its compact write chain (no search).
A store may hold the whole history or one key bucket of it (verdict.buckets): the `Frame`
carries what judging needs to know about the whole, the `Positions` where the store's keys,
rejections and reads stand in the whole history's record order, so the findings of every
bucket add up to those of the whole (verdict.findings).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from hashlib import blake2b
from typing import Any

import numpy as np

from verdict.attribution import Attribution
from verdict.exposure import Exposure
from verdict.findings import (
    STALE_EXAMPLES,
    TRUTH_EXAMPLES,
    Cell,
    Findings,
    Frame,
    KeyFindings,
    findings_of,
)
from verdict.graph import DELETE, UNKNOWN, VALUE_KINDS, VersionStore
from verdict.history import FaultWindow
from verdict.lost import ABSENT, KeyJudgement, clean_keys, judge_key
from verdict.simple_keys import BulkCounts, bulk_judge, simple_keys
from verdict.skew import skew_inversions
from verdict.stale import stale_reads
from verdict.timeline import TimelineParts
from verdict.values import check_values


@dataclass
class Positions:
    """Where a key, a rejection and a read stand in the history's record order: the judging
    order examples are ranked by. In a store of the whole history their numbers are that
    order already; a key bucket's store maps its numbers to the history's record indices."""

    key: Callable[[int], int] = int
    rejection: Callable[[int], int] = int
    read: Callable[[int], int] = int


#: example ranks: the phase of judging, a position in record order, a count within it
_KEYS, _REJECTIONS, _STALE = 0, 1, 2


def rank(phase: int, position: int, n: int = 0) -> int:
    return phase << 100 | position << 30 | n


def check(
    store: VersionStore, windows: list[FaultWindow], staleness_bound: float,
    truth: dict[str, Any] | None = None, examples: int = 10, *, fast: bool = True,
) -> Findings:  # fmt: skip
    """The findings of a store that holds the whole history."""
    frame = Frame.of(store, windows, staleness_bound, truth, examples)
    return findings_of(Checker(store, frame, fast=fast).judge(), store, frame)


class Checker:
    """Judges the keys of one store against a `Frame`: `judge()` -> KeyFindings."""

    def __init__(
        self, store: VersionStore, frame: Frame, *, fast: bool = True,
        positions: Positions | None = None,
    ) -> None:  # fmt: skip
        self.s, self.frame, self.fast = store, frame, fast
        self.at = positions or Positions()
        self.truth = frame.truth
        self.attr = Attribution(frame.windows)
        self.ex = frame.new_examples()
        self.cells: dict[tuple[int, int], Cell] = {}
        self.names = store.vid_names()
        self.divergent: Counter[int] = Counter()
        self.unjudged: Counter[int] = Counter()
        self.undetermined: Counter[int] = Counter()
        #: the truth's and our counts on undetermined keys, left out of the comparison
        self.truth_skipped: Counter[str] = Counter()
        self.values: dict[str, Counter[str]] = {}
        self.truth_diff: list[tuple[int, dict[str, Any]]] = []
        self.truth_keys_differing = 0
        self.t_end, self.t0, self.width = frame.t_max, frame.t0, frame.width
        self.series: dict[str, Counter[int]] = {"conflicts": Counter(), "lost_updates": Counter()}
        self.exposure = Exposure(store, self.t_end, frame.t_complete_max)
        self._rank = 0

    def _add(
        self, kind: str, t: float, payload: dict[str, Any], until: float | None = None
    ) -> None:
        self._rank += 1
        self.ex.add(kind, t, payload, self._rank, until)

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

    def judge(self) -> KeyFindings:
        s = self.s
        for k in self._keys_to_judge():
            self._rank = rank(_KEYS, self.at.key(k))
            self.judge_key(judge_key(s, k))
        if s.rejections:
            self._inverted_rejections()
        stale = stale_reads(s, self.frame.staleness_bound, STALE_EXAMPLES)
        beyond = stale.ages > self.frame.staleness_bound
        self.attr.add_many("stale_reads", np.frombuffer(s.r_t, dtype=np.float64)[beyond])
        stale.ages = np.zeros(0)  # not part of the findings
        return KeyFindings(
            cells=self.cells,
            divergent=self.divergent,
            unjudged=self.unjudged,
            undetermined=self.undetermined,
            values=self.values,
            attribution=self.attr.counts,
            examples=self.ex.candidates(),
            series=self.series,
            timeline=TimelineParts.of(s, self.t0, self.width),
            stale=stale,
            stale_examples=[self._stale_example(age, i, by) for age, i, by in stale.beyond],
            truth_differing=self.truth_keys_differing,
            truth_examples=self.truth_diff,
            truth_skipped=self.truth_skipped,
        )

    def _stale_example(self, age: float, i: int, by: int) -> tuple[int, float, dict[str, Any]]:
        s = self.s
        t = s.r_t[i]
        return (rank(_STALE, self.at.read(i)), t, {
            "key": s.keys.names[s.r_key[i]],
            "region": s.regions.names[s.r_region[i]],
            "t": t,
            "vid_read": self.names[s.r_vid[i]],
            "staleness_s": round(age, 6),
            "writes": [self.write(by, "superseded_by")] if by >= 0 else [],
            "faults": self.attr.active(t),
        })  # fmt: skip

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
        spans = self.frame.spans
        bulk = bulk_judge(s, simple, self.frame.horizons, self.ex.limit, spans, self.ex.per_span,
                          self.exposure)  # fmt: skip
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

    def judge_key(self, j: KeyJudgement) -> None:
        s = self.s
        wl = s.key_workload[j.key]
        key = s.keys.names[j.key]
        if j.flagged and (j.unresolved or any(s.w_flags[w] & UNKNOWN for w in j.counted)):
            for w in j.counted:
                if s.w_flags[w] & UNKNOWN:
                    self.cell(wl, w).unknown_resolved += 1
        if not j.judged and j.counted:
            self.unjudged[wl] += 1
        if j.undetermined:
            self.undetermined[wl] += 1
        self._conflicts(j, wl, key)
        self._lost(j, wl, key)
        for loser, winner in skew_inversions(s, j, self.frame.horizons):
            self.cell(wl, loser).skew_inverted += 1
            t = s.w_tinv[loser]
            faults = self._mark("skew_inverted", t)
            if self.ex.wants("skew_inverted", t):
                writes = [self.write(loser, "discarded"), self.write(winner, "winner")]
                self._add(
                    "skew_inverted", t, {"key": key, "t": t, "writes": writes, "faults": faults}
                )
        if j.divergent:
            self.divergent[wl] += 1
            self._divergence(j, key)
        self._values(j, wl, key)
        if self.truth is not None:
            self._truth(j, key)

    def _conflicts(self, j: KeyJudgement, wl: int, key: str) -> None:
        s = self.s
        for group in j.conflicts:
            group.sort(key=s.w_tinv.__getitem__)
            for w in group[1:]:
                self.cell(wl, w).conflicts += 1
                faults = self._mark("conflicts", s.w_tinv[w])
            t = s.w_tinv[group[1]]
            if self.ex.wants("conflict", t):
                writes = [self.write(w, "sibling") for w in group]
                self._add("conflict", t, {"key": key, "t": t, "writes": writes, "faults": faults})

    def _lost(self, j: KeyJudgement, wl: int, key: str) -> None:
        s = self.s
        for w, until in zip(j.lost, self._exposed_until(j), strict=True):
            self.cell(wl, w).lost_updates += 1
            t = s.w_tinv[w]
            faults = self._mark("lost_updates", t, until)
            if self.ex.wants("lost_update", t, until):
                writes = [self.write(w, "lost"), *self._overwriters(j, w), *self._final_writes(j)]
                evidence = {"key": key, "t": t, "exposed_until": until, "writes": writes}
                self._add("lost_update", t, {**evidence, "faults": faults}, until)

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
        vids = s.vid_numbers({r.blocked_by for r in s.rejections})
        for n, r in enumerate(s.rejections):
            v = vids.get(r.blocked_by)
            w = s.vid_write[v] if v is not None else -1
            if w < 0 or s.w_flags[w] & UNKNOWN or s.w_tcomp[w] >= r.t_invoke:
                continue
            cell = self.cells.setdefault((r.workload, r.region), Cell())
            cell.skew_inverted += 1
            t = r.t_invoke
            faults = self._mark("skew_inverted", t)
            if self.ex.wants("skew_inverted", t):
                rejected = {"role": "rejected", "vid": None, "region": s.regions.names[r.region],
                            "op": "write", "pred": r.blocked_by, "t_invoke": t,
                            "t_complete": r.t_complete, "outcome": "fail"}  # fmt: skip
                writes = [rejected, self.write(w, "winner")]
                self._rank = rank(_REJECTIONS, self.at.rejection(n))
                self._add("skew_inverted", t, {"key": r.key, "t": t, "writes": writes,
                                               "faults": faults})  # fmt: skip

    def _final_writes(self, j: KeyJudgement) -> list[dict[str, Any]]:
        out = []
        for vid in sorted(j.final_vids):
            w = self.s.vid_write[vid] if vid != ABSENT else -1
            if w >= 0:
                out.append(self.write(w, "final"))
        return out

    def _divergence(self, j: KeyJudgement, key: str) -> None:
        s = self.s
        t = self.t_end
        if self.ex.wants("divergence", t):
            regions = {
                s.regions.names[f.region]: {
                    "vid": self.names[f.vid] if f.vid >= 0 else None,
                    "attrs": {a: self.names[v] for a, v in f.attrs},
                }
                for f in s.finals[j.key]
            }
            self._add("divergence", t, {"key": key, "t": t, "regions": regions, "faults": []})

    def _values(self, j: KeyJudgement, wl: int, key: str) -> None:
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
            self._add("value_mismatch", t, evidence)

    def _truth(self, j: KeyJudgement, key: str) -> None:
        tk = self.truth.get(key) if self.truth else None
        if j.undetermined or j.unresolved:
            # left out on both sides: we count no lost update on an undetermined key, and
            # know nothing of a timed-out write nobody saw (the emulator may have applied it)
            skipped = self.truth_skipped
            skipped["keys"] += 1
            skipped["conflicts"] += int(tk.get("conflicts", 0)) if tk else 0
            skipped["lost_updates"] += _truth_lost(tk) if tk else 0
            skipped["our_conflicts"] += j.conflict_count
            skipped["our_lost_updates"] += len(j.lost)
            return
        ours_lost = sorted(self.names[self.s.w_vid[w]] for w in j.lost)
        theirs_lost = sorted(tk.get("lost", [])) if tk else []
        theirs_conf = int(tk.get("conflicts", 0)) if tk else 0
        agree = ours_lost == theirs_lost or (tk is not None and _agrees_unnamed(ours_lost, tk))
        if not agree or j.conflict_count != theirs_conf:
            self.truth_keys_differing += 1
            if len(self.truth_diff) < TRUTH_EXAMPLES:
                self.truth_diff.append((self.at.key(j.key), {
                    "key": key,
                    "verdict": {"conflicts": j.conflict_count, "lost": ours_lost},
                    "truth": {"conflicts": theirs_conf, "lost": theirs_lost},
                }))  # fmt: skip


def vid_digest(vids: Iterable[str]) -> int:
    """The emulator's digest of a set of vids (globaltable.truth.vid_digest, the GET /truth
    format): the sum modulo 2**64 of each vid's 8-byte BLAKE2b, big-endian."""
    total = sum(int.from_bytes(blake2b(v.encode(), digest_size=8).digest(), "big") for v in vids)
    return total & ((1 << 64) - 1)


def _truth_lost(tk: dict[str, Any]) -> int:
    """How many lost writes the truth counts on a key (named, beyond the names, unlisted)."""
    return len(tk.get("lost", [])) + int(tk.get("lost_more", 0)) + int(tk.get("lost_unlisted", 0))


def _agrees_unnamed(ours: list[str], tk: dict[str, Any]) -> bool:
    """Our lost writes against a truth that does not name them all: the writes it counts
    beyond the ones it names (`lost_more`, with the digest of all it knows by name) and the
    ones kept when it compacted that a plain write then made lost (`lost_unlisted`, counted
    only). Every name it gives must be ours and the counts must add up; the digest must
    match unless writes it cannot name are among ours."""
    named, more = tk.get("lost", []), int(tk.get("lost_more", 0))
    unlisted = int(tk.get("lost_unlisted", 0))
    if not (more or unlisted) or len(ours) != len(named) + more + unlisted:
        return False
    if not set(named) <= set(ours):
        return False
    return bool(unlisted) or vid_digest(ours) == int(tk.get("lost_digest", -1))
