"""Budgets during the run: `hothot_budget_observed{state="provisional"}` at every scrape, then
the verdict's `state="final"` figures.

An alert on a budget needs a figure to compare with its limit while the run is on, not one
scrape after the verdict. The record stream gives provisional figures for the budget metrics
registered in `LIVE_FIGURES` (one function each, the budget's filters as arguments): rates over
the live operation counts, the provisional anomalies of `loadgen.live`, replication-lag
percentiles over the probes seen so far. A budget whose metric has no live function, or no data
yet for its filters, has no provisional sample (never a misleading 0). Once the verdict sets a
budget's final figure, its provisional series is gone and the final one is served instead.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from prometheus_client.core import GaugeMetricFamily

from units import link_name

WRITE_OPS = frozenset({"put", "update", "delete"})
#: relative width of the lag buckets behind the provisional percentiles (1 %)
_STEP = math.log(1.01)
#: lags up to this share one bucket (`_SMALL`), read as this
_TINY, _SMALL = 1e-6, -(10**9)


def budget_label(metric: str, filters: dict[str, object] | None = None) -> str:
    """The `budget` label of a budget: its metric, then its filters in the order given, e.g.
    `lost_update_rate{workload=home_region}` (the verdict's budget label without its limit).
    The alert rules match on this spelling."""
    inner = ",".join(f"{k}={v}" for k, v in (filters or {}).items() if v not in (None, ""))
    return f"{metric}{{{inner}}}" if inner else metric


class LiveBudget(NamedTuple):
    """A campaign budget as the live metrics need it: what it measures and its limit."""

    metric: str
    limit: float
    filters: dict[str, Any] = {}

    @property
    def label(self) -> str:
        return budget_label(self.metric, self.filters)


class LagQuantiles:
    """Lags of one link in 1 %-wide logarithmic buckets: bounded memory for a run of any
    length; a nearest-rank percentile is read as its bucket's upper bound, so it is never
    below the exact figure and at most 1 % above it."""

    def __init__(self) -> None:
        self.buckets: Counter[int] = Counter()
        self.count = 0
        self.max = 0.0

    def add(self, lag: float) -> None:
        # lags up to 1 µs share one bucket read as 1 µs: not below any of them
        self.buckets[math.ceil(math.log(lag) / _STEP) if lag > _TINY else _SMALL] += 1
        self.count += 1
        self.max = max(self.max, lag)

    def quantile(self, q: float) -> float:
        rank = max(1, math.ceil(q * self.count))
        seen = 0
        for bucket in sorted(self.buckets):
            seen += self.buckets[bucket]
            if seen >= rank:
                if bucket == _SMALL:
                    return min(self.max, _TINY)
                # the nudge keeps a lag on a bucket's very edge under its rounded bound
                return min(self.max, math.exp(bucket * _STEP) * (1 + 1e-12))
        return self.max


@dataclass
class LiveCounts:
    """What the live figures are computed from, kept by `LiveMetrics.observe`."""

    #: (region, workload, op, outcome) -> records
    ops: Counter[tuple[str, str, str, str]] = field(default_factory=Counter)
    #: anomaly kind (conflicts, lost_updates, skew_inverted) -> (workload, region) -> count
    anomalies: dict[str, Counter[tuple[str, str]]] = field(
        default_factory=lambda: {
            k: Counter() for k in ("conflicts", "lost_updates", "skew_inverted")
        }
    )
    #: (source, target) -> the probes' lags
    lags: dict[tuple[str, str], LagQuantiles] = field(default_factory=dict)

    def writes(self, filters: dict[str, Any], outcomes: Iterable[str]) -> int:
        wanted = set(outcomes)
        return sum(
            n
            for (region, workload, op, outcome), n in list(self.ops.items())
            if op in WRITE_OPS and outcome in wanted and _match(filters, workload, region)
        )

    def anomaly(self, kind: str, filters: dict[str, Any]) -> int:
        cells = list(self.anomalies[kind].items())
        return sum(n for (workload, region), n in cells if _match(filters, workload, region))

    def links(self, filters: dict[str, Any]) -> list[LagQuantiles]:
        link, into = filters.get("link"), filters.get("region")
        return [
            q
            for (source, target), q in list(self.lags.items())
            if link in (None, link_name(source, target)) and into in (None, target) and q.count
        ]


def _match(filters: dict[str, Any], workload: str, region: str) -> bool:
    return filters.get("workload") in (None, workload) and filters.get("region") in (None, region)


Figure = Callable[[LiveCounts, dict[str, Any]], "float | None"]
#: budget metric -> its provisional figure (None: no data yet for these filters)
LIVE_FIGURES: dict[str, Figure] = {}


def _rate(kind: str) -> Figure:
    """anomalies / acknowledged writes, as the verdict's rate (before resolving unknowns)."""

    def figure(c: LiveCounts, f: dict[str, Any]) -> float | None:
        acknowledged = c.writes(f, ("ok",))
        return c.anomaly(kind, f) / acknowledged if acknowledged else None

    return figure


def _count(kind: str) -> Figure:
    return lambda c, f: float(c.anomaly(kind, f)) if c.writes(f, ("ok",)) else None


def _unknown_rate(c: LiveCounts, f: dict[str, Any]) -> float | None:
    """Unknown / (ok + unknown): the verdict later resolves some unknowns, so this is the
    upper bound of its figure."""
    unknown, whole = c.writes(f, ("unknown",)), c.writes(f, ("ok", "unknown"))
    return unknown / whole if whole else None


def _lag(stat: str) -> Figure:
    """Worst matching link, as the verdict's lag budgets."""

    def figure(c: LiveCounts, f: dict[str, Any]) -> float | None:
        links = c.links(f)
        if not links:
            return None
        if stat == "max":
            return max(q.max for q in links)
        return max(q.quantile(float(stat[1:]) / 100) for q in links)

    return figure


LIVE_FIGURES.update(
    {
        "conflict_rate": _rate("conflicts"),
        "lost_update_rate": _rate("lost_updates"),
        "conflicts": _count("conflicts"),
        "lost_updates": _count("lost_updates"),
        "skew_inverted": _count("skew_inverted"),
        "unknown_rate": _unknown_rate,
        **{f"replication_lag_{s}": _lag(s) for s in ("p50", "p95", "p99", "max")},
    }
)


class BudgetGauges:
    """A prometheus_client collector for `hothot_budget_observed`: provisional figures while
    the run is on, the verdict's once `final` is set for a budget."""

    NAME = "hothot_budget_observed"

    def __init__(self, campaign: str, counts: LiveCounts) -> None:
        self.campaign = campaign
        self.counts = counts
        self.watched: list[LiveBudget] = []
        self.final: dict[str, float] = {}
        self.judged = False
        self._lock = threading.Lock()

    def watch(self, budgets: Iterable[LiveBudget]) -> None:
        with self._lock:
            self.watched.extend(budgets)

    def set_final(self, observed: dict[str, float]) -> None:
        """The verdict is in: these figures from now on, and no provisional one any more
        (a budget the verdict had no data for has no sample at all)."""
        with self._lock:
            self.final.update(observed)
            self.judged = True

    def describe(self) -> list[Any]:
        return []

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            self.NAME,
            "A budget's figure, in its limit's unit: state=provisional while the run is on "
            "(from the live record stream), state=final once the verdict is in.",
            labels=["campaign", "budget", "state"],
        )
        with self._lock:
            final, watched = dict(self.final), [] if self.judged else list(self.watched)
        for label, observed in final.items():
            family.add_metric([self.campaign, label, "final"], observed)
        for budget in watched:
            if (figure := LIVE_FIGURES.get(budget.metric)) is None:
                continue
            value = figure(self.counts, budget.filters)
            if value is not None:
                family.add_metric([self.campaign, budget.label, "provisional"], value)
        yield family
