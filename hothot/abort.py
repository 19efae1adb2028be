"""The live budgets (verdict.live) wired to a run: the records from the hub, the provisional
anomalies from the live metrics, what the load did so far from the engine and, for
`abort_on_fail`, what it can still do from the arrival schedule. The same figures feed the
`hothot_budget_observed` gauge and the decision to stop the load."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from loadgen.arrivals import schedule
from loadgen.engine import LoadEngine
from loadgen.hub import RecordHub
from loadgen.plan import LoadPlan
from loadgen.workloads import build_workloads, mix_of
from verdict.live import Anomalies, LiveFigures
from verdict.spec import BudgetSpec


def live_budgets(
    budgets: list[BudgetSpec],
    plan: LoadPlan,
    engine: LoadEngine,
    hub: RecordHub,
    anomalies: Anomalies | None = None,
    *,
    served: bool = True,
) -> LiveFigures:
    """When a budget asks to stop the load, in the open model, the whole schedule is counted
    once here (a walk of every arrival, a few seconds per million), so what the rest of the
    run can still do is known exactly. The figures count records only when someone reads
    them: the gauge (`served`, a metrics endpoint) or an `abort_on_fail` budget."""
    aborting = any(b.abort_on_fail for b in budgets)
    totals = _schedule_totals(plan) if aborting else None
    figures: Callable[[], dict[str, Any]] = engine.load_figures

    def arrivals() -> dict[tuple[str, str], tuple[int, int, int, int]] | None:
        """Per (region, workload): requested so far, delivered, dropped, and the whole run's
        arrivals (0 unless counted for abort_on_fail); None in the closed model."""
        if not plan.writers.open:
            return None
        out = {}
        for region, f in figures()["regions"].items():
            for workload, cell in f.get("workloads", {}).items():
                total = totals.get((region, workload), 0) if totals is not None else 0
                out[region, workload] = (int(cell[0]), int(cell[1]), int(cell[2]), total)
        for (region, workload), total in (totals or {}).items():
            out.setdefault((region, workload), (0, 0, 0, total))
        return out

    most = {w.name: w.most_calls() for w in mix_of(engine.workloads)}

    def outlook() -> dict[tuple[str, str], tuple[int, int | None, int | None]] | None:
        done = arrivals() if totals is not None else None
        if done is None:
            return None
        return {
            key: (max(0, total - requested), *(most[key[1]] or (None, None)))
            for key, (requested, _, _, total) in done.items()
        }

    live = LiveFigures(budgets, outlook, arrivals, anomalies)
    if served or aborting:
        hub.every_record(live.on_record)
    return live


def _schedule_totals(plan: LoadPlan) -> Counter[tuple[str, str]] | None:
    """Arrivals the whole run requests per (region, workload); None in the closed model."""
    profile = plan.rate_profile()
    if profile is None:
        return None
    mix = mix_of(build_workloads(plan.workloads, plan.regions, plan.key_prefix))
    weights = [w.spec.weight for w in mix]
    totals: Counter[tuple[str, str]] = Counter()
    for region in plan.regions:
        for arrival in schedule(profile, plan.seed, region, weights):
            totals[region, mix[arrival.workload].name] += 1
    return totals
