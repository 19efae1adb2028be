"""What a write pattern costs on DynamoDB global tables: capacity units and the monthly bill.

One arithmetic path, `bill`, prices a list of per-region loads (unit rates); the calculator
(`estimate`, behind `hothot cost`) and the campaign projection (`verdict.cost_campaign`) only
differ in how they build those loads, so their answers agree by construction. Rules and prices
come from AWS's pricing pages (https://aws.amazon.com/dynamodb/pricing/on-demand/,
https://aws.amazon.com/dynamodb/pricing/provisioned/), the global tables billing page
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/global-tables-billing.html) and
the capacity unit rules
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html);
docs/cost.md explains the choices hothot makes where AWS is silent.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

KB = 1024  # DynamoDB's kilobyte
READ_BLOCK = 4 * KB
MAX_ITEM_BYTES = 400 * KB
GB = 1024**3
#: a write this many bytes or fewer over a 1 KB boundary pays a whole unit for a sliver
BOUNDARY_SLACK = 128
PRICES_FILE = Path(__file__).with_name("prices.json")

Mode = Literal["on-demand", "provisioned"]
Consistency = Literal["strong", "eventual"]
LINES = ("writes", "replicated_writes", "reads", "storage", "transfer")


def write_units(size: int, old_size: int = 0) -> int:
    """WCU/WRU of one write: the larger of before and after image, per started KB, at least 1.

    hothot's choice where AWS is unclear: a replicated write costs the same units in each
    other replica (the conservative reading; see docs/cost.md)."""
    return max(1, math.ceil(max(size, old_size) / KB))


def read_units(size: int, consistency: Consistency) -> float:
    """RCU/RRU of one GetItem: per started 4 KB, at least 1 (a missing item too), half if eventual."""
    units = max(1, math.ceil(size / READ_BLOCK))
    return units / 2 if consistency == "eventual" else float(units)


@dataclass(frozen=True)
class PriceSheet:
    taken: str
    region: str
    sources: list[str]
    prices: dict[str, float]


@cache
def price_sheet() -> PriceSheet:
    raw = json.loads(PRICES_FILE.read_text())
    return PriceSheet(raw["taken"], raw["region"], raw["sources"], dict(raw["prices"]))


def parse_price_overrides(pairs: list[str]) -> dict[str, float]:
    """`["storage_gb_month=0.285", ...]` -> dict; names the bad pair and the known keys."""
    out: dict[str, float] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep:
            raise ValueError(f"--price {pair!r}: expected key=value")
        try:
            out[key.strip()] = float(text)
        except ValueError:
            raise ValueError(f"--price {pair!r}: {text!r} is not a number") from None
    try:
        return CostSpec.check_prices(out)
    except ValueError as err:
        raise ValueError(f"--price: {err}") from None


class CostSpec(BaseModel):
    """The campaign's `cost:` section (also the calculator's options)."""

    model_config = ConfigDict(extra="forbid")
    #: the campaign ran at 1/N of production traffic: measured rates are multiplied by N
    production_scale: float = Field(default=1.0, gt=0, le=1_000_000, allow_inf_nan=False)
    mode: Mode = "on-demand"
    #: overrides of verdict/prices.json keys, e.g. {storage_gb_month: 0.285}
    prices: dict[str, float] = Field(default_factory=dict)
    #: table size at production scale; every replica stores all of it
    storage_gb: float = Field(default=0.0, ge=0, le=1_000_000_000, allow_inf_nan=False)
    free_tier: bool = False
    #: price reads as strong/eventual regardless of how the campaign read (None: as recorded)
    read_consistency: Consistency | None = None

    @field_validator("prices")
    @classmethod
    def check_prices(cls, v: dict[str, float]) -> dict[str, float]:
        known = price_sheet().prices
        for key, value in v.items():
            if key not in known:
                raise ValueError(f"unknown price {key!r}; known: {', '.join(sorted(known))}")
            if not math.isfinite(value):
                raise ValueError(f"price {key!r} must be a finite number, got {value}")
            if value < 0 or (key == "hours_per_month" and value == 0):
                raise ValueError(f"price {key!r} must be positive, got {value}")
        return v

    def price_table(self) -> dict[str, float]:
        return price_sheet().prices | self.prices


@dataclass(frozen=True)
class RegionLoad:
    """What one region's own clients do, as unit rates per second (production scale)."""

    region: str
    write_units: float  # application write units/s
    replicated_units: float  # units/s each OTHER replica receives for this region's writes
    read_units: float
    replicated_bytes: float = 0.0  # bytes/s shipped to each other replica


