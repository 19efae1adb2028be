"""Budget metrics: one small class per metric, registered in `METRICS`.

A budget holds when `observed <= max` (k6-threshold-like); with `confidence: c` it holds
only when the upper bound of the figure's c-interval is within `max`, so a short run cannot
pass a strict budget by luck (verdict.intervals). A metric that has no data for a budget's
filters (no writes of that workload, no probes on that link) observes `None`: the budget
passes, marked `no_data`, unless the verdict options say `fail_on_no_data: true`.
A rate metric gives `counts` (part, whole) and gets its observation and Wilson interval from
them; a percentile metric gives its sorted `samples`. A metric that can be judged while the
load runs (`abort_on_fail`) gives `live_floor`, the least its final figure can still be.
Adding a metric is one `@register` class in this module, so `METRICS` is complete as soon
as anything imports it (the campaign model validates budget names against it).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from verdict.intervals import quantile_interval, wilson
from verdict.stats import nearest_rank

if TYPE_CHECKING:
    from verdict.findings import Findings
    from verdict.live import LiveFigures
    from verdict.spec import BudgetSpec

#: metric name -> its class
METRICS: dict[str, type[Metric]] = {}
#: every filter a budget may name
FILTERS = ("workload", "region", "link", "op", "error")


def register(cls: type[Metric]) -> type[Metric]:
    METRICS[cls.name] = cls
    return cls


class Metric:
    """What a budget measures. `unit` decides how `max` is parsed ("seconds" takes 3s)."""

    name: ClassVar[str]
    unit: ClassVar[str] = "count"  # count | rate | seconds | usd
    filters: ClassVar[frozenset[str]] = frozenset({"workload", "region"})
    #: whether `confidence:` applies (the metric has an interval)
    has_interval: ClassVar[bool] = False
    #: whether `abort_on_fail:` applies (the metric can be judged while the load runs)
    live: ClassVar[bool] = False

    def observe(self, f: Findings, b: BudgetSpec) -> float | None:
        raise NotImplementedError

    def interval(
        self, f: Findings, b: BudgetSpec, confidence: float
    ) -> tuple[float | None, float | None] | None:
        """The observed figure's interval at `confidence`; None without data."""
        return None

    def live_floor(self, live: LiveFigures, b: BudgetSpec) -> float | None:
        """The least the final figure can be, given what the load did so far and the most
        it can still do; None when unknown (the budget then never aborts the load)."""
        return None


class RateMetric(Metric):
    """part / whole, with a Wilson interval."""

    unit = "rate"
    has_interval = True

    def counts(self, f: Findings, b: BudgetSpec) -> tuple[int, int]:
        raise NotImplementedError

    def observe(self, f: Findings, b: BudgetSpec) -> float | None:
        part, whole = self.counts(f, b)
        return part / whole if whole else None

    def interval(
        self, f: Findings, b: BudgetSpec, confidence: float
    ) -> tuple[float | None, float | None] | None:
        part, whole = self.counts(f, b)
        return wilson(part, whole, confidence)


class PercentileMetric(Metric):
    """A nearest-rank percentile (or the maximum) of samples, with an order-statistic
    interval."""

    unit = "seconds"
    has_interval = True
    q: ClassVar[float]

    def samples(self, f: Findings, b: BudgetSpec) -> np.ndarray:
        raise NotImplementedError

    def observe(self, f: Findings, b: BudgetSpec) -> float | None:
        values = self.samples(f, b)
        return float(nearest_rank(values, self.q)) if len(values) else None

    def interval(
        self, f: Findings, b: BudgetSpec, confidence: float
    ) -> tuple[float | None, float | None] | None:
        return quantile_interval(self.samples(f, b), self.q, confidence)


def _writes(f: Findings, b: BudgetSpec) -> dict[str, int]:
    """Sums over the (workload, region) cells matching the budget's filters."""
    s = f.store
    tot = dict.fromkeys(
        ("ok", "unknown", "failed", "resolved", "conflicts", "lost_updates", "skew_inverted"), 0
    )
    for (wl, r), counts in s.counts.items():
        if b.workload is not None and s.workloads.names[wl] != b.workload:
            continue
        if b.region is not None and s.regions.names[r] != b.region:
            continue
        tot["ok"] += counts.writes_ok
        tot["unknown"] += counts.writes_unknown
        tot["failed"] += counts.writes_failed
        cell = f.cells.get((wl, r))
        if cell is not None:
            tot["resolved"] += cell.unknown_resolved
            tot["conflicts"] += cell.conflicts
            tot["lost_updates"] += cell.lost_updates
            tot["skew_inverted"] += cell.skew_inverted
    return tot


