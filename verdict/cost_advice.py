"""Advice the measured or estimated traffic proves: capacity mode, replicas, item sizes.

Each function prices variations of the same per-region loads through `verdict.cost.bill`, so
the savings it quotes use exactly the arithmetic of the bill beside it.
"""

from __future__ import annotations

from typing import Any

from verdict.cost import BOUNDARY_SLACK, CostSpec, RegionLoad, bill


def _saving(before: dict[str, Any], after: dict[str, Any]) -> float:
    return before["total"]["monthly_usd"]["total"] - after["total"]["monthly_usd"]["total"]


def mode_advice(
    loads: list[RegionLoad], spec: CostSpec, peak_to_average: float | None = None
) -> dict[str, Any]:
    """Provisioned vs on-demand. Break-even: the average use of provisioned capacity above
    which provisioned is cheaper; with a measured peak, provisioned is sized for the peak."""
    on_demand = bill(loads, spec, "on-demand")["total"]["monthly_usd"]
    provisioned = bill(loads, spec, "provisioned")["total"]["monthly_usd"]
    capacity = ("writes", "replicated_writes", "index_writes", "reads")
    od = sum(on_demand[k] for k in capacity)
    pv = sum(provisioned[k] for k in capacity)
    out: dict[str, Any] = {
        "kind": "mode",
        "on_demand_usd": on_demand["total"],
        "provisioned_at_average_usd": provisioned["total"],
        "break_even_utilization": pv / od if od else None,
    }
    if od == 0:
        out["text"] = "No traffic: the capacity mode does not matter."
        return out
    text = (
        f"Provisioned capacity at 100% use costs ${pv:,.2f}/month for capacity against "
        f"${od:,.2f} on-demand: provisioned is cheaper only while average use stays above "
        f"{pv / od:.0%} of what is provisioned."
    )
    if peak_to_average is not None:
        at_peak = pv * peak_to_average
        out["peak_to_average"] = peak_to_average
        out["provisioned_at_peak_usd"] = at_peak + provisioned["total"] - pv
        better = "provisioned" if at_peak < od else "on-demand"
        text += (
            f" The measured peak is {peak_to_average:.2f}x the average: provisioned for it "
            f"costs ${at_peak:,.2f}, so {better} is cheaper for this traffic."
        )
    out["text"] = text
    return out


def replica_advice(loads: list[RegionLoad], spec: CostSpec) -> dict[str, Any] | None:
    """Routing writes to fewer regions does not cut replicated units (every write still
    reaches every other replica); only fewer replicas do. Say both, with numbers."""
    if len(loads) < 2:
        return None
    full = bill(loads, spec)
    replicated = full["total"]["monthly_usd"]["replicated_writes"]
    first, *rest = loads
    merged = RegionLoad(
        first.region,
        first.write_units + rest[-1].write_units,
        first.replicated_units + rest[-1].replicated_units,
        first.read_units + rest[-1].read_units,
        first.replicated_bytes + rest[-1].replicated_bytes,
        first.index_units + rest[-1].index_units,
        first.replicated_index_units + rest[-1].replicated_index_units,
    )
    saved = _saving(full, bill([merged, *rest[:-1]], spec))
    units = full["total"]["replicated_write_units_per_s"]
    return {
        "kind": "replicas",
        "replicated_write_units_per_s": units,
        "replicated_usd": replicated,
        "saved_per_replica_removed_usd": saved,
        "text": (
            f"Routing all writes to one region leaves replicated writes unchanged "
            f"({units:,.1f} units/s, ${replicated:,.2f}/month): each write still reaches every "
            f"other replica ({len(loads) - 1}), so it removes conflicts, not cost. Each replica "
            f"fewer saves ${saved:,.2f}/month."
        ),
    }


def boundary_advice(
    loads: list[RegionLoad], trimmed: list[RegionLoad], spec: CostSpec, share: float
) -> dict[str, Any]:
    """`trimmed`: the same loads with every just-over-a-boundary write one unit smaller."""
    saved = _saving(bill(loads, spec), bill(trimmed, spec))
    return {
        "kind": "boundary",
        "share_just_over": share,
        "slack_bytes": BOUNDARY_SLACK,
        "saved_usd": saved,
        "text": (
            f"{share:.1%} of writes are at most {BOUNDARY_SLACK} bytes over a 1 KB boundary; "
            f"trimming them below it saves ${saved:,.2f}/month."
        ),
    }
