"""What judging a history finds, in a form that adds up: the findings of parts of a history
(key buckets judged apart) merge into exactly the findings of the whole.

Each key is judged from its own records only, so a part of the history holding some keys
whole finds their anomalies exactly as the whole does; what spans keys is either a sum (counts
per cell, per fault window, per time bucket), a concatenation (every read's staleness, kept to
give exact quantiles), or a selection by a total order (the earliest examples by time, then
by the checker's judging order, which `Frame` and the positions give every part alike).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from verdict.attribution import OUTSIDE, Attribution, Examples
from verdict.graph import VersionStore
from verdict.history import FaultWindow
from verdict.lag import convergence, lag_by_link
from verdict.skew import replication_horizons
from verdict.stale import StaleReads
from verdict.timeline import TimelineParts, build_timeline

#: how many keys whose judgement differs from the emulator's truth are quoted
TRUTH_EXAMPLES = 10
#: examples of each kind kept inside each fault window, beside the earliest overall
PER_WINDOW = 3
#: stale reads quoted (the earliest by record)
STALE_EXAMPLES = 10
INF = float("inf")


@dataclass
class Cell:
    """Anomaly counts of one (workload, region): the region is the writer's."""

    conflicts: int = 0
    lost_updates: int = 0
    skew_inverted: int = 0
    unknown_resolved: int = 0

    def add(self, other: Cell) -> None:
        self.conflicts += other.conflicts
        self.lost_updates += other.lost_updates
        self.skew_inverted += other.skew_inverted
        self.unknown_resolved += other.unknown_resolved


@dataclass
class Frame:
    """What judging any part of a history needs to know about the whole of it."""

    windows: list[FaultWindow]
    staleness_bound: float
    examples: int
    #: the emulator's truth.json `keys` (of the part judged), None without truth
    truth: dict[str, Any] | None
    #: (source, target) region numbers -> the largest lag probes saw on the link
    horizons: dict[tuple[int, int], float]
    t_min: float  # earliest invocation of a write (failed ones too) or a kept read
    t_max: float
    #: the latest completion of a recorded write (None: the store's own, a whole history)
    t_complete_max: float | None = None

    @classmethod
    def of(
        cls, store: VersionStore, windows: list[FaultWindow], staleness_bound: float,
        truth: dict[str, Any] | None = None, examples: int = 10,
    ) -> Frame:  # fmt: skip
        """The frame of a whole history held in one store."""
        keys = (truth or {}).get("keys") if truth else None
        return cls(windows, staleness_bound, examples, keys, replication_horizons(store),
                   store.t_min, store.t_max)  # fmt: skip

    @property
    def spans(self) -> list[tuple[float, float]]:
        return [(w["start"], w["heal"] or INF) for w in self.windows]

    @property
    def timed(self) -> bool:
        """Some operation has times (not when every write failed before it was timed: a
        timeline from inf would put the report's start date out of range)."""
        return math.isfinite(self.t_min) and math.isfinite(self.t_max)

    @property
    def t0(self) -> float:
        """Where the timeline starts."""
        return self.t_min if self.timed else 0.0

    @property
    def width(self) -> float:
        """The timeline's bucket: at most 600 of them, at least a second."""
        return max(1.0, max(self.t_max - self.t_min, 0.0) / 600) if self.timed else 1.0

    def new_examples(self) -> Examples:
        return Examples(self.examples, self.spans, per_span=min(PER_WINDOW, self.examples))