def _monthly(rate: float, prices: dict[str, float], mode: Mode, on_demand: str, hour: str) -> float:
    hours = prices["hours_per_month"]
    if mode == "on-demand":
        return rate * 3600 * hours / 1e6 * prices[on_demand]
    return rate * hours * prices[hour]


def bill(loads: list[RegionLoad], spec: CostSpec, mode: Mode | None = None) -> dict[str, Any]:
    """Monthly bill per region and in total. Provisioned capacity is priced at the average
    rate (100% use, no headroom): the floor; `advice` says what real peaks do to it."""
    mode = mode or spec.mode
    p = spec.price_table()
    free = p["storage_free_gb"] if spec.free_tier else 0.0
    others = len(loads) - 1
    total_out = sum(ld.replicated_units for ld in loads)
    regions: dict[str, dict[str, Any]] = {}
    for ld in loads:
        received = total_out - ld.replicated_units
        transfer_gb = ld.replicated_bytes * others * 3600 * p["hours_per_month"] / GB
        usd = {
            "writes": _monthly(
                ld.write_units, p, mode, "on_demand_write_per_million", "provisioned_wcu_hour"
            ),
            "replicated_writes": _monthly(
                received,
                p,
                mode,
                "on_demand_replicated_write_per_million",
                "provisioned_replicated_wcu_hour",
            ),
            "reads": _monthly(
                ld.read_units, p, mode, "on_demand_read_per_million", "provisioned_rcu_hour"
            ),
            "storage": max(0.0, spec.storage_gb - free) * p["storage_gb_month"],
            "transfer": transfer_gb * p["transfer_gb"],
        }
        usd["total"] = sum(usd.values())
        regions[ld.region] = {
            "write_units_per_s": ld.write_units,
            "replicated_write_units_per_s": received,
            "read_units_per_s": ld.read_units,
            "storage_gb": spec.storage_gb,
            "transfer_gb_per_month": transfer_gb,
            "monthly_usd": usd,
        }
    total: dict[str, Any] = {
        k: sum(r[k] for r in regions.values())
        for k in (
            "write_units_per_s",
            "replicated_write_units_per_s",
            "read_units_per_s",
            "storage_gb",
            "transfer_gb_per_month",
        )
    }
    total["monthly_usd"] = {
        k: sum(r["monthly_usd"][k] for r in regions.values()) for k in (*LINES, "total")
    }
    return {"mode": mode, "regions": regions, "total": total}


def _saving(before: dict[str, Any], after: dict[str, Any]) -> float:
    return before["total"]["monthly_usd"]["total"] - after["total"]["monthly_usd"]["total"]


def mode_advice(
    loads: list[RegionLoad], spec: CostSpec, peak_to_average: float | None = None
) -> dict[str, Any]:
    """Provisioned vs on-demand. Break-even: the average use of provisioned capacity above
    which provisioned is cheaper; with a measured peak, provisioned is sized for the peak."""
    on_demand = bill(loads, spec, "on-demand")["total"]["monthly_usd"]
    provisioned = bill(loads, spec, "provisioned")["total"]["monthly_usd"]
    capacity = ("writes", "replicated_writes", "reads")
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
    load = RegionLoad(
        "", writes_per_second * wcu, writes_per_second * wcu, reads_per_second * rcu,
        writes_per_second * item_size,
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


#: the lines of the bill table (CLI and HTML): title, units key of a region entry, dollars key
COLUMNS: tuple[tuple[str, str | None, str], ...] = (
    ("app writes", "write_units_per_s", "writes"),
    ("replicated writes", "replicated_write_units_per_s", "replicated_writes"),
    ("reads", "read_units_per_s", "reads"),
    ("storage", "storage_gb", "storage"),
    ("transfer", "transfer_gb_per_month", "transfer"),
    ("total", None, "total"),
)
_QUANTITY = {"storage_gb": "{:,.4g} GB", "transfer_gb_per_month": "{:,.4g} GB"}


def table_rows(result: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """Header and rows (each region, then "total") of a `bill` result; a cell is the
    quantity (units/s or GB) and, on a second line, dollars per month."""

    def cells(entry: dict[str, Any]) -> list[str]:
        out = []
        for _, key, line in COLUMNS:
            usd = f"${entry['monthly_usd'][line]:,.2f}"
            if key is None:
                out.append(usd)
            else:
                out.append(_QUANTITY.get(key, "{:,.4g} units/s").format(entry[key]) + "\n" + usd)
        return out

    rows = [[name, *cells(entry)] for name, entry in result["regions"].items()]
    rows.append(["total", *cells(result["total"])])
    return ["region", *(title for title, _, _ in COLUMNS)], rows


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
