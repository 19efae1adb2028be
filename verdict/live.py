"""Budgets while the load runs, one computation for two readers: the provisional figure of
each budget that `hothot_budget_observed{state="provisional"}` serves at every scrape (so an
alert can fire during the run), and `abort_on_fail` (k6's abortOnFail), which stops the load
once a budget can no longer hold, whatever the rest of the run does.

`LiveFigures` counts every record of the run's hub once (operations per region, workload, op
and outcome, refusals per error, probe lags per link, latencies per latency budget) and reads
the provisional anomalies that `loadgen.live` finds (handed in as `anomalies`).

- The provisional figure (`PROVISIONAL`, one function per budget metric) is what the verdict's
  figure would be over the records so far; a metric without one (`divergent_keys`,
  `stale_read_p99`, `cost_per_month`, `convergence_time_max`) or without data yet for its
  filters has no provisional sample, never a misleading 0.
- "Can no longer hold" is decided, not guessed: each live metric gives the least its final
  figure can still be (`Metric.live_floor`), from the counts so far and the most the rest of
  the run can still do. In the open model that is the rest of the arrival schedule times each
  workload's most operations per run; in the closed model it is unknown, so only what cannot
  shrink aborts there (a maximum latency exceeded, a failed write against a budget of 0). The
  verdict computed after the stop counts the same records, so an aborted run's budget fails
  there too (exit 1).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from units import link_name
from verdict.budgets import METRICS
from verdict.spec import BudgetSpec
from verdict.stats import LogQuantiles

WRITES = frozenset({"put", "update", "delete"})
#: (region, workload) -> (arrivals still to come, at most operations and writes per arrival:
#: None when the workload cannot say)
Outlook = Callable[[], dict[tuple[str, str], tuple[int, int | None, int | None]] | None]
#: (region, workload) -> [requested so far, delivered, dropped, requested over the whole run]
Arrivals = Callable[[], dict[tuple[str, str], tuple[int, int, int, int]] | None]
#: anomaly kind (conflicts, lost_updates, skew_inverted) -> (workload, region) -> count
Anomalies = dict[str, Counter[tuple[str, str]]]


def _matches(b: BudgetSpec, region: str, workload: str) -> bool:
    return b.region in (None, region) and b.workload in (None, workload)


def no_anomalies() -> Anomalies:
    return {k: Counter() for k in ("conflicts", "lost_updates", "skew_inverted")}


class LiveFigures:
    """What the live budgets read, from every record (`on_record`), the provisional anomalies
    (`anomalies`, kept by `loadgen.live`) and the load's own counts (`outlook`, `arrivals`:
    None when unknown)."""

    def __init__(
        self,
        budgets: Iterable[BudgetSpec],
        outlook: Outlook = lambda: None,
        arrivals: Arrivals = lambda: None,
        anomalies: Anomalies | None = None,
    ) -> None:
        self.budgets = list(budgets)
        self.aborting = [b for b in self.budgets if b.abort_on_fail]
        self.outlook, self.arrivals = outlook, arrivals
        self.anomalies = anomalies if anomalies is not None else no_anomalies()
        #: (region, workload, op, outcome) -> records
        self.ops: Counter[tuple[str, str, str, str]] = Counter()
        self.refused: Counter[tuple[str, str, str]] = Counter()
        #: (source, target) -> the probes' lags
        self.lags: dict[tuple[str, str], LogQuantiles] = {}
        self._latency = [b for b in self.budgets if b.metric.startswith("latency_")]
        #: per latency budget: its operations' latencies, and how many were slower than max
        self.latencies = [LogQuantiles() for _ in self._latency]
        self.slow = [0 for _ in self._latency]

    def on_record(self, rec: dict[str, Any]) -> None:
        op = rec.get("op")
        if op == "probe":
            self._probe(rec)
            return
        if rec.get("final"):
            return
        region, workload = rec.get("region", ""), rec.get("workload", "")
        outcome = rec.get("outcome", "")
        self.ops[region, workload, op or "", outcome] += 1
        if op in WRITES and outcome == "fail":
            self.refused[region, workload, str(rec.get("error"))] += 1
        if outcome != "ok" or not self._latency:
            return
        took = max(0.0, float(rec.get("t_complete", 0.0)) - float(rec.get("t_invoke", 0.0)))
        for i, b in enumerate(self._latency):
            if b.op in (None, op) and _matches(b, region, workload):
                self.latencies[i].add(took)
                self.slow[i] += took > b.max

    def _probe(self, rec: dict[str, Any]) -> None:
        lag = rec.get("lag")
        if lag is None or rec.get("outcome", "ok") != "ok":
            return
        link = (rec.get("region", ""), rec.get("target", ""))
        quantiles = self.lags.get(link)
        if quantiles is None:
            quantiles = self.lags[link] = LogQuantiles()
        quantiles.add(float(lag))

    # -- what the metrics read -----------------------------------------------------------------
    def writes(self, b: BudgetSpec, outcomes: Iterable[str]) -> int:
        wanted = set(outcomes)
        return sum(
            n
            for (region, workload, op, outcome), n in list(self.ops.items())
            if op in WRITES and outcome in wanted and _matches(b, region, workload)
        )

    def anomaly(self, kind: str, b: BudgetSpec) -> int:
        cells = list(self.anomalies[kind].items())
        return sum(n for (workload, region), n in cells if _matches(b, region, workload))

    def links(self, b: BudgetSpec) -> list[LogQuantiles]:
        """The lags of the links a lag budget matches (`link` A->B, or `region`: into it)."""
        return [
            q
            for (source, target), q in list(self.lags.items())
            if b.link in (None, link_name(source, target)) and b.region in (None, target)
            and q.count
        ]  # fmt: skip

    def failed_writes(self, b: BudgetSpec) -> tuple[int, int]:
        refused = sum(
            n
            for (r, w, error), n in list(self.refused.items())
            if _matches(b, r, w) and b.error in (None, error)
        )
        return refused, self.writes(b, ("ok", "unknown", "fail"))

    def latency(self, b: BudgetSpec) -> LogQuantiles:
        return self.latencies[self._latency.index(b)]

    def slow_operations(self, b: BudgetSpec) -> tuple[int, int]:
        """(slower than max, all) acknowledged operations matching a latency budget."""
        i = self._latency.index(b)
        return self.slow[i], self.latencies[i].count

    def _still(self, b: BudgetSpec, index: int) -> int | None:
        """At most how many operations (index 0) or writes (1) the rest of the run makes
        that match the budget; None when unknown."""
        outlook = self.outlook()
        if outlook is None:
            return None
        total = 0
        for (r, w), (n, *most) in outlook.items():
            if _matches(b, r, w):
                if most[index] is None:
                    return None
                total += n * int(most[index] or 0)
        return total

    def remaining_writes(self, b: BudgetSpec) -> int | None:
        return self._still(b, 1)

    def remaining_operations(self, b: BudgetSpec) -> int | None:
        return self._still(b, 0)

    def dropped(self, b: BudgetSpec, whole_run: bool = True) -> tuple[int, int]:
        """(dropped so far, arrivals the whole run requests, or requested so far) matching
        the budget."""
        figures = self.arrivals() or {}
        cells = [c for (r, w), c in figures.items() if _matches(b, r, w)]
        return sum(c[2] for c in cells), sum(c[3 if whole_run else 0] for c in cells)

    # -- what the two readers get --------------------------------------------------------------
    def provisional(self) -> dict[str, float]:
        """Each budget's figure over the records so far, by its `name` (the gauge's label)."""
        out = {}
        for b in self.budgets:
            figure = PROVISIONAL.get(b.metric)
            value = figure(self, b) if figure is not None else None
            if value is not None:
                out[b.name] = float(value)
        return out

    def broken(self) -> str | None:
        """Why the load should stop now: the first abort_on_fail budget that can no longer
        hold."""
        for b in self.aborting:
            floor = METRICS[b.metric]().live_floor(self, b)
            if floor is not None and floor > b.max:
                shown = "" if floor == float("inf") else f" (at least {floor:.6g} by now)"
                return f"budget {b.label} can no longer hold{shown}: abort_on_fail stops the load"
        return None


Figure = Callable[[LiveFigures, BudgetSpec], "float | None"]


def _rate(kind: str) -> Figure:
    """anomalies / acknowledged writes, as the verdict's rate (before resolving unknowns)."""

    def figure(live: LiveFigures, b: BudgetSpec) -> float | None:
        acknowledged = live.writes(b, ("ok",))
        return live.anomaly(kind, b) / acknowledged if acknowledged else None

    return figure


