"""Budgets judged while the load runs: `abort_on_fail: true` (k6's abortOnFail) stops the load
once a budget can no longer hold, whatever the rest of the run does.

"Can no longer hold" is decided, not guessed: each live metric gives the least its final
figure can still be (`Metric.live_floor`), from the records seen so far (fed by the run's
record hub) and the most the rest of the run can still do. In the open model that is the
rest of the arrival schedule times each workload's most operations per run; in the closed
model it is unknown, so only what cannot shrink aborts there (a maximum latency exceeded, a
failed write against a budget of 0). The verdict computed after the stop counts the same
records, so an aborted run's budget fails there too (exit 1).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from verdict.budgets import METRICS
from verdict.spec import BudgetSpec

WRITES = frozenset({"put", "update", "delete"})
#: (region, workload) -> (arrivals still to come, at most operations and writes per arrival:
#: None when the workload cannot say)
Outlook = Callable[[], dict[tuple[str, str], tuple[int, int | None, int | None]] | None]
#: (region, workload) -> [requested so far, delivered, dropped, requested over the whole run]
Arrivals = Callable[[], dict[tuple[str, str], tuple[int, int, int, int]] | None]


def _matches(b: BudgetSpec, region: str, workload: str) -> bool:
    return b.region in (None, region) and b.workload in (None, workload)


class LiveFigures:
    """What the live budgets read, from every user record (`on_record`) and the load's own
    counts (`outlook`, `arrivals`: None when unknown)."""

    def __init__(
        self,
        budgets: list[BudgetSpec],
        outlook: Outlook = lambda: None,
        arrivals: Arrivals = lambda: None,
    ) -> None:
        self.budgets = [b for b in budgets if b.abort_on_fail]
        self.outlook, self.arrivals = outlook, arrivals
        self.attempts: Counter[tuple[str, str]] = Counter()
        self.refused: Counter[tuple[str, str, str]] = Counter()
        self._latency = [b for b in self.budgets if b.metric.startswith("latency_")]
        #: per latency budget: [operations matching it, of which slower than its max]
        self.slow = [[0, 0] for _ in self._latency]

    def on_record(self, rec: dict[str, Any]) -> None:
        op = rec.get("op")
        if op == "probe" or rec.get("final"):
            return
        region, workload, outcome = (
            rec.get("region", ""),
            rec.get("workload", ""),
            rec.get("outcome"),
        )
        if op in WRITES:
            self.attempts[region, workload] += 1
            if outcome == "fail":
                self.refused[region, workload, str(rec.get("error"))] += 1
        if outcome != "ok":
            return
        took = float(rec.get("t_complete", 0.0)) - float(rec.get("t_invoke", 0.0))
        for i, b in enumerate(self._latency):
            if b.op in (None, op) and _matches(b, region, workload):
                self.slow[i][0] += 1
                self.slow[i][1] += took > b.max

    # -- what the metrics read -----------------------------------------------------------------
    def failed_writes(self, b: BudgetSpec) -> tuple[int, int]:
        refused = sum(
            n
            for (r, w, error), n in self.refused.items()
            if _matches(b, r, w) and b.error in (None, error)
        )
        return refused, sum(n for (r, w), n in self.attempts.items() if _matches(b, r, w))

    def slow_operations(self, b: BudgetSpec) -> tuple[int, int]:
        """(slower than max, all) acknowledged operations matching a latency budget."""
        total, slow = self.slow[self._latency.index(b)]
        return slow, total

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

    def dropped(self, b: BudgetSpec) -> tuple[int, int]:
        """(dropped so far, arrivals the whole run requests) matching the budget."""
        figures = self.arrivals() or {}
        cells = [c for (r, w), c in figures.items() if _matches(b, r, w)]
        return sum(c[2] for c in cells), sum(c[3] for c in cells)

    # -- the decision --------------------------------------------------------------------------
    def broken(self) -> str | None:
        """Why the load should stop now: the first budget that can no longer hold."""
        for b in self.budgets:
            floor = METRICS[b.metric]().live_floor(self, b)
            if floor is not None and floor > b.max:
                shown = "" if floor == float("inf") else f" (at least {floor:.6g} by now)"
                return f"budget {b.label} can no longer hold{shown}: abort_on_fail stops the load"
        return None
