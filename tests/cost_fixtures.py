"""Charged records for the cost model's tests: writes and reads of a given size, a uniform
load over regions, the monthly total of a result."""

from __future__ import annotations

import itertools

from verdict.cost_campaign import CostAccumulator

REGIONS = ["us-east-1", "us-west-2", "eu-west-1"]
_ids = itertools.count()


def write(region: str, t: float, size: int, old: int = 0, **extra: object) -> dict:
    return {
        "id": f"w:{next(_ids)}", "worker": "w", "region": region, "workload": "profile",
        "key": "profile#1", "op": "put", "outcome": "ok", "t_invoke": t - 0.01,
        "t_complete": t, "item_bytes": size, "old_bytes": old, **extra,
    }  # fmt: skip


def get(region: str, t: float, size: int, consistent: bool = False, **extra: object) -> dict:
    return {
        "id": f"w:{next(_ids)}", "worker": "w", "region": region, "workload": "profile",
        "key": "profile#1", "op": "get", "outcome": "ok", "t_invoke": t - 0.01,
        "t_complete": t, "item_bytes": size, "consistent": consistent, **extra,
    }  # fmt: skip


def uniform(acc: CostAccumulator, regions: list[str], duration: int, wps: int, rps: int,
            size: int, consistent: bool = False) -> None:  # fmt: skip
    """`wps` writes and `rps` reads of `size` bytes per second in every region, evenly."""
    for region in regions:
        for s in range(duration):
            for i in range(wps):
                acc.observe(write(region, 1000 + s + i / wps, size))
            for i in range(rps):
                acc.observe(get(region, 1000 + s + i / rps, size, consistent))


def total(result: dict) -> float:
    return result["total"]["monthly_usd"]["total"]
