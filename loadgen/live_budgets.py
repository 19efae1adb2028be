"""Budgets during the run: `hothot_budget_observed{state="provisional"}` at every scrape, then
the verdict's `state="final"` figures.

An alert on a budget needs a figure to compare with its limit while the run is on, not one
scrape after the verdict. The provisional figures come from one computation of the run
(`verdict.live.LiveFigures`, which `abort_on_fail` reads too), handed in by the runner as a
function (`BudgetGauges.provide`): loadgen does not import the verdict. A budget without a
provisional figure has no sample (never a misleading 0). Once the verdict sets the final
figures, the provisional series are gone and the final ones are served instead.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

from prometheus_client.core import GaugeMetricFamily

#: budget label -> its provisional figure, in its limit's unit
Provisional = Callable[[], dict[str, float]]


def budget_label(metric: str, filters: dict[str, object] | None = None) -> str:
    """The `budget` label of a budget: its metric, then its filters in the order given, e.g.
    `lost_update_rate{workload=home_region}` (the verdict's budget label without its limit,
    `verdict.spec.BudgetSpec.name`). The alert rules match on this spelling."""
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


class BudgetGauges:
    """A prometheus_client collector for `hothot_budget_observed`: provisional figures while
    the run is on, the verdict's once `final` is set."""

    NAME = "hothot_budget_observed"

    def __init__(self, campaign: str) -> None:
        self.campaign = campaign
        self.provisional: Provisional = dict
        self.final: dict[str, float] = {}
        self.judged = False
        self._lock = threading.Lock()

    def provide(self, provisional: Provisional) -> None:
        """Where the provisional figures come from (budget label -> figure)."""
        with self._lock:
            self.provisional = provisional

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
            final, judged, provisional = dict(self.final), self.judged, self.provisional
        for label, observed in final.items():
            family.add_metric([self.campaign, label, "final"], observed)
        if not judged:
            for label, observed in provisional().items():
                family.add_metric([self.campaign, label, "provisional"], observed)
        yield family