@register
class LostUpdates(Metric):
    name = "lost_updates"

    def observe(self, f: Findings, b: BudgetSpec) -> float | None:
        return _writes(f, b)["lost_updates"]


@register
class LostUpdateRate(RateMetric):
    """Lost updates / counted writes (acknowledged + resolved unknown)."""

    name = "lost_update_rate"

    def counts(self, f: Findings, b: BudgetSpec) -> tuple[int, int]:
        t = _writes(f, b)
        return t["lost_updates"], t["ok"] + t["resolved"]


@register
class Conflicts(Metric):
    name = "conflicts"

    def observe(self, f: Findings, b: BudgetSpec) -> float | None:
        return _writes(f, b)["conflicts"]


@register
class ConflictRate(RateMetric):
    name = "conflict_rate"

    def counts(self, f: Findings, b: BudgetSpec) -> tuple[int, int]:
        t = _writes(f, b)
        return t["conflicts"], t["ok"] + t["resolved"]


@register
class SkewInverted(Metric):
    name = "skew_inverted"

    def observe(self, f: Findings, b: BudgetSpec) -> float | None:
        return _writes(f, b)["skew_inverted"]


@register
class UnknownRate(RateMetric):
    """Writes whose outcome stayed unknown (never observed) / all acknowledged or unknown."""

    name = "unknown_rate"

    def counts(self, f: Findings, b: BudgetSpec) -> tuple[int, int]:
        t = _writes(f, b)
        return t["unknown"] - t["resolved"], t["ok"] + t["unknown"]


@register
class FailedWriteRate(RateMetric):
    """Writes the target refused / every write attempted (acknowledged, unknown or failed);
    with `error`, only the refusals with that error (e.g. ReplicatedWriteConflictException).
    A condition check that rejects a guarded or client_lww write is a refusal too: filter on
    the error, or on the workload, to leave those out."""

    name = "failed_write_rate"
    filters = frozenset({"workload", "region", "error"})
    live = True

    def counts(self, f: Findings, b: BudgetSpec) -> tuple[int, int]:
        t = _writes(f, b)
        attempts = t["ok"] + t["unknown"] + t["failed"]
        if b.error is None:
            return t["failed"], attempts
        s = f.store
        refused = sum(
            n
            for (wl, r, error), n in s.failed_errors.items()
            if error == b.error
            and b.workload in (None, s.workloads.names[wl])
            and b.region in (None, s.regions.names[r])
        )
        return refused, attempts

    def live_floor(self, live: LiveFigures, b: BudgetSpec) -> float | None:
        """Refusals so far over every write the run can still reach; with the rest of the
        run unbounded (closed model), only a budget of 0 is surely broken by a refusal."""
        part, whole = live.failed_writes(b)
        if not part:
            return None
        remaining = live.remaining_writes(b)
        if remaining is None:
            return part / whole if b.max == 0 else None
        return part / (whole + remaining)


@register
class DivergentKeys(Metric):
    name = "divergent_keys"
    filters = frozenset({"workload"})

    def observe(self, f: Findings, b: BudgetSpec) -> float | None:
        names = f.store.workloads.names
        return sum(n for wl, n in f.divergent.items() if b.workload in (None, names[wl]))


@register
class StaleReadP99(Metric):
    """p99 staleness (seconds) of reads, in the reader's region when `region` is set."""

    name = "stale_read_p99"
    unit = "seconds"
    filters = frozenset({"region"})

    def observe(self, f: Findings, b: BudgetSpec) -> float | None:
        names = f.store.regions.names
        vals = sorted(
            v for r, arr in f.stale.by_region.items() if b.region in (None, names[r]) for v in arr
        )
        return nearest_rank(vals, 0.99) if vals else None


