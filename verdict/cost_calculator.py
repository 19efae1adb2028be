"""`hothot cost`: the design-review calculator, every region taking the same traffic.

It builds per-region loads from a few figures and prices them through `verdict.cost.bill`, the
arithmetic the campaign projection (`verdict.cost_campaign`) uses too.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from verdict.cost import (
    BOUNDARY_SLACK,
    KB,
    MAX_ITEM_BYTES,
    Consistency,
    CostSpec,
    RegionLoad,
    bill,
    read_units,
    write_units,
)
from verdict.cost_advice import boundary_advice, mode_advice, replica_advice


def _check(name: str, value: float, low: float = 0.0) -> None:
    if not math.isfinite(value) or value < low:
        raise ValueError(f"{name} must be a number >= {low:g}, got {value}")


def estimate(
    *,
    writes_per_second: float,
    reads_per_second: float = 0.0,
    item_size: int,
    read_item_size: int | None = None,
    regions: int | list[str] = 3,
    spec: CostSpec | None = None,
) -> dict[str, Any]:
    """The design-review calculator: every region takes the same traffic from its own clients.

    `writes_per_second`/`reads_per_second` are per region; sizes in bytes; reads are priced
    with `spec.read_consistency` (eventual when unset)."""
    spec = spec or CostSpec()
    names = [f"region-{i + 1}" for i in range(regions)] if isinstance(regions, int) else regions
    if not names:
        raise ValueError("regions must be at least 1")
    read_item_size = item_size if read_item_size is None else read_item_size
    _check("writes per second", writes_per_second)
    _check("reads per second", reads_per_second)
    for name, size in (("item size", item_size), ("read item size", read_item_size)):
        _check(name, size)
        if size > MAX_ITEM_BYTES:
            raise ValueError(f"{name} {size} B exceeds DynamoDB's 400 KB item maximum")
    consistency: Consistency = spec.read_consistency or "eventual"
    wcu = write_units(item_size)
    rcu = read_units(read_item_size, consistency)
    gsi = spec.index_units(item_size)
    load = RegionLoad(
        "", writes_per_second * wcu, writes_per_second * wcu, reads_per_second * rcu,
        writes_per_second * item_size, writes_per_second * gsi, writes_per_second * gsi,
    )  # fmt: skip
    loads = [replace(load, region=n) for n in names]
    result = bill(loads, spec)
    result["inputs"] = {
        "writes_per_second": writes_per_second,
        "reads_per_second": reads_per_second,
        "item_bytes": item_size,
        "read_item_bytes": read_item_size,
        "read_consistency": consistency,
        "write_units_per_write": wcu,
        "index_units_per_write": gsi,
        "read_units_per_read": rcu,
        "regions": len(names),
    }
    advice = [mode_advice(loads, spec)]
    if (rep := replica_advice(loads, spec)) is not None:
        advice.append(rep)
    over = item_size % KB
    if item_size > KB and 0 < over <= BOUNDARY_SLACK and writes_per_second > 0:
        trimmed = [replace(ld, write_units=ld.write_units - writes_per_second,
                           replicated_units=ld.replicated_units - writes_per_second)
                   for ld in loads]  # fmt: skip
        advice.append(boundary_advice(loads, trimmed, spec, 1.0))
    result["advice"] = advice
    result["answer"] = answer_line(result, len(names))
    return result


def answer_line(result: dict[str, Any], regions: int) -> str:
    """One sentence for a design review: the bill and how much of it replication is."""
    usd = result["total"]["monthly_usd"]
    inp = result["inputs"]
    share = usd["replicated_writes"] / usd["total"] if usd["total"] else 0.0
    return (
        f"{regions} region{'s' if regions > 1 else ''} x {inp['writes_per_second']:g} "
        f"writes/s of {inp['item_bytes']} B ({inp['write_units_per_write']} WCU) + "
        f"{inp['reads_per_second']:g} {inp['read_consistency']} reads/s: "
        f"${usd['total']:,.2f}/month {result['mode']}, {share:.0%} of it replicated writes."
    )