def _count(kind: str) -> Figure:
    return lambda live, b: float(live.anomaly(kind, b)) if live.writes(b, ("ok",)) else None


def _unknown_rate(live: LiveFigures, b: BudgetSpec) -> float | None:
    """Unknown / (ok + unknown): the verdict later resolves some unknowns, so this is the
    upper bound of its figure."""
    unknown, whole = live.writes(b, ("unknown",)), live.writes(b, ("ok", "unknown"))
    return unknown / whole if whole else None


def _failed_write_rate(live: LiveFigures, b: BudgetSpec) -> float | None:
    refused, attempts = live.failed_writes(b)
    return refused / attempts if attempts else None


def _dropped_rate(live: LiveFigures, b: BudgetSpec) -> float | None:
    """Dropped / requested so far (the open model; the closed model drops nothing)."""
    dropped, requested = live.dropped(b, whole_run=False)
    return dropped / requested if requested else None


def _lag(q: float) -> Figure:
    """Worst matching link, as the verdict's lag budgets."""

    def figure(live: LiveFigures, b: BudgetSpec) -> float | None:
        links = live.links(b)
        if not links:
            return None
        return max(lq.max if q >= 1.0 else lq.quantile(q) for lq in links)

    return figure


def _latency(q: float) -> Figure:
    def figure(live: LiveFigures, b: BudgetSpec) -> float | None:
        values = live.latency(b)
        if not values.count:
            return None
        return values.max if q >= 1.0 else values.quantile(q)

    return figure


#: budget metric -> its provisional figure (None: no data yet for these filters); percentiles
#: are read from 1 %-wide buckets (never below the exact nearest-rank figure, at most 1 % above)
PROVISIONAL: dict[str, Figure] = {
    "conflict_rate": _rate("conflicts"),
    "lost_update_rate": _rate("lost_updates"),
    "conflicts": _count("conflicts"),
    "lost_updates": _count("lost_updates"),
    "skew_inverted": _count("skew_inverted"),
    "unknown_rate": _unknown_rate,
    "failed_write_rate": _failed_write_rate,
    "dropped_rate": _dropped_rate,
    **{f"replication_lag_{s}": _lag(q) for s, q in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99),
                                                     ("max", 1.0))},
    **{f"latency_{s}": _latency(q) for s, q in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99),
                                               ("max", 1.0))},
}  # fmt: skip