@dataclass
class KeyFindings:
    """What judging some keys found; `merge` adds parts up."""

    cells: dict[tuple[int, int], Cell] = field(default_factory=dict)
    divergent: Counter[int] = field(default_factory=Counter)  # workload -> divergent keys
    unjudged: Counter[int] = field(default_factory=Counter)  # workload -> keys without final
    #: workload -> keys whose lost updates cannot be told (verdict.lost: undetermined)
    undetermined: Counter[int] = field(default_factory=Counter)
    values: dict[str, Counter[str]] = field(default_factory=dict)  # workload -> value checks
    #: fault window id (or OUTSIDE) -> anomaly kind -> count
    attribution: dict[str, Counter[str]] = field(default_factory=dict)
    #: the examples a part kept: (kind, t, rank, payload, exposed until)
    examples: list[tuple[str, float, int, Any, float | None]] = field(default_factory=list)
    #: conflicts / lost updates per timeline bucket
    series: dict[str, Counter[int]] = field(default_factory=dict)
    timeline: TimelineParts = field(default_factory=TimelineParts)
    stale: StaleReads = field(default_factory=StaleReads)
    #: the earliest stale reads beyond the bound: (rank, t, payload)
    stale_examples: list[tuple[int, float, Any]] = field(default_factory=list)
    truth_differing: int = 0
    truth_examples: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    #: keys left out of the truth comparison (undetermined, or with a timed-out write never
    #: seen): their count, the truth's figures on them (conflicts, lost_updates) and ours
    #: (our_conflicts, our_lost_updates)
    truth_skipped: Counter[str] = field(default_factory=Counter)

    @classmethod
    def merge(cls, parts: list[KeyFindings]) -> KeyFindings:
        out = cls()
        for p in parts:
            for key, cell in p.cells.items():
                out.cells.setdefault(key, Cell()).add(cell)
            out.divergent.update(p.divergent)
            out.unjudged.update(p.unjudged)
            out.undetermined.update(p.undetermined)
            out.truth_skipped.update(p.truth_skipped)
            for name, c in p.values.items():
                out.values.setdefault(name, Counter()).update(c)
            for wid, c in p.attribution.items():
                out.attribution.setdefault(wid, Counter()).update(c)
            out.examples += p.examples
            for kind, c in p.series.items():
                out.series.setdefault(kind, Counter()).update(c)
            out.stale.merge(p.stale)
            out.stale_examples += p.stale_examples
            out.truth_differing += p.truth_differing
            out.truth_examples += p.truth_examples
        out.timeline = TimelineParts.merge([p.timeline for p in parts])
        out.stale_examples = sorted(out.stale_examples, key=lambda x: x[0])[:STALE_EXAMPLES]
        out.truth_examples = sorted(out.truth_examples, key=lambda x: x[0])[:TRUTH_EXAMPLES]
        return out


@dataclass
class Findings:
    """Everything the verdict reports, before budgets. `store` names regions and workloads
    and holds the operation counts, failed-write errors and probes (in bucket mode, a store
    of those alone)."""

    store: VersionStore
    cells: dict[tuple[int, int], Cell]
    divergent: Counter[int]  # workload -> divergent keys
    unjudged: Counter[int]  # workload -> keys without a final read
    undetermined: Counter[int]  # workload -> keys whose lost updates cannot be told
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
    #: load.json as the runner wrote it (requested/delivered/dropped), attached by analyze
    load: dict[str, Any] | None = None


def findings_of(kf: KeyFindings, store: VersionStore, frame: Frame) -> Findings:
    """The findings of the whole history from its keys' (merged) and the store's probes."""
    attr = Attribution(frame.windows)
    for wid, counts in kf.attribution.items():
        attr.counts.setdefault(wid, Counter()).update(counts)
    ex = frame.new_examples()
    stale = [("stale_read", t, rank, payload, None) for rank, t, payload in kf.stale_examples]
    for kind, t, rank, payload, until in sorted(kf.examples + stale, key=lambda x: x[2]):
        ex.add(kind, t, payload, rank, until)
    return Findings(
        store=store,
        cells=kf.cells,
        divergent=kf.divergent,
        unjudged=kf.unjudged,
        undetermined=kf.undetermined,
        values={wl: dict(c) for wl, c in kf.values.items()},
        attribution=attr,
        examples=ex.items(),
        timeline=build_timeline(kf.timeline, frame.t0, frame.width, frame.t_max, kf.series),
        stale=kf.stale,
        lag=lag_by_link(store),
        convergence=convergence(store, frame.windows),
        truth_keys={"differing": kf.truth_differing,
                    "examples": [e for _, e in kf.truth_examples],
                    "skipped": dict(kf.truth_skipped)},
    )  # fmt: skip


__all__ = ["OUTSIDE", "Cell", "Findings", "Frame", "KeyFindings", "findings_of"]
