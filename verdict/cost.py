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
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

KB = 1024  # DynamoDB's kilobyte
READ_BLOCK = 4 * KB
MAX_ITEM_BYTES = 400 * KB
GB = 1024**3
#: a write this many bytes or fewer over a 1 KB boundary pays a whole unit for a sliver
BOUNDARY_SLACK = 128
PRICES_FILE = Path(__file__).with_name("prices.json")

Mode = Literal["on-demand", "provisioned"]
Consistency = Literal["strong", "eventual"]
LINES = ("writes", "replicated_writes", "index_writes", "reads", "storage", "transfer")


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


def _per_second(value: Any) -> Any:
    """`2000`, `"2000/s"` or `"2000/s "` -> 2000.0; anything else is left to pydantic."""
    if isinstance(value, str):
        text = value.strip()
        if not text.endswith("/s"):
            raise ValueError(f"{value!r}: give operations per second, e.g. 2000/s")
        return text[:-2].strip()
    return value


#: operations per second: positive, at most a billion
PerSecond = Annotated[float, Field(gt=0, le=1e9, allow_inf_nan=False)]


class CostSpec(BaseModel):
    """The campaign's `cost:` section (also the calculator's options)."""

    model_config = ConfigDict(extra="forbid")
    #: the campaign ran at 1/N of production traffic: measured rates are multiplied by N
    production_scale: float = Field(default=1.0, gt=0, le=1_000_000, allow_inf_nan=False)
    #: or: production's operations per second in each region; each region's measured traffic
    #: is scaled to it
    production_rate: Annotated[PerSecond | None, BeforeValidator(_per_second)] = None
    mode: Mode = "on-demand"
    #: overrides of verdict/prices.json keys, e.g. {storage_gb_month: 0.285}
    prices: dict[str, float] = Field(default_factory=dict)
    #: table size at production scale; every replica stores all of it
    storage_gb: float = Field(default=0.0, ge=0, le=1_000_000_000, allow_inf_nan=False)
    free_tier: bool = False
    #: price reads as strong/eventual regardless of how the campaign read (None: as recorded)
    read_consistency: Consistency | None = None
    #: global secondary indexes on the table: every write is billed again in each of them, in
    #: every replica (each replica keeps its own indexes up to date)
    gsis: int = Field(default=0, ge=0, le=20)
    #: bytes of one index entry (the projected attributes); None: the item's own size (ALL)
    gsi_item_bytes: int | None = Field(default=None, ge=0, le=MAX_ITEM_BYTES)

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

    @model_validator(mode="after")
    def _one_scale(self) -> CostSpec:
        if self.production_rate is not None and self.production_scale != 1.0:
            raise ValueError("give production_scale or production_rate, not both")
        return self

    def price_table(self) -> dict[str, float]:
        return price_sheet().prices | self.prices

    def index_units(self, billed_bytes: int) -> int:
        """GSI write units one table write costs in one replica (hothot's model: each GSI
        gets one write of its entry's size; a key change that moves an entry costs two on
        DynamoDB, counted once here)."""
        if not self.gsis:
            return 0
        size = billed_bytes if self.gsi_item_bytes is None else self.gsi_item_bytes
        return self.gsis * write_units(size)


@dataclass(frozen=True)
class RegionLoad:
    """What one region's own clients do, as unit rates per second (production scale)."""

    region: str
    write_units: float  # application write units/s
    replicated_units: float  # units/s each OTHER replica receives for this region's writes
    read_units: float
    replicated_bytes: float = 0.0  # bytes/s shipped to each other replica
    #: GSI write units/s in this region for its own writes, not already in `write_units`
    index_units: float = 0.0
    #: GSI write units/s each OTHER replica spends applying this region's writes
    replicated_index_units: float = 0.0


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
    total_out = sum(ld.replicated_units for ld in loads)
    index_out = sum(ld.replicated_index_units for ld in loads)
    regions = {
        ld.region: _region_bill(
            ld,
            received=total_out - ld.replicated_units,
            index=ld.index_units + index_out - ld.replicated_index_units,
            others=len(loads) - 1,
            spec=spec,
            mode=mode,
        )
        for ld in loads
    }
    total: dict[str, Any] = {
        k: sum(r[k] for r in regions.values())
        for k in (
            "write_units_per_s",
            "replicated_write_units_per_s",
            "index_write_units_per_s",
            "read_units_per_s",
            "storage_gb",
            "transfer_gb_per_month",
        )
    }
    total["monthly_usd"] = {
        k: sum(r["monthly_usd"][k] for r in regions.values()) for k in (*LINES, "total")
    }
    out: dict[str, Any] = {"mode": mode, "regions": regions, "total": total}
    out["transfer_priced"] = p["transfer_gb"] > 0
    if not out["transfer_priced"]:
        out["transfer_note"] = (
            f"Cross-region transfer ({total['transfer_gb_per_month']:,.0f} GB/month) is not "
            "priced: AWS bills it on top, by source region; set the price per GB "
            "(cost.prices.transfer_gb, or --price transfer_gb=...) to include it."
        )
    return out


