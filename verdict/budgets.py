"""Budget metrics: one small class per metric, registered in `METRICS`.

A budget holds when `observed <= max` (k6-threshold-like). A metric that has no data for a
budget's filters (no writes of that workload, no probes on that link) observes `None`: the
budget passes, marked `no_data`, unless the verdict options say `fail_on_no_data: true`.
Adding a metric is one `@register` class in this module, so `METRICS` is complete as soon
as anything imports it (the campaign model validates budget names against it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from verdict.stats import nearest_rank

if TYPE_CHECKING:
    from verdict.findings import Findings
    from verdict.spec import BudgetSpec

#: metric name -> its class
METRICS: dict[str, type[Metric]] = {}


def register(cls: type[Metric]) -> type[Metric]:
    METRICS[cls.name] = cls
    return cls


class Metric:
    """What a budget measures. `unit` decides how `max` is parsed ("seconds" takes 3s)."""

    name: ClassVar[str]
    unit: ClassVar[str] = "count"  # count | rate | seconds
    filters: ClassVar[frozenset[str]] = frozenset({"workload", "region"})

    def observe(self, f: Findings, b: BudgetSpec) -> float | None:
        raise NotImplementedError


def _writes(f: Findings, b: BudgetSpec) -> dict[str, int]:
    """Sums over the (workload, region) cells matching the budget's filters."""
    s = f.store
    tot = dict.fromkeys(
        ("ok", "unknown", "resolved", "conflicts", "lost_updates", "skew_inverted"), 0
    )
    for (wl, r), counts in s.counts.items():
        if b.workload is not None and s.workloads.names[wl] != b.workload:
            continue
        if b.region is not None and s.regions.names[r] != b.region:
            continue
        tot["ok"] += counts.writes_ok
        tot["unknown"] += counts.writes_unknown
        cell = f.cells.get((wl, r))
        if cell is not None:
            tot["resolved"] += cell.unknown_resolved
            tot["conflicts"] += cell.conflicts
            tot["lost_updates"] += cell.lost_updates
            tot["skew_inverted"] += cell.skew_inverted
    return tot


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@register
class LostUpdates(Metric):
    name = "lost_updates"

    def observe(self, f: Findings, b: BudgetSpec) -> float | None:
        return _writes(f, b)["lost_updates"]


@register
class LostUpdateRate(Metric):
    """Lost updates / counted writes (acknowledged + resolved unknown)."""

    name = "lost_update_rate"
    unit = "rate"

    def observe(self, f: Findings, b: BudgetSpec) -> float | None:
        t = _writes(f, b)
        return _rate(t["lost_updates"], t["ok"] + t["resolved"])


@register
class Conflicts(Metric):
    name = "conflicts"

    def observe(self, f: Findings, b: BudgetSpec) -> float | None:
        return _writes(f, b)["conflicts"]


@register
class ConflictRate(Metric):
    name = "conflict_rate"
    unit = "rate"

    def observe(self, f: Findings, b: BudgetSpec) -> float | None:
        t = _writes(f, b)
        return _rate(t["conflicts"], t["ok"] + t["resolved"])


@register
class SkewInverted(Metric):
    name = "skew_inverted"

    def observe(self, f: Findings, b: BudgetSpec) -> float | None:
        return _writes(f, b)["skew_inverted"]


@register
class UnknownRate(Metric):
    """Writes whose outcome stayed unknown (never observed) / all acknowledged or unknown."""

    name = "unknown_rate"
    unit = "rate"

    def observe(self, f: Findings, b: BudgetSpec) -> float | None:
        t = _writes(f, b)
        return _rate(t["unknown"] - t["resolved"], t["ok"] + t["unknown"])


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
