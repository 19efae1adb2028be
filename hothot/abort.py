"""`abort_on_fail`: wires the live budgets (verdict.live) to a run — the records from the hub,
what the load did so far from the engine, what it can still do from the arrival schedule."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from loadgen.arrivals import schedule
from loadgen.engine import LoadEngine
from loadgen.hub import RecordHub, decoded
from loadgen.plan import LoadPlan
from loadgen.workloads import build_workloads, mix_of
from verdict.live import LiveFigures
from verdict.spec import BudgetSpec


def live_budgets(
    budgets: list[BudgetSpec], plan: LoadPlan, engine: LoadEngine, hub: RecordHub
) -> LiveFigures | None:
    """None when no budget asks to stop the load. In the open model the whole schedule is
    counted once here (a walk of every arrival, a few seconds per million), so what the
    rest of the run can still do is known exactly."""
    if not any(b.abort_on_fail for b in budgets):
        return None
    totals = _schedule_totals(plan)
    figures: Callable[[], dict[str, Any]] = engine.load_figures

    def arrivals() -> dict[tuple[str, str], tuple[int, int, int, int]] | None:
        if totals is None:
            return None
        regions = figures()["regions"]
        out = {}
        for (region, workload), total in totals.items():
            cell = regions.get(region, {}).get("workloads", {}).get(workload, [0, 0, 0])
            out[region, workload] = (int(cell[0]), int(cell[1]), int(cell[2]), total)
        return out

    most = {w.name: w.most_calls() for w in mix_of(engine.workloads)}

    def outlook() -> dict[tuple[str, str], tuple[int, int | None, int | None]] | None:
        done = arrivals()
        if done is None:
            return None
        return {
            key: (max(0, total - requested), *(most[key[1]] or (None, None)))
            for key, (requested, _, _, total) in done.items()
        }

    live = LiveFigures(budgets, outlook, arrivals)
    hub.record.add_listener(live.on_record)
    hub.batch.add_listener(decoded(live.on_record))
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