def _region_bill(
    ld: RegionLoad, received: float, index: float, others: int, spec: CostSpec, mode: Mode
) -> dict[str, Any]:
    """One region's units and dollars: its own writes and reads, the writes it receives
    from the `others` replicas (`received` units/s, `index` GSI units/s in all)."""
    p = spec.price_table()
    free = p["storage_free_gb"] if spec.free_tier else 0.0
    transfer_gb = ld.replicated_bytes * others * 3600 * p["hours_per_month"] / GB
    write, replicated = "on_demand_write_per_million", "on_demand_replicated_write_per_million"
    usd = {
        "writes": _monthly(ld.write_units, p, mode, write, "provisioned_wcu_hour"),
        "replicated_writes": _monthly(
            received, p, mode, replicated, "provisioned_replicated_wcu_hour"
        ),
        "index_writes": _monthly(index, p, mode, write, "provisioned_wcu_hour"),
        "reads": _monthly(
            ld.read_units, p, mode, "on_demand_read_per_million", "provisioned_rcu_hour"
        ),
        "storage": max(0.0, spec.storage_gb - free) * p["storage_gb_month"],
        "transfer": transfer_gb * p["transfer_gb"],
    }
    usd["total"] = sum(usd.values())
    return {
        "write_units_per_s": ld.write_units,
        "replicated_write_units_per_s": received,
        "index_write_units_per_s": index,
        "read_units_per_s": ld.read_units,
        "storage_gb": spec.storage_gb,
        "transfer_gb_per_month": transfer_gb,
        "monthly_usd": usd,
    }


#: the lines of the bill table (CLI and HTML): title, units key of a region entry, dollars key
COLUMNS: tuple[tuple[str, str | None, str], ...] = (
    ("app writes", "write_units_per_s", "writes"),
    ("replicated writes", "replicated_write_units_per_s", "replicated_writes"),
    ("index writes", "index_write_units_per_s", "index_writes"),
    ("reads", "read_units_per_s", "reads"),
    ("storage", "storage_gb", "storage"),
    ("transfer", "transfer_gb_per_month", "transfer"),
    ("total", None, "total"),
)
_QUANTITY = {"storage_gb": "{:,.4g} GB", "transfer_gb_per_month": "{:,.4g} GB"}


def table_rows(result: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """Header and rows (each region, then "total") of a `bill` result; a cell is the
    quantity (units/s or GB) and, on a second line, dollars per month. The index writes
    column shows only when the table has GSIs (`cost.gsis`)."""
    indexed = bool(result["total"].get("index_write_units_per_s"))
    columns = [c for c in COLUMNS if indexed or c[2] != "index_writes"]

    def cells(entry: dict[str, Any]) -> list[str]:
        out = []
        for _, key, line in columns:
            usd = f"${entry['monthly_usd'][line]:,.2f}"
            if line == "transfer" and not result.get("transfer_priced", True):
                usd = "not priced"
            if key is None:
                out.append(usd)
            else:
                out.append(_QUANTITY.get(key, "{:,.4g} units/s").format(entry[key]) + "\n" + usd)
        return out

    rows = [[name, *cells(entry)] for name, entry in result["regions"].items()]
    rows.append(["total", *cells(result["total"])])
    return ["region", *(title for title, _, _ in columns)], rows