class _Lag(Metric):
    """Worst link's figure among the links matching `link` (A->B) or `region` (into it)."""

    unit = "seconds"
    filters = frozenset({"link", "region"})
    field: ClassVar[str]

    def observe(self, f: Findings, b: BudgetSpec) -> float | None:
        figures = [
            s[self.field]
            for name, s in f.lag.items()
            if b.link in (None, name) and (b.region is None or name.endswith(f"->{b.region}"))
        ]
        return max(figures) if figures else None


@register
class ReplicationLagP50(_Lag):
    name = "replication_lag_p50"
    field = "p50"


@register
class ReplicationLagP95(_Lag):
    name = "replication_lag_p95"
    field = "p95"


@register
class ReplicationLagP99(_Lag):
    name = "replication_lag_p99"
    field = "p99"


@register
class ReplicationLagMax(_Lag):
    name = "replication_lag_max"
    field = "max"


class _Latency(PercentileMetric):
    """Latency (seconds) of acknowledged operations matching `op`, `region` (where the call
    went) and `workload` (verdict.latency)."""

    filters = frozenset({"op", "region", "workload"})
    live = True

    def samples(self, f: Findings, b: BudgetSpec) -> np.ndarray:
        s = f.store
        regions = None if b.region is None else [s.regions.ids.get(b.region, -1)]
        workloads = None if b.workload is None else [s.workloads.ids.get(b.workload, -1)]
        return s.latency.select(b.op, regions, workloads)

    def live_floor(self, live: LiveFigures, b: BudgetSpec) -> float | None:
        """Infinite once enough operations were slower than `max` that, however fast the
        rest, the percentile stays above it: the nearest-rank q-percentile of n values
        exceeds max when more than n - ceil(q n) of them do, and that count only grows
        with n, so the most operations the run can still make decides."""
        slow, total = live.slow_operations(b)
        if not slow:
            return None
        if self.q >= 1.0:
            return math.inf
        remaining = live.remaining_operations(b)
        if remaining is None:
            return None
        most = total + remaining
        return math.inf if slow > most - math.ceil(self.q * most) else None


@register
class LatencyP50(_Latency):
    name = "latency_p50"
    q = 0.50


@register
class LatencyP95(_Latency):
    name = "latency_p95"
    q = 0.95


@register
class LatencyP99(_Latency):
    name = "latency_p99"
    q = 0.99


@register
class LatencyMax(_Latency):
    name = "latency_max"
    q = 1.0
    has_interval = False


@register
class ConvergenceTimeMax(Metric):
    """The slowest convergence after a heal (seconds from the heal until a probe written
    after it was visible on every link); heals no probe followed (at the end of the run)
    have no figure."""

    name = "convergence_time_max"
    unit = "seconds"
    filters = frozenset()

    def observe(self, f: Findings, b: BudgetSpec) -> float | None:
        times = [c["converged_s"] for c in f.convergence if c.get("converged_s") is not None]
        return max(times) if times else None


@register
class DroppedRate(RateMetric):
    """Open model: arrivals dropped (no free in-flight slot) / arrivals requested
    (load.json, written by the runner)."""

    name = "dropped_rate"
    live = True

    def counts(self, f: Findings, b: BudgetSpec) -> tuple[int, int]:
        load: dict[str, Any] = getattr(f, "load", None) or {}
        dropped = requested = 0
        for region, figures in (load.get("regions") or {}).items():
            if b.region not in (None, region):
                continue
            for workload, cell in figures.get("workloads", {}).items():
                if b.workload in (None, workload) and cell.get("requested") is not None:
                    requested += int(cell["requested"])
                    dropped += int(cell["dropped"])
        return dropped, requested

    def live_floor(self, live: LiveFigures, b: BudgetSpec) -> float | None:
        dropped, total = live.dropped(b)
        return dropped / total if total else None


@register
class CostPerMonth(Metric):
    """Budget `cost_per_month`: the projected dollars per month (optionally of one region),
    from `findings.cost`, the `verdict.cost_campaign.CostAccumulator.result` analyze attaches."""

    name = "cost_per_month"
    unit = "usd"
    filters = frozenset({"region"})

    def observe(self, f: Findings, b: BudgetSpec) -> float | None:
        cost: dict[str, Any] | None = f.cost
        if not cost:
            return None
        entry = cost["total"] if b.region is None else cost["regions"].get(b.region)
        return None if entry is None else float(entry["monthly_usd"]["total"])
